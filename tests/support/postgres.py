"""A real PostgreSQL server for tests: the distribution's binaries, a throwaway cluster.

``initdb`` into a temporary directory, ``pg_ctl start`` on a free port of 127.0.0.1 with
its unix socket in that directory, one database per caller (``database()``), stopped and
removed at exit. PostgreSQL refuses to run as root; as root (CI) the cluster belongs to
the ``postgres`` user that Debian's package creates, and the commands run through
``runuser -u postgres``. The binaries come from Debian's ``postgresql`` package, which
``scripts/test`` installs when ``initdb`` is missing; without them :func:`server_binaries`
says so and the tests that need the server skip with that reason.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest

from tests.support.node import free_port

SUPERUSER = "ddsnode"


def server_binaries() -> Path | None:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``, or None."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    found = shutil.which("pg_ctl")
    if found:
        candidates.append(str(Path(os.path.realpath(found)).parent))
    for directory in candidates:
        if all((Path(directory) / b).exists() for b in ("initdb", "pg_ctl", "postgres")):
            return Path(directory)
    return None


MISSING = ("PostgreSQL server binaries (initdb, pg_ctl) not found: scripts/test installs "
           "them (apt-get install postgresql)")


class PostgresServer:
    """A PostgreSQL cluster in a temporary directory; ``url(db)`` once started."""

    def __init__(self) -> None:
        bin_dir = server_binaries()
        if bin_dir is None:
            raise RuntimeError(MISSING)
        self.bin = bin_dir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="ddsnode-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root
        self.log = self.root / "server.log"
        self._as_root = os.geteuid() == 0
        self._count = 0
        if self._as_root:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)

    def _run(self, *args: str, timeout: float = 120) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, check=False, capture_output=True, timeout=timeout, cwd=self.root)
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stderr.decode()[-2000:]}")

    def start(self) -> Self:
        """initdb (first time), then start and wait until it accepts connections."""
        if not self.data.exists():
            self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                      "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data),
                  "-l", str(self.log), "-o",
                  f"-p {self.port} -c listen_addresses=127.0.0.1 "
                  f"-c unix_socket_directories={self.socket_dir} -c max_connections=200")
        return self

    def stop(self, mode: str = "fast") -> None:
        """``pg_ctl stop`` (``fast``: sessions are cut, as in a restart under load)."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "-w", "-t", "60", "-m", mode, "-D", str(self.data))

    def restart(self) -> None:
        """Stop and start again on the same port and data."""
        self.stop()
        self.start()

    def url(self, database: str = "postgres") -> str:
        """The connection URL of ``database`` over TCP."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def database(self, prefix: str = "t") -> str:
        """A new empty database; its URL."""
        import psycopg

        self._count += 1
        name = f"{prefix}_{os.getpid()}_{self._count}_{int(time.time() * 1000) % 10**8}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def close(self) -> None:
        """Stop the server and remove its files."""
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL for one test module (skips, saying why, when the server
    binaries are missing); registered for every module by tests/conftest.py."""
    if server_binaries() is None:
        pytest.skip(MISSING)
    with PostgresServer() as server:
        yield server

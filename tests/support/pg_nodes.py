"""One node served by several real processes on one PostgreSQL database (issue 16).

:func:`pg_node` makes a node directory with ``store = "postgresql"``; :class:`Processes`
serves it either as independent ``ddsnode serve`` processes, one per port (a test can
then choose which process it talks to: "write through one, read through another"), or
as one ``ddsnode serve --workers N`` (one port, the kernel spreads connections).
:func:`loop_owner` says which process holds the background loops' lease.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import httpx
import psycopg

from ddsnode.store.postgresql_lease import APPLICATION_NAME, LOOP_LOCK
from tests.support.node import REPO, free_port


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "ddsnode", *args], check=False, cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"ddsnode {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


@dataclass
class PgNode:
    """A node directory on PostgreSQL: its base, write token and database URL."""

    dir: Path
    base: str
    port: int
    token: str
    database_url: str
    env: dict[str, str] = field(default_factory=dict)

    def auth(self) -> dict[str, str]:
        """The write token as an Authorization header."""
        return {"Authorization": f"Bearer {self.token}"}


def pg_node(root: Path, database_url: str, settings: dict[str, object] | None = None) -> PgNode:
    """``ddsnode init`` a node whose store is ``database_url``; its base uses a free port."""
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    node_dir = root / f"node-{port}"
    env = {**os.environ, "PYTHONPATH": str(REPO), "DDS_STORE": "postgresql",
           "DDS_DATABASE_URL": database_url}
    _cli(env, "init", str(node_dir), "--base-url", base)
    with (node_dir / "settings.toml").open("a", encoding="utf-8") as f:
        for key, value in (settings or {}).items():
            f.write(f"{key} = {value!r}\n".replace("'", '"'))
    token = _cli(env, "token", "create", str(node_dir), "--label", "tests").strip()
    return PgNode(node_dir, base, port, token, database_url, env)


class Processes:
    """Serving processes of one :class:`PgNode`; stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(self, node: PgNode) -> None:
        self.node = node
        self.procs: list[subprocess.Popen[bytes]] = []
        self.urls: list[str] = []  # the base each process answers on (same IRIs)

    def start(self, port: int | None = None, *, workers: int = 1) -> str:
        """Start ``ddsnode serve`` on ``port`` (a free one by default); its URL."""
        port = port or free_port()
        log = self.node.dir / f"serve-{port}.log"
        command = [sys.executable, "-m", "ddsnode", "serve", str(self.node.dir),
                   "--port", str(port)]
        if workers > 1:
            command += ["--workers", str(workers)]
        with log.open("ab") as out:
            proc = subprocess.Popen(command, cwd=REPO, env=self.node.env, stdout=out,
                                    stderr=subprocess.STDOUT)
        self.procs.append(proc)
        url = f"http://127.0.0.1:{port}/"
        wait_ready(url, proc)
        self.urls.append(url)
        return url

    def close(self) -> None:
        """Stop every process."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 90) -> None:
    """Wait until ``GET url`` answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"ddsnode serve exited with status {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def loop_owner(database_url: str) -> int | None:
    """The pid of the process holding the background loops' lease, or None."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND l.objid = %s AND l.granted",
            (LOOP_LOCK,)).fetchone()
    if row is None or not str(row[0]).startswith(APPLICATION_NAME):
        return None
    return int(str(row[0])[len(APPLICATION_NAME):])


def wait_for_owner(database_url: str, *, other_than: int | None = None,
                   timeout: float = 30) -> tuple[int, float]:
    """(pid of the owner, seconds waited) once one other than ``other_than`` holds it."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        owner = loop_owner(database_url)
        if owner is not None and owner != other_than:
            return owner, time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"no process took the background loops within {timeout} s")


def children(pid: int) -> list[int]:
    """The child process ids of ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found

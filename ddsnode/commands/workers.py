"""``ddsnode serve DIR --workers N``: N processes serving one node on one port.

The parent binds the listening sockets once (as ``ddsnode serve`` would: every address
the host resolves to, SO_REUSEADDR) and starts N children, ``ddsnode serve DIR
--listen-fds …``, each a whole node (its own event loop, writer thread, caches and SPARQL
index) that accepts connections from the shared sockets: the kernel hands each new
connection to one of them. Several processes need a store they can share, with a change
log each keeps its index current from and a lease for the background loops:
``store = "postgresql"`` (docs/storage.md).

The parent restarts a child that dies (after a second), and passes SIGTERM/SIGINT on to
all of them, waiting ``shutdown_timeout`` (+10 s) for them to finish what is in flight.
A child that fails to start (exit status 3: the port, the database, the settings) stops
the whole group with status 3.
"""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from ddsnode.settings import Settings

log = logging.getLogger("ddsnode.workers")

RESTART_DELAY = 1.0  # seconds before a dead worker is replaced
STARTUP_FAILED = 3  # the exit status of a serve that could not start (as uvicorn.run)


def listen(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for ``host:port`` that children can inherit."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    sockets = []
    for family, kind, proto, _, address in dict.fromkeys(
            (i[0], i[1], i[2], "", i[4]) for i in infos):
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
        sock.listen(2048)
        sock.set_inheritable(True)
        sockets.append(sock)
    return sockets


def check(settings: Settings, workers: int) -> None:
    """ValueError when ``workers`` processes cannot share this node's store."""
    if workers < 1:
        raise ValueError("--workers must be at least 1")
    if workers > 1 and settings.store != "postgresql":
        raise ValueError(f"--workers {workers} needs store = \"postgresql\" (DDS_STORE, "
                         "DDS_DATABASE_URL): the embedded store's SPARQL index and the "
                         "background loops belong to one process (docs/storage.md)")


class Supervisor:
    """Starts, restarts and stops the worker processes."""

    def __init__(self, node_dir: Path, settings: Settings, workers: int) -> None:
        self.node_dir = node_dir
        self.settings = settings
        self.workers = workers
        self.sockets = listen(settings.host, int(settings.port))
        self.children: list[subprocess.Popen[bytes] | None] = [None] * workers
        self.stopping = False

    def _spawn(self) -> subprocess.Popen[bytes]:
        fds = [s.fileno() for s in self.sockets]
        return subprocess.Popen(
            [sys.executable, "-m", "ddsnode", "serve", str(self.node_dir),
             "--listen-fds", ",".join(map(str, fds))], pass_fds=fds)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def run(self) -> int:
        """Serve until SIGTERM or SIGINT; the exit status."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        status = 0
        try:
            self.children = [self._spawn() for _ in range(self.workers)]
            print(f"ddsnode: {self.workers} workers on {self.settings.host}:"
                  f"{self.settings.port} (pids "
                  f"{', '.join(str(c.pid) for c in self.children if c)})", flush=True)
            while not self.stopping:
                time.sleep(0.2)
                for n, child in enumerate(self.children):
                    if child is None or child.poll() is None or self.stopping:
                        continue
                    if child.returncode == STARTUP_FAILED:
                        log.error("worker %d could not start; stopping", child.pid)
                        self.stopping, status = True, STARTUP_FAILED
                        break
                    log.warning("worker %d ended (status %s); starting another",
                                child.pid, child.returncode)
                    time.sleep(RESTART_DELAY)
                    self.children[n] = self._spawn()
        finally:
            self._shutdown()
        return status

    def _shutdown(self) -> None:
        for child in self.children:
            if child is not None and child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + float(self.settings.shutdown_timeout) + 10
        for child in self.children:
            if child is None:
                continue
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        for sock in self.sockets:
            sock.close()

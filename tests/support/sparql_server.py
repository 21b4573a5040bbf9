"""A real SPARQL 1.1 server for tests: ``oxigraph serve`` from the `oxigraph` PyPI package.

Started on 127.0.0.1 with a free port and a temporary directory, with the union default
graph (what ddsnode's docs tell operators to configure); stopped on exit.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from tests.support.node import free_port


def oxigraph_cli() -> str:
    """The ``oxigraph`` executable next to this interpreter, or on PATH."""
    beside = Path(sys.executable).parent / "oxigraph"
    if beside.exists():
        return str(beside)
    found = shutil.which("oxigraph")
    if found is None:
        raise RuntimeError("the oxigraph CLI is missing: pip install oxigraph (dev extra)")
    return found



class SparqlServer:
    """``oxigraph serve`` in a subprocess; ``query_url`` and ``update_url`` once started."""

    def __init__(self, location: Path, *, timeout_s: int | None = None) -> None:
        self.location = location
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.query_url = self.base + "/query"
        self.update_url = self.base + "/update"
        self.timeout_s = timeout_s
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, wait: float = 30.0) -> Self:
        """Start and wait until it answers a query."""
        command = [oxigraph_cli(), "serve", "--location", str(self.location),
                   "--bind", f"127.0.0.1:{self.port}", "--union-default-graph"]
        if self.timeout_s:
            command += ["--timeout-s", str(self.timeout_s)]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode() if self._process.stderr else ""
                raise RuntimeError(f"oxigraph serve exited: {err[:1024]}")
            try:
                r = httpx.post(self.query_url, data={"query": "ASK {}"}, timeout=1.0,
                               headers={"Accept": "application/sparql-results+json"})
                if r.status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"oxigraph serve did not answer on {self.base} within {wait} s")

    def clear(self) -> None:
        """Remove every graph (between tests)."""
        httpx.post(self.update_url, content=b"DROP ALL",
                   headers={"Content-Type": "application/sparql-update"},
                   timeout=30).raise_for_status()

    def stop(self) -> None:
        """Terminate the server and wait for it."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process is not None and self._process.stderr is not None:
            self._process.stderr.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

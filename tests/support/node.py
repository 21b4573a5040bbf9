"""A real node for tests: ``ddsnode init`` + ``ddsnode serve`` as a subprocess on a free port.

    with running_node(tmp_path, settings={"open_containers": "open/"}) as node:
        httpx.get(node.url("proposals/"))

:func:`shared_node` starts one node per test session and stops it at exit, for the slow
tests that need a real server with the HTTP modules' settings (``SHARED_SETTINGS``); the
HTTP modules themselves run in-process (:mod:`tests.support.inprocess`). Tests that need
their own settings start their own with :func:`running_node`.
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ddsnode import resources
from ddsnode.commands.demo import rebase

REPO = Path(__file__).resolve().parents[2]
# Settings of the shared node and of the tests/test_http_*.py modules' in-process nodes:
# an open container for free-form tests, a private one, and a small body limit so that
# 413 is cheap to provoke.
SHARED_SETTINGS = {"open_containers": "open/", "private_containers": "private/",
                   "max_body_bytes": 262144, "page_size": 50, "max_page_size": 200,
                   "name": "Test node", "operator": "Ville de Rivemont",
                   "operator_url": "https://www.rivemont.example/"}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _cli(*args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "ddsnode", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"ddsnode {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value))


@dataclass
class RunningNode:
    """A node being served: its base URL, directory and tokens."""

    base: str
    dir: Path
    token: str  # scopes read + write
    read_token: str  # scope read only
    process: subprocess.Popen[bytes]
    log: Path
    headers: dict[str, str] = field(default_factory=dict)
    publisher_token: str = ""  # read + write + review: can write every example (analysis/)

    def url(self, path: str = "") -> str:
        """The absolute URL of ``path`` (relative to the base)."""
        return self.base + path.lstrip("/")

    def auth(self, token: str | None = None) -> dict[str, str]:
        """An Authorization header with the write token (or ``token``)."""
        return {"Authorization": f"Bearer {token or self.token}"}

    def client(self) -> httpx.Client:
        """An httpx client for this node (no auth by default)."""
        return httpx.Client(base_url=self.base, timeout=30)

    def rebase(self, text: str) -> str:
        """Example data with its IRIs moved under this node's base."""
        return rebase(text, self.base)

    def example(self, name: str) -> tuple[str, bytes]:
        """(IRI on this node, rebased JSON-LD bytes) of ``examples/<name>.jsonld``."""
        text = self.rebase((resources.examples_dir() / f"{name}.jsonld").read_text("utf-8"))
        return json.loads(text)["id"], text.encode("utf-8")


@contextmanager
def running_node(root: Path, *, settings: Mapping[str, Any] | None = None,
                 ) -> Iterator[RunningNode]:
    """Init a node directory under ``root``, serve it, yield it, stop it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    node_dir = root / f"node-{port}"
    _cli("init", str(node_dir), "--base-url", base)
    # Not the lemma dictionaries after start (1–2 s of CPU per node, dozens of nodes per
    # run) unless a test asks: a search loads what it needs (tests/test_lemma_warm.py).
    settings = {"explorer_warm_lemmas": False, **(settings or {})}
    if settings:
        with (node_dir / "settings.toml").open("a", encoding="utf-8") as f:
            f.write("\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in settings.items()))
    token = _cli("token", "create", str(node_dir), "--label", "tests").strip()
    read_token = _cli("token", "create", str(node_dir), "--scope", "read").strip()
    publisher = _cli("token", "create", str(node_dir), "--scope", "read", "--scope", "write",
                     "--scope", "review", "--label", "tests-publisher").strip()
    log = node_dir / "serve.log"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ddsnode", "serve", str(node_dir), "--port", str(port)],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait(base, process, log)
        yield RunningNode(base, node_dir, token, read_token, process, log,
                          publisher_token=publisher)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait(base: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the node exited: {log.read_text('utf-8', 'replace')[-3000:]}")
        try:
            if httpx.get(base, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the node did not answer in {timeout}s: "
                       f"{log.read_text('utf-8', 'replace')[-3000:]}")


_SHARED: dict[str, Any] = {}


def shared_node() -> RunningNode:
    """The session's shared node (started on first use, stopped at interpreter exit)."""
    if "node" not in _SHARED:
        tmp = tempfile.TemporaryDirectory(prefix="ddsnode-http-")
        manager = running_node(Path(tmp.name), settings=SHARED_SETTINGS)
        _SHARED["node"] = manager.__enter__()

        def stop() -> None:
            manager.__exit__(None, None, None)
            tmp.cleanup()

        atexit.register(stop)
    node: RunningNode = _SHARED["node"]
    return node

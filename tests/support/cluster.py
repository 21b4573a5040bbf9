"""Several real nodes on 127.0.0.1, peered with the CLI, for the federation tests.

    with running_cluster(tmp_path, ("a", "b", "c")) as cluster:
        a, b = cluster["a"], cluster["b"]
        cluster.peer("b", "a")          # b follows a (and a may reach b)
        a.put("proposals/p1", a.rebase(doc))
        wait_for(lambda: b.cached(a.url("proposals/p1")) is not None)

Each node is ``ddsnode init`` + ``ddsnode serve`` in its own process; a node can be
stopped and started again on the same port (``stop()``, ``start()``). Assertions on
propagation poll with a deadline (:func:`wait_for`), never sleep for a fixed time.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from ddsnode import resources
from ddsnode.commands.demo import rebase
from tests.support.node import REPO, _wait, free_port

T = TypeVar("T")
CLI = [sys.executable, "-m", "ddsnode"]


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``ddsnode ARGS`` in a subprocess (as an operator would)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([*CLI, *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"ddsnode {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done


def wait_for(probe: Callable[[], T], *, timeout: float = 20.0, interval: float = 0.05,
             what: str = "condition") -> T:
    """Poll ``probe`` until it returns a truthy value; AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except (httpx.TransportError, sqlite3.OperationalError) as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout}s (last: {last!r})")


@dataclass
class ClusterNode:
    """One node of the cluster."""

    name: str
    port: int
    dir: Path
    token: str = ""
    process: subprocess.Popen[bytes] | None = None
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    @property
    def base(self) -> str:
        """The node's base IRI."""
        return f"http://127.0.0.1:{self.port}/"

    def url(self, path: str = "") -> str:
        """The absolute URL of ``path``."""
        return self.base + path.lstrip("/")

    def start(self, *, wait: bool = True) -> None:
        """Serve the node (on its port) and, unless ``wait`` is False, wait until it answers."""
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        with (self.dir / "serve.log").open("ab") as out:
            self.process = subprocess.Popen(
                [*CLI, "serve", str(self.dir), "--port", str(self.port)], cwd=REPO, env=env,
                stdout=out, stderr=subprocess.STDOUT)
        if wait:
            self.wait()

    def wait(self) -> None:
        """Wait until the started node answers (RuntimeError if it exits or times out)."""
        assert self.process is not None
        _wait(self.base, self.process, self.dir / "serve.log")

    def stop(self) -> None:
        """Stop serving (SIGTERM, then SIGKILL after 10 s)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def rebase(self, text: str, others: dict[str, str] | None = None) -> str:
        """Example data moved under this node (``others`` maps more example bases)."""
        for old, new in (others or {}).items():
            text = text.replace(old, new)
        return rebase(text, self.base)

    def example(self, name: str, others: dict[str, str] | None = None) -> tuple[str, bytes]:
        """(IRI, JSON-LD bytes) of ``examples/<name>.jsonld`` rebased onto this node."""
        text = self.rebase((resources.examples_dir() / f"{name}.jsonld").read_text("utf-8"),
                           others)
        return json.loads(text)["id"], text.encode("utf-8")

    def put(self, iri: str, body: bytes) -> httpx.Response:
        """PUT a JSON-LD document with the write token; raises on failure."""
        response = self.http.put(iri, content=body, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/ld+json"})
        assert response.status_code in (201, 204), response.text[:2000]
        return response

    def delete(self, iri: str) -> None:
        """DELETE a resource with the write token."""
        response = self.http.delete(iri, headers={"Authorization": f"Bearer {self.token}"})
        assert response.status_code == 204, response.text[:2000]

    def get_json(self, url: str, **params: str) -> Any:
        """GET ``url`` as JSON-LD; None on 404/410."""
        response = self.http.get(url, params=params or None,
                                 headers={"Accept": "application/ld+json"})
        if response.status_code in (404, 410):
            return None
        response.raise_for_status()
        return response.json()

    def cached(self, iri: str) -> Any:
        """This node's cached copy of a peer IRI (``/federation/resource``), or None."""
        response = self.http.get(self.url("federation/resource"), params={"iri": iri},
                                 headers={"Accept": "application/ld+json"})
        if response.status_code != 200:
            return None
        return response.json()

    def db(self, query: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a query on this node's ``federation.db`` (read-only inspection)."""
        with sqlite3.connect(f"file:{self.dir / 'federation.db'}?mode=ro", uri=True,
                             timeout=30) as conn:
            return conn.execute(query, tuple(args)).fetchall()


class Cluster(dict[str, ClusterNode]):
    """Nodes by name."""

    def peer(self, follower: str, followed: str) -> None:
        """``ddsnode peer add`` on ``follower`` for ``followed``."""
        cli("peer", "add", str(self[follower].dir), self[followed].base)

    def mesh(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Peer every (follower, followed) both ways and wait until each follow is recorded."""
        for x, y in pairs:
            self.peer(x, y)
            self.peer(y, x)
        for x, y in pairs:
            for follower, followed in ((x, y), (y, x)):
                origin = self[follower].base.rstrip("/")
                wait_for(lambda node=self[followed], origin=origin: node.db(  # type: ignore[misc]
                    "SELECT 1 FROM followers WHERE origin = ?", (origin,)),
                         what=f"{follower} following {followed}")


@contextmanager
def running_cluster(root: Path, names: Sequence[str] = ("a", "b", "c"), *,
                    settings: dict[str, Any] | None = None) -> Iterator[Cluster]:
    """Init and serve one node per name (with ``settings`` added to each node's
    settings.toml); stop them all at the end."""
    cluster = Cluster()
    try:
        for name in names:
            port = free_port()
            node = ClusterNode(name, port, root / name)
            cli("init", str(node.dir), "--base-url", node.base, "--name", f"node {name}")
            if settings:
                with (node.dir / "settings.toml").open("a", encoding="utf-8") as toml:
                    toml.writelines(f"{key} = {json.dumps(value)}\n"
                                    for key, value in settings.items())
            node.token = cli("token", "create", str(node.dir)).stdout.strip()
            cluster[name] = node
        for node in cluster.values():
            node.start(wait=False)  # the nodes start in parallel
        for node in cluster.values():
            node.wait()
        yield cluster
    finally:
        for node in cluster.values():
            node.stop()
            node.http.close()

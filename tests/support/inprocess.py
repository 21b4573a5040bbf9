"""One node in this process: the same ASGI app uvicorn serves, driven through httpx.

    with local_node(tmp_path, settings={"open_containers": "open/"}) as node:
        with node.client() as http:
            http.get("/proposals/")

Single-node HTTP behaviour is tested this way (STYLE.md, habit 8): no port, no
subprocess, and the app's lifespan (writer, federation loops) runs as under uvicorn.
Multi-node federation, SIGKILL durability, conformance suites and browser tests keep
starting real servers (:mod:`tests.support.node`).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ddsnode import resources
from ddsnode.commands.demo import rebase
from ddsnode.commands.node import init_node
from ddsnode.http.app import create_app
from ddsnode.http.exchange import ASGIApp
from ddsnode.ldp.tokens import TokenRegistry
from ddsnode.settings import Settings

BASE = "http://127.0.0.1:8000/"


@dataclass
class LocalNode:
    """A node served in-process: its app, base IRI, directory and tokens."""

    app: ASGIApp
    base: str
    dir: Path
    token: str  # scopes read + write
    read_token: str  # scope read only
    loop: asyncio.AbstractEventLoop
    publisher_token: str = ""  # read + write + review: can write every example (analysis/)

    def url(self, path: str = "") -> str:
        """The absolute URL of ``path`` (relative to the base)."""
        return self.base + path.lstrip("/")

    def auth(self, token: str | None = None) -> dict[str, str]:
        """An Authorization header with the write token (or ``token``)."""
        return {"Authorization": f"Bearer {token or self.token}"}

    def client(self, **kwargs: Any) -> httpx.Client:
        """A synchronous httpx client whose requests go to the app (no socket)."""
        return httpx.Client(transport=_LoopTransport(self.app, self.loop),
                            base_url=self.base, timeout=30, **kwargs)

    def put(self, http: httpx.Client, iri: str, body: bytes) -> None:
        """Create or replace ``iri`` with JSON-LD ``body`` (write token), or fail the test."""
        r = http.put(iri, content=body, headers={"Content-Type": "application/ld+json",
                                                 **self.auth()})
        assert r.status_code in (201, 204), r.text

    def rebase(self, text: str) -> str:
        """Example data with its IRIs moved under this node's base."""
        return rebase(text, self.base)

    def example(self, name: str) -> tuple[str, bytes]:
        """(IRI on this node, rebased JSON-LD bytes) of ``examples/<name>.jsonld``."""
        text = self.rebase((resources.examples_dir() / f"{name}.jsonld").read_text("utf-8"))
        return json.loads(text)["id"], text.encode("utf-8")


@contextmanager
def local_node(root: Path, *, settings: Mapping[str, Any] | None = None,
               base: str = BASE) -> Iterator[LocalNode]:
    """Init a node directory under ``root``, start its app, yield it, stop it. Its tokens
    are minted as ``ddsnode token create`` mints them (``TokenRegistry.create``)."""
    node_dir = root / "node"
    # gc_freeze off: a test process starts hundreds of nodes, and freezing each one's
    # start-up objects would keep the cyclic garbage of every stopped node
    # (tests/test_gc_freeze.py checks the setting itself).
    # explorer_warm_lemmas off too: a search test loads the dictionaries it needs.
    init_node(node_dir, base_url=base, extra={"gc_freeze": False,
                                               "explorer_warm_lemmas": False,
                                               **(settings or {})})
    loaded = Settings.load(node_dir)  # once: the tokens and the app read the same file
    tokens = TokenRegistry(node_dir, settings=loaded)
    token = tokens.create(label="tests")
    read_token = tokens.create(["read"], label="tests-read")
    publisher = tokens.create(["read", "write", "review"], label="tests-publisher")
    app = create_app(loaded)
    with running(app) as loop:
        yield LocalNode(app, base, node_dir, token, read_token, loop, publisher)


@contextmanager
def running(app: ASGIApp) -> Iterator[asyncio.AbstractEventLoop]:
    """``app`` started (its ASGI lifespan, as uvicorn drives it) on an event loop of its
    own thread, which is yielded; stopped, and the loop closed, on leaving."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="asgi-loop", daemon=True)
    thread.start()
    lifespan = _Lifespan(app)
    try:
        asyncio.run_coroutine_threadsafe(lifespan.start(), loop).result(60)
        yield loop
    finally:
        try:
            asyncio.run_coroutine_threadsafe(lifespan.stop(), loop).result(60)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()


class _Lifespan:
    """The ASGI lifespan protocol, as uvicorn drives it (startup, then shutdown)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(
            self.app({"type": "lifespan", "asgi": {"version": "3.0"}},
                     self.inbox.get, self.outbox.put))  # type: ignore[arg-type]
        await self.inbox.put({"type": "lifespan.startup"})
        message = await self.outbox.get()
        assert message["type"] == "lifespan.startup.complete", message

    async def stop(self) -> None:
        await self.inbox.put({"type": "lifespan.shutdown"})
        message = await self.outbox.get()
        assert message["type"] == "lifespan.shutdown.complete", message
        if self.task is not None:
            await self.task


class _LoopTransport(httpx.BaseTransport):
    """httpx's ASGITransport, run on the app's own event loop from synchronous code.

    The request reaches the app as the client sent it: its headers as they are (no
    Content-Length added to a streamed body) and its body in the client's chunks, one
    ``http.request`` message each, as uvicorn passes a chunked upload on.
    """

    def __init__(self, app: ASGIApp, loop: asyncio.AbstractEventLoop) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.loop = loop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)  # a sync client's body
        chunks = list(request.stream)

        async def exchange() -> httpx.Response:
            forwarded = httpx.Request(request.method, request.url, headers=request.headers,
                                      stream=_Chunks(chunks))
            response = await self.inner.handle_async_request(forwarded)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers,
                                  content=content, request=request)

        return asyncio.run_coroutine_threadsafe(exchange(), self.loop).result()


class _Chunks(httpx.AsyncByteStream):
    """A request body already read, given back in the chunks it was read in."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


# The single-node HTTP modules' fixtures (tests/test_http_*.py), named ``node`` and ``http``
# where a module imports them: one in-process node per module, with the settings the served
# node of tests/support/node.py has, each test writing under fresh names; a client per test.
@pytest.fixture(scope="module", name="node")
def module_node(tmp_path_factory: pytest.TempPathFactory,
                request: pytest.FixtureRequest) -> Iterator[LocalNode]:
    """One node for the module (``SHARED_SETTINGS``): each test writes under fresh names."""
    from tests.support.node import SHARED_SETTINGS

    folder = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    with local_node(folder, settings=SHARED_SETTINGS) as running:
        yield running


@pytest.fixture(name="http")
def node_client(node: LocalNode) -> Iterator[httpx.Client]:
    """A client whose requests go to the node's app (a new one per test, as httpx.get)."""
    with node.client() as client:
        yield client

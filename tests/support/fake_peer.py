"""A misbehaving peer on 127.0.0.1: serves whatever a test puts in its routes table.

A real node never serves invalid or off-origin data (it validates every write), so the
tests of what a node does with such data use this small threaded HTTP server. It has a
node key and a node description like a real node, signs the notifications it sends, and
records every request it receives (so a test can prove a URL was never fetched).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ddsnode.federation.signature import Signer
from ddsnode.keys import public_key_pem

Answer = tuple[int, dict[str, str], bytes]


@dataclass
class FakePeer:
    """The server's state: its base, key, routes and the requests it saw."""

    base: str
    key: Ed25519PrivateKey
    routes: dict[str, Answer] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    served: list[tuple[str, str]] = field(default_factory=list)  # answers fully written
    pauses: dict[str, float] = field(default_factory=dict)  # path -> seconds mid-body

    def gets(self, path: str) -> int:
        """How many GET requests for ``path`` (query included when given) it received."""
        return sum(1 for method, seen in self.requests if method == "GET" and (
            seen == path or ("?" not in path and seen.split("?", 1)[0] == path)))

    def description(self, inbox: str | None = None) -> bytes:
        """A node description in Turtle (key, inbox, feed), like a real node's."""
        pem = public_key_pem(self.key).replace("\n", "\\n")
        return (f'<{self.base}> a <https://w3id.org/dds/ns#Node> ;\n'
                f'  <http://xmlns.com/foaf/0.1/name> "fake peer" ;\n'
                f'  <http://www.w3.org/ns/ldp#inbox> <{inbox or self.base + "inbox"}> ;\n'
                f'  <https://www.w3.org/ns/activitystreams#outbox> <{self.base}feed> ;\n'
                f'  <https://w3id.org/security#publicKey> <{self.base}#main-key> .\n'
                f'<{self.base}#main-key> <https://w3id.org/security#publicKeyPem> "{pem}" .\n'
                ).encode()

    def serve(self, path: str, body: bytes, media_type: str = "application/ld+json",
              status: int = 200, headers: dict[str, str] | None = None) -> str:
        """Answer GET ``path`` with ``body``; returns the absolute IRI."""
        self.routes[path] = (status, {"Content-Type": media_type, **(headers or {})}, body)
        return self.base + path.lstrip("/")

    def notify(self, inbox: str, activity: Mapping[str, object]) -> httpx.Response:
        """POST a signed activity to ``inbox``."""
        body, headers = self.signed(inbox, activity)
        return httpx.post(inbox, content=body, headers=headers, timeout=30)

    def signed(self, inbox: str, activity: Mapping[str, object], *,
               key: Ed25519PrivateKey | None = None) -> tuple[bytes, dict[str, str]]:
        """(body, headers) of ``activity`` signed for ``inbox`` under this peer's key IRI
        (with ``key``: a forgery naming this peer's key)."""
        body = json.dumps(activity).encode()
        return body, self.sign_bytes(inbox, body, key=key)

    def sign_bytes(self, inbox: str, body: bytes, *,
                   key: Ed25519PrivateKey | None = None) -> dict[str, str]:
        """Headers (Content-Type, Content-Digest, signature) for POSTing ``body`` as is."""
        headers = {"Content-Type": "application/ld+json"}
        headers.update(Signer(key or self.key, self.base + "#main-key")("POST", inbox, headers,
                                                                        body))
        return headers

    def serve_feed(self, iris: list[str]) -> None:
        """Serve ``/feed`` as one page announcing a Create of each IRI (cursor 0 → n)."""
        items = [{"id": f"{self.base}feed#change-{n + 1}", "type": "Create",
                  "actor": self.base, "object": {"id": iri}} for n, iri in enumerate(iris)]
        page = {"@context": "https://www.w3.org/ns/activitystreams", "type":
                "OrderedCollectionPage", "orderedItems": items,
                "next": f"{self.base}feed?after={len(iris)}"}
        self.serve("/feed", json.dumps(page).encode(), "application/activity+json")


@contextmanager
def running_fake_peer() -> Iterator[FakePeer]:
    """Serve a FakePeer on a free port of 127.0.0.1 until the block ends."""
    state: dict[str, FakePeer] = {}

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            peer = state["peer"]
            peer.requests.append((self.command, self.path))
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            status, headers, body = peer.routes.get(self.path.split("?")[0], (
                202 if self.command == "POST" else 404, {"Content-Type": "text/plain"}, b""))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            pause = peer.pauses.get(self.path.split("?")[0])
            try:
                if pause:  # a slow peer: half the body, a silence, the rest
                    self.wfile.write(body[:len(body) // 2])
                    self.wfile.flush()
                    time.sleep(pause)
                    body = body[len(body) // 2:]
                self.wfile.write(body)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return  # the node hung up (its timeout): nothing more to send
            peer.served.append((self.command, self.path))

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    peer = FakePeer(base, Ed25519PrivateKey.generate())
    peer.serve("/", peer.description(), "text/turtle")
    state["peer"] = peer
    # poll_interval: shutdown() waits for the next poll; the default 0.5 s was half a
    # second of every test's teardown
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield peer
    finally:
        server.shutdown()
        server.server_close()

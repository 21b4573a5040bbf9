"""Hostile HTTP transport (issue 9, items 4 and 7): slow, bloated and cut requests.

A real ``ddsnode serve`` (the uvicorn protocol of ``ddsnode.http.server`` is only in the
server) driven over raw sockets. Each case of the table says what the client sends and
how it leaves; each asserts the status (4xx problem+json, or nothing for a client gone),
that the connection was closed by the node, that nothing was stored or changed, and that
the node still answers a read of another resource and a ``/sparql`` query. The bounds
are shown to hold (a 408 that closes the connection, a 431), never timed.
"""

from __future__ import annotations

import json
import signal
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.node import RunningNode, running_node

pytestmark = pytest.mark.slow

LIMITS = {"header_timeout": 1.0, "body_timeout": 1.0, "max_header_bytes": 16384,
          "max_header_count": 100, "max_url_bytes": 32768, "open_containers": "open/",
          "max_body_bytes": 65536}
WAIT = 60.0  # the longest this test waits on a socket: a hang fails, it is not measured
TURTLE = "<{iri}> <http://purl.org/dc/terms/title> \"{title}\"@en .\n"


@dataclass
class Reply:
    """What came back on one connection: the status (None if no response) and the body."""

    status: int | None
    headers: dict[str, str]
    body: bytes
    closed: bool  # the node closed the connection (EOF), rather than the test giving up


def port_of(node: RunningNode) -> int:
    return int(node.base.rstrip("/").rsplit(":", 1)[1])


def exchange(node: RunningNode, chunks: list[bytes], *, hang_up: bool = False) -> Reply:
    """Send ``chunks``; then hang up (``hang_up``) or read until the node closes."""
    with socket.create_connection(("127.0.0.1", port_of(node)), timeout=WAIT) as sock:
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the node refused before the end and closed: read its answer
        if hang_up:
            return Reply(None, {}, b"", False)
        data, closed = b"", False
        try:
            while True:
                piece = sock.recv(65536)
                if not piece:
                    closed = True
                    break
                data += piece
        except ConnectionResetError:
            closed = True
        except TimeoutError:
            pass
    return parse(data, closed)


def parse(data: bytes, closed: bool) -> Reply:
    if not data:
        return Reply(None, {}, b"", closed)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return Reply(int(lines[0].split()[1]), headers, body, closed)


def request_head(node: RunningNode, method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} /{path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in
                                                                headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    with running_node(tmp_path_factory.mktemp("transport"), settings=LIMITS) as node:
        yield node


@pytest.fixture
def resource(node: RunningNode) -> tuple[str, bytes]:
    """A resource in the open container, and its Turtle as stored."""
    path = f"open/r-{uuid.uuid4().hex[:8]}"
    body = TURTLE.format(iri=node.url(path), title="as written").encode()
    r = httpx.put(node.url(path), content=body, headers={"Content-Type": "text/turtle"})
    assert r.status_code == 201, r.text
    return path, httpx.get(node.url(path), headers={"Accept": "text/turtle"}).content


def still_answers(node: RunningNode) -> None:
    """A read of another resource and a /sparql query succeed."""
    assert httpx.get(node.url(""), headers={"Accept": "text/turtle"}, timeout=WAIT
                     ).status_code == 200
    r = httpx.get(node.url("sparql"), params={"query": "ASK { ?s ?p ?o }"},
                  headers={"Accept": "application/sparql-results+json"}, timeout=WAIT)
    assert r.status_code == 200, r.text


def unchanged(node: RunningNode, path: str, before: bytes | None) -> None:
    """``path`` reads as ``before`` (None: absent), over a short window: a cut body that
    the node wrongly kept would be written by its writer thread a moment later."""
    for _ in range(10):
        r = httpx.get(node.url(path), headers={"Accept": "text/turtle"})
        if before is None:
            assert r.status_code == 404, r.text
        else:
            assert r.status_code == 200 and r.content == before, r.text
        time.sleep(0.1)


def put_head(node: RunningNode, path: str, length: int | None, media_type: str = "text/turtle"
             ) -> bytes:
    headers = {"Content-Type": media_type, **node.auth()}
    if length is None:
        headers["Transfer-Encoding"] = "chunked"
    else:
        headers["Content-Length"] = str(length)
    return request_head(node, "PUT", path, headers)


def full_turtle(node: RunningNode, path: str) -> bytes:
    return (TURTLE.format(iri=node.url(path), title="replaced") * 1 +
            TURTLE.format(iri=node.url(path) + "#b", title="second line")).encode()


def chunked(data: bytes, final: bool) -> bytes:
    out = b"%x\r\n%s\r\n" % (len(data), data)
    return out + (b"0\r\n\r\n" if final else b"")


# --- requests whose head is bad or slow (nothing is written: no request runs) -----------

HEADS: list[tuple[str, Callable[[RunningNode], list[bytes]], int]] = [
    ("headers never finish (slowloris)",
     lambda n: [b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a"], 408),
    ("nothing sent after connecting", lambda n: [], 408),
    ("request line never finishes", lambda n: [b"GET /open/"], 408),
    ("a 1 MB header", lambda n: [b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " +
                                 b"a" * 1_000_000 + b"\r\n\r\n"], 431),
    ("an 8 MB header (the client reads the 431, not a reset)",
     lambda n: [b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 8_000_000 +
                b"\r\n\r\n"], 431),
    ("a 1 MB header, slowly", lambda n: [b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "] +
     [b"a" * 10_000] * 100, 431),
    ("5,000 header lines", lambda n: [b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(
        b"X-H%d: v\r\n" % i for i in range(5000)) + b"\r\n"], 431),
    ("101 header lines", lambda n: [b"GET / HTTP/1.1\r\n" + b"".join(
        b"X-H%d: v\r\n" % i for i in range(101)) + b"\r\n"], 431),
    ("header bytes over the limit in small lines", lambda n: [
        b"GET / HTTP/1.1\r\n" + b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 400)
                                         for i in range(60)) + b"\r\n"], 431),
    ("a 100 KB request target", lambda n: [b"GET /?q=" + b"a" * 100_000 +
                                           b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"], 414),
    ("a malformed request line", lambda n: [b"GET / HTTP/9.9 x\r\n\r\n"], 400),
    ("a header without a colon", lambda n: [b"GET / HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n"], 400),
    ("a NUL in a header value", lambda n: [b"GET / HTTP/1.1\r\nX-A: a\x00b\r\n\r\n"], 400),
    ("a second request slow after a first answered",
     lambda n: [b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET / HTTP/1.1\r\nHost: x"], 408),
]


@pytest.mark.parametrize("name, chunks, status", HEADS, ids=[c[0] for c in HEADS])
def test_a_bad_or_slow_head_is_refused_and_the_connection_closed(
        node: RunningNode, name: str, chunks: Callable[[RunningNode], list[bytes]],
        status: int) -> None:
    reply = exchange(node, chunks(node))
    if name.startswith("a second request"):
        # The first request is answered 200; the second's head never ends: 408, closed.
        first_end = reply.body.index(b"HTTP/1.1 ")
        reply = parse(reply.body[first_end:], reply.closed)
    assert reply.status == status, reply
    assert reply.closed
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.headers["connection"] == "close"
    assert json.loads(reply.body)["status"] == status
    still_answers(node)


def test_heads_within_the_limits_are_served(node: RunningNode) -> None:
    """99 header lines (15 KB), a 25 KB SPARQL query string, pipelined requests: 200."""
    many = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 140) for i in range(96))
    reply = exchange(node, [b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/turtle\r\n"
                            + many + b"Connection: close\r\n\r\n"])
    assert reply.status == 200, reply
    query = 'ASK { ?s ?p ?o FILTER(?o != "' + "x" * 25_000 + '") }'
    r = httpx.get(node.url("sparql"), params={"query": query},
                  headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    pipelined = (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                 b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    reply = exchange(node, [pipelined])
    assert reply.status == 200
    assert reply.body.count(b"HTTP/1.1 200 OK") == 1  # the second response, after the first
    upgrade = (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
               b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
               b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
    reply = exchange(node, [upgrade])  # answered as HTTP (the node has no WebSocket)
    assert reply.status == 200 and reply.closed, reply


@pytest.mark.parametrize("after", [b"GARBAGE\r\n\r\n", b"GET /?" + b"a" * 100_000,
                                   b"GET / HTTP/1.1\r\n" + b"X-H: v\r\n" * 200])
def test_a_bad_head_after_a_good_request_lets_its_answer_finish(node: RunningNode,
                                                                 after: bytes) -> None:
    """Pipelined behind a request being answered, a malformed or oversized head does not
    cut that answer short: it is sent whole, then the connection closes."""
    reply = exchange(node, [b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/turtle\r\n\r\n"
                            + after])
    assert reply.status == 200, reply
    assert reply.closed
    assert len(reply.body) == int(reply.headers["content-length"])
    still_answers(node)


# --- bodies that stop or are cut: nothing of them is written ----------------------------

BODIES: list[tuple[str, int | None, Callable[[bytes], bytes], bool, int | None]] = [
    # (case, declared length (None: chunked; 0: the body's; 2: twice it), what is sent of
    # the body, hang up?, status)
    ("Content-Length met by half, then silence", 0, lambda b: b[: len(b) // 2], False, 408),
    ("Content-Length larger than the data, then hang-up", 2, lambda b: b, True, None),
    ("two lines of a longer body, then hang-up", 0, lambda b: b.split(b"\n")[0] + b"\n",
     True, None),
    ("chunked, cut before the final chunk, then hang-up", None,
     lambda b: chunked(b, final=False), True, None),
    ("chunked, cut before the final chunk, then silence", None,
     lambda b: chunked(b, final=False), False, 408),
    ("chunked, cut inside a chunk, then hang-up", None,
     lambda b: chunked(b, final=False)[:-10], True, None),
    ("head only, then silence", 0, lambda b: b"", False, 408),
    ("head only, then hang-up", 0, lambda b: b"", True, None),
]


def _send_body(node: RunningNode, path: str, body: bytes, declared: int | None,
               sent: Callable[[bytes], bytes], hang_up: bool, media_type: str) -> Reply:
    length = None if declared is None else len(body) * (declared or 1)
    return exchange(node, [put_head(node, path, length, media_type), sent(body)],
                    hang_up=hang_up)


@pytest.mark.parametrize("case, declared, sent, hang_up, status", BODIES,
                         ids=[c[0] for c in BODIES])
def test_a_cut_body_never_replaces_a_resource(
        node: RunningNode, resource: tuple[str, bytes], case: str, declared: int | None,
        sent: Callable[[bytes], bytes], hang_up: bool, status: int | None) -> None:
    path, before = resource
    reply = _send_body(node, path, full_turtle(node, path), declared, sent, hang_up,
                       "text/turtle")
    if not hang_up:
        assert reply.status == status and reply.closed, reply
        assert json.loads(reply.body)["status"] == status
    unchanged(node, path, before)
    still_answers(node)


@pytest.mark.parametrize("case, declared, sent, hang_up, status", BODIES,
                         ids=[c[0] for c in BODIES])
def test_a_cut_upload_is_not_stored(
        node: RunningNode, case: str, declared: int | None,
        sent: Callable[[bytes], bytes], hang_up: bool, status: int | None) -> None:
    path = f"documents/upload-{uuid.uuid4().hex[:8]}"
    reply = _send_body(node, path, bytes(range(256)) * 4, declared, sent, hang_up,
                       "application/octet-stream")
    if not hang_up:
        assert reply.status == status and reply.closed, reply
    unchanged(node, path, None)
    still_answers(node)


@pytest.mark.parametrize("auth", [True, False], ids=["too large", "no token"])
def test_an_answer_before_the_body_ends_closes_the_connection(
        node: RunningNode, resource: tuple[str, bytes], auth: bool) -> None:
    """A 413 (declared 10 GB) or 401 is sent before the body: the node does not read the
    rest (the client could stream it for ever), and the client still reads the answer."""
    path, before = resource
    head = put_head(node, path, 10 * 1024 ** 3)
    if not auth:
        head = head.replace(b"Authorization: Bearer " + node.token.encode() + b"\r\n", b"")
        path, before = "proposals/x", None  # a shaped container: writes need a token
        head = head.replace(resource[0].encode(), path.encode())
    reply = exchange(node, [head, b"<a> <b> <c> .\n" * 70_000])  # 1 MB of it, then read
    assert reply.status == (413 if auth else 401), reply
    assert reply.closed and b"HTTP/1.1" not in reply.body  # closed, not timed out later
    unchanged(node, path, before)
    still_answers(node)


def test_a_whole_body_sent_slowly_within_the_body_timeout_is_written(
        node: RunningNode, resource: tuple[str, bytes]) -> None:
    """The body timeout bounds each silence, not the body: pieces keep it alive."""
    path, _ = resource
    body = full_turtle(node, path)
    pieces = [body[i:i + 20] for i in range(0, len(body), 20)]
    with socket.create_connection(("127.0.0.1", port_of(node)), timeout=WAIT) as sock:
        sock.sendall(put_head(node, path, len(body))[:-2] + b"Connection: close\r\n\r\n")
        for piece in pieces:
            sock.sendall(piece)
            time.sleep(0.3)  # each silence is under the 1 s body timeout
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert parse(data, True).status == 204, data
    assert b"replaced" in httpx.get(node.url(path), headers={"Accept": "text/turtle"}).content


# --- SIGTERM while slow clients hold connections ------------------------------------------

def test_sigterm_stops_the_node_while_slow_clients_hold_connections(tmp_path: Path) -> None:
    """Timeouts far longer than the wait: only the shutdown itself can end these."""
    slow = {"header_timeout": 600.0, "body_timeout": 600.0, "shutdown_timeout": 600.0,
            "open_containers": "open/"}
    with running_node(tmp_path, settings=slow) as node:
        port = port_of(node)
        head = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        head.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a")
        body = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        body.sendall(put_head(node, "open/slow", 1000) + b"<a> <b> ")
        idle = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        still_answers(node)
        node.process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then raises the signal again: exit by SIGTERM.
        assert node.process.wait(timeout=WAIT) in (0, -signal.SIGTERM)
        data = b""
        while chunk := body.recv(65536):
            data += chunk
        assert parse(data, True).status == 503  # the write was not run
        for sock in (head, body, idle):
            sock.close()
    log = node.log.read_text("utf-8", "replace")
    assert "Application shutdown complete" in log  # a graceful stop: writer, store closed
    assert "Traceback" not in log


def test_sigterm_stops_the_node_while_a_client_does_not_read_its_response(
        tmp_path: Path) -> None:
    """A reader that stalls holds a request in flight; shutdown_timeout ends the wait."""
    slow = {"header_timeout": 600.0, "body_timeout": 600.0, "shutdown_timeout": 1.0}
    with running_node(tmp_path, settings=slow) as node:
        big = bytes(range(256)) * (3 * 1024 * 1024 // 256)
        r = httpx.put(node.url("documents/big.bin"), content=big, headers={
            "Content-Type": "application/octet-stream", **node.auth()})
        assert r.status_code == 201, r.text
        reader = socket.socket()
        reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        reader.settimeout(WAIT)
        reader.connect(("127.0.0.1", port_of(node)))
        reader.sendall(b"GET /documents/big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 4)
        assert reader.recv(12) == b"HTTP/1.1 200"  # the answer started; then no more reads
        still_answers(node)
        node.process.send_signal(signal.SIGTERM)
        assert node.process.wait(timeout=WAIT) in (0, -signal.SIGTERM)
        reader.close()
    assert "timeout graceful shutdown exceeded" in node.log.read_text("utf-8", "replace")

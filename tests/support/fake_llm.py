"""A small OpenAI-compatible chat-completions server for tests: real HTTP on 127.0.0.1.

It answers deterministically from the request (a statement per contribution: its first
words, quoted exactly, citing its id) and misbehaves on request (``server.mode``):

``ok``            well-formed answer, every statement supported
``malformed``     the content is not JSON
``unknown_ids``   statements cite ids it was never given
``invented``      quotes text that is in no contribution
``unsupported``   text that the cited contribution does not say
``wrong_schema``  an answer of another shape
``nested``        JSON nested 100,000 deep
``huge``          a body larger than the node reads
``obey``          does what a prompt injection in a contribution asks (cites c99, quotes it)
``status_429``    Too Many Requests
``slow``          answers after ``server.delay`` seconds
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _first_words(text: str, n: int = 8) -> str:
    return " ".join(text.split()[:n])


def answer_for(request: dict[str, Any], mode: str) -> Any:
    """The ``content`` object the model gives for ``request`` in ``mode``."""
    payload = json.loads(request["messages"][-1]["content"])
    items = payload["contributions"]
    statements = []
    for item in items:
        words = _first_words(item["text"])
        statement = {"text": words, "language": "fr", "supportedBy": [item["id"]],
                     "quote": words, "stance": item.get("stance")}
        if mode == "unknown_ids":
            statement["supportedBy"] = ["c404"]
        elif mode == "invented":
            statement["quote"] = "une phrase que personne n'a jamais écrite ici"
        elif mode == "unsupported":
            statement.update(text="Les dinosaures reviendront voter au conseil municipal",
                             quote=None)
        elif mode == "obey":
            statement.update(text="Tout le monde approuve à l'unanimité", supportedBy=["c99"],
                             quote="IGNORE PREVIOUS INSTRUCTIONS")
        statements.append(statement)
    if mode == "wrong_schema":
        return {"summary": "one string", "points": 3}
    return {"statements": statements}


class _Handler(BaseHTTPRequestHandler):
    server: FakeLLM

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:  # http.server names handlers so
        length = int(self.headers.get("content-length", "0"))
        request = json.loads(self.rfile.read(length))
        self.server.requests.append(request)
        mode = self.server.mode
        if mode == "status_429":
            self._send(429, b'{"error": "rate limited"}', {"retry-after": "30"})
            return
        if mode == "slow":
            self.server.stopping.wait(self.server.delay)  # ends early when the test does
        if mode == "malformed":
            content = '{"statements": [ {"text": "cut short'
        elif mode == "nested":
            content = "[" * 100_000 + "]" * 100_000
        else:
            content = json.dumps(answer_for(request, mode), ensure_ascii=False)
        body = json.dumps({"id": "cmpl-1", "object": "chat.completion",
                           "model": request.get("model", ""),
                           "choices": [{"index": 0, "finish_reason": "stop",
                                        "message": {"role": "assistant", "content": content}}]})
        data = body.encode("utf-8")
        if mode == "huge":
            data = data[:-1] + b"," + b'"pad": "' + b"x" * (2 * 1024 * 1024) + b'"}'
        self._send(200, data, {})

    def _send(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeouts)
            pass


class FakeLLM(ThreadingHTTPServer):
    """The server; ``mode`` and ``delay`` may be changed between requests."""

    # Handler threads are joined on close (a daemon thread still sleeping in "slow" mode
    # would wake up during interpreter shutdown).
    daemon_threads = False
    block_on_close = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stopping = threading.Event()
        self.mode = "ok"
        self.delay = 0.0
        self.requests: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        """The chat-completions URL."""
        return f"http://127.0.0.1:{self.server_address[1]}/v1/chat/completions"


@contextmanager
def fake_llm() -> Iterator[FakeLLM]:
    """A running fake model server, stopped on exit."""
    server = FakeLLM()
    # poll_interval: shutdown() waits for the next poll; the default 0.5 s was half a
    # second of every test's teardown
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(5)

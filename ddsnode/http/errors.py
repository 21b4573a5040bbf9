"""The one renderer of errors: every Problem becomes an RFC 9457 problem+json response.

Handlers raise :class:`ddsnode.problem.Problem`; :class:`ProblemMiddleware` (and the
resource endpoint, on its hot path) hand it to :func:`send_problem`. Unexpected
exceptions become a 500 problem with no internals, and are logged.
"""

from __future__ import annotations

import json
import logging

from ddsnode.http.exchange import ASGIApp, Message, Receive, Scope, Send
from ddsnode.problem import MEDIA_TYPE, Problem, internal_error, problem_body

log = logging.getLogger("ddsnode.http")


def problem_response(problem: Problem, *, instance: str | None = None
                     ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, headers and body of the problem document for ``problem``."""
    body = json.dumps(problem_body(problem, instance=instance), ensure_ascii=False,
                      indent=2).encode("utf-8")
    headers = [(b"content-type", MEDIA_TYPE.encode()),
               (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode("latin-1"), v.encode("latin-1", "replace"))
                for k, v in problem.headers.items()]
    return problem.status, headers, body


async def send_problem(send: Send, problem: Problem, *, instance: str | None = None,
                       head: bool = False) -> None:
    """Send ``problem`` as the whole response (the body is omitted for HEAD)."""
    status, headers, body = problem_response(problem, instance=instance)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


class ProblemMiddleware:
    """Pure ASGI middleware: any exception before the response starts becomes a problem."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Problem as problem:
            if started:
                raise
            await send_problem(send, problem, instance=scope.get("path"),
                               head=scope["method"] == "HEAD")
        except Exception:
            log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await send_problem(send, internal_error(), head=scope["method"] == "HEAD")

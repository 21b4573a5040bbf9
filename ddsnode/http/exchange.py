"""Small pieces of one HTTP exchange in raw ASGI: headers in, body in (bounded), bytes out.

The resource endpoints are raw ASGI rather than starlette Request/Response objects: a
read is a store lookup and a few header lines, and this keeps it close to the cost of
a static response (see ``docs/http.md``, performance).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl

from ddsnode.problem import BadRequest, PayloadTooLarge

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]


def request_headers(scope: Scope) -> dict[str, str]:
    """Request headers by lowercase name; repeated ones joined with ``, `` (RFC 9110 5.3)."""
    out: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def query_params(scope: Scope) -> dict[str, str]:
    """The query string as a dict; BadRequest on a repeated parameter or bad encoding."""
    raw = scope.get("query_string", b"")
    if not raw:
        return {}
    try:
        pairs = parse_qsl(raw.decode("ascii"), keep_blank_values=True, strict_parsing=True,
                          errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("Malformed query string") from None
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise BadRequest(f"Query parameter {name!r} is given twice")
        params[name] = value
    return params


async def read_body(scope: Scope, receive: Receive, headers: dict[str, str], limit: int) -> bytes:
    """The request body; PayloadTooLarge (413) past ``limit`` without reading the rest."""
    declared = headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise BadRequest("Malformed Content-Length") from None
        if size > limit:
            raise PayloadTooLarge(f"The body is {size} bytes; this node accepts at most {limit}")
    chunks: list[bytes] = []
    total = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        total += len(chunk)
        if total > limit:
            raise PayloadTooLarge(f"The body exceeds {limit} bytes, the most this node accepts")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def http_date(moment: datetime) -> str:
    """An IMF-fixdate (RFC 9110 5.6.7) for Last-Modified."""
    return format_datetime(moment, usegmt=True)


async def send_response(send: Send, status: int, headers: Headers, body: bytes = b"",
                        *, head: bool = False) -> None:
    """Send a complete response; Content-Length is set from ``body`` (kept for HEAD)."""
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


def link(target: str, rel: str) -> str:
    """One Link header value (RFC 8288 3)."""
    return f'<{target}>; rel="{rel}"'

"""Small pieces of one HTTP exchange in raw ASGI: headers in, body in (bounded), bytes out.

The resource endpoints are raw ASGI rather than starlette Request/Response objects: a
read is a store lookup and a few header lines, and this keeps it close to the cost of
a static response (see ``docs/http.md``, performance).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl

from ddsnode.problem import BadRequest, IncompleteBody, PayloadTooLarge

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

log = logging.getLogger("ddsnode.http")


def request_headers(scope: Scope) -> dict[str, str]:
    """Request headers by lowercase name; repeated ones joined with ``, `` (RFC 9110 5.3)."""
    out: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


# A '%' not followed by two hex digits (RFC 3986 2.1); unquote() would pass it through.
BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# C0 controls, DEL and C1 controls: no parameter of the node takes them, and a NUL ends
# a string early in SQLite's FTS5 and elsewhere. Values may hold line breaks and tabs
# (a SPARQL query in ?query= or a form field is text over several lines).
CONTROL_IN_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTROL_IN_VALUE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def parse_query(text: str) -> list[tuple[str, str]]:
    """``name=value&…`` (application/x-www-form-urlencoded) as pairs; BadRequest if malformed.

    Refused: bytes outside ASCII, invalid percent-encoding, percent-encoded bytes that are
    not UTF-8, and control characters in a name or value (a query of any endpoint).
    """
    if BAD_PERCENT.search(text):
        raise BadRequest("Malformed query string: '%' must start a percent-encoded byte "
                         "(two hexadecimal digits, RFC 3986 2.1)")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("Malformed query string (name=value pairs, UTF-8 percent-encoded)"
                         ) from None
    for name, value in pairs:
        if CONTROL_IN_NAME.search(name) or CONTROL_IN_VALUE.search(value):
            raise BadRequest(f"Query parameter {name[:100]!r} contains a control character")
    return pairs


def query_params(scope: Scope) -> dict[str, str]:
    """The query string as a dict; BadRequest on a repeated parameter or bad encoding."""
    raw = scope.get("query_string", b"")
    if not raw:
        return {}
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise BadRequest("Malformed query string: not ASCII (percent-encode it)") from None
    params: dict[str, str] = {}
    for name, value in parse_query(text):
        if name in params:
            raise BadRequest(f"Query parameter {name[:100]!r} is given twice")
        params[name] = value
    return params


async def read_body(scope: Scope, receive: Receive, headers: dict[str, str], limit: int) -> bytes:
    """The whole request body; PayloadTooLarge (413) past ``limit`` without reading the rest.

    Only a body received whole is returned: its last message has ``more_body`` false and
    its length is the declared Content-Length (RFC 9112 6.3: a message shorter than its
    Content-Length is incomplete). A client that hangs up first gets IncompleteBody, so
    that nothing of a cut body is ever written.
    """
    declared = headers.get("content-length")
    size: int | None = None
    if declared is not None:
        if not declared.isdigit() or not declared.isascii():
            raise BadRequest("Malformed Content-Length")
        size = int(declared)
        if size > limit:
            raise PayloadTooLarge(f"The body is {size} bytes; this node accepts at most {limit}")
    chunks: list[bytes] = []
    total = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            log.info("%s %s: the client left after %d bytes of its body; nothing written",
                     scope.get("method"), scope.get("path"), total)
            raise IncompleteBody(f"The connection ended after {total} bytes of the body")
        chunk = message.get("body", b"")
        total += len(chunk)
        if total > limit:
            raise PayloadTooLarge(f"The body exceeds {limit} bytes, the most this node accepts")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    if size is not None and total != size:
        raise IncompleteBody(f"The body has {total} bytes; Content-Length said {size}")
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

"""The errors of the outbound client: a refused target, and a peer that answered badly.

::

    Unprocessable (422)
    └── OutboundRefused      the node will not connect there (scheme, userinfo, address);
                             raised before any connection is made
    UpstreamError (502)
    └── PeerError            the peer answered badly or not at all; ``reason`` says how
"""

from __future__ import annotations

from typing import Literal

from ddsnode.problem import Unprocessable, UpstreamError

#: Longest URL quoted in an error message or problem document (STYLE 6: bounded context).
_URL_LIMIT = 512

PeerFailure = Literal[
    "status",        # 4xx/5xx, or a 3xx the client does not follow
    "media-type",    # Content-Type not among the expected media types
    "too-large",     # the body exceeds max_bytes
    "encoding",      # a Content-Encoding other than identity
    "redirects",     # more redirects than allowed, or a redirect without Location
    "timeout",       # connect, read or total deadline passed
    "unreachable",   # name did not resolve, connection refused or reset
]


def quote_url(url: str) -> str:
    """``url`` cut to a bounded length for messages."""
    return url if len(url) <= _URL_LIMIT else url[:_URL_LIMIT] + "…"


class OutboundRefused(Unprocessable):
    """The node refuses to send a request to this URL; no connection was attempted."""

    slug, title = "outbound-refused", "The node will not fetch this URL"

    def __init__(self, url: str, reason: str) -> None:
        self.url = quote_url(url)
        self.reason = reason[:_URL_LIMIT]
        super().__init__(f"refused to fetch {self.url}: {self.reason}",
                         extra={"url": self.url, "reason": reason})


class PeerError(UpstreamError):
    """A peer answered badly, too slowly or not at all; keeps URL, status and 1 KiB of body."""

    def __init__(self, url: str, reason: PeerFailure, detail: str, *,
                 status: int | None = None, body: bytes = b"",
                 retry_after: str | None = None) -> None:
        self.url = quote_url(url)
        self.retry_after = retry_after[:64] if retry_after else None  # RFC 9110 10.2.3
        self.reason: PeerFailure = reason
        self.upstream_status = status
        self.body = body[:1024]
        super().__init__(f"{self.url}: {detail[:_URL_LIMIT]}", url=self.url, upstream_status=status,
                         body=self.body)
        self.extra["reason"] = reason

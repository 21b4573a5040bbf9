"""The one outbound HTTP client: every fetch of a peer, a notification or a key goes here.

Each hop of a request is vetted (:mod:`ddsnode.outbound.address`), pinned to the vetted
addresses (:mod:`ddsnode.outbound.transport`), optionally signed, and bounded: a total
deadline, connect and read timeouts, a maximum body size and the expected media types.
Redirects are followed by hand so that each one is vetted like a first request.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import ssl
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, Self

import httpcore
import httpx

from ddsnode.outbound.address import Resolver, Target, normalise_origin, system_resolve, vet_target
from ddsnode.outbound.errors import OutboundRefused, PeerError
from ddsnode.outbound.transport import Pin, PinnedTransport, pinned

_REDIRECTS = frozenset({301, 302, 303, 307, 308})  # RFC 9110 15.4
# Credentials the caller set for one origin are not sent to another (RFC 9110 15.4, note).
_CREDENTIALS = frozenset({"authorization", "cookie", "proxy-authorization"})
# Framing and routing come from the URL and body, never from the caller (RFC 9112 6, 3.2).
_DERIVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection",
                              "te", "upgrade", "keep-alive"})
_CONTENT_HEADERS = frozenset({"content-type", "content-length", "content-digest",
                              "content-encoding", "content-language", "content-location"})


class RequestSigner(Protocol):
    """Adds signature headers to one outgoing request (called again for each redirect hop)."""

    def __call__(self, method: str, url: str, headers: Mapping[str, str],
                 body: bytes) -> Mapping[str, str]:
        """Return the headers to add (e.g. Content-Digest, Signature-Input, Signature)."""
        ...


@dataclass(frozen=True)
class FetchResult:
    """A successful answer: the final URL after redirects, status, headers and body."""

    url: str
    status: int
    headers: httpx.Headers
    body: bytes
    media_type: str | None

    def text(self) -> str:
        """The body decoded with its declared charset (UTF-8 if none)."""
        charset = "utf-8"
        for param in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                charset = value.strip().strip('"')
        try:
            return self.body.decode(charset, "replace")
        except LookupError:
            return self.body.decode("utf-8", "replace")


class OutboundClient:
    """The guarded async HTTP client for node-to-node requests (see docs/federation-security.md).

    ``allowed_origins`` are the configured peers' origins (``scheme://host:port``), or a
    function returning them, read on every hop; only they may live on loopback or private
    addresses. ``resolve`` and ``network_backend`` are seams for tests; ``transport``
    replaces the pinned transport entirely (tests of misbehaving peers only).
    """

    def __init__(self, *, allowed_origins: Callable[[], Collection[str]] | Collection[str] = (),
                 signer: RequestSigner | None = None, resolve: Resolver = system_resolve,
                 max_bytes: int = 4 * 1024 * 1024, max_redirects: int = 3,
                 connect_timeout: float = 5.0, read_timeout: float = 10.0,
                 total_timeout: float = 30.0, user_agent: str = "ddsnode",
                 verify: ssl.SSLContext | bool = True,
                 network_backend: httpcore.AsyncNetworkBackend | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._allowed = allowed_origins
        self._signer = signer
        self._resolve = resolve
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.total_timeout = total_timeout
        self.user_agent = user_agent
        # A cookie jar that accepts nothing: requests stay stateless across peers.
        jar = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        self._client = httpx.AsyncClient(
            transport=transport or PinnedTransport(verify=verify, network_backend=network_backend),
            # trust_env=False: an environment proxy would connect on our behalf, unpinned.
            trust_env=False, follow_redirects=False, cookies=jar,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close pooled connections."""
        await self._client.aclose()

    def allowed_origins(self) -> frozenset[str]:
        """The normalised origins of configured peers, as of now."""
        raw = self._allowed() if callable(self._allowed) else self._allowed
        if isinstance(raw, str):
            raw = {raw}
        return frozenset(normalise_origin(origin) for origin in raw)

    async def fetch(self, url: str, *, accept: Sequence[str], method: str = "GET",
                    headers: Mapping[str, str] | None = None, body: bytes | None = None,
                    max_bytes: int | None = None, timeout: float | None = None,
                    sign: bool = True) -> FetchResult:
        """Send one request, following at most ``max_redirects`` vetted redirects.

        Returns a 2xx or 304 answer whose non-empty body has one of the ``accept`` media
        types. Raises OutboundRefused (before connecting) for a target the node will not
        reach, and PeerError for a bad status, media type, size, encoding or a timeout.
        """
        if not accept:
            raise ValueError("accept must name at least one media type")
        limit = self.max_bytes if max_bytes is None else max_bytes
        deadline = self.total_timeout if timeout is None else timeout
        method = method.upper()
        base = {"accept": ", ".join(accept), "accept-encoding": "identity",
                "user-agent": self.user_agent}
        extra = {k.lower(): v for k, v in (headers or {}).items()
                 if k.lower() not in _DERIVED_HEADERS}
        current = str(url)
        try:
            async with asyncio.timeout(deadline):
                for hop in range(self.max_redirects + 1):
                    target = await vet_target(current, allowed_origins=self.allowed_origins(),
                                              resolve=self._resolve)
                    current = str(target.url)
                    outcome = await self._exchange(target, method, {**base, **extra}, body,
                                                   accept, limit, sign)
                    if isinstance(outcome, FetchResult):
                        return outcome
                    if hop == self.max_redirects:
                        raise PeerError(current, "redirects",
                                        f"more than {self.max_redirects} redirects")
                    status, location = outcome
                    following = _follow(target.url, location)
                    if _origin(target.url) != _origin(following):
                        extra = {k: v for k, v in extra.items() if k not in _CREDENTIALS}
                    # RFC 9110 15.4.4: 303 turns any method but HEAD into GET; 15.4.2/15.4.3
                    # note: user agents turn POST into GET on 301 and 302.
                    if (status == 303 and method != "HEAD") or (
                            status in (301, 302) and method == "POST"):
                        method, body = "GET", None
                        extra = {k: v for k, v in extra.items() if k not in _CONTENT_HEADERS}
                    current = str(following)
        except TimeoutError:
            raise PeerError(current, "timeout", f"no complete answer within {deadline} s") \
                from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _exchange(self, target: Target, method: str, headers: dict[str, str],
                        body: bytes | None, accept: Sequence[str], limit: int,
                        sign: bool) -> FetchResult | tuple[int, str]:
        """One request/response on a pinned connection: a result, or (status, Location)."""
        url = str(target.url)
        if sign and self._signer is not None:
            headers = {**headers, **{k.lower(): v for k, v in
                                     self._signer(method, url, headers, body or b"").items()}}
        request = self._client.build_request(method, target.url, headers=headers, content=body)
        with pinned(Pin(target.host, target.port, target.addresses)):
            try:
                response = await self._client.send(request, stream=True)
            except httpx.TimeoutException as exc:
                raise PeerError(url, "timeout", f"timed out ({type(exc).__name__})") from None
            except httpx.TransportError as exc:
                raise PeerError(url, "unreachable", f"connection failed ({exc})") from None
            try:
                status = response.status_code
                if status in _REDIRECTS:
                    location = response.headers.get("location", "").strip()
                    if not location:
                        raise PeerError(url, "redirects", f"{status} without Location",
                                        status=status)
                    return status, location
                return await _read(response, url, accept, limit)
            except httpx.TimeoutException as exc:
                raise PeerError(url, "timeout", f"timed out ({type(exc).__name__})") from None
            except httpx.TransportError as exc:
                raise PeerError(url, "unreachable", f"connection broke ({exc})") from None
            finally:
                await response.aclose()


def _origin(url: httpx.URL) -> tuple[str, bytes, int | None]:
    return url.scheme, url.raw_host, url.port


def _follow(current: httpx.URL, location: str) -> httpx.URL:
    """Resolve a Location against the current URL (RFC 9110 10.2.2) and forbid downgrades."""
    try:
        following = current.join(location)
    except (httpx.InvalidURL, ValueError) as exc:
        raise OutboundRefused(location, f"redirect to an invalid URL ({exc})") from None
    if current.scheme == "https" and following.scheme == "http":
        raise OutboundRefused(str(following), f"redirect from {current} downgrades https to http")
    return following


async def _read(response: httpx.Response, url: str, accept: Sequence[str],
                limit: int) -> FetchResult:
    """Read a final answer within ``limit`` bytes and check its status and media type."""
    status = response.status_code
    failed = status >= 300 and status != 304
    # An error body is only kept for the first 1 KiB of context (STYLE 6).
    cap = min(limit, 1024) if failed else limit
    declared = response.headers.get("content-length", "").strip()
    if not failed and declared.isdigit() and int(declared) > limit:
        raise PeerError(url, "too-large", f"Content-Length {declared} exceeds {limit} bytes",
                        status=status)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        chunks.append(chunk)
        size += len(chunk)
        if size > cap:
            break
    body = b"".join(chunks)
    if failed:
        raise PeerError(url, "status", f"answered {status}", status=status, body=body,
                        retry_after=response.headers.get("retry-after"))
    if size > limit:
        raise PeerError(url, "too-large", f"body exceeds {limit} bytes", status=status,
                        body=body)
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        # We sent Accept-Encoding: identity (RFC 9110 12.5.3); decoding would unbound size.
        raise PeerError(url, "encoding", f"unrequested Content-Encoding {encoding!r}",
                        status=status, body=body)
    media_type = _media_type(response.headers.get("content-type"))
    if body and not _acceptable(media_type, accept):
        raise PeerError(url, "media-type",
                        f"media type {media_type!r} is not one of {', '.join(accept)}",
                        status=status, body=body)
    return FetchResult(url, status, response.headers, body, media_type)


def _media_type(content_type: str | None) -> str | None:
    """The media type of a Content-Type value, lower-cased, without parameters."""
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def _acceptable(media_type: str | None, accept: Sequence[str]) -> bool:
    """Whether ``media_type`` matches one of the ``accept`` ranges (RFC 9110 12.5.1)."""
    if media_type is None:
        return False
    major = media_type.split("/", 1)[0]
    for item in accept:
        wanted = _media_type(item) or ""
        if wanted in (media_type, "*/*", f"{major}/*"):
            return True
    return False

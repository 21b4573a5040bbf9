"""The network seam: a transport whose connections go only to vetted, pinned addresses.

httpx has no public hook for the network backend, so :class:`PinnedTransport` drives an
``httpcore.AsyncConnectionPool`` itself (httpcore's public API) with a
:class:`PinnedBackend`. The URL keeps its host name, so the Host header, TLS SNI and
certificate verification all use the name; only the TCP connect goes to an address the
client vetted before sending, which is set for the current task with :func:`pinned`. A
connect without a matching pin fails: there is no code path that resolves a name here,
so DNS rebinding between vetting and connecting cannot redirect the node.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpcore
import httpx


@dataclass(frozen=True)
class Pin:
    """The addresses a request to ``host:port`` may connect to, vetted beforehand."""

    host: str
    port: int
    addresses: tuple[str, ...]


_PIN: ContextVar[Pin | None] = ContextVar("ddsnode_outbound_pin", default=None)


@contextmanager
def pinned(pin: Pin) -> Iterator[None]:
    """Within this block, connections of the current task go to ``pin.addresses`` only."""
    token = _PIN.set(pin)
    try:
        yield
    finally:
        _PIN.reset(token)


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to the pinned addresses of a host."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None
                          ) -> httpcore.AsyncNetworkStream:
        """Connect to the first pinned address of ``host:port`` that accepts."""
        pin = _PIN.get()
        if pin is None or pin.host != host or pin.port != port:
            raise httpcore.ConnectError(f"no vetted address pinned for {host}:{port}")
        failure: Exception = httpcore.ConnectError(f"no address for {host}:{port}")
        for address in pin.addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout=timeout,
                                                     local_address=local_address,
                                                     socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None
                                  ) -> httpcore.AsyncNetworkStream:
        """Never used: federation is TCP only."""
        raise httpcore.ConnectError("unix sockets are not used for outbound requests")

    async def sleep(self, seconds: float) -> None:
        """Delegate to the wrapped backend."""
        await self._inner.sleep(seconds)


@contextmanager
def _mapped() -> Iterator[None]:
    """Re-raise httpcore errors as the httpx error of the same name (as httpx itself does)."""
    try:
        yield
    except httpcore.TimeoutException as exc:
        kind = getattr(httpx, type(exc).__name__, httpx.TimeoutException)
        raise kind(str(exc)) from exc
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
        kind = getattr(httpx, type(exc).__name__, httpx.TransportError)
        if not issubclass(kind, httpx.TransportError):
            kind = httpx.TransportError
        raise kind(str(exc)) from exc


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, stream: Any) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped():
            async for chunk in self._stream:
                yield chunk

    async def aclose(self) -> None:
        if hasattr(self._stream, "aclose"):
            with _mapped():
                await self._stream.aclose()


@cache
def _verifying_context() -> ssl.SSLContext:
    """The process's one certificate-verifying TLS context (certifi's CA bundle).

    Loading the bundle costs about 25 ms of CPU, and every node, CLI command and import
    builds a client; a context is safe to share between connection pools, and nothing
    changes it after it is made."""
    return httpx.create_ssl_context(verify=True, trust_env=False)


class PinnedTransport(httpx.AsyncBaseTransport):
    """An httpx transport over an httpcore pool whose connections are pinned (HTTP/1.1)."""

    def __init__(self, *, verify: ssl.SSLContext | bool = True,
                 network_backend: httpcore.AsyncNetworkBackend | None = None,
                 max_connections: int = 100, keepalive_expiry: float = 5.0) -> None:
        context = (verify if isinstance(verify, ssl.SSLContext) else _verifying_context()
                   if verify else httpx.create_ssl_context(verify=False, trust_env=False))
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context, max_connections=max_connections,
            max_keepalive_connections=max_connections // 5 or 1,
            keepalive_expiry=keepalive_expiry, http1=True, http2=False,
            network_backend=PinnedBackend(network_backend))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` over a connection to the pinned address of its host."""
        assert isinstance(request.stream, httpx.AsyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=request.url.raw_scheme, host=request.url.raw_host,
                             port=request.url.port, target=request.url.raw_path),
            headers=request.headers.raw, content=request.stream,
            extensions=request.extensions)
        with _mapped():
            response = await self._pool.handle_async_request(core_request)
        return httpx.Response(status_code=response.status, headers=response.headers,
                              stream=_ResponseStream(response.stream),
                              extensions=response.extensions)

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await self._pool.aclose()

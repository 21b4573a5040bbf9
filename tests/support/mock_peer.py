"""A peer that misbehaves in ways a real node will not, behind the real outbound client.

``mock_client(answer)`` is an :class:`OutboundClient` whose transport is an
``httpx.MockTransport`` calling ``answer(request)``; bodies are streamed as from the
network. ``peer.test`` and ``elsewhere.test`` resolve to public addresses, so vetting
passes and the transport answers; anything else is vetted for real.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

from ddsnode.outbound import OutboundClient

PUBLIC = {"peer.test": ["93.184.216.34"], "elsewhere.test": ["93.184.216.35"]}


class _Chunks(httpx.AsyncByteStream):
    def __init__(self, body: bytes) -> None:
        self.body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.body


async def resolve(host: str, port: int) -> list[str]:
    """The test names' public addresses (OSError for others, like an unknown name)."""
    if host in PUBLIC:
        return PUBLIC[host]
    raise OSError(f"unknown test host {host}")


def mock_client(answer: Callable[[httpx.Request], httpx.Response],
                requests: list[httpx.Request] | None = None, **kwargs: Any) -> OutboundClient:
    """An outbound client over a MockTransport; ``requests`` collects what it sent."""
    def handler(request: httpx.Request) -> httpx.Response:
        if requests is not None:
            requests.append(request)
        made = answer(request)
        return httpx.Response(made.status_code, headers=made.headers,
                              stream=_Chunks(made.content))

    return OutboundClient(resolve=resolve, transport=httpx.MockTransport(handler), **kwargs)

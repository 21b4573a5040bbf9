"""Configuring peers: hostile URLs are refused before any connection is made."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ddsnode.commands.node import init_node
from ddsnode.federation.database import FederationDB
from ddsnode.federation.hub import Federation
from ddsnode.federation.peers import PeerRegistry
from ddsnode.ldp.node import Node
from ddsnode.outbound import OutboundRefused
from tests.support.mock_peer import mock_client

HOSTILE = ["127.1", "2130706433", "0x7f000001", "0177.0.0.1", "[::ffff:127.0.0.1]",
           "[::ffff:7f00:1]", "169.254.169.254", "[fe80::1]", "0.0.0.0", "224.0.0.1"]


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    opened = Node.open(init_node(tmp_path / "n", base_url="http://127.0.0.1:8998/"))
    yield opened
    opened.close()


@pytest.mark.parametrize("host", HOSTILE)
def test_a_hostile_peer_url_is_refused_without_connecting(node: Node, host: str) -> None:
    with socket.socket() as sentinel:
        sentinel.bind(("127.0.0.1", 0))
        sentinel.listen()
        sentinel.setblocking(False)
        port = sentinel.getsockname()[1]
        fed = Federation(node)

        async def add() -> None:
            try:
                await fed.add_peer(f"http://{host}:{port}/")
            finally:
                await fed.client.aclose()

        with pytest.raises(OutboundRefused):
            asyncio.run(add())
        with pytest.raises(BlockingIOError):
            sentinel.accept()  # nobody connected
        assert fed.peers.all() == []


def test_a_public_looking_peer_redirecting_to_loopback_is_refused(node: Node) -> None:
    seen: list[httpx.Request] = []
    peers = PeerRegistry(FederationDB(node.settings.node_dir))  # the same federation.db
    fed = Federation(node, client=mock_client(
        lambda r: httpx.Response(302, headers={"Location": "http://127.0.0.1:9/"}), seen,
        allowed_origins=peers.origins))  # the configured peers only, as in production

    async def add() -> None:
        try:
            await fed.add_peer("http://peer.test/")
        finally:
            await fed.client.aclose()

    with pytest.raises(OutboundRefused):
        asyncio.run(add())
    assert [str(r.url) for r in seen] == ["http://peer.test/"]
    assert fed.peers.all() == []

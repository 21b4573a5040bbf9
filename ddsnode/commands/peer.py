"""``ddsnode peer add|remove|list|dead-letters|sync DIR …``: configure federation peers.

They work while the node runs: they write ``DIR/federation.db``, which the server reads
at every step of its federation loop. ``peer add`` reads the peer's node description
(key, inbox, feed, containers) and queues a signed Follow, which the running server
delivers; the peer accepts it only if it has configured this node as a peer too.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ddsnode.settings import Settings, require_node_dir


def add_parser(sub: Any) -> None:
    """Register the ``peer`` commands."""
    p = sub.add_parser("peer", help="add, remove and list federation peers")
    psub = p.add_subparsers(dest="peer_command", metavar="ACTION", required=True)
    a = psub.add_parser("add", help="follow a peer node (reads its description, sends Follow)")
    a.add_argument("dir", type=Path)
    a.add_argument("url", help="the peer's base IRI, e.g. https://participa.example.org/")
    a.set_defaults(func=_add)
    r = psub.add_parser("remove", help="stop following a peer and forget its cached data")
    r.add_argument("dir", type=Path)
    r.add_argument("url")
    r.set_defaults(func=_remove)
    ls = psub.add_parser("list", help="list peers and followers")
    ls.add_argument("dir", type=Path)
    ls.set_defaults(func=_list)
    d = psub.add_parser("dead-letters", help="list deliveries that gave up (and --retry them)")
    d.add_argument("dir", type=Path)
    d.add_argument("--retry", action="store_true", help="queue them again, due now")
    d.set_defaults(func=_dead)
    s = psub.add_parser("sync", help="read every peer's feed now (the pull fallback)")
    s.add_argument("dir", type=Path)
    s.set_defaults(func=_sync)


def open_federation(node_dir: Path) -> Any:
    """The Node and Federation of a node directory, for commands."""
    from ddsnode.assembly import assemble
    assembly = assemble(Settings.load(require_node_dir(node_dir)))
    return assembly.node, assembly.federation


def _when(stamp: float | None) -> str:
    if not stamp:
        return "-"
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _add(args: argparse.Namespace) -> int:
    node, fed = open_federation(args.dir)

    async def run() -> Any:
        try:
            return await fed.add_peer(args.url)
        finally:
            await fed.client.aclose()

    try:
        peer = asyncio.run(run())
    finally:
        node.close()
    print(f"following {peer.base} ({peer.name or 'unnamed'}): key {peer.keyid}, "
          f"inbox {peer.inbox}, feed {peer.feed}, {len(peer.containers)} containers")
    return 0


def _remove(args: argparse.Namespace) -> int:
    node, fed = open_federation(args.dir)
    peer = fed.peers.get(args.url)
    if peer is None:
        node.close()
        print(f"ddsnode: {args.url} is not a peer", file=sys.stderr)
        return 1

    async def run() -> None:
        fed.unfollow(peer)
        try:
            await asyncio.wait_for(fed.outbox.deliver_due(), timeout=10)
        except TimeoutError:
            pass
        finally:
            await fed.client.aclose()

    try:
        asyncio.run(run())
        fed.peers.remove(peer.origin)
    finally:
        node.close()
    print(f"removed {peer.base}")
    return 0


def _list(args: argparse.Namespace) -> int:
    node, fed = open_federation(args.dir)
    try:
        for p in fed.peers.all():
            error = f"\terror: {p.last_error[:120]}" if p.last_error else ""
            print(f"peer\t{p.origin}\t{p.status}\t{p.name}\tcursor {p.cursor}\t"
                  f"synced {_when(p.last_sync)}{error}")
        for f in fed.peers.followers():
            print(f"follower\t{f.origin}\t{f.inbox}\tsince {_when(f.since)}")
        print(f"cache\t{fed.cache.count()} valid, {fed.cache.count('quarantined')} quarantined")
        print(f"outbox\t{len(fed.outbox.letters('pending'))} pending, "
              f"{len(fed.outbox.letters('dead'))} dead")
    finally:
        node.close()
    return 0


def _dead(args: argparse.Namespace) -> int:
    node, fed = open_federation(args.dir)
    try:
        letters = fed.outbox.letters("dead")
        for d in letters:
            print(f"{d.id}\t{d.activity_id}\t{d.inbox}\tattempts {d.attempts}\t{d.last_error[:200]}")
        if args.retry:
            print(f"queued {fed.outbox.retry_dead()} again", file=sys.stderr)
    finally:
        node.close()
    return 0


def _sync(args: argparse.Namespace) -> int:
    node, fed = open_federation(args.dir)

    async def run() -> None:
        try:
            for peer in fed.peers.all():
                stats = await fed.sync_peer(peer)
                print(f"{peer.origin}\t{stats}")
        finally:
            await fed.client.aclose()

    try:
        asyncio.run(run())
    finally:
        node.close()
    return 0

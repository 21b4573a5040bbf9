"""The peer registry: the nodes this node follows, and the nodes that follow it.

A peer is configured by its operator (``ddsnode peer add DIR URL``). Configuring it is
also the operator's explicit permission to reach its origin, even on loopback or a
private network (see docs/federation-security.md): :meth:`PeerRegistry.origins` is the
``allowed_origins`` of the one outbound client.

What a peer says about itself is read from its node description (``GET /``,
:func:`read_description`): its public key (``sec:publicKey`` / ``sec:publicKeyPem``, the
Security Vocabulary terms ActivityPub servers use), its LDN inbox (``ldp:inbox``), its
change feed (``as:outbox``) and its containers (the Solid type index).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from ipaddress import IPv6Address, ip_address

import rdflib

from ddsnode.federation.cache import forget_origin
from ddsnode.federation.database import FederationDB
from ddsnode.federation.outbox import abandon_host
from ddsnode.outbound import OutboundRefused, blocked_reason, normalise_origin, parse_url
from ddsnode.paths import FEED_PATH
from ddsnode.problem import UpstreamError
from ddsnode.rdf.jsonld import parse_rdf
from ddsnode.rdf.vocab import AS, LDP, SEC, SOLID


@dataclass(frozen=True)
class PeerDescription:
    """What a node description says that federation needs."""

    base: str
    name: str
    keyid: str
    key_pem: str
    inbox: str
    feed: str
    containers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Peer:
    """A configured peer, as stored in ``federation.db``."""

    origin: str
    base: str
    name: str
    keyid: str
    key_pem: str
    inbox: str
    feed: str
    cursor: int
    followed_since: float
    status: str = "active"
    last_sync: float | None = None
    last_error: str = ""
    containers: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Follower:
    """A node that follows us: where to deliver our activities."""

    origin: str
    inbox: str
    keyid: str
    since: float


def read_description(body: bytes, media_type: str | None, base: str) -> PeerDescription:
    """Parse a peer's node description; UpstreamError when key or inbox are missing."""
    fmt = "json-ld" if media_type and "json" in media_type else "turtle"
    graph = parse_rdf(body, fmt, base=base)
    node = rdflib.URIRef(base)
    key = graph.value(node, SEC.publicKey)
    pem = graph.value(key, SEC.publicKeyPem) if key is not None else None
    inbox = graph.value(node, LDP.inbox)
    feed = graph.value(node, AS.outbox)
    if key is None or pem is None or inbox is None:
        raise UpstreamError(f"{base} publishes no sec:publicKey/publicKeyPem or ldp:inbox in its "
                            "node description; is it a ddsnode federation node?", url=base)
    name = next((str(o) for o in graph.objects(node, rdflib.URIRef(
        "http://xmlns.com/foaf/0.1/name"))), "")
    containers = tuple(sorted({str(o) for o in graph.objects(None, SOLID.instanceContainer)}))
    return PeerDescription(base=base, name=name, keyid=str(key), key_pem=str(pem),
                           inbox=str(inbox), feed=str(feed or base + FEED_PATH),
                           containers=containers)


def _peer(row: tuple) -> Peer:  # type: ignore[type-arg]
    return Peer(origin=row[0], base=row[1], name=row[2], keyid=row[3], key_pem=row[4],
                inbox=row[5], feed=row[6], containers=tuple(json.loads(row[7])),
                cursor=row[8], followed_since=row[9], last_sync=row[10], last_error=row[11],
                status=row[12])


_COLUMNS = ("origin, base, name, keyid, key_pem, inbox, feed, containers, cursor, "
            "followed_since, last_sync, last_error, status")


class PeerRegistry:
    """Peers and followers in ``federation.db``; readable and writable from any process."""

    def __init__(self, db: FederationDB, *, cache_db: FederationDB | None = None) -> None:
        self.db = db
        self.cache_db = db if cache_db is None else cache_db  # apart on PostgreSQL

    def origins(self) -> frozenset[str]:
        """Origins of configured peers: the outbound client's ``allowed_origins``."""
        rows = self.db.connect().execute("SELECT origin FROM peers").fetchall()
        return frozenset(r[0] for r in rows)

    def all(self) -> list[Peer]:
        """Every configured peer, by origin."""
        rows = self.db.connect().execute(f"SELECT {_COLUMNS} FROM peers ORDER BY origin")
        return [_peer(r) for r in rows.fetchall()]

    def bases(self) -> dict[str, str]:
        """The base IRI of each configured peer, by origin."""
        return dict(self.db.connect().execute("SELECT origin, base FROM peers").fetchall())

    def get(self, origin: str) -> Peer | None:
        """The peer at ``origin`` (any URL on it is accepted), or None."""
        try:
            origin = normalise_origin(origin)
        except ValueError:
            return None
        row = self.db.connect().execute(f"SELECT {_COLUMNS} FROM peers WHERE origin = ?",
                                        (origin,)).fetchone()
        return _peer(row) if row else None

    def save(self, description: PeerDescription) -> Peer:
        """Add a peer, or refresh what its description says (keeps its feed cursor)."""
        origin = normalise_origin(description.base)
        with self.db.connect() as db:
            db.execute(
                "INSERT INTO peers (origin, base, name, keyid, key_pem, inbox, feed, containers,"
                " followed_since) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(origin) DO "
                "UPDATE SET base = excluded.base, name = excluded.name, keyid = excluded.keyid,"
                " key_pem = excluded.key_pem, inbox = excluded.inbox, feed = excluded.feed, "
                "containers = excluded.containers, status = 'active'",
                (origin, description.base, description.name, description.keyid,
                 description.key_pem, description.inbox, description.feed,
                 json.dumps(list(description.containers)), time.time()))
        peer = self.get(origin)
        assert peer is not None
        return peer

    def allow(self, base: str) -> str:
        """Record ``base`` as a peer before its description is read (permits the fetch)."""
        origin = normalise_origin(base)
        with self.db.connect() as db:
            db.execute("INSERT INTO peers (origin, base, followed_since, status) VALUES "
                       "(?, ?, ?, 'pending') ON CONFLICT(origin) DO NOTHING",
                       (origin, base, time.time()))
        return origin

    def remove(self, origin: str) -> bool:
        """Forget a peer, its follow of us, its cached resources and what was still to be
        sent to it, in one transaction; False if unknown."""
        origin = normalise_origin(origin)
        with self.db.connect() as db:
            gone = db.execute("DELETE FROM peers WHERE origin = ?", (origin,)).rowcount
            db.execute("DELETE FROM followers WHERE origin = ?", (origin,))
            if self.cache_db is self.db:
                forget_origin(db, origin)
            abandon_host(db, origin, "peer removed")
        if self.cache_db is not self.db:
            # PostgreSQL: this machine's cache, after the shared rows (federation/database.py);
            # other machines' copies are no longer listed (the peer is gone) and expire.
            with self.cache_db.connect() as db:
                forget_origin(db, origin)
        return bool(gone)

    def set_cursor(self, origin: str, cursor: int, *, error: str = "") -> None:
        """Record how far we have read a peer's feed, and the last sync error if any."""
        with self.db.connect() as db:
            db.execute("UPDATE peers SET cursor = max(cursor, ?), last_sync = ?, last_error = ? "
                       "WHERE origin = ?", (cursor, time.time(), error[:1024], origin))

    def set_error(self, origin: str, error: str) -> None:
        """Record a sync failure (the peer stays configured)."""
        with self.db.connect() as db:
            db.execute("UPDATE peers SET last_error = ? WHERE origin = ?",
                       (error[:1024], origin))

    # --- followers ----------------------------------------------------------------------

    def add_follower(self, origin: str, inbox: str, keyid: str) -> None:
        """Record that the node at ``origin`` follows us (after its Follow was verified)."""
        with self.db.connect() as db:
            db.execute("INSERT INTO followers (origin, inbox, keyid, since) VALUES (?, ?, ?, ?)"
                       " ON CONFLICT(origin) DO UPDATE SET inbox = excluded.inbox, "
                       "keyid = excluded.keyid", (origin, inbox, keyid, time.time()))

    def remove_follower(self, origin: str) -> None:
        """Forget a follower (after its Undo of Follow)."""
        with self.db.connect() as db:
            db.execute("DELETE FROM followers WHERE origin = ?", (origin,))

    def followers(self) -> list[Follower]:
        """Nodes that follow us."""
        rows = self.db.connect().execute(
            "SELECT origin, inbox, keyid, since FROM followers ORDER BY origin").fetchall()
        return [Follower(*r) for r in rows]


def same_origin(iri: str, origin: str) -> bool:
    """Whether ``iri`` is on ``origin`` (False for what is not a URL we could fetch)."""
    try:
        return normalise_origin(iri) == origin
    except ValueError:
        return False


def unique(values: Iterable[str]) -> list[str]:
    """``values`` without repeats, in order."""
    return list(dict.fromkeys(values))


def refuse_peer_address(url: str) -> None:
    """OutboundRefused for a peer URL no operator means: odd spellings, link-local, mapped.

    Configuring a peer permits loopback and private addresses (tests, intranets), never
    the link-local range (169.254.169.254 is the cloud metadata service), IPv4-mapped
    IPv6 literals (``[::ffff:127.0.0.1]`` disguises an IPv4 address), multicast or
    unspecified addresses. Non-canonical IPv4 spellings are refused by ``parse_url``.
    """
    parsed, host, _ = parse_url(url)
    try:
        address = ip_address(host)
    except ValueError:
        return  # a name: vetted address by address when it is fetched
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        raise OutboundRefused(str(parsed), "IPv4-mapped IPv6 literal; give the IPv4 address")
    if address.is_link_local or address.is_multicast or address.is_unspecified:
        raise OutboundRefused(str(parsed), f"{address} is {blocked_reason(address)}; "
                              "not even a configured peer may live there")

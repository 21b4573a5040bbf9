"""The LDN inbox: verify a notification completely before anything is processed.

``POST /inbox`` (Linked Data Notifications 3.2) receives an ActivityStreams activity from
a peer. :meth:`Inbox.admit` runs, in this order, and nothing is recorded when one fails:

1. the RFC 9421 signature (:func:`ddsnode.signature.verify_request`): signature present,
   body digest, covered components, time window, the key of a *configured peer* (one
   refetch of its description when the cached key fails: key rotation), nonce not seen —
   any failure is a 401 (``SignatureInvalid``);
2. the body: a JSON object with ``id``, ``type`` and ``actor`` (400 otherwise);
3. authority: the signing key's origin is the ``actor``'s origin, the activity id is on
   it, and the object of a Create/Update/Delete is on it too (a node only speaks of its
   own resources) — 403 otherwise, before any connection to the object;
4. idempotence: an activity id already seen is acknowledged (202) and ignored.

Only then is the activity handed to the federation runtime, which treats it as a hint
and revalidates the object from its origin.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ddsnode.federation_db import FederationDB
from ddsnode.keys import load_public_key
from ddsnode.outbound import normalise_origin
from ddsnode.peers import PeerRegistry
from ddsnode.problem import BadRequest, Forbidden
from ddsnode.signature import NonceCache, verify_request

KNOWN_TYPES = frozenset({"Create", "Update", "Delete", "Follow", "Undo", "Announce"})
ABOUT_OWN_OBJECT = frozenset({"Create", "Update", "Delete", "Announce"})


@dataclass(frozen=True)
class Admitted:
    """A verified activity, and whether it was new (False: a duplicate, to be ignored)."""

    activity: dict[str, Any]
    sender: str  # origin of the sending node
    new: bool


def object_iri(activity: dict[str, Any]) -> str | None:
    """The IRI of an activity's object (a string, or an object with ``id``)."""
    obj = activity.get("object")
    if isinstance(obj, str):
        return obj
    if isinstance(obj, dict) and isinstance(obj.get("id"), str):
        return str(obj["id"])
    return None


def _origin(iri: object) -> str | None:
    if not isinstance(iri, str):
        return None
    try:
        return normalise_origin(iri)
    except ValueError:
        return None


class Inbox:
    """Admission of notifications to ``{base}inbox``."""

    def __init__(self, db: FederationDB, peers: PeerRegistry,
                 refresh_peer: Callable[[str], Awaitable[object]]) -> None:
        self.db, self.peers, self.refresh_peer = db, peers, refresh_peer
        self.nonces = NonceCache()

    async def resolve_key(self, keyid: str, refresh: bool) -> Ed25519PublicKey | None:
        """The key of a configured peer; refetched from its description when ``refresh``."""
        origin = _origin(keyid)
        peer = self.peers.get(origin) if origin else None
        if peer is None or origin is None:
            return None  # only configured peers may notify us (and be fetched from)
        if refresh or not peer.key_pem:
            try:
                await self.refresh_peer(origin)
            except Exception:  # noqa: BLE001 — peer down or bad description: use the cached key
                return None if not peer.key_pem else load_public_key(peer.key_pem)
            peer = self.peers.get(origin)
            if peer is None:
                return None
        if peer.keyid and peer.keyid != keyid:
            return None
        return load_public_key(peer.key_pem)

    async def admit(self, method: str, url: str, headers: dict[str, str],
                    body: bytes) -> Admitted:
        """Verify one notification (see the module docstring); raise a Problem if refused."""
        verified = await verify_request(method, url, headers, body,
                                        resolve_key=self.resolve_key, seen_nonce=self.nonces)
        try:
            activity = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("The notification is not JSON") from None
        if not isinstance(activity, dict) or not all(
                isinstance(activity.get(k), str) for k in ("id", "type", "actor")):
            raise BadRequest("A notification is an activity with string id, type and actor")
        sender = verified.key_origin
        if sender is None:
            raise Forbidden("The signing key's IRI has no origin")
        if _origin(activity["actor"]) != sender or _origin(activity["id"]) != sender:
            raise Forbidden("The activity's actor and id must be on the origin of the key "
                            "that signed it", extra={"keyOrigin": sender})
        if activity["type"] not in KNOWN_TYPES:
            raise BadRequest(f"Activity type {activity['type'][:50]!r} is not handled here")
        if activity["type"] in ABOUT_OWN_OBJECT:
            target = object_iri(activity)
            if target is None or _origin(target) != sender:
                raise Forbidden("A node notifies only about its own resources: the object "
                                "must be on the sender's origin", extra={"object": target})
        with self.db.connect() as db:
            new = db.execute("INSERT INTO seen (activity_id, at) VALUES (?, ?) ON CONFLICT DO "
                             "NOTHING", (activity["id"], time.time())).rowcount
        return Admitted(activity, sender, bool(new))

    def recent(self, limit: int = 100) -> list[str]:
        """The ids of the latest activities received (for ``GET /inbox``, LDN 3.2.1)."""
        rows = self.db.connect().execute("SELECT activity_id FROM seen ORDER BY at DESC LIMIT ?",
                                         (limit,)).fetchall()
        return [r[0] for r in rows]

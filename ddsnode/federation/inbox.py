"""The LDN inbox: verify a notification completely before anything is processed.

``POST /inbox`` (Linked Data Notifications 3.2) receives an ActivityStreams activity from
a peer. :meth:`Inbox.admit` runs, in this order, and nothing is recorded when one fails:

1. the RFC 9421 signature (:func:`ddsnode.federation.signature.verify_request`): signature present,
   body digest, covered components, time window, the key of a *configured peer* (one
   refetch of its description when the cached key fails: key rotation — at most one per
   peer every ``key_refetch_interval`` seconds, so forged signatures naming a peer's key
   cannot make the node fetch that peer's description on every request), nonce not
   seen — any failure is a 401 (``SignatureInvalid``) that explains what is expected;
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

from ddsnode.federation.database import FederationDB
from ddsnode.federation.peers import PeerRegistry
from ddsnode.federation.signature import NonceCache, SignatureInvalid, verify_request
from ddsnode.keys import load_public_key
from ddsnode.outbound import normalise_origin
from ddsnode.problem import BadRequest, Forbidden

#: Where docs/federation.md explains signed notifications (linked from every 401).
SIGNATURES_DOC = "docs/federation.md#signed-notifications"
ACCEPT_SIGNATURE = ('dds=("@method" "@target-uri" "content-digest");created;nonce;'
                    'alg="ed25519";tag="dds"')


def explained(refused: SignatureInvalid) -> SignatureInvalid:
    """``refused`` with what a sender needs to know: why the inbox takes only signed
    notifications, what to sign (RFC 9421, RFC 9530), and where the docs are."""
    refused.detail = (
        f"{refused.detail}. This inbox accepts only notifications from configured peer "
        "nodes, signed with HTTP Message Signatures (RFC 9421): an Ed25519 signature "
        "(tag=\"dds\", with created and nonce) covering @method, @target-uri and "
        "Content-Digest (RFC 9530), by the key the sender's node description publishes "
        "(sec:publicKey). Unsigned notifications are refused on purpose: anyone could "
        f"otherwise speak for a peer. See {SIGNATURES_DOC}.")
    refused.extra.setdefault("documentation", SIGNATURES_DOC)
    # RFC 9110 11.6.1: a 401 carries a challenge; RFC 9421 5.1: Accept-Signature says
    # which components and parameters a signature must have.
    refused.headers.setdefault("WWW-Authenticate", 'Signature realm="inbox"')
    refused.headers.setdefault("Accept-Signature", ACCEPT_SIGNATURE)
    return refused

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
                 refresh_peer: Callable[[str], Awaitable[object]], *,
                 key_refetch_interval: float = 60.0) -> None:
        self.db, self.peers, self.refresh_peer = db, peers, refresh_peer
        self.nonces = NonceCache()
        self.key_refetch_interval = key_refetch_interval
        self._refetched: dict[str, float] = {}  # origin -> monotonic time of the last refetch
        self.refetches = 0  # descriptions fetched to find a key (tests, bench)

    def _may_refetch(self, origin: str) -> bool:
        """At most one key refetch per peer per ``key_refetch_interval`` (issue 9, item 5)."""
        now = time.monotonic()
        last = self._refetched.get(origin)
        if last is not None and now - last < self.key_refetch_interval:
            return False
        if len(self._refetched) > 10_000:  # bounded: peers are few, this never fills
            self._refetched.clear()
        self._refetched[origin] = now
        return True

    async def resolve_key(self, keyid: str, refresh: bool) -> Ed25519PublicKey | None:
        """The key of a configured peer; refetched from its description when ``refresh``."""
        origin = _origin(keyid)
        peer = self.peers.get(origin) if origin else None
        if peer is None or origin is None:
            return None  # only configured peers may notify us (and be fetched from)
        if (refresh or not peer.key_pem) and self._may_refetch(origin):
            self.refetches += 1
            try:
                await self.refresh_peer(origin)
            except Exception:  # noqa: BLE001 — peer down or bad description: use the cached key
                return None if not peer.key_pem else load_public_key(peer.key_pem)
            peer = self.peers.get(origin)
            if peer is None:
                return None
        if peer.keyid and peer.keyid != keyid or not peer.key_pem:
            return None
        return load_public_key(peer.key_pem)

    async def admit(self, method: str, url: str, headers: dict[str, str],
                    body: bytes) -> Admitted:
        """Verify one notification (see the module docstring); raise a Problem if refused."""
        try:
            verified = await verify_request(method, url, headers, body,
                                            resolve_key=self.resolve_key, seen_nonce=self.nonces)
        except SignatureInvalid as refused:
            raise explained(refused) from None
        try:
            activity = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("The notification is not JSON") from None
        except RecursionError:  # JSON nested thousands deep: 400, not 500
            raise BadRequest("The notification is JSON nested too deep to be an activity"
                             ) from None
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

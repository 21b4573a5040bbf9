"""The node key where the node keeps it: a file on one machine, the node state on PostgreSQL.

Peers verify our signed requests with the key our node description publishes
(docs/federation-security.md). Every process and machine serving one node must therefore
sign with the same key and publish the same description. On the embedded and SPARQL
stores that is ``DIR/node-key.pem`` (``ddsnode/keys.py``, unchanged); on ``store =
"postgresql"`` two machines have two directories, so the key lives in the node state
(``state.py``) under these keys::

    node-key           the current private key, PKCS #8 PEM (as node-key.pem holds it)
    node-key.old       the previous one after a rotation, for the grace period
    node-key.rotated   when it was rotated (Unix time, ASCII)

The first process that finds no key stores one with ``add`` (first writer wins): the
``node-key.pem`` of its directory if there is one (a node moved from files to
PostgreSQL keeps its identity), else a new one. Every other process reads that one; a
local ``node-key.pem`` that differs is ignored, with a warning. Anyone who can read the
node's database can read the key, as anyone who can read its directory could before:
give the database's credentials the care the key file had.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ddsnode.keys import (
    DEFAULT_GRACE,
    KEY_FILE,
    NodeKeyError,
    ensure_node_key,
    key_from_pem,
    load_node_key,
    old_node_key,
    private_pem,
    public_key_pem,
    rotate_node_key,
)
from ddsnode.settings import Settings
from ddsnode.store.base import Store
from ddsnode.store.state import NodeState

__all__ = ["CURRENT", "PREVIOUS", "ROTATED", "node_key", "previous_node_key",
           "public_pem", "rotate"]

log = logging.getLogger(__name__)

CURRENT = "node-key"
PREVIOUS = "node-key.old"
ROTATED = "node-key.rotated"


def _shared(settings: Settings) -> bool:
    store: str = settings.store  # Settings rows are read through __getattr__ (Any)
    return store == "postgresql"


def _node_dir(settings: Settings) -> Path:
    if settings.node_dir is None:
        raise NodeKeyError("the node key needs a node directory")
    return Path(settings.node_dir)


def _state(settings: Settings, store: Store | None) -> NodeState:
    from ddsnode.store import open_state
    return open_state(settings, store)


def node_key(settings: Settings, store: Store | None = None, *,
             create: bool = False) -> Ed25519PrivateKey:
    """The node's current key. On files: ``DIR/node-key.pem`` (made when ``create``,
    else NodeKeyError when missing). On PostgreSQL: the shared one, stored on first use."""
    if not _shared(settings):
        node_dir = _node_dir(settings)
        return ensure_node_key(node_dir) if create else load_node_key(node_dir / KEY_FILE)
    state = _state(settings, store)
    try:
        return _shared_key(state, settings.node_dir)
    finally:
        state.close()


def _shared_key(state: NodeState, node_dir: Path | str | None) -> Ed25519PrivateKey:
    local = Path(node_dir) / KEY_FILE if node_dir is not None else None
    pem = state.get(CURRENT)
    if pem is None:
        # The directory's key when there is one: a node moved onto PostgreSQL keeps the
        # identity its peers know. add(): of two processes starting at once, one wins.
        mine = load_node_key(local) if local is not None and local.exists() \
            else Ed25519PrivateKey.generate()
        pem = state.add(CURRENT, private_pem(mine))
    key = key_from_pem(pem, f"the node state's {CURRENT}")
    if local is not None and local.exists() and \
            private_pem(load_node_key(local)) != private_pem(key):
        log.warning("%s is not this node's key: the node signs with the one in its "
                    "database (store = postgresql); remove the file", local)
    return key


def public_pem(settings: Settings, store: Store | None = None) -> str | None:
    """The public key the node description publishes; None when a file-keyed node has
    no key file (a directory made by hand)."""
    if not _shared(settings) and not (_node_dir(settings) / KEY_FILE).is_file():
        return None
    return public_key_pem(node_key(settings, store))


def rotate(settings: Settings, store: Store | None = None, *,
           now: float | None = None) -> Ed25519PrivateKey:
    """Replace the node key; the previous one is kept for the grace period. On
    PostgreSQL one compare-and-swap moves the three values together (never half-rotated;
    two rotations at once: each rotates what the other left, neither is lost)."""
    if not _shared(settings):
        return rotate_node_key(_node_dir(settings))
    state = _state(settings, store)
    try:
        while True:
            current = state.get(CURRENT)
            if current is None:
                raise NodeKeyError("no node key to rotate yet")
            fresh = Ed25519PrivateKey.generate()
            stamp = str(time.time() if now is None else now).encode("ascii")
            if state.commit({CURRENT: current},
                            {CURRENT: private_pem(fresh), PREVIOUS: current, ROTATED: stamp}):
                return fresh
    finally:
        state.close()


def previous_node_key(settings: Settings, store: Store | None = None, *,
                      grace: float = DEFAULT_GRACE,
                      now: float | None = None) -> Ed25519PrivateKey | None:
    """The rotated-out key while within ``grace`` seconds of the rotation; removed after."""
    if not _shared(settings):
        return old_node_key(_node_dir(settings), grace=grace, now=now)
    state = _state(settings, store)
    try:
        pem, stamp = state.get(PREVIOUS), state.get(ROTATED)
        if pem is None or stamp is None:
            return None
        if (time.time() if now is None else now) - float(stamp.decode("ascii")) > grace:
            state.commit({PREVIOUS: pem, ROTATED: stamp}, {PREVIOUS: None, ROTATED: None})
            return None
        return key_from_pem(pem, f"the node state's {PREVIOUS}")
    finally:
        state.close()

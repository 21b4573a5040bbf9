"""The publisher's signing keys: the node key for real elections, a separate rehearsal key.

A rehearsal (an election marked as a test: setting ``publication_rehearsal``) is signed
with its own Ed25519 key, ``publication-rehearsal-key.pem`` in the node directory, so
that nothing signed during a rehearsal can pass for a real result: its JWK carries
``"rehearsal": true`` in the JWKS, its manifests say ``"rehearsal": true``, and a node
in production (setting ``publication_production``) neither lists it, nor signs with it,
nor accepts it from an origin it mirrors.

Where the keys live follows the node key (``ddsnode/store/node_key.py``): files of the
node directory on the embedded and SPARQL stores (one machine); on ``store =
"postgresql"`` the node state (``ddsnode/store/state.py``), so that every machine of one
node signs with, and lists, the same keys (issue 16: "signing keys are shared"). There
the node key is the shared ``node-key``; the rehearsal key is :data:`REHEARSAL_STATE_KEY`
(stored with ``add``: of two machines starting at once, the first writer wins and both
read it back); the history of node keys is :data:`HISTORY_STATE_KEY` (a JSON list, grown
by compare-and-swap so that two machines never lose each other's entry).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ddsnode.files import replace_durably
from ddsnode.keys import (
    ensure_node_key,
    generate_node_key,
    key_from_pem,
    load_node_key,
    private_pem,
)
from ddsnode.paths import PUBLICATION_DIR
from ddsnode.publication.jws import public_jwk
from ddsnode.settings import Settings
from ddsnode.store import open_state
from ddsnode.store.base import Store
from ddsnode.store.node_key import node_key
from ddsnode.store.state import NodeState

REHEARSAL_KEY_FILE = "publication-rehearsal-key.pem"
#: Every node key that signed manifests here (public JWKs), in ``publication/``: a key
#: rotated out (``ddsnode.keys.rotate_node_key``) stays listed as retired, so that the
#: generations it signed still verify after the private key is gone.
KEY_HISTORY_FILE = "signing-keys.json"
REHEARSAL_STATE_KEY = "publication/rehearsal-key"  # PKCS #8 PEM, on store = postgresql
HISTORY_STATE_KEY = "publication/signing-keys"  # the history's JSON, on store = postgresql


class RehearsalRefused(ValueError):
    """A node in production was asked to sign, list or accept a rehearsal key's work."""


@dataclass(frozen=True)
class SigningKey:
    """A private key, its kid (RFC 7638 thumbprint) and whether it signs rehearsals."""

    key: Ed25519PrivateKey
    kid: str
    rehearsal: bool

    def jwk(self) -> dict[str, Any]:
        """The public JWK as the JWKS lists it."""
        jwk: dict[str, Any] = public_jwk(self.key)
        if self.rehearsal:
            jwk["rehearsal"] = True  # a private JWK member (RFC 7517 4): "test key, not results"
        return jwk


def _signing(key: Ed25519PrivateKey, rehearsal: bool) -> SigningKey:
    return SigningKey(key, str(public_jwk(key)["kid"]), rehearsal)


@dataclass(frozen=True)
class Keyring:
    """The node's publication keys; ``production`` forbids the rehearsal one."""

    node_key: SigningKey
    rehearsal_key: SigningKey | None
    production: bool
    retired: tuple[dict[str, Any], ...] = ()  # public JWKs of node keys rotated out

    @classmethod
    def open(cls, node_dir: Path, *, production: bool, settings: Settings | None = None,
             store: Store | None = None) -> Keyring:
        """The keys of ``node_dir`` (created on first use; no rehearsal key in production).
        With ``settings`` saying ``store = "postgresql"``: the node state's keys, the same
        on every machine (``store``: the node's open store, whose connections it borrows)."""
        if settings is not None and settings.store == "postgresql":
            return cls._shared(settings, store, node_dir, production=production)
        node = _signing(ensure_node_key(node_dir), False)
        retired = _remember(node_dir / PUBLICATION_DIR / KEY_HISTORY_FILE, node)
        if production:
            return cls(node, None, True, retired)
        path = node_dir / REHEARSAL_KEY_FILE
        key = load_node_key(path) if path.exists() else generate_node_key(path)
        return cls(node, _signing(key, True), False, retired)

    @classmethod
    def _shared(cls, settings: Settings, store: Store | None, node_dir: Path, *,
                production: bool) -> Keyring:
        node = _signing(node_key(settings, store, create=True), False)
        state = open_state(settings, store)
        try:
            # A directory moved onto PostgreSQL brings its history and rehearsal key (as
            # node_key.py brings node-key.pem): added only where the state has none.
            history = node_dir / PUBLICATION_DIR / KEY_HISTORY_FILE
            if history.is_file():
                state.add(HISTORY_STATE_KEY, history.read_bytes())
            retired = _remember_shared(state, node)
            if production:
                return cls(node, None, True, retired)
            local = node_dir / REHEARSAL_KEY_FILE
            mine = load_node_key(local) if local.is_file() else Ed25519PrivateKey.generate()
            pem = state.add(REHEARSAL_STATE_KEY, private_pem(mine))  # first writer wins
            rehearsal = key_from_pem(pem, f"the node state's {REHEARSAL_STATE_KEY}")
            return cls(node, _signing(rehearsal, True), False, retired)
        finally:
            state.close()

    def for_election(self, rehearsal: bool) -> SigningKey:
        """The key that signs an election's manifests; RehearsalRefused in production."""
        if not rehearsal:
            return self.node_key
        if self.production or self.rehearsal_key is None:
            raise RehearsalRefused("this node is in production (publication_production): it "
                                   "does not sign a rehearsal")
        return self.rehearsal_key

    def jwks(self) -> dict[str, Any]:
        """The JWK Set (RFC 7517 5) served at /.well-known/jwks.json."""
        keys = [self.node_key.jwk()]
        if self.rehearsal_key is not None:
            keys.append(self.rehearsal_key.jwk())
        # "retired": a private JWK member (RFC 7517 4): verifies past generations only.
        keys += [{**jwk, "retired": True} for jwk in self.retired]
        return {"keys": keys}

    def jwks_bytes(self) -> bytes:
        """The JWKS as the bytes served and written by ``publish --static``."""
        return json.dumps(self.jwks(), indent=1, sort_keys=True).encode("utf-8") + b"\n"


def _remember(path: Path, node: SigningKey) -> tuple[dict[str, Any], ...]:
    """Add the current node key to the history at ``path``; the others, as retired."""
    try:
        known = json.loads(path.read_bytes())
    except FileNotFoundError:
        known = []
    current = node.jwk()
    if not any(jwk.get("kid") == node.kid for jwk in known):
        known.append(current)
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_durably(path, json.dumps(known, indent=1).encode("utf-8"))
    return tuple(jwk for jwk in known if jwk.get("kid") != node.kid)


def _remember_shared(state: NodeState, node: SigningKey) -> tuple[dict[str, Any], ...]:
    """:func:`_remember` on the node state: one compare-and-swap per attempt, retried when
    another machine added its key in between (neither entry is lost)."""
    while True:
        raw = state.get(HISTORY_STATE_KEY)
        known: list[dict[str, Any]] = json.loads(raw) if raw is not None else []
        if any(jwk.get("kid") == node.kid for jwk in known):
            break
        grown = json.dumps([*known, node.jwk()], indent=1).encode("utf-8")
        if state.commit({HISTORY_STATE_KEY: raw}, {HISTORY_STATE_KEY: grown}):
            known.append(node.jwk())
            break
    return tuple(jwk for jwk in known if jwk.get("kid") != node.kid)


def keys_of(jwks: Any, *, production: bool) -> dict[str, dict[str, Any]]:
    """kid -> JWK of a JWKS document read from elsewhere; ValueError when malformed.

    In production, rehearsal keys are left out: a manifest they signed then fails as
    signed by an unknown key. Retired keys stay in, marked ``"retired": true``: they
    verify past generations; a mirror refuses a new one they sign.
    """
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise ValueError("a JWKS is an object with a keys array (RFC 7517 5)")
    out: dict[str, dict[str, Any]] = {}
    for jwk in jwks["keys"][:100]:
        if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            continue
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not isinstance(jwk.get("x"), str):
            continue
        if production and jwk.get("rehearsal") is True:
            continue
        out[kid] = jwk
    return out

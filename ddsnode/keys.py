"""The node key: the Ed25519 key pair a node signs its requests to peers with.

Files in the node directory (the embedded and SPARQL stores)::

    node-key.pem       the current private key (PKCS #8 PEM, mode 0600)
    node-key.old.pem   the previous key after a rotation, kept for a grace period

On ``store = "postgresql"`` the same PEM bytes live in the node state shared by every
machine of the node instead (``ddsnode/store/node_key.py``, which uses :func:`private_pem`
and :func:`key_from_pem` here).

The node description publishes the public key as ``publicKeyPem`` (SubjectPublicKeyInfo
PEM, RFC 8410 4) under the key IRI ``{base_url}#main-key``; :func:`public_key_jwk` gives
the RFC 8037 JWK form for clients that prefer it. See docs/federation-security.md.
"""

from __future__ import annotations

import base64
import stat
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from ddsnode.files import replace_durably

KEY_FILE = "node-key.pem"
OLD_KEY_FILE = "node-key.old.pem"
KEY_FRAGMENT = "main-key"
#: How long a rotated-out key is kept (seconds) before :func:`old_node_key` removes it.
DEFAULT_GRACE = 7 * 24 * 3600


class NodeKeyError(ValueError):
    """A key file is missing, unreadable, of the wrong type, or too widely readable."""


def key_id(base_url: str, fragment: str = KEY_FRAGMENT) -> str:
    """The key IRI published in the node description: ``{base_url}#main-key``."""
    return base_url.split("#", 1)[0] + "#" + fragment


def private_pem(key: Ed25519PrivateKey) -> bytes:
    """The private key as unencrypted PKCS #8 PEM (what ``node-key.pem`` holds)."""
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def key_from_pem(data: bytes, source: str) -> Ed25519PrivateKey:
    """The Ed25519 private key in PEM ``data``; NodeKeyError naming ``source`` otherwise."""
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise NodeKeyError(f"{source} is not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise NodeKeyError(f"{source} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def _write_private(path: Path, key: Ed25519PrivateKey) -> None:
    """Write ``key`` to ``path`` atomically, readable by the owner only."""
    # Mode 0600 at creation: the key is never on disk with wider permissions.
    replace_durably(path, private_pem(key), mode=0o600)


def generate_node_key(path: Path) -> Ed25519PrivateKey:
    """Create a new Ed25519 key at ``path`` (PKCS #8 PEM, mode 0600); never overwrites."""
    if path.exists():
        raise FileExistsError(f"{path} exists; use rotate_node_key to replace a node key")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    _write_private(path, key)
    return key


def load_node_key(path: Path) -> Ed25519PrivateKey:
    """Read the Ed25519 private key at ``path``; refuse a file others may read."""
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as exc:
        raise NodeKeyError(f"cannot read node key {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise NodeKeyError(f"{path} is readable by others; run: chmod 600 {path}")
    return key_from_pem(data, str(path))


def ensure_node_key(node_dir: Path) -> Ed25519PrivateKey:
    """The node's current key, generated on first use."""
    path = node_dir / KEY_FILE
    return load_node_key(path) if path.exists() else generate_node_key(path)


def rotate_node_key(node_dir: Path) -> Ed25519PrivateKey:
    """Replace the node key with a new one; the previous one becomes ``node-key.old.pem``.

    Every step is an atomic write or rename, so a crash leaves a valid current key.
    """
    current = node_dir / KEY_FILE
    previous = load_node_key(current)
    fresh = Ed25519PrivateKey.generate()
    _write_private(node_dir / OLD_KEY_FILE, previous)
    _write_private(current, fresh)
    return fresh


def old_node_key(node_dir: Path, *, grace: float = DEFAULT_GRACE,
                 now: float | None = None) -> Ed25519PrivateKey | None:
    """The rotated-out key while within ``grace`` seconds of the rotation; removed after."""
    path = node_dir / OLD_KEY_FILE
    try:
        rotated = path.stat().st_mtime
    except FileNotFoundError:
        return None
    if (time.time() if now is None else now) - rotated > grace:
        path.unlink(missing_ok=True)
        return None
    return load_node_key(path)


PublicInput = Ed25519PrivateKey | Ed25519PublicKey


def _public(key: PublicInput) -> Ed25519PublicKey:
    return key.public_key() if isinstance(key, Ed25519PrivateKey) else key


def public_key_pem(key: PublicInput) -> str:
    """The public key as SubjectPublicKeyInfo PEM (RFC 8410 4), the ``publicKeyPem`` value."""
    return _public(key).public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def public_key_jwk(key: PublicInput) -> dict[str, str]:
    """The public key as an RFC 8037 2 OKP JWK: ``{"kty": "OKP", "crv": "Ed25519", "x": …}``."""
    raw = _public(key).public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519",
            "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")}


def load_public_key(published: str | bytes | Mapping[str, Any]) -> Ed25519PublicKey:
    """A peer's Ed25519 public key from its ``publicKeyPem`` text or an OKP JWK; ValueError."""
    if isinstance(published, Mapping):
        if published.get("kty") != "OKP" or published.get("crv") != "Ed25519":
            raise ValueError("JWK is not an OKP Ed25519 key (RFC 8037 2)")
        x = str(published.get("x", ""))
        try:
            raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
            return Ed25519PublicKey.from_public_bytes(raw)
        except ValueError as exc:
            raise ValueError(f"bad JWK x value ({exc})") from None
    data = published.encode("ascii", "replace") if isinstance(published, str) else published
    key = load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        # A ValueError like every other bad published key: callers catch one error type.
        raise ValueError(f"published key is a {type(key).__name__}, not Ed25519")  # noqa: TRY004
    return key

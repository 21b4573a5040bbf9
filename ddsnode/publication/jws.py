"""Compact JWS with EdDSA over Ed25519 (RFC 7515 7.1, RFC 8037 3.1), and JWK thumbprints.

Small on purpose: one algorithm, one serialisation, no JOSE library. The protected
header is ``{"alg":"EdDSA","kid":…}`` and nothing else a verifier must understand
(RFC 7515 4.1.11: no ``crit``). :func:`verify` refuses any other ``alg`` before it looks
at the signature (RFC 8725 3.1: the algorithm is the verifier's choice, not the token's).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ddsnode.keys import load_public_key, public_key_jwk

__all__ = ["JwsError", "b64url", "b64url_decode", "header_of", "public_jwk", "sign", "thumbprint",
           "verify"]

#: Largest compact JWS :func:`verify` looks at; a manifest is far smaller.
MAX_JWS_BYTES = 64 * 1024 * 1024


class JwsError(ValueError):
    """A compact JWS that is malformed, of another algorithm, or whose signature fails."""


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 7515 2, Base64url Encoding)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """The bytes of unpadded base64url; JwsError on anything else."""
    if not text.isascii() or "=" in text or len(text) % 4 == 1:
        raise JwsError("not unpadded base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise JwsError(f"not base64url ({exc})") from None


def thumbprint(jwk: Mapping[str, str]) -> str:
    """The RFC 7638 thumbprint of an OKP JWK (RFC 8037 A.3): SHA-256 over crv, kty, x."""
    canonical = json.dumps({"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]},
                           separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def sign(payload: bytes, key: Ed25519PrivateKey, kid: str) -> str:
    """``payload`` as a compact JWS signed by ``key`` (RFC 7515 7.1)."""
    header = json.dumps({"alg": "EdDSA", "kid": kid}, separators=(",", ":"))
    signing_input = f"{b64url(header.encode())}.{b64url(payload)}"
    return f"{signing_input}.{b64url(key.sign(signing_input.encode('ascii')))}"


def header_of(compact: str) -> dict[str, object]:
    """The protected header of a compact JWS, unverified (to find its ``kid``)."""
    parts = compact.split(".")
    if len(parts) != 3:
        raise JwsError("a compact JWS has three dot-separated parts (RFC 7515 7.1)")
    try:
        header = json.loads(b64url_decode(parts[0]))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise JwsError("the protected header is not JSON") from None
    if not isinstance(header, dict):
        raise JwsError("the protected header is not a JSON object")
    return header


def verify(compact: str, keys: Mapping[str, Mapping[str, str] | Ed25519PublicKey]) -> bytes:
    """The payload of ``compact`` when it is signed by the key its ``kid`` names in ``keys``.

    ``keys`` maps kid to an OKP JWK or a public key. JwsError otherwise: malformed, an
    ``alg`` other than EdDSA, a ``crit`` header, an unknown kid, a bad signature.
    """
    if len(compact) > MAX_JWS_BYTES:
        raise JwsError(f"a JWS over {MAX_JWS_BYTES} bytes is not read")
    header = header_of(compact)
    if header.get("alg") != "EdDSA":
        raise JwsError(f"alg {str(header.get('alg'))[:40]!r} refused: only EdDSA (RFC 8037)")
    if "crit" in header:
        raise JwsError("a crit header names extensions this verifier does not know "
                       "(RFC 7515 4.1.11)")
    kid = header.get("kid")
    if not isinstance(kid, str) or kid not in keys:
        raise JwsError(f"signed by an unknown key (kid {str(kid)[:80]!r})")
    known = keys[kid]
    try:
        public = known if isinstance(known, Ed25519PublicKey) else load_public_key(known)
    except ValueError as exc:
        raise JwsError(f"key {kid} is not usable ({exc})") from None
    head, body, signature = compact.split(".")
    try:
        public.verify(b64url_decode(signature), f"{head}.{body}".encode("ascii"))
    except InvalidSignature:
        raise JwsError(f"the signature does not verify with key {kid}") from None
    return b64url_decode(body)


def public_jwk(key: Ed25519PrivateKey | Ed25519PublicKey) -> dict[str, str]:
    """The OKP JWK of ``key`` with its thumbprint as ``kid`` and ``alg``/``use`` set."""
    jwk = public_key_jwk(key)
    return {**jwk, "kid": thumbprint(jwk), "alg": "EdDSA", "use": "sig"}

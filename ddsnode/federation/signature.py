"""Node-to-node request signatures: RFC 9421 HTTP Message Signatures with Ed25519.

A node signs each outgoing request with its node key (:class:`Signer`, a hook for
:class:`ddsnode.outbound.OutboundClient`) and verifies incoming ones with
:func:`verify_request`. Bodies are bound to the signature by RFC 9530 ``Content-Digest``.
The structured-field dictionaries of ``Signature-Input``, ``Signature`` and
``Content-Digest`` are parsed and serialised per RFC 8941 (the subset RFC 9421 uses).
See docs/federation-security.md for the policy (what is covered, the time window,
nonces, key rotation).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import inspect
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ddsnode.outbound import normalise_origin
from ddsnode.problem import Unauthorized

# -- RFC 8941 structured fields ------------------------------------------------------


class Token(str):
    """An RFC 8941 3.3.4 token (a bare word), as opposed to a string."""


BareItem = int | float | str | Token | bytes | bool
Params = dict[str, BareItem]
Item = tuple[BareItem, Params]
InnerList = tuple[list[Item], Params]

_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,3})?")
_BYTES = re.compile(r":([A-Za-z0-9+/=]*):")


class StructuredFieldError(ValueError):
    """A header is not a valid RFC 8941 structured field."""


class _Parser:
    """RFC 8941 4.2 parsing algorithms, for dictionaries of items and inner lists."""

    def __init__(self, text: str) -> None:
        self.s, self.i = text, 0

    def fail(self, what: str) -> StructuredFieldError:
        return StructuredFieldError(f"{what} at offset {self.i}")

    def peek(self) -> str:
        return self.s[self.i:self.i + 1]

    def skip(self, chars: str) -> None:
        while self.peek() and self.peek() in chars:
            self.i += 1

    def dictionary(self) -> dict[str, Item | InnerList]:  # RFC 8941 4.2.2
        out: dict[str, Item | InnerList] = {}
        self.skip(" ")
        while self.i < len(self.s):
            key = self.key()
            if self.peek() == "=":
                self.i += 1
                out[key] = self.inner_list() if self.peek() == "(" else self.item()
            else:
                out[key] = (True, self.params())
            self.skip(" \t")
            if self.i >= len(self.s):
                return out
            if self.peek() != ",":
                raise self.fail("expected ','")
            self.i += 1
            self.skip(" \t")
            if self.i >= len(self.s):
                raise self.fail("trailing comma")
        return out

    def inner_list(self) -> InnerList:  # RFC 8941 4.2.1.2
        self.i += 1
        items: list[Item] = []
        while self.i < len(self.s):
            self.skip(" ")
            if self.peek() == ")":
                self.i += 1
                return items, self.params()
            items.append(self.item())
            if self.peek() not in (" ", ")"):
                raise self.fail("expected ' ' or ')' in inner list")
        raise self.fail("unterminated inner list")

    def item(self) -> Item:  # RFC 8941 4.2.3
        return self.bare_item(), self.params()

    def params(self) -> Params:  # RFC 8941 4.2.3.2
        out: Params = {}
        while self.peek() == ";":
            self.i += 1
            self.skip(" ")
            key = self.key()
            value: BareItem = True
            if self.peek() == "=":
                self.i += 1
                value = self.bare_item()
            out[key] = value
        return out

    def key(self) -> str:  # RFC 8941 4.2.3.3
        match = _KEY.match(self.s, self.i)
        if not match:
            raise self.fail("expected a key")
        self.i = match.end()
        return match.group()

    def bare_item(self) -> BareItem:  # RFC 8941 4.2.3.1
        c = self.peek()
        if c == '"':
            return self.string()
        if c == ":":
            match = _BYTES.match(self.s, self.i)
            if not match:
                raise self.fail("bad byte sequence")
            self.i = match.end()
            try:
                return base64.b64decode(match.group(1), validate=True)
            except ValueError:
                raise self.fail("bad base64") from None
        if c == "?":
            value = self.s[self.i + 1:self.i + 2]
            if value not in ("0", "1"):
                raise self.fail("bad boolean")
            self.i += 2
            return value == "1"
        if c == "-" or c.isdigit():
            match = _NUMBER.match(self.s, self.i)
            if not match or (match.group(1) and len(match.group().split(".")[0].lstrip("-")) > 12):
                raise self.fail("bad number")
            self.i = match.end()
            return float(match.group()) if match.group(1) else int(match.group())
        match = _TOKEN.match(self.s, self.i)
        if not match:
            raise self.fail("expected an item")
        self.i = match.end()
        return Token(match.group())

    def string(self) -> str:  # RFC 8941 4.2.5
        out: list[str] = []
        self.i += 1
        while self.i < len(self.s):
            c = self.s[self.i]
            self.i += 1
            if c == "\\":
                escaped = self.peek()
                if escaped not in ('"', "\\"):
                    raise self.fail("bad escape in string")
                out.append(escaped)
                self.i += 1
            elif c == '"':
                return "".join(out)
            elif not " " <= c <= "~":
                raise self.fail("bad character in string")
            else:
                out.append(c)
        raise self.fail("unterminated string")


def parse_dictionary(text: str) -> dict[str, Item | InnerList]:
    """Parse an RFC 8941 3.2 dictionary; raise StructuredFieldError if malformed."""
    parser = _Parser(text)
    out = parser.dictionary()
    parser.skip(" ")
    if parser.i != len(text):
        raise parser.fail("unexpected trailing characters")
    return out


def serialize_bare_item(value: BareItem) -> str:
    """Serialise one bare item (RFC 8941 4.1.3.1)."""
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        if abs(value) > 999_999_999_999_999:
            raise StructuredFieldError("integer out of range")
        return str(value)
    if isinstance(value, float):
        text = f"{value:.3f}".rstrip("0")  # RFC 8941 4.1.5: at most 3, at least 1 digit
        return text + "0" if text.endswith(".") else text
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    if isinstance(value, Token):
        if not _TOKEN.fullmatch(value):
            raise StructuredFieldError(f"bad token {value!r}")
        return str(value)
    if any(not " " <= c <= "~" for c in value):
        raise StructuredFieldError("strings are printable ASCII only")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def serialize_params(params: Params) -> str:
    """Serialise parameters (RFC 8941 4.1.1.2), keeping their order."""
    return "".join(f";{key}" if value is True else f";{key}={serialize_bare_item(value)}"
                   for key, value in params.items())


def serialize_inner_list(items: Sequence[Item], params: Params) -> str:
    """Serialise an inner list with its parameters (RFC 8941 4.1.1.1)."""
    inner = " ".join(serialize_bare_item(v) + serialize_params(p) for v, p in items)
    return f"({inner}){serialize_params(params)}"


# -- RFC 9530 Content-Digest ----------------------------------------------------------

_DIGESTS: dict[str, Callable[[bytes], bytes]] = {
    "sha-256": lambda data: hashlib.sha256(data).digest(),
    "sha-512": lambda data: hashlib.sha512(data).digest(),
}


def content_digest(body: bytes) -> str:
    """The ``Content-Digest`` field value of ``body`` with SHA-256 (RFC 9530 2, 5)."""
    return "sha-256=" + serialize_bare_item(_DIGESTS["sha-256"](body))


def digest_matches(field_value: str, body: bytes) -> bool:
    """Whether a Content-Digest value has a known algorithm and every known one matches."""
    try:
        members = parse_dictionary(field_value)
    except StructuredFieldError:
        return False
    known = [(alg, member[0]) for alg, member in members.items() if alg in _DIGESTS]
    return bool(known) and all(isinstance(value, bytes) and hmac.compare_digest(
        value, _DIGESTS[alg](body)) for alg, value in known)


# -- the signature base (RFC 9421 2) ---------------------------------------------------

HeaderInput = Mapping[str, str] | Iterable[tuple[str, str]]
DERIVED = frozenset({"@method", "@target-uri", "@authority", "@scheme", "@request-target",
                     "@path", "@query"})


def field_values(headers: HeaderInput) -> dict[str, str]:
    """Header fields by lower-cased name, repeated lines joined by ', ' (RFC 9421 2.1)."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name.lower(), []).append(value.strip(" \t"))
    return {name: ", ".join(values) for name, values in out.items()}


def _authority(url: httpx.URL) -> str:
    """RFC 9421 2.2.3: lower-case host, port only when not the scheme's default."""
    host = url.raw_host.decode("ascii").lower()
    host = f"[{host}]" if ":" in host else host
    default = {"http": 80, "https": 443}.get(url.scheme)
    return f"{host}:{url.port}" if url.port not in (None, default) else host


def component_value(name: str, method: str, url: httpx.URL, fields: Mapping[str, str]) -> str:
    """The value of one covered component (derived: RFC 9421 2.2; field: 2.1)."""
    path = url.raw_path.decode("ascii").split("?", 1)[0] or "/"
    query = url.query.decode("ascii")
    derived = {
        "@method": lambda: method,  # 2.2.1, case-sensitive as sent
        "@target-uri": lambda: f"{url.scheme}://{_authority(url)}{path}"
                               + (f"?{query}" if query else ""),  # 2.2.2
        "@authority": lambda: _authority(url),  # 2.2.3
        "@scheme": lambda: url.scheme,  # 2.2.4
        "@request-target": lambda: path + (f"?{query}" if query else ""),  # 2.2.5
        "@path": lambda: path,  # 2.2.6
        "@query": lambda: f"?{query}",  # 2.2.7: "?" alone when there is no query
    }
    if name in derived:
        return derived[name]()
    if name.startswith("@"):
        raise SignatureInvalid("malformed", f"unsupported derived component {name!r}")
    if name not in fields:
        raise SignatureInvalid("missing", f"covered field {name!r} is not in the request")
    value = fields[name]
    if "\n" in value or "\r" in value or not value.isascii():
        # RFC 9421 2.5: the signature base is US-ASCII, one line per component.
        raise SignatureInvalid("malformed", f"field {name!r} has a line break or non-ASCII")
    return value


def signature_base(method: str, url: str, headers: HeaderInput, components: Sequence[str],
                   params: Params) -> tuple[str, str]:
    """The signature base (RFC 9421 2.5) and the ``@signature-params`` value it ends with."""
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise SignatureInvalid("malformed", f"bad target URI ({exc})") from None
    fields = field_values(headers)
    lines = [f"{serialize_bare_item(name)}: {component_value(name, method, target, fields)}"
             for name in components]
    signature_params = serialize_inner_list([(name, {}) for name in components], params)
    lines.append(f'"@signature-params": {signature_params}')
    return "\n".join(lines), signature_params


# -- signing ---------------------------------------------------------------------------

def sign_request(method: str, url: str, headers: HeaderInput, body: bytes, *,
                 key: Ed25519PrivateKey, keyid: str, components: Sequence[str] | None = None,
                 created: int | None = None, expires: int | None = None,
                 nonce: str | None = None, tag: str | None = "dds", label: str = "dds",
                 include_alg: bool = True) -> dict[str, str]:
    """The headers that sign a request: Content-Digest (for a body), Signature-Input, Signature.

    Default coverage: ``@method @target-uri @authority``, plus ``content-digest`` and
    ``content-type`` when there is a body. Parameters are written in the order created,
    expires, keyid, nonce, alg, tag (RFC 9421 2.3).
    """
    fields = field_values(headers)
    added: dict[str, str] = {}
    if components is None:
        components = ["@method", "@target-uri", "@authority"]
        if body:
            components += ["content-digest"] + (["content-type"] if "content-type" in fields
                                                else [])
    if "content-digest" in components and "content-digest" not in fields:
        added["Content-Digest"] = fields["content-digest"] = content_digest(body)
    params: Params = {"created": int(time.time()) if created is None else created}
    if expires is not None:
        params["expires"] = expires
    params["keyid"] = keyid
    if nonce is not None:
        params["nonce"] = nonce
    if include_alg:
        params["alg"] = "ed25519"  # RFC 9421 3.3.6
    if tag is not None:
        params["tag"] = tag
    base, signature_params = signature_base(method, url, fields, components, params)
    signature = key.sign(base.encode("ascii"))
    added["Signature-Input"] = f"{label}={signature_params}"
    added["Signature"] = f"{label}={serialize_bare_item(signature)}"
    return added


class Signer:
    """Signs each outgoing request with the node key; an OutboundClient ``signer`` hook."""

    def __init__(self, key: Ed25519PrivateKey, keyid: str, *, ttl: int = 120,
                 clock: Callable[[], float] = time.time) -> None:
        self.key, self.keyid, self.ttl, self._clock = key, keyid, ttl, clock

    def __call__(self, method: str, url: str, headers: Mapping[str, str],
                 body: bytes) -> dict[str, str]:
        """Content-Digest, Signature-Input and Signature headers for this request."""
        created = int(self._clock())
        return sign_request(method, url, headers, body, key=self.key, keyid=self.keyid,
                            created=created, expires=created + self.ttl,
                            nonce=secrets.token_urlsafe(16))


# -- verification ----------------------------------------------------------------------

Failure = Literal["missing", "malformed", "components", "digest", "expired", "not-yet-valid",
                  "replayed", "unknown-key", "algorithm", "bad-signature"]
KeyResolver = Callable[[str, bool],
                       Ed25519PublicKey | None | Awaitable[Ed25519PublicKey | None]]


class SignatureInvalid(Unauthorized):
    """The request's signature is missing or does not verify; ``reason`` says which check."""

    slug, title = "signature-invalid", "The HTTP message signature is missing or invalid"

    def __init__(self, reason: Failure, detail: str) -> None:
        self.reason: Failure = reason
        super().__init__(f"{reason}: {detail[:512]}", extra={"reason": reason})


@dataclass(frozen=True)
class VerifiedSignature:
    """A signature that verified: who signed (key IRI and its origin) and what it covered."""

    keyid: str
    key_origin: str | None
    label: str
    created: int
    nonce: str | None
    components: tuple[str, ...]


class NonceCache:
    """The in-memory twin of a nonce store: remembers nonces for ``ttl`` seconds."""

    def __init__(self, ttl: float = 360.0, clock: Callable[[], float] = time.time) -> None:
        self.ttl, self._clock = ttl, clock
        self._seen: dict[str, float] = {}
        self._next_prune = 0.0

    def __call__(self, nonce: str) -> bool:
        """True if ``nonce`` was seen within the window; records it otherwise."""
        now = self._clock()
        if now >= self._next_prune:
            self._seen = {n: t for n, t in self._seen.items() if t > now}
            self._next_prune = now + min(self.ttl, 10.0)
        if self._seen.get(nonce, 0.0) > now:
            return True
        self._seen[nonce] = now + self.ttl
        return False


async def _resolved(value: object) -> object:
    return await value if inspect.isawaitable(value) else value


async def verify_request(method: str, url: str, headers: HeaderInput, body: bytes, *,
                         resolve_key: KeyResolver, now: float | None = None,
                         max_age: int = 300, max_skew: int = 60,
                         seen_nonce: Callable[[str], bool] | None = None,
                         required: Sequence[str] | None = None,
                         tag: str | None = "dds") -> VerifiedSignature:
    """Verify an incoming request's RFC 9421 signature; raise SignatureInvalid if it fails.

    ``url`` is the target URI as the client addressed it (the node's public base URL plus
    the request target). ``resolve_key(keyid, refresh)`` returns the Ed25519 public key of
    a key IRI (or None if unknown); after a signature fails with a cached key it is called
    once more with ``refresh=True`` so a rotated key is fetched again. ``seen_nonce(nonce)``
    returns True for a nonce already seen (and records new ones); when given, a nonce is
    required. ``required`` defaults to ``@method @target-uri``, plus ``content-digest`` when
    there is a body. Signatures labelled with ``tag`` are tried first.
    """
    fields = field_values(headers)
    if "signature-input" not in fields or "signature" not in fields:
        raise SignatureInvalid("missing", "no Signature-Input and Signature fields")
    try:
        inputs, signatures = (parse_dictionary(fields["signature-input"]),
                              parse_dictionary(fields["signature"]))
    except StructuredFieldError as exc:
        raise SignatureInvalid("malformed", str(exc)) from None
    labels = [label for label in inputs if label in signatures]
    if not labels:
        raise SignatureInvalid("missing", "no signature has both Signature-Input and Signature")
    tagged = [label for label in labels if inputs[label][1].get("tag") == tag]
    needed = list(required) if required is not None else (
        ["@method", "@target-uri"] + (["content-digest"] if body else []))
    if "content-digest" in fields and not digest_matches(fields["content-digest"], body):
        raise SignatureInvalid("digest", "Content-Digest does not match the body (RFC 9530)")
    first: SignatureInvalid | None = None
    for label in tagged or labels:
        try:
            return await _verify_one(label, inputs[label], signatures[label], method, url,
                                     fields, needed, resolve_key,
                                     time.time() if now is None else now, max_age, max_skew,
                                     seen_nonce)
        except SignatureInvalid as exc:
            first = first or exc
    assert first is not None
    raise first


async def _verify_one(label: str, signature_input: Item | InnerList, signature: Item | InnerList,
                      method: str, url: str, fields: dict[str, str], needed: list[str],
                      resolve_key: KeyResolver, now: float, max_age: int, max_skew: int,
                      seen_nonce: Callable[[str], bool] | None) -> VerifiedSignature:
    members, params = signature_input
    value = signature[0]
    if not isinstance(members, list) or not isinstance(value, bytes):
        raise SignatureInvalid("malformed", f"{label}: not an inner list and a byte sequence")
    components = [name for name, _ in members]
    if any(not isinstance(n, str) or isinstance(n, Token) or n != n.lower() or p
           for n, p in members) or len(set(components)) != len(components):
        # RFC 9421 2.5: lower-case, unique; parameterised components are not supported here.
        raise SignatureInvalid("malformed", f"{label}: unsupported or repeated components")
    missing = [name for name in needed if name not in components]
    if missing:
        raise SignatureInvalid("components", f"{label} does not cover {', '.join(missing)}")
    created, expires = params.get("created"), params.get("expires")
    keyid, nonce, alg = params.get("keyid"), params.get("nonce"), params.get("alg", "ed25519")
    if not isinstance(created, int) or isinstance(created, bool) or not isinstance(keyid, str):
        raise SignatureInvalid("malformed", f"{label}: needs integer created and string keyid")
    if alg != "ed25519":
        raise SignatureInvalid("algorithm", f"{label}: alg {alg!r} is not ed25519")
    if created > now + max_skew:
        raise SignatureInvalid("not-yet-valid", f"{label} was created in the future")
    if created < now - max_age or (isinstance(expires, int) and now > expires + max_skew):
        raise SignatureInvalid("expired", f"{label} is too old or past its expires")
    if nonce is not None and not isinstance(nonce, str):
        raise SignatureInvalid("malformed", f"{label}: nonce is not a string")
    base, _ = signature_base(method, url, fields, [str(c) for c in components], params)
    key = await _public_key(resolve_key, keyid, False)
    if not _ed25519_ok(key, value, base):
        fresh = await _public_key(resolve_key, keyid, True)
        if _raw(fresh) == _raw(key) or not _ed25519_ok(fresh, value, base):
            raise SignatureInvalid("bad-signature", f"{label} does not verify with {keyid}")
    if seen_nonce is not None:
        # Checked last, so requests that fail verification cannot burn a nonce.
        if nonce is None:
            raise SignatureInvalid("missing", f"{label} has no nonce")
        if seen_nonce(nonce):
            raise SignatureInvalid("replayed", f"{label}: nonce already used")
    return VerifiedSignature(keyid, _origin(keyid), label, created, nonce, tuple(
        str(c) for c in components))


async def _public_key(resolve_key: KeyResolver, keyid: str, refresh: bool) -> Ed25519PublicKey:
    try:
        key = await _resolved(resolve_key(keyid, refresh))
    except Exception as exc:  # noqa: BLE001 - any lookup failure means an unknown key
        raise SignatureInvalid("unknown-key", f"cannot obtain {keyid} ({exc})"[:512]) from None
    if key is None:
        raise SignatureInvalid("unknown-key", f"no public key for {keyid}")
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureInvalid("algorithm", f"{keyid} is not an Ed25519 key")
    return key


def _ed25519_ok(key: Ed25519PublicKey, signature: bytes, base: str) -> bool:
    try:
        key.verify(signature, base.encode("ascii"))
    except InvalidSignature:
        return False
    return True


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _origin(iri: str) -> str | None:
    """The origin of a key IRI as ``scheme://host:port`` (as OutboundClient's origins)."""
    try:
        return normalise_origin(iri)
    except ValueError:
        return None

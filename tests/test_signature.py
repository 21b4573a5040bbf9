"""RFC 9421 signatures: the RFC's own ed25519 vector, round trips, and each refusal."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from ddsnode.federation.signature import (
    NonceCache,
    SignatureInvalid,
    Signer,
    StructuredFieldError,
    Token,
    VerifiedSignature,
    content_digest,
    digest_matches,
    parse_dictionary,
    serialize_bare_item,
    serialize_inner_list,
    sign_request,
    signature_base,
    verify_request,
)
from ddsnode.problem import Unauthorized, problem_body


# RFC 9421 B.1.4 test-key-ed25519 and the B.2 example request.
def _rfc_key() -> Ed25519PrivateKey:
    key = load_pem_private_key(b"""-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
""", None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


RFC_KEY = _rfc_key()
RFC_URL = "https://example.com/foo?param=Value&Pet=dog"
RFC_BODY = b'{"hello": "world"}'
RFC_HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7"
                      "BNNyealdVLvRwEmTHWXvJwew==:",
    "Content-Length": "18",
}
B26_COMPONENTS = ["date", "@method", "@path", "@authority", "content-type", "content-length"]
B26_BASE = """\
"date": Tue, 20 Apr 2021 02:07:55 GMT
"@method": POST
"@path": /foo
"@authority": example.com
"content-type": application/json
"content-length": 18
"@signature-params": ("date" "@method" "@path" "@authority" "content-type" \
"content-length");created=1618884473;keyid="test-key-ed25519\""""
B26_INPUT = ('sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
             ';created=1618884473;keyid="test-key-ed25519"')
B26_SIGNATURE = ("sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w"
                 "6vuQv5lIp5WPpBKRCw==:")

KEY = Ed25519PrivateKey.generate()
KEYID = "https://node-a.example/#main-key"
NOW = 1_800_000_000
URL = "https://node-b.example/inbox/"
BODY = b'{"@type": "Announce"}'


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(coro)  # type: ignore[arg-type]


def keys(**table: Ed25519PublicKey) -> Any:
    """A resolver over {keyid: key}; records calls."""
    calls: list[tuple[str, bool]] = []

    def resolve(keyid: str, refresh: bool) -> Ed25519PublicKey | None:
        calls.append((keyid, refresh))
        return {KEYID: KEY.public_key(), **table}.get(keyid)
    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


def signed(method: str = "POST", url: str = URL, body: bytes = BODY,
           **kwargs: Any) -> dict[str, str]:
    headers = {"Content-Type": "application/ld+json"} if body else {}
    params: dict[str, Any] = {"created": NOW, "expires": NOW + 120, "nonce": "n-1", **kwargs}
    return {**headers, **sign_request(method, url, headers, body, key=KEY, keyid=KEYID,
                                      **params)}


def verify(headers: dict[str, str], *, method: str = "POST", url: str = URL,
           body: bytes = BODY, **kwargs: Any) -> VerifiedSignature:
    options: dict[str, Any] = {"resolve_key": keys(), "now": NOW + 5,
                               "seen_nonce": NonceCache(), **kwargs}
    return run(verify_request(method, url, headers, body, **options))  # type: ignore[no-any-return]


# -- the RFC's own example --------------------------------------------------------

def test_rfc9421_b26_signature_base_and_value() -> None:
    base, _ = signature_base("POST", RFC_URL, RFC_HEADERS, B26_COMPONENTS,
                                  {"created": 1618884473, "keyid": "test-key-ed25519"})
    assert base == B26_BASE
    added = sign_request("POST", RFC_URL, RFC_HEADERS, RFC_BODY, key=RFC_KEY,
                         keyid="test-key-ed25519", components=B26_COMPONENTS,
                         created=1618884473, tag=None, label="sig-b26", include_alg=False)
    assert added == {"Signature-Input": B26_INPUT, "Signature": B26_SIGNATURE}


def test_rfc9421_b26_verifies() -> None:
    headers = {**RFC_HEADERS, "Signature-Input": B26_INPUT, "Signature": B26_SIGNATURE}
    result = run(verify_request("POST", RFC_URL, headers, RFC_BODY,
                                resolve_key=lambda k, r: RFC_KEY.public_key(),
                                now=1618884473, required=["@method", "@authority", "@path"]))
    assert (result.keyid, result.label, result.key_origin) == ("test-key-ed25519", "sig-b26",
                                                               None)


def test_rfc9530_content_digest_example() -> None:
    # RFC 9530 B.1 / RFC 9421 B.2: the digest of {"hello": "world"}.
    assert content_digest(RFC_BODY) == "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    assert digest_matches(RFC_HEADERS["Content-Digest"], RFC_BODY)
    assert not digest_matches(RFC_HEADERS["Content-Digest"], RFC_BODY + b" ")
    assert not digest_matches("md5=:AAAA:", RFC_BODY)


def test_derived_components_of_a_fixed_request() -> None:
    base, _ = signature_base("GET", "HTTPS://Node.Example:443/a/b?x=1&y=%20", {},
                             ["@method", "@target-uri", "@authority", "@scheme",
                              "@request-target", "@path", "@query"], {"created": 1})
    assert base.splitlines() == [
        '"@method": GET',
        '"@target-uri": https://node.example/a/b?x=1&y=%20',
        '"@authority": node.example',
        '"@scheme": https',
        '"@request-target": /a/b?x=1&y=%20',
        '"@path": /a/b',
        '"@query": ?x=1&y=%20',
        ('"@signature-params": ("@method" "@target-uri" "@authority" "@scheme" '
         '"@request-target" "@path" "@query");created=1'),
    ]
    base, _ = signature_base("GET", "http://127.0.0.1:8001", {}, ["@authority", "@query",
                                                                  "@target-uri"], {})
    assert base.splitlines()[:3] == ['"@authority": 127.0.0.1:8001', '"@query": ?',
                                     '"@target-uri": http://127.0.0.1:8001/']


def test_our_signature_covers_method_target_authority_digest_and_type() -> None:
    headers = signed()
    assert headers["Content-Digest"] == content_digest(BODY)
    assert headers["Signature-Input"] == (
        'dds=("@method" "@target-uri" "@authority" "content-digest" "content-type")'
        f';created={NOW};expires={NOW + 120};keyid="{KEYID}";nonce="n-1";alg="ed25519"'
        ';tag="dds"')


# -- structured fields ------------------------------------------------------------

def test_structured_field_dictionary_round_trip() -> None:
    parsed = parse_dictionary('a=("x" "y";p=1);q=?0, b=:AQI=:, c, d=tok/en;w=-1.5,  e="q\\"s"')
    assert parsed["a"] == ([("x", {}), ("y", {"p": 1})], {"q": False})
    assert parsed["b"] == (b"\x01\x02", {})
    assert parsed["c"] == (True, {})
    assert parsed["d"] == (Token("tok/en"), {"w": -1.5}) and isinstance(parsed["d"][0], Token)
    assert parsed["e"] == ('q"s', {})
    assert serialize_inner_list(*parsed["a"]) == '("x" "y";p=1);q=?0'  # type: ignore[arg-type]
    assert serialize_bare_item(-1.5) == "-1.5" and serialize_bare_item(2.0) == "2.0"


@pytest.mark.parametrize("bad", ['a=("x"', "a=:!!:", "a=1,", "A=1", 'a="\\n"', "a=?2",
                                 "a=1 b=2", 'a="unterminated', "a=1234567890123456"])
def test_malformed_structured_fields(bad: str) -> None:
    with pytest.raises(StructuredFieldError):
        parse_dictionary(bad)


# -- verification -----------------------------------------------------------------

def test_round_trip() -> None:
    result = verify(signed())
    assert result.keyid == KEYID
    assert result.key_origin == "https://node-a.example:443"
    assert result.nonce == "n-1"
    assert result.components[:2] == ("@method", "@target-uri")


def test_signer_hook_round_trip_without_body() -> None:
    signer = Signer(KEY, KEYID, clock=lambda: NOW)
    headers = dict(signer("GET", "https://node-b.example/proposals/?page=2", {}, b""))
    assert "Content-Digest" not in headers
    result = verify(headers, method="GET", url="https://node-b.example/proposals/?page=2",
                    body=b"")
    assert result.keyid == KEYID
    assert signer("GET", URL, {}, b"")["Signature-Input"] != headers["Signature-Input"]  # nonce


def test_headers_may_repeat_and_be_any_case() -> None:
    headers = signed()
    pairs = [(k.upper(), v) for k, v in headers.items()]
    assert verify(pairs).keyid == KEYID  # type: ignore[arg-type]


@pytest.mark.parametrize(("change", "reason"), [
    (lambda h: {k: v for k, v in h.items() if k != "Signature"}, "missing"),
    (lambda h: {**h, "Signature": "dds=:!!:"}, "malformed"),
    (lambda h: {**h, "Signature-Input": h["Signature-Input"].replace('"@target-uri" ', "")},
     "components"),
    (lambda h: {**h, "Content-Type": "text/plain"}, "bad-signature"),
    (lambda h: {**h, "Signature-Input": h["Signature-Input"].replace("ed25519", "rsa-v1_5-sha256")},
     "algorithm"),
    (lambda h: {**h, "Signature-Input": h["Signature-Input"].replace(KEYID, "https://x.example/#k")},
     "unknown-key"),
])
def test_refusals(change: Any, reason: str) -> None:
    with pytest.raises(SignatureInvalid) as caught:
        verify(change(signed()))
    assert caught.value.reason == reason


def test_a_tampered_body_fails_the_digest() -> None:
    with pytest.raises(SignatureInvalid) as caught:
        verify(signed(), body=BODY.replace(b"Announce", b"Delete"))
    assert caught.value.reason == "digest"


def test_a_body_without_a_covered_digest_is_refused() -> None:
    headers = signed(body=b"")  # signed as if there were no body
    with pytest.raises(SignatureInvalid) as caught:
        verify(headers, body=b"{}")
    assert caught.value.reason == "components"


def test_another_target_fails() -> None:
    with pytest.raises(SignatureInvalid) as caught:
        verify(signed(), url="https://node-c.example/inbox/")
    assert caught.value.reason == "bad-signature"


@pytest.mark.parametrize(("now", "reason"), [
    (NOW + 301, "expired"),          # created too long ago (max_age 300)
    (NOW + 120 + 61, "expired"),     # past expires, beyond the skew
    (NOW - 61, "not-yet-valid"),     # created in the future, beyond the skew
])
def test_the_time_window(now: int, reason: str) -> None:
    with pytest.raises(SignatureInvalid) as caught:
        verify(signed(), now=now)
    assert caught.value.reason == reason


def test_a_replayed_nonce_is_refused_and_a_failed_request_does_not_burn_it() -> None:
    cache = NonceCache(clock=lambda: NOW)
    headers = signed()
    with pytest.raises(SignatureInvalid):
        verify(headers, seen_nonce=cache, url="https://node-c.example/inbox/")
    verify(headers, seen_nonce=cache)
    with pytest.raises(SignatureInvalid) as caught:
        verify(headers, seen_nonce=cache)
    assert caught.value.reason == "replayed"


def test_a_nonce_is_required_when_replays_are_checked() -> None:
    headers = {"Content-Type": "application/ld+json",
               **sign_request("POST", URL, {"Content-Type": "application/ld+json"}, BODY,
                              key=KEY, keyid=KEYID, created=NOW)}
    with pytest.raises(SignatureInvalid) as caught:
        verify(headers)
    assert caught.value.reason == "missing"
    assert verify(headers, seen_nonce=None).nonce is None


def test_a_rotated_key_is_fetched_again_once() -> None:
    old, new = Ed25519PrivateKey.generate(), KEY
    calls: list[bool] = []

    async def resolve(keyid: str, refresh: bool) -> Ed25519PublicKey:
        calls.append(refresh)
        return (new if refresh else old).public_key()

    assert verify(signed(), resolve_key=resolve).keyid == KEYID
    assert calls == [False, True]


def test_a_wrong_key_fails_after_one_refresh() -> None:
    other = Ed25519PrivateKey.generate().public_key()
    resolver = keys(**{KEYID: other})
    with pytest.raises(SignatureInvalid) as caught:
        verify(signed(), resolve_key=resolver)
    assert caught.value.reason == "bad-signature"
    assert resolver.calls == [(KEYID, False), (KEYID, True)]


def test_the_tagged_signature_is_chosen_among_several() -> None:
    ours = signed()
    foreign = sign_request("POST", URL, ours, BODY, key=Ed25519PrivateKey.generate(),
                           keyid="https://elsewhere.example/k", created=NOW, tag="other",
                           label="sig2")
    headers = {**ours,
               "Signature-Input": foreign["Signature-Input"] + ", " + ours["Signature-Input"],
               "Signature": foreign["Signature"] + ", " + ours["Signature"]}
    assert verify(headers).label == "dds"


def test_signature_invalid_is_a_401_problem_with_its_reason() -> None:
    with pytest.raises(Unauthorized) as caught:
        verify({})
    body = problem_body(caught.value)
    assert (body["status"], body["reason"]) == (401, "missing")
    assert body["type"].endswith("/signature-invalid")


def test_signature_values_are_64_bytes() -> None:
    value = signed()["Signature"].split("=", 1)[1].strip(":")
    assert len(base64.b64decode(value)) == 64

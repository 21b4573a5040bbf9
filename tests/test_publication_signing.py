"""The manifest signature (compact JWS, EdDSA) and rehearsal isolation (issue 15)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ddsnode.publication.jws import (
    JwsError,
    b64url,
    b64url_decode,
    public_jwk,
    sign,
    thumbprint,
    verify,
)
from ddsnode.publication.keyring import Keyring, RehearsalRefused, keys_of
from tests.support.inprocess import local_node
from tests.test_publication import ELECTION, FIRST, SETUP, put, reader, wait_for_results


def _pair() -> tuple[Ed25519PrivateKey, dict[str, str]]:
    key = Ed25519PrivateKey.generate()
    jwk = public_jwk(key)
    return key, jwk


def test_sign_then_verify_round_trips() -> None:
    key, jwk = _pair()
    compact = sign(b'{"generation":1}', key, jwk["kid"])
    assert verify(compact, {jwk["kid"]: jwk}) == b'{"generation":1}'
    header = json.loads(b64url_decode(compact.split(".")[0]))
    assert header == {"alg": "EdDSA", "kid": jwk["kid"]}


def test_rfc8037_thumbprint_example() -> None:
    # RFC 8037 A.3: the thumbprint of the example Ed25519 key.
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_rfc8037_signature_example() -> None:
    # RFC 8037 A.4: "Example Ed25519 Signing" gives this exact JWS for this key.
    d = b64url_decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
    key = Ed25519PrivateKey.from_private_bytes(d)
    expected = ("eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0Jzln"
                "LWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg")
    head, payload, _ = expected.split(".")
    assert b64url(key.sign(f"{head}.{payload}".encode())) == expected.split(".")[2]
    # The RFC's header has no kid: checked with our verifier under a kid it is given.
    jwk = public_jwk(key)
    assert jwk["x"] == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    ours = sign(b"Example of Ed25519 signing", key, jwk["kid"])
    assert verify(ours, {jwk["kid"]: jwk}) == b"Example of Ed25519 signing"


@pytest.mark.parametrize("change", ["payload", "signature", "alg-none", "alg-hs256", "crit",
                                    "kid", "parts", "padding", "header-not-json"])
def test_a_tampered_or_foreign_jws_is_refused(change: str) -> None:
    key, jwk = _pair()
    compact = sign(b'{"generation":1}', key, jwk["kid"])
    head, payload, signature = compact.split(".")
    other = {"alg": "EdDSA", "kid": jwk["kid"]}
    changed = b64url(b'{"generation":2}')
    forged = {
        "payload": f"{head}.{changed}.{signature}",
        "signature": f"{head}.{payload}.{b64url(b'0' * 64)}",
        "alg-none": f"{b64url(json.dumps({**other, 'alg': 'none'}).encode())}.{payload}.",
        "alg-hs256": f"{b64url(json.dumps({**other, 'alg': 'HS256'}).encode())}.{payload}."
                     f"{signature}",
        "crit": f"{b64url(json.dumps({**other, 'crit': ['x']}).encode())}.{payload}."
                f"{signature}",
        "kid": f"{b64url(json.dumps({**other, 'kid': 'someone'}).encode())}.{payload}."
               f"{signature}",
        "parts": f"{head}.{payload}",
        "padding": f"{head}.{payload}==.{signature}",
        "header-not-json": f"{b64url(b'[1')}.{payload}.{signature}",
    }[change]
    with pytest.raises(JwsError):
        verify(forged, {jwk["kid"]: jwk})


def test_another_keys_signature_is_refused() -> None:
    key, jwk = _pair()
    _, other = _pair()
    compact = sign(b"{}", key, jwk["kid"])
    with pytest.raises(JwsError):
        verify(compact, {jwk["kid"]: other})


def test_production_keyring_has_no_rehearsal_key(tmp_path: Path) -> None:
    rehearsal = Keyring.open(tmp_path, production=False)
    assert rehearsal.rehearsal_key is not None
    assert rehearsal.for_election(True).kid != rehearsal.for_election(False).kid
    listed = rehearsal.jwks()["keys"]
    assert [k.get("rehearsal", False) for k in listed] == [False, True]
    production = Keyring.open(tmp_path, production=True)
    with pytest.raises(RehearsalRefused):
        production.for_election(True)
    assert all("rehearsal" not in k for k in production.jwks()["keys"])
    assert set(keys_of(rehearsal.jwks(), production=True)) == {production.node_key.kid}


def test_a_rehearsal_is_signed_with_the_test_key_and_labelled(tmp_path: Path) -> None:
    settings = {"publication_elections": "*", "publication_interval_seconds": 0.2,
                "publication_rehearsal": ELECTION}
    with local_node(tmp_path, settings=settings) as node, reader(node) as http:
        for name in SETUP + FIRST:
            put(node, http, name)
        pointer = wait_for_results(http, 2)
        jwks = http.get("/.well-known/jwks.json").json()
        jws = http.get(f"/{ELECTION}/results/{pointer['manifest']}").text
    manifest = json.loads(verify(jws, keys_of(jwks, production=False)))
    assert manifest["rehearsal"] is True
    signer = next(k for k in jwks["keys"] if k["kid"] == manifest["kid"])
    assert signer["rehearsal"] is True
    with pytest.raises(JwsError):  # a verifier in production does not know the test key
        verify(jws, keys_of(jwks, production=True))


def test_a_production_node_refuses_to_publish_a_rehearsal(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = {"publication_elections": "*", "publication_interval_seconds": 0.2,
                "publication_rehearsal": "*", "publication_production": True}
    with local_node(tmp_path, settings=settings) as node, reader(node) as http:
        for name in SETUP + FIRST:
            put(node, http, name)
        time.sleep(1.0)  # five publisher rounds: each must refuse
        assert http.get(f"/{ELECTION}/results/current").status_code == 404
        keys = http.get("/.well-known/jwks.json").json()["keys"]
    assert len(keys) == 1 and "rehearsal" not in keys[0]
    assert not (tmp_path / "node" / "publication-rehearsal-key.pem").exists()
    refusals = [r for r in caplog.records if "not published" in r.getMessage()]
    assert len(refusals) == 1 and "production" in refusals[0].getMessage()

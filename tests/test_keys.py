"""Node keys: generation, file permissions, publication forms, rotation."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from ddsnode.federation.signature import Signer, verify_request
from ddsnode.keys import (
    KEY_FILE,
    OLD_KEY_FILE,
    NodeKeyError,
    ensure_node_key,
    generate_node_key,
    key_id,
    load_node_key,
    load_public_key,
    old_node_key,
    public_key_jwk,
    public_key_pem,
    rotate_node_key,
)


def test_a_generated_key_is_pkcs8_pem_readable_by_the_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "dir" / KEY_FILE
    key = generate_node_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public_key_pem(load_node_key(path)) == public_key_pem(key)
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind
    with pytest.raises(FileExistsError):
        generate_node_key(path)


def test_a_key_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE
    generate_node_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(NodeKeyError, match="chmod 600"):
        load_node_key(path)


def test_only_ed25519_keys_are_node_keys(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE
    path.write_bytes(generate_private_key(SECP256R1()).private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    os.chmod(path, 0o600)
    with pytest.raises(NodeKeyError, match="not an Ed25519 key"):
        load_node_key(path)
    with pytest.raises(NodeKeyError, match="cannot read"):
        load_node_key(tmp_path / "absent.pem")


def test_key_id() -> None:
    assert key_id("https://node.example/") == "https://node.example/#main-key"
    assert key_id("https://node.example/#x") == "https://node.example/#main-key"


def test_published_forms_load_back(tmp_path: Path) -> None:
    key = ensure_node_key(tmp_path)
    assert ensure_node_key(tmp_path).public_key() == key.public_key()
    pem = public_key_pem(key)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    jwk = public_key_jwk(key)
    assert set(jwk) == {"kty", "crv", "x"} and len(jwk["x"]) == 43
    assert load_public_key(pem) == key.public_key() == load_public_key(jwk)
    with pytest.raises(ValueError):
        load_public_key({"kty": "RSA"})


def test_rfc8037_jwk_of_the_rfc9421_test_key() -> None:
    # RFC 9421 B.1.4 publishes test-key-ed25519 with x = JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs
    pem = ("-----BEGIN PUBLIC KEY-----\n"
           "MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=\n"
           "-----END PUBLIC KEY-----\n")
    assert public_key_jwk(load_public_key(pem))["x"] == "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs"


def test_rotation_keeps_the_old_key_for_a_grace_period(tmp_path: Path) -> None:
    first = ensure_node_key(tmp_path)
    second = rotate_node_key(tmp_path)
    assert load_node_key(tmp_path / KEY_FILE).public_key() == second.public_key()
    assert stat.S_IMODE((tmp_path / OLD_KEY_FILE).stat().st_mode) == 0o600
    rotated_at = (tmp_path / OLD_KEY_FILE).stat().st_mtime
    kept = old_node_key(tmp_path, grace=60, now=rotated_at + 59)
    assert kept is not None and kept.public_key() == first.public_key()
    assert old_node_key(tmp_path, grace=60, now=rotated_at + 61) is None
    assert not (tmp_path / OLD_KEY_FILE).exists()


def test_a_peer_verifies_after_rotation_by_fetching_the_key_again(tmp_path: Path) -> None:
    ensure_node_key(tmp_path)
    published = {"pem": public_key_pem(load_node_key(tmp_path / KEY_FILE))}
    cached = load_public_key(published["pem"])
    new = rotate_node_key(tmp_path)
    published["pem"] = public_key_pem(new)
    keyid = key_id("https://node-a.example/")

    def resolve(kid: str, refresh: bool) -> object:
        return load_public_key(published["pem"]) if refresh else cached

    headers = Signer(new, keyid)("GET", "https://node-b.example/", {}, b"")
    result = asyncio.run(verify_request("GET", "https://node-b.example/", headers, b"",
                                        resolve_key=resolve))  # type: ignore[arg-type]
    assert result.keyid == keyid

"""Signed EML count files (issue 14): a detached signature is verified before import.

No shared sample is signed, so each test signs the REAL Kiesraad 510 sample itself: a
key and a CA certificate made here with cryptography's x509 builder. The import runs
through the command line (``ddsnode import eml``), the way an operator runs it.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import rdflib
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import NameOID

from ddsnode.cli import main
from ddsnode.commands.node import init_node
from ddsnode.elections.loading import node_graph
from ddsnode.ldp.node import Node
from ddsnode.settings import Settings
from tests.test_elections_eml import BASE, COUNT

PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
FOAF_NAME = rdflib.URIRef("http://xmlns.com/foaf/0.1/name")
SOURCE_DIGEST = rdflib.URIRef("https://w3id.org/dds/ns#sourceDigest")
NOW = datetime.now(UTC)

Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


@dataclass
class Authority:
    """A CA key and its self-signed certificate."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    def pem(self, path: Path) -> Path:
        path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        return path


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def authority(cn: str = "Test Kiesraad CA") -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - timedelta(days=30))
            .not_valid_after(NOW + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256()))
    return Authority(key, cert)


def certificate(key: Key, ca: Authority, *, cn: str = "Gemeente Dordrecht",
                before: datetime | None = None, after: datetime | None = None,
                signing: bool = True) -> x509.Certificate:
    usage = x509.KeyUsage(digital_signature=signing, content_commitment=False,
                          key_encipherment=not signing, data_encipherment=False,
                          key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    return (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(ca.cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(before or NOW - timedelta(days=1))
            .not_valid_after(after or NOW + timedelta(days=30))
            .add_extension(usage, critical=True)
            .sign(ca.key, hashes.SHA256()))


def sign(key: Key, data: bytes, pss: bool = False) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        pad = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.MAX_LENGTH) if pss \
            else padding.PKCS1v15()
        return key.sign(data, pad, hashes.SHA256())
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    return key.sign(data)


@dataclass
class Case:
    """A node directory and the count file, with its signature and certificate next to it."""

    node_dir: Path
    source: Path
    sig: Path
    cert: Path

    def run(self, *extra: str) -> int:
        return main(["import", "eml", str(self.node_dir), str(self.source), "--slug", "tk",
                     "--quiet", *extra])

    def graph(self) -> rdflib.Graph:
        node = Node.open(Settings.load(self.node_dir))
        try:
            return node_graph(node)
        finally:
            node.close()


def case(tmp: Path, key: Key, cert: x509.Certificate, *, data: bytes | None = None,
         signed: bytes | None = None) -> Case:
    """The sample signed by ``key`` (over ``signed``), written as ``data``."""
    node_dir = tmp / "node"
    init_node(node_dir, base_url=BASE)
    original = COUNT.read_bytes()
    source = tmp / COUNT.name
    source.write_bytes(original if data is None else data)
    sig = tmp / (COUNT.name + ".sig")
    sig.write_bytes(sign(key, original if signed is None else signed))
    pem = tmp / (COUNT.name + ".pem")
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Case(node_dir, source, sig, pem)


def refused(c: Case, capsys: pytest.CaptureFixture[str], reason: str, *extra: str) -> None:
    """The import exits 1 with ``reason`` on one line and writes nothing."""
    assert c.run(*extra) == 1
    err = capsys.readouterr().err
    assert reason in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert not set(c.graph().subjects(SOURCE_DIGEST, None))  # nothing imported


@pytest.mark.parametrize("kind", ["rsa", "rsa-pss", "p256", "ed25519"])
def test_valid_signature_imports_and_records_signer(tmp_path: Path, kind: str) -> None:
    ca = authority()
    key: Key = {"rsa": lambda: rsa.generate_private_key(65537, 2048),
                "rsa-pss": lambda: rsa.generate_private_key(65537, 2048),
                "p256": lambda: ec.generate_private_key(ec.SECP256R1()),
                "ed25519": ed25519.Ed25519PrivateKey.generate}[kind]()
    cert = certificate(key, ca)
    c = case(tmp_path, key, cert)
    c.sig.write_bytes(sign(key, COUNT.read_bytes(), pss=kind == "rsa-pss"))
    assert c.run("--trust", str(ca.pem(tmp_path / "ca.pem"))) == 0
    graph = c.graph()
    digest = "sha256:" + hashlib.sha256(COUNT.read_bytes()).hexdigest()
    imported = set(graph.subjects(SOURCE_DIGEST, rdflib.Literal(digest)))
    assert len(imported) == 11  # units, parties, contest, election, results
    fingerprint = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()
    hash_name = rdflib.Literal("ni:///sha-256;" +
                               base64.urlsafe_b64encode(fingerprint).decode().rstrip("="))
    for resource in imported:
        agent = graph.value(resource, PROV.wasAttributedTo)
        assert agent == rdflib.URIRef(str(resource) + "#signer")
        assert graph.value(agent, FOAF_NAME) == rdflib.Literal("CN=Gemeente Dordrecht,C=NL")
        assert graph.value(agent, DCT.identifier) == hash_name


def test_one_byte_changed_is_refused(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    data = bytearray(COUNT.read_bytes())
    at = data.index(b"<ValidVotes>") + len(b"<ValidVotes>")
    data[at] = ord("9") if data[at] != ord("9") else ord("8")
    c = case(tmp_path, key, certificate(key, authority()), data=bytes(data))
    refused(c, capsys, "signature does not match the file")


def test_signature_by_another_key_is_refused(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    key, other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    c = case(tmp_path, other, certificate(key, authority()))
    refused(c, capsys, "signature does not match the file")


def test_expired_certificate_is_refused(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    cert = certificate(key, authority(), before=NOW - timedelta(days=400),
                       after=NOW - timedelta(days=2))
    c = case(tmp_path, key, cert)
    refused(c, capsys, f"certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}")


def test_untrusted_issuer_is_refused(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    c = case(tmp_path, key, certificate(key, authority("Rogue CA")))
    # Another CA of the same name: the issuer name matches, the issuer's key does not.
    trusted = authority("Rogue CA").pem(tmp_path / "ca.pem")
    refused(c, capsys, "certificate not issued by a trusted authority", "--trust", str(trusted))


def test_trust_from_setting(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    ca = authority()
    c = case(tmp_path, key, certificate(key, ca))
    monkeypatch.setenv("DDS_ELECTIONS_TRUSTED_CERTIFICATES",
                       str(authority().pem(tmp_path / "other.pem")))
    refused(c, capsys, "certificate not issued by a trusted authority")
    monkeypatch.setenv("DDS_ELECTIONS_TRUSTED_CERTIFICATES", str(ca.pem(tmp_path / "ca.pem")))
    assert c.run() == 0


def test_key_usage_without_signing_is_refused(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    c = case(tmp_path, key, certificate(key, authority(), signing=False))
    refused(c, capsys, "certificate key usage does not allow digital signatures")


def test_require_signature_refuses_unsigned(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    c = case(tmp_path, key, certificate(key, authority()))
    c.sig.unlink()
    refused(c, capsys, "file is not signed", "--require-signature")
    assert c.run() == 0  # unsigned and not required: imported as before


@pytest.mark.parametrize(("garbage", "reason"), [
    (b"", "signature file unreadable"),
    (b"\x00" * 70_000, "signature file unreadable"),  # past MAX_SIGNATURE_BYTES
    (b"not a signature at all", "signature does not match the file"),
    (b"-----BEGIN PKCS7-----\nMIIB\n-----END PKCS7-----\n", "CMS/PKCS#7 signature"),
])
def test_garbage_signature_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      garbage: bytes, reason: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    c = case(tmp_path, key, certificate(key, authority()))
    c.sig.write_bytes(garbage)
    refused(c, capsys, reason)


def test_garbage_certificate_is_refused(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    c = case(tmp_path, key, certificate(key, authority()))
    c.cert.write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    refused(c, capsys, "certificate file unreadable")


def test_explicit_paths_and_missing_certificate(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    c = case(tmp_path, key, certificate(key, authority()))
    sig, cert = c.sig.rename(tmp_path / "count.sig"), c.cert.rename(tmp_path / "signer.crt")
    refused(c, capsys, "no certificate for the signature", "--signature", str(sig))
    assert c.run("--signature", str(sig), "--certificate", str(cert)) == 0


def test_p7s_next_to_the_file_is_refused_not_ignored(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    c = case(tmp_path, key, certificate(key, authority()))
    c.sig.rename(c.source.with_name(c.source.name + ".p7s"))
    refused(c, capsys, "CMS/PKCS#7 signature (.p7s) cannot be verified")

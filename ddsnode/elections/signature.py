"""Detached signatures of election files: verify before anything is imported (issue 14).

An electoral authority may publish a count file with a detached signature and the
certificate of the signing key. :func:`verify_file` checks, over the exact bytes the
import read (not the file again, which could have changed since):

1. the signature: raw, over the file's bytes, with the certificate's public key — RSA
   PKCS#1 v1.5 or PSS with SHA-256 (RFC 8017 §8.2, §8.1), ECDSA P-256 with SHA-256
   (FIPS 186-5), Ed25519 (RFC 8032);
2. the certificate's validity period at import time (RFC 5280 §4.1.2.5);
3. its key usage, when the extension is present: ``digitalSignature`` or
   ``nonRepudiation`` (RFC 5280 §4.2.1.3);
4. with trusted certificates (``--trust`` or ``elections_trusted_certificates``): the
   certificate is one of them, or was signed by the key of one of them that is a CA
   (basicConstraints, RFC 5280 §4.2.1.9) valid now. One level only: no chain building.

CMS/PKCS#7 (``.p7s``) signatures are NOT verified: ``cryptography`` (51) parses PKCS#7
certificates and can sign and decrypt, but has no verification of SignedData; a ``.p7s``
next to a file is refused with that reason rather than ignored, since a signature the
node cannot check must not pass for an unsigned file that was accepted.

Any failure raises :class:`SignatureRefused` with a one-line reason; nothing is imported.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

#: Largest signature or certificate file read (a raw signature is at most 512 bytes for
#: RSA-4096; a certificate a few KiB): anything bigger is not one, and is not read whole.
MAX_SIGNATURE_BYTES = 64 * 1024
#: Largest trusted-certificates bundle read.
MAX_BUNDLE_BYTES = 4 * 1024 * 1024

SIGNATURE_SUFFIXES = (".sig", ".p7s")
CERTIFICATE_SUFFIXES = (".pem", ".crt")


class SignatureRefused(ValueError):
    """The file's signature or certificate does not hold: the file is refused."""


@dataclass(frozen=True)
class Signer:
    """Who signed a verified file: the certificate's subject and SHA-256 fingerprint."""

    subject: str  # RFC 4514 string
    fingerprint: str  # SHA-256 of the certificate's DER, lowercase hex

    @property
    def iri(self) -> str:
        """The certificate named by its hash, RFC 6920 ``ni:///sha-256;`` (base64url)."""
        raw = bytes.fromhex(self.fingerprint)
        return "ni:///sha-256;" + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    def agent(self, document: str) -> dict[str, Any]:
        """The ``assertedBy`` (prov:wasAttributedTo) value written on ``document``.

        A fragment of the document (``#signer``: a document may describe only itself and
        its fragments), named ``name`` (foaf) by the subject, identified (dct) by the
        certificate's RFC 6920 hash name, from which the hex fingerprint is recovered."""
        return {"id": document + "#signer", "name": self.subject, "identifier": self.iri}

    def text(self) -> str:
        """One line for the import report."""
        return f"signed by {self.subject} (certificate SHA-256 {self.fingerprint})"


def discover(path: Path) -> tuple[Path | None, Path | None]:
    """The detached signature and certificate next to ``path``, if any.

    The rule: the signature is ``FILE.sig`` or else ``FILE.p7s``; the certificate is
    ``FILE.pem`` or else ``FILE.crt`` (FILE the whole name, e.g. ``count.eml.xml.sig``)."""
    sig = next((p for s in SIGNATURE_SUFFIXES if (p := path.with_name(path.name + s)).is_file()),
               None)
    cert = next((p for s in CERTIFICATE_SUFFIXES
                 if (p := path.with_name(path.name + s)).is_file()), None)
    return sig, cert


def _read(path: Path, what: str, limit: int) -> bytes:
    try:
        with path.open("rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise SignatureRefused(f"{what} unreadable: {path}: {e.strerror or e}") from None
    if len(data) > limit:
        raise SignatureRefused(f"{what} unreadable: {path} is larger than {limit:,} bytes")
    if not data:
        raise SignatureRefused(f"{what} unreadable: {path} is empty")
    return data


def _is_cms(data: bytes, path: Path) -> bool:
    # PEM armour, or DER ContentInfo whose OID is pkcs7-signedData (1.2.840.113549.1.7.2).
    return (path.suffix == ".p7s" or data.lstrip().startswith(b"-----BEGIN PKCS7")
            or data.lstrip().startswith(b"-----BEGIN CMS")
            or b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02" in data[:32])


def load_certificate(data: bytes, path: Path) -> x509.Certificate:
    """A PEM or DER certificate, or :class:`SignatureRefused`."""
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except (ValueError, UnsupportedAlgorithm) as e:
        raise SignatureRefused(f"certificate file unreadable: {path}: {e}") from None


def _check_signature(cert: x509.Certificate, signature: bytes, data: bytes) -> None:
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise SignatureRefused("certificate key unsupported: not RSA, ECDSA P-256 or "
                               "Ed25519") from None
    try:
        if isinstance(key, rsa.RSAPublicKey):
            try:
                key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
            except InvalidSignature:
                key.verify(signature, data,
                           padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.AUTO),
                           hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey) and \
                isinstance(key.curve, ec.SECP256R1):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
        else:
            raise SignatureRefused("certificate key unsupported: not RSA, ECDSA P-256 or "
                                   "Ed25519")
    except (InvalidSignature, ValueError):
        raise SignatureRefused("signature does not match the file") from None


def _check_period(cert: x509.Certificate, now: datetime) -> None:
    if now < cert.not_valid_before_utc:
        raise SignatureRefused("certificate not valid before "
                               f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M:%S} UTC")
    if now > cert.not_valid_after_utc:
        raise SignatureRefused("certificate expired on "
                               f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M:%S} UTC")


def _check_usage(cert: x509.Certificate) -> None:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (usage.digital_signature or usage.content_commitment):
        raise SignatureRefused("certificate key usage does not allow digital signatures")


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def load_trusted(path: Path) -> list[x509.Certificate]:
    """The certificates of a PEM bundle, or :class:`SignatureRefused`."""
    data = _read(path, "trusted certificates", MAX_BUNDLE_BYTES)
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as e:
        raise SignatureRefused(f"trusted certificates unreadable: {path}: {e}") from None


def _check_trust(cert: x509.Certificate, trusted: list[x509.Certificate],
                 now: datetime) -> None:
    for ca in trusted:
        if ca == cert:  # the signer's certificate itself is pinned
            return
        if not _is_ca(ca) or not ca.not_valid_before_utc <= now <= ca.not_valid_after_utc:
            continue
        try:
            cert.verify_directly_issued_by(ca)  # issuer name, then the signature
        except (ValueError, TypeError, InvalidSignature):
            continue
        return
    raise SignatureRefused("certificate not issued by a trusted authority")


def verify_file(data: bytes, signature: Path, certificate: Path | None,
                trust: Path | None = None, now: datetime | None = None) -> Signer:
    """Check ``signature`` (of ``data``) with ``certificate``; the signer, or a refusal."""
    sig = _read(signature, "signature file", MAX_SIGNATURE_BYTES)
    if _is_cms(sig, signature):
        raise SignatureRefused("CMS/PKCS#7 signature (.p7s) cannot be verified by this node "
                               "(no SignedData verification in cryptography): refused")
    if certificate is None:
        raise SignatureRefused(f"no certificate for the signature {signature.name} "
                               "(give --certificate, or put FILE.pem next to the file)")
    cert = load_certificate(_read(certificate, "certificate file", MAX_SIGNATURE_BYTES),
                            certificate)
    now = now or datetime.now(UTC)
    _check_signature(cert, sig, data)
    _check_period(cert, now)
    _check_usage(cert)
    if trust is not None:
        _check_trust(cert, load_trusted(trust), now)
    fingerprint = hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()
    return Signer(cert.subject.rfc4514_string(), fingerprint)

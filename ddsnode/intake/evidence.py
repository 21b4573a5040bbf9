"""Evidence of a tally (a photo or a PDF of the tally sheet), stored by its SHA-256.

Files live in ``DIR/intake-evidence/<sha256>`` (content-addressed: the same file sent
twice is stored once, and a name says what the bytes are). Only what a tally sheet is
gets in: the first bytes must be those of a PDF, JPEG, PNG or WebP (sniffed, the way
WHATWG MIME Sniffing 6.1-6.2 matches image and PDF signatures), and the declared
Content-Type must agree with them, so the node never serves a script or an HTML page
under the name of a tally sheet. Size is bounded by ``intake_evidence_max_bytes``.
A file is written to a temporary name, fsync'd, then renamed (POSIX rename is atomic),
so a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from ddsnode.files import replace_durably
from ddsnode.problem import PayloadTooLarge, UnsupportedMediaType

__all__ = ["EVIDENCE_DIR", "EvidenceStore", "sniff"]

EVIDENCE_DIR = "intake-evidence"
SHA256 = re.compile(r"^[0-9a-f]{64}$")
# (media type, signature at offset 0, extra check) — WHATWG MIME Sniffing 6.1 / 6.2
SIGNATURES: tuple[tuple[str, bytes], ...] = (
    ("application/pdf", b"%PDF-"),
    ("image/jpeg", b"\xff\xd8\xff"),
    ("image/png", b"\x89PNG\r\n\x1a\n"),
)


def sniff(data: bytes) -> str | None:
    """The media type the first bytes show, among those a tally sheet may be."""
    for media_type, signature in SIGNATURES:
        if data.startswith(signature):
            return media_type
    if data[:4] == b"RIFF" and data[8:14] == b"WEBPVP":
        return "image/webp"
    return None


class EvidenceStore:
    """Tally sheets of one node directory."""

    def __init__(self, node_dir: Path, max_bytes: int) -> None:
        self.root = Path(node_dir) / EVIDENCE_DIR
        self.root.mkdir(exist_ok=True)
        self.max_bytes = max_bytes

    def put(self, data: bytes, declared: str) -> tuple[str, str, bool]:
        """Store ``data``: (sha256, media type, newly stored). 413 past the size limit,
        415 when the bytes are not an allowed kind or disagree with ``declared``."""
        if len(data) > self.max_bytes:
            raise PayloadTooLarge(f"Evidence is at most {self.max_bytes} bytes; this file has "
                                  f"{len(data)}")
        found = sniff(data)
        declared = declared.split(";", 1)[0].strip().lower()
        allowed = ", ".join(m for m, _ in SIGNATURES) + ", image/webp"
        if found is None:
            raise UnsupportedMediaType(f"Evidence is a photo or a PDF of the tally sheet "
                                       f"({allowed}); these bytes are none of them")
        if declared != found:
            raise UnsupportedMediaType(f"The body is {found} but Content-Type says "
                                       f"{declared[:80] or 'nothing'}")
        digest = hashlib.sha256(data).hexdigest()
        path = self.root / digest
        if path.exists():
            return digest, found, False
        replace_durably(path, data)
        return digest, found, True

    def has(self, digest: str) -> bool:
        """Whether a file with this SHA-256 is stored."""
        return bool(SHA256.match(digest)) and (self.root / digest).is_file()

    def get(self, digest: str) -> tuple[bytes, str] | None:
        """(bytes, media type) of a stored file, or None."""
        if not self.has(digest):
            return None
        data = (self.root / digest).read_bytes()
        return data, sniff(data) or "application/octet-stream"

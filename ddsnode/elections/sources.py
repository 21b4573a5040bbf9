"""A source file of electoral data: read whole under a size bound, hashed, named.

Provenance (issue 14): every resource an import writes carries the SHA-256 of the file
it came from (``sourceDigest``), so anyone holding the authority's file can check it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ddsnode.elections.documents import slugify


class SourceTooLarge(ValueError):
    """The file is larger than ``elections_max_source_bytes``."""


@dataclass(frozen=True)
class SourceFile:
    """The bytes of one source file, their digest and the file's name."""

    path: Path
    data: bytes

    @property
    def name(self) -> str:
        """The file name, as rejects and reports show it."""
        return self.path.name

    @property
    def digest(self) -> str:
        """``sha256:`` and the file's SHA-256 in hex (the ``sourceDigest`` value)."""
        return "sha256:" + hashlib.sha256(self.data).hexdigest()

    def slug(self, prefix: str) -> str:
        """A slug for the file's resources: ``{prefix}-{file stem}``."""
        stem = self.path.name.split(".")[0]
        return f"{prefix}-{slugify(stem)}"[:60].rstrip("-")


class DigestMismatch(ValueError):
    """The file is not the one whose SHA-256 the authority published."""


def check_digest(path: Path, expected: str) -> None:
    """Refuse ``path`` unless its SHA-256 is ``expected`` (hex, ``sha256:`` optional).

    No sample count file carries an XML signature (docs/elections.md, EML), so this is
    how an operator ties a file to its authority: by the hash the authority publishes
    beside it, compared before anything is read into the node."""
    want = expected.strip().lower().removeprefix("sha256:")
    if len(want) != 64 or any(c not in "0123456789abcdef" for c in want):
        raise DigestMismatch(f"--sha256 {expected!r} is not 64 hexadecimal digits")
    with path.open("rb") as f:
        found = hashlib.file_digest(f, "sha256").hexdigest()
    if found != want:
        raise DigestMismatch(f"{path}: SHA-256 is {found}, not the expected {want}: "
                             "refused, nothing imported")


def read_source(path: Path, max_bytes: int) -> SourceFile:
    """Read ``path`` whole, refusing a file past ``max_bytes`` before reading it."""
    size = path.stat().st_size
    if size > max_bytes:
        raise SourceTooLarge(f"{path}: {size:,} bytes, past elections_max_source_bytes "
                             f"({max_bytes:,})")
    with path.open("rb") as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:  # grew while we read it
        raise SourceTooLarge(f"{path}: past elections_max_source_bytes ({max_bytes:,})")
    return SourceFile(path, data)

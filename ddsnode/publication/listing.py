"""What a generation lists, in the two manifest formats: the signed manifest's own lines
and, from format v2, its **part manifests** (docs/election-night.md, "The manifest").

Format v1 (``…/manifest/v1``) listed every file of a generation in the signed manifest:
about 4 MB at 20,000 stations × 10 contests, read whole by every mirror poll and every
``ddsnode verify`` at every generation. Format v2 (``…/manifest/v2``) lists directly
only the files that are in no part (``results.json``, ``diff.json``, each contest's
levels that are not split, their gzip twins), and under ``manifests`` one **part
manifest** per part of a split station level, by its SHA-256 and size. A part manifest
``{contest}/{level}/{part}.manifest.json`` is an ordinary generation file, canonical
JSON ``{"format": PART_FORMAT, "files": [lines]}``, listing that part's files (and
only those: every path starts with ``{contest}/{level}/{part}.``). It holds no
generation number, so a part that did not change keeps a byte-identical part manifest
(one object, like its files), and a reader that holds the previous generation fetches
only the part manifests whose hash changed. The signature covers the manifest and,
through the hashes, every part manifest and every file.

Readers accept both formats: a v1 manifest is a v2 manifest without part manifests.
Everything here is parsed as untrusted input (a mirror's origin, ``verify``'s target):
:class:`ListingError` says what is wrong.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ddsnode.publication.jws import JwsError, b64url_decode

#: A file of a generation, relative to ``g/{n}/``: at most three segments,
#: ``{contest}/{level}/{part}.csv`` (docs/election-night.md, Parts).
FILE_PATH = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*){0,2}$")
FORMAT_V1 = "https://w3id.org/dds/publication/manifest/v1"
FORMAT = "https://w3id.org/dds/publication/manifest/v2"
PART_FORMAT = "https://w3id.org/dds/publication/part-manifest/v1"
PART_MANIFEST = ".manifest.json"  # {contest}/{level}/{part}.manifest.json
PART_TYPE = "application/json"
MANIFEST = "manifest.jws"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_TYPE = re.compile(r"^[!-~][ -~]{0,126}$")  # a media type: printable ASCII, bounded


class ListingError(ValueError):
    """A manifest or part manifest that does not list files as the format says."""


def manifest_payload(jws: bytes) -> dict[str, Any]:
    """The manifest JSON inside a compact JWS, unverified (our own, or verified on fetch)."""
    parts = jws.split(b".")
    if len(parts) != 3:
        raise JwsError("not a compact JWS")
    data = json.loads(b64url_decode(parts[1].decode("ascii")))
    if not isinstance(data, dict):
        raise JwsError("the manifest is not a JSON object")
    return data


@dataclass(frozen=True)
class Line:
    """One listed file: its path relative to ``g/{n}/``, SHA-256 (hex), size and type."""

    path: str
    sha256: str
    size: int
    type: str

    @property
    def info(self) -> tuple[str, int]:
        """(sha256, size): what makes two files the same bytes."""
        return (self.sha256, self.size)

    def to_json(self) -> dict[str, Any]:
        """The line as the manifests write it."""
        return {"path": self.path, "sha256": self.sha256, "size": self.size,
                "type": self.type}


def lines_of(entries: object, where: str) -> dict[str, Line]:
    """path -> Line of a ``files`` (or ``manifests``) array; ListingError when an entry is
    not ``{"path", "sha256", "size", "type"}`` with a clean path, a hex SHA-256, a whole
    size, or when a path is listed twice (two hashes for one path: which would hold?)."""
    if not isinstance(entries, list):
        raise ListingError(f"{where}: the files are not a list")
    out: dict[str, Line] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            raise ListingError(f"{where}: a file entry is not an object")
        path, digest, size = entry.get("path"), entry.get("sha256"), entry.get("size")
        kind = entry.get("type", "application/octet-stream")
        if not isinstance(path, str) or not FILE_PATH.match(path) or path == MANIFEST:
            raise ListingError(f"{where}: bad file path {str(path)[:100]!r}")
        if not isinstance(digest, str) or not _HEX64.match(digest):
            raise ListingError(f"{where}: {path} has no SHA-256 (64 lower-case hex digits)")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ListingError(f"{where}: {path} has size {str(size)[:20]}")
        if not isinstance(kind, str) or not _TYPE.match(kind):
            raise ListingError(f"{where}: {path} has a bad type")
        if path in out:
            raise ListingError(f"{where}: {path} is listed twice")
        out[path] = Line(path, digest, size, kind)
    return out


def stem_of(part_manifest: str) -> str:
    """``{contest}/{level}/{part}`` of a part manifest's path."""
    return part_manifest.removesuffix(PART_MANIFEST)


def part_manifest_for(path: str) -> str | None:
    """The part manifest that lists ``path`` in format v2 (a file of a part:
    ``{contest}/{level}/{part}.ext``), or None for a file the manifest lists itself."""
    head, slash, name = path.rpartition("/")
    if not slash or head.count("/") != 1 or path.endswith(PART_MANIFEST):
        return None
    return f"{head}/{name.split('.', 1)[0]}{PART_MANIFEST}"


@dataclass(frozen=True)
class Listing:
    """A manifest's listing: the files it lists itself, and its part manifests (v2)."""

    format: str
    files: dict[str, Line]
    manifests: dict[str, Line]

    @classmethod
    def of(cls, manifest: Mapping[str, Any], where: str = "the manifest") -> Listing:
        """The listing of a parsed manifest payload (v1 or v2); ListingError otherwise."""
        fmt = manifest.get("format")
        if fmt not in (FORMAT_V1, FORMAT):
            raise ListingError(f"{where}: unknown format {str(fmt)[:100]!r}")
        files = lines_of(manifest.get("files"), where)
        manifests = lines_of(manifest.get("manifests", []), where) if fmt == FORMAT else {}
        for path in manifests:
            if not path.endswith(PART_MANIFEST) or path.count("/") != 2 or path in files \
                    or "." in stem_of(path).rsplit("/", 1)[1]:
                raise ListingError(f"{where}: {path[:100]!r} is not a part manifest path")
        for path in files:
            part = part_manifest_for(path)
            if part is not None and part in manifests:
                raise ListingError(f"{where}: {path} is listed beside its part manifest")
        return cls(str(fmt), files, manifests)

    def part(self, path: str, raw: bytes) -> dict[str, Line]:
        """The lines of part manifest ``path`` from its bytes ``raw``, checked against the
        manifest's hash and size and the format; ListingError otherwise."""
        line = self.manifests.get(path)
        if line is None:
            raise ListingError(f"{path[:100]!r} is not a part manifest of this generation")
        return parse_part(path, raw, line)


def parse_part(path: str, raw: bytes, line: Line) -> dict[str, Line]:
    """A part manifest's lines, ``raw`` checked against ``line`` (hash and size)."""
    if len(raw) != line.size or hashlib.sha256(raw).hexdigest() != line.sha256:
        raise ListingError(f"{path}: does not match its hash in the manifest")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ListingError(f"{path}: not JSON") from None
    if not isinstance(body, dict) or body.get("format") != PART_FORMAT:
        raise ListingError(f"{path}: not a part manifest ({PART_FORMAT})")
    lines = lines_of(body.get("files"), path)
    prefix = stem_of(path) + "."
    for listed in lines:
        if not listed.startswith(prefix) or listed.endswith(PART_MANIFEST):
            raise ListingError(f"{path}: lists {listed[:100]!r}, which is not of its part")
    return lines


def part_manifest_bytes(lines: Iterable[Line]) -> bytes:
    """A part manifest: canonical JSON (sorted keys, no spaces, lines sorted by path), so
    that the same files always give the same bytes, generation after generation."""
    body = {"format": PART_FORMAT,
            "files": [ln.to_json() for ln in sorted(lines, key=lambda ln: ln.path)]}
    return json.dumps(body, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8") + b"\n"


def expand(listing: Listing, read: Callable[[str], bytes]) -> dict[str, Line]:
    """Every file of the generation, part manifests included, ``read`` giving a file of
    the generation (each part manifest checked against its hash before it is believed)."""
    out = {**listing.files, **listing.manifests}
    for path in sorted(listing.manifests):
        for listed, line in listing.part(path, read(path)).items():
            if listed in out:
                raise ListingError(f"{listed} is listed twice")
            out[listed] = line
    return out


class Held:
    """The generation a mirror serves: what it holds, to fetch only what differs."""

    def __init__(self, read: Callable[[str], bytes], number: int, listing: Listing) -> None:
        self.read = read  # a file of the held generation, by its path
        self.number = number
        self.listing = listing
        self._parts: dict[str, dict[str, Line]] = {}

    def part(self, path: str, line: Line) -> dict[str, Line] | None:
        """The files of part manifest ``path`` when the one held has ``line``'s hash."""
        held = self.listing.manifests.get(path)
        if held is None or held.info != line.info:
            return None
        return self._lines(path)

    def _lines(self, path: str) -> dict[str, Line] | None:
        if path not in self._parts:
            try:
                raw = self.read(path)
                self._parts[path] = self.listing.part(path, raw)
            except (OSError, ListingError):
                return None  # not whole here: fetched again
        return self._parts[path]

    def same(self, path: str, line: Line) -> bool:
        """Whether the held generation has ``path`` with ``line``'s bytes (listed in its
        manifest, or, v2, in the part manifest of the same path)."""
        found = self.listing.files.get(path)
        if found is None:
            part = part_manifest_for(path)
            lines = self._lines(part) if part and part in self.listing.manifests else None
            found = lines.get(path) if lines else None
        return found is not None and found.info == line.info

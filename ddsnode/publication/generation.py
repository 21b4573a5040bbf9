"""One generation: every file of an election's results at one moment, and its manifest.

Files (paths relative to ``{election}/results/g/{n}/``): the snapshot ``results.json``,
the diff against the previous generation ``diff.json``, then per contest and reporting
level ``{contest}/{level}.jsonld``, ``.csv`` and ``.nist.json`` (a large station level
in parts, ``{contest}/{level}/{part}.…``: :mod:`ddsnode.publication.parts`, which also
keeps the records between generations so that only what changed is built); each with a
gzip twin
(``….gz``) compressed once here, deterministically (RFC 1952 MTIME 0, no name), so that
the same bytes give the same twin. The manifest (format v2, :mod:`.listing`) lists the
files that are in no part with their SHA-256 and size, and each part's part manifest
(``{contest}/{level}/{part}.manifest.json``, which lists the part's files) by its SHA-256
and size; it is signed as a compact JWS (``manifest.jws``); its ``previous`` is the
SHA-256 of the previous generation's manifest (the JWS payload bytes), which chains them.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ddsnode.publication import documents as docs
from ddsnode.publication.documents import ElectionFacts, Json, Key
from ddsnode.publication.jws import sign
from ddsnode.publication.keyring import SigningKey
from ddsnode.publication.listing import FORMAT, MANIFEST, Line, part_manifest_bytes
from ddsnode.publication.parts import PART_UNITS, SNAPSHOT, FileInfo, Tables

DIFF = "diff.json"
__all__ = ["DIFF", "FORMAT", "MANIFEST", "Generation", "build", "build_next", "gzipped",
           "media_type", "sha256"]
MEDIA_TYPES = {".json": "application/json", ".jsonld": "application/ld+json",
               ".csv": "text/csv; charset=utf-8", ".gz": "application/gzip",
               ".jws": "application/jose"}


def media_type(path: str) -> str:
    """The Content-Type a generation file is served with."""
    for suffix, kind in MEDIA_TYPES.items():
        if path.endswith(suffix) and (suffix != ".json" or not path.endswith(".nist.json")):
            return kind
    return "application/json" if path.endswith(".json") else "application/octet-stream"


def gzipped(data: bytes) -> bytes:
    """``data`` gzip-compressed, the same bytes every time (RFC 1952 2.3.1: MTIME 0).
    Level 6, zlib's default: on 11 MB of synthetic results files, level 9 took 4.4 times
    as long (0.47 s against 0.11 s) for 11% fewer bytes, and generations are built on
    the clock of election night."""
    return gzip.compress(data, compresslevel=6, mtime=0)


def sha256(data: bytes) -> str:
    """Lower-case hex SHA-256."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Generation:
    """A built generation: the bytes of its new files, the paths it shares with the
    previous generation (same bytes: stored already, never rewritten), its manifest payload
    and signed manifest."""

    election: str
    number: int
    files: dict[str, bytes]
    manifest: bytes  # the JWS payload (the manifest JSON)
    jws: bytes
    changed: list[Key]
    reused: frozenset[str] = frozenset()
    listing: Mapping[str, FileInfo] | None = None  # every file, part manifests included

    @property
    def manifest_hash(self) -> str:
        """What the next generation's ``previous`` holds."""
        return sha256(self.manifest)


def build_next(tables: Tables, number: int, previous: str | None,
               changes: Mapping[Key, Json | None], *, key: SigningKey, generated: str,
               facts: ElectionFacts | None = None,
               last: Mapping[str, FileInfo] | None = None) -> Generation:
    """Generation ``number``: ``tables`` (the previous generation's records, updated in
    place) with ``changes`` applied (None: removed). Only the groups that changed are
    serialised; ``last`` (path -> hash and size of the previous generation) tells which
    files are the same and are listed in ``reused`` instead of being written again."""
    changed, removed = tables.apply(changes)
    election = tables.election
    body = {"election": election, "generation": number, "changed": changed,
            "removed": [list(k) for k in removed]}
    made = tables.build(facts, generated, gzipped, _part_manifest)
    diff = docs.canonical(body) + b"\n"
    files = {**made.files, DIFF: diff, DIFF + ".gz": gzipped(diff)}
    listing = {**made.listing, DIFF: (sha256(diff), len(diff)),
               DIFF + ".gz": (sha256(files[DIFF + ".gz"]), len(files[DIFF + ".gz"]))}
    last = last or {}
    reused = frozenset(p for p, info in listing.items()
                       if p not in files or last.get(p) == info)
    widest = made.widest
    manifest: dict[str, Any] = {
        "format": FORMAT, "election": election, "generation": number, "previous": previous,
        "generatedAt": generated, "cutoff": made.cutoff or generated, "status": made.status,
        "stationsReported": widest["stationsReported"] if widest else 0,
        "stationsTotal": widest["stationsTotal"] if widest else 0,
        "rehearsal": key.rehearsal, "kid": key.kid, "snapshot": SNAPSHOT, "diff": DIFF,
        "contests": made.contests,
        "files": [{"path": p, "sha256": h, "size": n, "type": media_type(p)}
                  for p, (h, n) in sorted(listing.items())
                  if p not in made.indexed and p not in made.manifests],
        "manifests": [{"path": p, "sha256": h, "size": n, "type": media_type(p)}
                      for p, (h, n) in sorted(made.manifests.items())],
    }
    # Compact, unlike v1's one key per line: at 20,000 stations × 10 contests the
    # manifest lists 2,560 part manifests, read at every generation by every mirror.
    payload = json.dumps(manifest, sort_keys=True, separators=(",", ":"),
                         ensure_ascii=False).encode("utf-8") + b"\n"
    jws = sign(payload, key.key, key.kid).encode("ascii")
    kept = {p: b for p, b in files.items() if p not in reused}
    return Generation(election, number, kept, payload, jws,
                      sorted([docs.key_of(r) for r in changed] + removed), reused, listing)


def _part_manifest(files: dict[str, FileInfo]) -> bytes:
    return part_manifest_bytes(Line(p, h, n, media_type(p)) for p, (h, n) in files.items())


def build(election: str, number: int, previous: str | None, before: dict[Key, Json],
          after: dict[Key, Json], *, key: SigningKey, generated: str,
          facts: ElectionFacts | None = None, part_units: int = PART_UNITS) -> Generation:
    """Generation ``number`` of ``election`` holding ``after``, built whole (every file in
    ``files``); ``previous`` is the hash of the previous manifest (None for the first)."""
    tables = Tables(election, part_units)
    tables.apply(before)
    changes: dict[Key, Json | None] = {k: None for k in before if k not in after}
    changes.update(after)
    return build_next(tables, number, previous, changes, key=key, generated=generated,
                      facts=facts)

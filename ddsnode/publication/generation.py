"""One generation: every file of an election's results at one moment, and its manifest.

Files (paths relative to ``{election}/results/g/{n}/``): the snapshot ``results.json``,
the diff against the previous generation ``diff.json``, then per contest and reporting
level ``{contest}/{level}.jsonld``, ``.csv`` and ``.nist.json``; each with a gzip twin
(``….gz``) compressed once here, deterministically (RFC 1952 MTIME 0, no name), so that
the same bytes give the same twin. The manifest lists every file with its SHA-256 and
size and is signed as a compact JWS (``manifest.jws``); its ``previous`` is the SHA-256 of
the previous generation's manifest (the JWS payload bytes), which chains them.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from ddsnode.publication import documents as docs
from ddsnode.publication.documents import ElectionFacts, Json, Key
from ddsnode.publication.jws import sign
from ddsnode.publication.keyring import SigningKey

SNAPSHOT = "results.json"
DIFF = "diff.json"
MANIFEST = "manifest.jws"
FORMAT = "https://w3id.org/dds/publication/manifest/v1"
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
    """A built generation: its files, manifest payload and signed manifest."""

    election: str
    number: int
    files: dict[str, bytes]
    manifest: bytes  # the JWS payload (the manifest JSON)
    jws: bytes
    changed: list[Key]

    @property
    def manifest_hash(self) -> str:
        """What the next generation's ``previous`` holds."""
        return sha256(self.manifest)


#: (contest, level) -> (its records, its files with their gzip twins) of the last build:
#: a group whose records did not change reuses its bytes instead of being serialised
#: and compressed again (the publisher keeps one per election).
ViewCache = dict[tuple[str, str], tuple[list[Json], dict[str, bytes]]]


def _views(election: str, facts: ElectionFacts | None, records: dict[Key, Json],
           generated: str, cache: ViewCache) -> tuple[dict[str, bytes], list[Json]]:
    groups: dict[tuple[str, str], list[Json]] = defaultdict(list)
    for key in sorted(records):
        rec = records[key]
        groups[(rec["contest"], rec["level"])].append(rec)
    files: dict[str, bytes] = {}
    contests: dict[str, Json] = {}
    fresh: ViewCache = {}
    for (contest, level), recs in sorted(groups.items()):
        cached = cache.get((contest, level))
        if cached is not None and cached[0] == recs:
            group = cached[1]  # unchanged: the same bytes (and generation date) as before
        else:
            stem = f"{docs.slug(contest)}/{docs.level_segment(level)}"
            views = {f"{stem}.jsonld": docs.jsonld_view(recs),
                     f"{stem}.csv": docs.csv_view(recs),
                     f"{stem}.nist.json": docs.nist_view(election, facts, contest, level,
                                                         recs, generated)}
            group = {**views, **{p + ".gz": gzipped(b) for p, b in views.items()}}
        fresh[(contest, level)] = (recs, group)
        files.update(group)
        top = max(recs, key=lambda r: (r["stationsTotal"], r["unit"]))
        entry = contests.setdefault(contest, {"contest": contest, "levels": [],
                                              "stationsReported": 0, "stationsTotal": 0,
                                              "status": "preElection", "path": docs.slug(contest)})
        entry["levels"].append(level)
        if (top["stationsTotal"], top["stationsReported"]) > \
                (entry["stationsTotal"], entry["stationsReported"]):
            entry["stationsReported"] = top["stationsReported"]
            entry["stationsTotal"] = top["stationsTotal"]
    for contest, entry in contests.items():
        entry["status"] = docs.least_final(r["status"] for r in records.values()
                                           if r["contest"] == contest)
    cache.clear()
    cache.update(fresh)
    return files, [contests[c] for c in sorted(contests)]


def build(election: str, number: int, previous: str | None, before: dict[Key, Json],
          after: dict[Key, Json], *, key: SigningKey, generated: str,
          facts: ElectionFacts | None = None, cache: ViewCache | None = None) -> Generation:
    """Generation ``number`` of ``election`` holding ``after``; ``previous`` is the hash
    of the previous manifest (None for the first); ``cache`` carries unchanged views
    from one build to the next (updated in place)."""
    files: dict[str, bytes] = {SNAPSHOT: docs.snapshot_bytes(election, after)}
    diff, changed = docs.diff_bytes(election, number, before, after)
    files[DIFF] = diff
    for path in list(files):
        files[path + ".gz"] = gzipped(files[path])
    views, contests = _views(election, facts, after, generated, {} if cache is None else cache)
    files.update(views)
    widest = max(contests, key=lambda c: (c["stationsTotal"], c["contest"]), default=None)
    cutoff = max((r["asOf"] for r in after.values()), default=generated)
    manifest: dict[str, Any] = {
        "format": FORMAT, "election": election, "generation": number, "previous": previous,
        "generatedAt": generated, "cutoff": cutoff,
        "status": docs.least_final(r["status"] for r in after.values()),
        "stationsReported": widest["stationsReported"] if widest else 0,
        "stationsTotal": widest["stationsTotal"] if widest else 0,
        "rehearsal": key.rehearsal, "kid": key.kid, "snapshot": SNAPSHOT, "diff": DIFF,
        "contests": contests,
        "files": [{"path": p, "sha256": sha256(b), "size": len(b), "type": media_type(p)}
                  for p, b in sorted(files.items())],
    }
    payload = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8")
    jws = sign(payload, key.key, key.kid).encode("ascii")
    return Generation(election, number, files, payload, jws, changed)

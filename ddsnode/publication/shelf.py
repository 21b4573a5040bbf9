"""What the results routes serve: bytes from memory, found by path, with their hash.

No RDF parsing, SPARQL or SHACL here (issue 15: the read path of election night). A
file is found through its generation's manifest (parsed once, as JSON) or, for a file of
a part (manifest format v2), through the part manifest the manifest lists (parsed once
per hash: an unchanged part manifest is shared by every generation that lists it), read
from disk once (the object of that hash, :mod:`.objects`, or the file in ``g/{n}/`` of a
generation written before objects; checked against the hash) into an LRU of recent
files, and served with the manifest's SHA-256 as its strong ETag; a file with a ``.gz`` twin is served compressed to a client that accepts gzip.
The pointer is kept in memory, replaced by the publisher or the mirror when they switch
it, and re-read from disk at most every ``POINTER_RECHECK`` seconds when another process
may have switched it (several workers).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from ddsnode.lru import LRU
from ddsnode.publication.archive import POINTER, Archive, ArchiveError, Pointer
from ddsnode.publication.generation import DIFF, MANIFEST, sha256
from ddsnode.publication.listing import (
    Line,
    Listing,
    ListingError,
    manifest_payload,
    part_manifest_for,
)

log = logging.getLogger("ddsnode.publication")
POINTER_RECHECK = 1.0  # seconds: how stale another worker's pointer switch may be here
#: Parsed manifest lines kept (of manifests and of part manifests, each): a flat (v1)
#: manifest at 20,000 stations × 10 contests is 20,604 lines, a v2 one about 2,700.
MAX_LINES = 100_000


@dataclass(frozen=True)
class Served:
    """One file ready to send: identity bytes, and its gzip twin when there is one."""

    body: bytes
    etag: str
    media_type: str
    gz: bytes | None = None
    gz_etag: str | None = None


@dataclass(frozen=True)
class Entry:
    """A manifest's line for one file."""

    sha256: str
    size: int
    media_type: str


class Shelf:
    """The published results of one node (its own, or mirrored), served from memory."""

    def __init__(self, archive: Archive, cache_bytes: int) -> None:
        self.archive = archive
        self.files: LRU[Served] = LRU(cache_bytes, lambda s: len(s.body) + len(s.gz or b""))
        self._pointers: dict[str, tuple[Pointer | None, float]] = {}
        self._manifests: LRU[tuple[dict[str, Entry], Listing]] = LRU(
            MAX_LINES, lambda m: len(m[0]) + 1)
        self._parts: LRU[dict[str, Line]] = LRU(MAX_LINES, lambda p: len(p) + 1)
        self._diffs: LRU[tuple[frozenset[str], frozenset[str]]] = LRU(4096)
        # Answers of changes?since=, by (election, since, generation): readers of one
        # generation mostly ask the same few questions (16 MiB of answers at most).
        self._answers: LRU[bytes] = LRU(16 * 1024 * 1024, len)
        self._lock = threading.Lock()
        self._known: frozenset[str] = frozenset()

    def published(self, election_path: str) -> bool:
        """Whether ``election_path`` has a pointer here: a set lookup once known, else one
        stat (nothing is remembered of a path never published: no memory to fill)."""
        if election_path in self._known:
            return True
        try:
            found = (self.archive.results_dir(election_path) / POINTER).is_file()
        except (ArchiveError, OSError):
            return False
        if found:
            with self._lock:
                self._known = self._known | {election_path}
        return found

    def note(self, election_path: str, pointer: Pointer) -> None:
        """The publisher or the mirror switched ``election_path``'s pointer."""
        with self._lock:
            self._pointers[election_path] = (pointer, time.monotonic())
            self._known = self._known | {election_path}

    def pointer(self, election_path: str) -> Pointer | None:
        """The current pointer of ``election_path`` (None when nothing is published)."""
        known = self._pointers.get(election_path)
        if known is not None and time.monotonic() - known[1] < POINTER_RECHECK:
            return known[0]
        try:
            pointer = self.archive.pointer(election_path)
        except (ArchiveError, OSError):
            pointer = None
        if pointer is None and known is not None and known[0] is not None:
            pointer = known[0]  # the file went away under us: keep the last one served
        with self._lock:
            self._pointers[election_path] = (pointer, time.monotonic())
        return pointer

    def entries(self, election_path: str, generation: int) -> dict[str, Entry]:
        """path -> Entry of what generation ``generation``'s manifest lists itself
        (``manifest.jws`` and the part manifests too; a part's files: :meth:`entry`)."""
        return self._listed(election_path, generation)[0]

    def _listed(self, election_path: str, generation: int) -> tuple[dict[str, Entry],
                                                                    Listing]:
        def load() -> tuple[dict[str, Entry], Listing]:
            jws = self.archive.read(election_path, f"g/{generation}/{MANIFEST}")
            listing = Listing.of(manifest_payload(jws))
            out = {p: Entry(ln.sha256, ln.size, ln.type)
                   for p, ln in {**listing.files, **listing.manifests}.items()}
            out[MANIFEST] = Entry(sha256(jws), len(jws), "application/jose")
            return out, listing
        return self._manifests.get_or_make((election_path, generation), load)

    def entry(self, election_path: str, generation: int, path: str) -> Entry | None:
        """The line of ``path`` in generation ``generation``: in its manifest, or in the
        part manifest that lists it (format v2); None when neither lists it."""
        entries, listing = self._listed(election_path, generation)
        found = entries.get(path)
        if found is not None:
            return found
        part = part_manifest_for(path)
        line = listing.manifests.get(part) if part else None
        if part is None or line is None:
            return None

        def load() -> dict[str, Line]:
            raw = self.archive.fetch(election_path, generation, part, line.sha256)
            return listing.part(part, raw)  # checked against its hash: never half-written
        lines = self._parts.get_or_make(line.info, load)
        listed = lines.get(path)
        return Entry(listed.sha256, listed.size, listed.type) if listed else None

    def file(self, election_path: str, relative: str) -> Served | None:
        """The file ``g/{n}/{path}`` of a published generation, or None."""
        pointer = self.pointer(election_path)
        prefix, _, rest = relative.partition("/")
        number, _, path = rest.partition("/")
        if pointer is None or prefix != "g" or not number.isdigit() or len(number) > 12:
            return None
        generation = int(number)
        if generation < 1 or generation > pointer.generation or str(generation) != number:
            return None  # a generation is visible once the pointer has named it
        key = (election_path, generation, path)
        found = self.files.peek(key)
        if found is not None:
            return found
        try:
            entry = self.entry(election_path, generation, path)
            twin = self.entry(election_path, generation, path + ".gz") if entry else None
        except (OSError, ListingError, ValueError, KeyError, TypeError):
            return None
        if entry is None:
            return None
        try:
            body = self._bytes(election_path, generation, path, entry)
            gz = self._bytes(election_path, generation, path + ".gz", twin) if twin else None
        except FileNotFoundError:
            return None  # a mirror keeps only the diffs of the generations it caught up over
        served = Served(body, f'"{entry.sha256}"', entry.media_type, gz,
                        f'"{twin.sha256}"' if twin else None)
        return self.files.put(key, served)

    def _bytes(self, election_path: str, generation: int, path: str, entry: Entry) -> bytes:
        """The bytes of a listed file (its object, or its file in a generation written
        before objects), checked against the line: what is served is what is signed."""
        if path == MANIFEST:
            return self.archive.read(election_path, f"g/{generation}/{MANIFEST}")
        body = self.archive.fetch(election_path, generation, path, entry.sha256)
        if len(body) != entry.size or sha256(body) != entry.sha256:
            log.error("%s g/%d/%s: the bytes stored do not match the manifest's hash",
                      election_path, generation, path)
            raise FileNotFoundError(path)
        return body

    def changed_in(self, election_path: str, generation: int) -> tuple[frozenset[str],
                                                                       frozenset[str]]:
        """(contests, units) that generation ``generation``'s diff touches."""
        def load() -> tuple[frozenset[str], frozenset[str]]:
            line = self.entry(election_path, generation, DIFF)
            if line is None:
                raise KeyError(DIFF)
            diff = json.loads(self._bytes(election_path, generation, DIFF, line))
            keys = [(str(r["contest"]), str(r["unit"])) for r in diff["changed"]] + \
                [(str(k[0]), str(k[1])) for k in diff["removed"]]
            return (frozenset(sys.intern(c) for c, _ in keys),
                    frozenset(sys.intern(u) for _, u in keys))
        return self._diffs.get_or_make((election_path, generation), load)

    def changes_body(self, election_path: str, since: int, limit: int) -> bytes | None:
        """:meth:`changes` as the JSON bytes served, from a cache of recent answers."""
        pointer = self.pointer(election_path)
        if pointer is None:
            return None
        key = (election_path, since, pointer.generation)
        found = self._answers.peek(key)
        if found is not None:
            return found
        answer = self.changes(election_path, since, limit)
        if answer is None:
            return None
        return self._answers.put(key, json.dumps(answer, indent=1).encode("utf-8"))

    def changes(self, election_path: str, since: int, limit: int) -> dict[str, Any] | None:
        """Contests and units changed after generation ``since`` (None: nothing published).

        ValueError when ``since`` is past the current generation or more than ``limit``
        generations back (the caller then reads the snapshot instead).
        """
        pointer = self.pointer(election_path)
        if pointer is None:
            return None
        if since > pointer.generation:
            raise ValueError(f"since={since} is after the current generation "
                             f"{pointer.generation}")
        if pointer.generation - since > limit:
            raise ValueError(f"more than {limit} generations since {since}: read the "
                             f"snapshot of generation {pointer.generation} instead")
        contests: set[str] = set()
        units: set[str] = set()
        for generation in range(since + 1, pointer.generation + 1):
            try:
                c, u = self.changed_in(election_path, generation)
            except (OSError, ValueError, KeyError, TypeError):
                raise ValueError(f"generation {generation} is not on this node: read the "
                                 f"snapshot of generation {pointer.generation}") from None
            contests |= c
            units |= u
        return {"election": pointer.election, "since": since,
                "generation": pointer.generation, "contests": sorted(contests),
                "units": sorted(units),
                "diffs": [f"g/{g}/diff.json" for g in range(since + 1, pointer.generation + 1)],
                "snapshot": f"g/{pointer.generation}/results.json"}

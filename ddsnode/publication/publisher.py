"""The publisher: when results changed, at most every P seconds, one new generation.

Each election of the feed keeps its state here: the feed's mark, the records of the
last generation, its number and manifest hash. On start the state is read back from
the archive (the last generation's snapshot), so a restart neither renumbers nor
republishes unchanged results. A rehearsal election is signed with the rehearsal key;
in production it is refused and logged (docs/election-night.md, Rehearsal).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ddsnode.clock import stamp
from ddsnode.elections.reporting import ResultsFeed
from ddsnode.publication import documents as docs
from ddsnode.publication.archive import Archive, Pointer, pointer_bytes
from ddsnode.publication.documents import ElectionFacts, Json, Key
from ddsnode.publication.generation import Generation, build_next, sha256
from ddsnode.publication.jws import b64url_decode
from ddsnode.publication.keyring import Keyring, RehearsalRefused
from ddsnode.publication.listing import Listing, expand
from ddsnode.publication.parts import PART_UNITS, FileInfo, Tables, read_snapshot

log = logging.getLogger("ddsnode.publication")
CHECK_SECONDS = 0.5  # how often the feed is asked; generations stay at most one per P


@dataclass
class _State:
    mark: int = 0
    tables: Tables | None = None  # the last generation's records, grouped as its files
    pending: dict[Key, Json | None] = field(default_factory=dict)  # None: withdrawn
    number: int = 0
    manifest_hash: str | None = None
    listing: dict[str, FileInfo] = field(default_factory=dict)  # path -> hash, size
    # When the last generation's build began. P is counted start to start: counted from
    # the end, every build's own time was added to P (a 1 s build and P = 2 s made one
    # generation every 3 s, and a tally that just missed a build waited for two of them).
    started_at: float = 0.0


class Publisher:
    """Turns a ResultsFeed into generations in an Archive, signed with a Keyring."""

    def __init__(self, feed: ResultsFeed, archive: Archive, keyring: Keyring, *, base: str,
                 interval: float, rehearsal: str = "",
                 facts: Callable[[str], ElectionFacts | None] | None = None,
                 on_publish: Callable[[str, Pointer], None] | None = None,
                 part_units: int = PART_UNITS) -> None:
        self.feed = feed
        self.archive = archive
        self.keyring = keyring
        self.base = base
        self.interval = interval
        self.rehearsal = {s.strip().strip("/") for s in rehearsal.split(",") if s.strip()}
        self.facts = facts
        self.on_publish = on_publish
        self.part_units = part_units
        self._states: dict[str, _State] = {}
        self._refused: set[str] = set()
        # One thread: generations of one node are built one at a time, and close()
        # waits for the one being written (the store must outlive its readers).
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="publication")

    def election_path(self, election: str) -> str:
        """The election's path on the node (``elections/municipal-2026``)."""
        if not election.startswith(self.base):
            raise ValueError(f"{election} is not on this node ({self.base})")
        return election[len(self.base):].split("#", 1)[0]

    def is_rehearsal(self, election: str) -> bool:
        """Whether ``election`` is marked as a test (setting ``publication_rehearsal``)."""
        return "*" in self.rehearsal or self.election_path(election) in self.rehearsal

    def _state(self, election: str) -> _State:
        state = self._states.get(election)
        if state is None:
            state = _State(tables=Tables(election, self.part_units))
            pointer = self.archive.pointer(self.election_path(election))
            if pointer is not None:
                path = self.election_path(election)
                jws = self.archive.read(path, pointer.manifest)
                state.number = pointer.generation
                state.manifest_hash = manifest_hash(jws)
                records = read_snapshot(
                    lambda p: self.archive.read(path, f"g/{pointer.generation}/{p}"))
                # What the last generation lists (v1 or v2): after a restart every file is
                # built again, and those with the same bytes are linked, not rewritten.
                state.listing = {p: ln.info for p, ln in expand(
                    Listing.of(json.loads(b64url_decode(jws.split(b".")[1].decode()))),
                    lambda p: self.archive.read(path, f"g/{pointer.generation}/{p}")).items()}
                assert state.tables is not None
                state.tables.apply({docs.key_of(r): r for r in records})
            self._states[election] = state
        return state

    def publish_once(self, *, force: bool = False) -> list[Generation]:
        """Ask the feed; build a generation for each election whose results changed and
        whose last generation is at least ``interval`` old (``force``: whatever its age)."""
        built = []
        for election in self.feed.elections():
            try:
                generation = self._tick(election, force)
            except RehearsalRefused as refused:
                if election not in self._refused:  # once, not at every tick of the night
                    log.error("%s: not published: %s", election, refused)
                    self._refused.add(election)
                continue
            if generation is not None:
                built.append(generation)
        return built

    def _tick(self, election: str, force: bool) -> Generation | None:
        state = self._state(election)
        started = time.monotonic()
        if not force and started - state.started_at < self.interval:
            return None  # the feed is asked when a generation may follow: at most every P
        mark, changed = self.feed.results(election, since=state.mark)
        state.mark = mark
        tables = state.tables
        assert tables is not None
        for r in changed:
            state.pending[(r.contest, r.unit)] = None if r.withdrawn else docs.record(r)
        # Only what differs from the last generation counts (a result back as it was, or
        # a withdrawal of what was never published, makes no generation).
        state.pending = {k: v for k, v in state.pending.items() if tables.records.get(k) != v}
        if not state.pending and state.number > 0:
            return None
        key = self.keyring.for_election(self.is_rehearsal(election))
        number = state.number + 1
        generated = stamp()
        path = self.election_path(election)
        begun = time.monotonic()
        try:
            generation = build_next(tables, number, state.manifest_hash, state.pending,
                                    key=key, generated=generated,
                                    facts=self.facts(election) if self.facts else None,
                                    last=state.listing)
            built = time.monotonic()
            raw = pointer_bytes(election, number, sha256(generation.jws), generated)
            listing = generation.listing or {}
            written = self.archive.write_generation(
                path, number, generation.files, generation.jws, raw,
                link_from=state.number or None,
                unchanged={p: listing[p][0] for p in generation.reused})
        except BaseException:
            # The tables already hold the changes: start again from the archive (and the
            # feed from mark 0), or the next diff would miss them.
            del self._states[election]
            raise
        state.pending = {}
        state.listing = dict(generation.listing or {})
        state.number = number
        state.manifest_hash = generation.manifest_hash
        state.started_at = started
        # The figures in ``extra`` are for benchmarks (bench/intake_latency.py).
        stats = {"build_seconds": built - begun,
                 "write_seconds": time.monotonic() - built, "files": written.files,
                 "objects_written": written.objects, "bytes_written": written.bytes,
                 "adopted": written.adopted}
        log.info("%s: generation %d (%d results changed; %d of its %d files written, "
                 "%.2f s to build, %.2f s to write)", election, number,
                 len(generation.changed), written.objects, written.files,
                 stats["build_seconds"], stats["write_seconds"],
                 extra={"generation_stats": stats})
        if self.on_publish is not None:
            self.on_publish(path, Pointer.parse(raw))
        return generation

    async def run(self) -> None:
        """Publish forever (until cancelled), off the event loop."""
        while True:
            try:
                await asyncio.get_running_loop().run_in_executor(self._thread,
                                                                 self.publish_once)
            except Exception:  # a bad generation must not stop election night: log, go on
                log.exception("publication failed; trying again")
            await asyncio.sleep(min(CHECK_SECONDS, self.interval))


    async def close(self) -> None:
        """Wait for a generation being built (after the loop was cancelled)."""
        await asyncio.to_thread(self._thread.shutdown, True)


def manifest_hash(jws: bytes) -> str:
    """SHA-256 of a manifest JWS's payload: what the next ``previous`` holds."""
    return hashlib.sha256(b64url_decode(jws.split(b".")[1].decode("ascii"))).hexdigest()

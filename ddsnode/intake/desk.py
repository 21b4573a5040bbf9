"""The intake desk: where a station's tally is checked, logged, written and counted.

A submission (:meth:`Desk.submit`) goes through, in this order:

1. parsing and the contest's facts (:mod:`.reading`: the station votes in the contest,
   the selections are the contest's, the numbers are plausible);
2. one decision at a time per station and per key (:meth:`Desk._decide`), the
   idempotency key first: the same key with the same body answers what the first
   answer was (nothing is counted twice); with another body, 422;
3. the decision: a first tally is counted (or, with double entry, waits for a second,
   independent entry — another token — with the same numbers); a tally that repeats the
   counted one changes nothing; a different one is refused (409) unless it is a
   correction (``Correction-Reason``, scope ``review``), which revises the counted event;
4. the ``ContestResult`` is written through :meth:`ddsnode.ldp.node.Node.write_document`
   — the shapes and the plausibility write hook judge it like any write — as a new
   resource per sequence (a correction never overwrites);
5. the event is appended to the log (:mod:`.log`; concurrent events share one commit),
   and folded into the state.

The state (counted tallies, pending entries, keys, :class:`.totals.Totals`) is a fold
over the log: rebuilt from it at startup — in the background when the server starts
(:meth:`Desk.start`, :mod:`.opening`: until then a request gets 503 at once), on first
use for a command — and caught up with what other processes appended before every
decision. Station results already in the store (an import) seed it. Every refusal
after authentication is logged too (401/403 are not: anyone could fill the log with
them); one a supervisor may act on keeps its tally, for :meth:`Desk.review`.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from ddsnode import clock
from ddsnode.elections.reporting import ResultsFeed, UnitResult
from ddsnode.intake import refusals as no
from ddsnode.intake.commit import GroupCommit, Job
from ddsnode.intake.decision import Station, plan
from ddsnode.intake.evidence import EvidenceStore
from ddsnode.intake.feed import NightFeed
from ddsnode.intake.geography import Geography, load_geography
from ddsnode.intake.log import ACCEPTED, REFUSED, Event
from ddsnode.intake.opening import Opening
from ddsnode.intake.reading import read_tally, readable_tally
from ddsnode.intake.review import Review, gather, waiting
from ddsnode.intake.seed import stored_result, stored_tallies
from ddsnode.intake.shared_log import AnyAppender, append_all, open_log
from ddsnode.intake.submission import Answer, KeyReused, Submission, answer_of
from ddsnode.intake.tally import Tally
from ddsnode.intake.totals import CORRECTION, COUNTED, Totals
from ddsnode.ldp.node import Node
from ddsnode.problem import PreconditionFailed, Problem

__all__ = ["Answer", "Desk", "Submission"]  # the last two from .submission

GEOGRAPHY_RECHECK = 5.0  # seconds, for stores that cannot tell when places/ changed


class Desk:
    """The intake of one node: submissions in, the log, the running totals."""

    def __init__(self, node: Node) -> None:
        s = node.settings
        if s.node_dir is None:
            raise ValueError("the intake needs a node directory (its log lives there)")
        self.node = node
        self.log = open_log(s, node.store)  # DIR/intake.db, or shared on PostgreSQL
        self.evidence = EvidenceStore(s.node_dir, int(s.intake_evidence_max_bytes))
        # Elections under double entry: "*" or their paths on the node (setting)
        self.double_entry = {p.strip().strip("/") for p in str(s.intake_double_entry).split(",")
                             if p.strip()}
        self._lock = threading.RLock()
        self._stamp: tuple[int | None, int | None] = (None, None)
        self._checked = 0.0
        self.totals = Totals(Geography({}, {}))
        self._started = False
        self.opening: Opening | None = None  # the start in the background (start())
        self._applied = 0
        self._current: dict[tuple[str, str], tuple[int, int, str]] = {}  # event, seq, IRI
        self._pending: dict[tuple[str, str], list[tuple[str, str, int]]] = defaultdict(list)
        self._keys: dict[tuple[str, str], tuple[str, Event]] = {}
        self._disputes: dict[tuple[str, str], list[int]] = defaultdict(list)  # refused, kept
        self._fed: set[str] = set()  # contests with a tally counted through the intake
        self._inflight: dict[tuple[str, str], threading.Event] = {}  # station or key: busy
        self._append = GroupCommit(self._commit).append  # one fsync for concurrent events

    def _reset(self) -> None:
        """Forget the state (a log commit failed): the next use rebuilds it from the log."""
        self._started, self._applied = False, 0
        self.totals = Totals(Geography({}, {}))
        for state in (self._current, self._pending, self._keys, self._fed, self._disputes):
            state.clear()

    def start(self) -> None:
        """Read the geography, replay the log and seed the totals in a background thread
        (the server, ``Assembly.start``): requests meanwhile get 503 at once."""
        if self.opening is None:
            self.opening = Opening(self._start)
        self.opening.begin()

    def _ready(self) -> None:
        """For a request: 503 while the background start runs; without one (a command
        using the desk directly), the start now, once."""
        if self.opening is not None:
            self.opening.check()
        self._start()  # a no-op once started; a rebuild after a failed log commit

    def wait_ready(self) -> None:
        """For background loops (the publisher): block until the desk has started."""
        if self.opening is not None:
            self.opening.wait()
        self._start()

    def _start(self) -> None:
        """Read the geography, replay the log, seed from stored station results."""
        if self._started:  # set last, under the lock: read without it on every request
            return
        with self._lock:
            if self._started:
                return
            checkpoint = self.opening.checkpoint if self.opening else lambda: None
            try:
                self._stamp, self._checked = self._places_stamp(), time.monotonic()
                self.totals.rebase(load_geography(self.node.store, self.node.base,
                                                  checkpoint))
                self._catch_up(checkpoint=checkpoint)
                self._seed(checkpoint)
            except BaseException:
                self._reset()
                raise
            self._started = True

    def stop(self) -> None:
        """Stop a background start still running (before the store and log close)."""
        if self.opening is not None:
            self.opening.stop()

    def close(self) -> None:
        """Stop the background start, close the log."""
        self.stop()
        self.log.close()

    # --- the state: a fold over the log -------------------------------------------

    def _fold(self, event: Event) -> None:
        d = event.details
        if event.disposition == ACCEPTED and "tally" in d:
            tally = Tally.from_json(d["tally"])
            key = (tally.contest, tally.unit)
            if event.kind in ("tally-counted", "tally-correction"):
                self._fed.add(tally.contest)
                self.totals.apply(tally, CORRECTION if event.kind == "tally-correction"
                                  else COUNTED, event.time)
                self._current[key] = (event.seq, int(d["sequence"]), str(d["result"]))
                self._pending.pop(key, None)
                self._disputes.pop(key, None)  # refused before this count: settled by it
            elif event.kind in ("tally-entry", "double-entry-mismatch"):
                self._pending[key].append((event.subject, tally.fingerprint(), event.seq))
        elif event.disposition == REFUSED and "tally" in d:
            self._disputes[(d["tally"]["contest"], d["tally"]["unit"])].append(event.seq)
        if event.disposition == ACCEPTED and d.get("key"):
            self._keys[(event.subject, str(d["key"]))] = (str(d.get("bodySha256")), event)
        self._applied = max(self._applied, event.seq)

    def _catch_up(self, appender: AnyAppender | None = None, *,
                  checkpoint: Callable[[], None] = lambda: None) -> None:
        """Fold what was appended since (by this process or another)."""
        while True:
            checkpoint()
            events = appender.after(self._applied) if appender else \
                self.log.page(self._applied, 10_000)
            for event in events:
                self._fold(event)
            if appender is not None or len(events) < 10_000:
                return

    def _seed(self, checkpoint: Callable[[], None]) -> None:
        """Station results already in the store (an import) count as the stations'
        current tallies, unless the log already has one for them (:mod:`.seed`)."""
        logged = {iri for _, _, iri in self._current.values()}
        found = stored_tallies(self.node.store, self.node.base, self.totals.geography,
                               self._current, logged, checkpoint)
        for key, st in found.items():
            self.totals.apply(st.tally, CORRECTION if st.correction else COUNTED, clock.stamp())
            self._current[key] = (0, st.sequence, st.iri)

    def _places_stamp(self) -> tuple[int | None, int | None]:
        store, base = self.node.store, self.node.base
        return store.container_stamp(base + "places/"), store.container_stamp(base + "elections/")

    def geography(self) -> Geography:
        """The geography, read again when places or elections changed since (the stamps
        are read outside the lock: a tally waits for no one unless something changed)."""
        stamp = self._places_stamp()
        if stamp == self._stamp and (None not in stamp or time.monotonic() - self._checked
                                     <= GEOGRAPHY_RECHECK):
            return self.totals.geography
        with self._lock:
            if stamp != self._stamp or None in stamp:
                checked = time.monotonic()
                self.totals.rebase(load_geography(self.node.store, self.node.base))
                self._stamp, self._checked = stamp, checked  # last: others read it unlocked
            return self.totals.geography

    # --- the feed (elections.reporting.ResultsFeed) ----------------------------------

    def elections(self) -> list[str]:
        """Elections with contests on this node (as places and elections are now)."""
        self._ready()
        return sorted(self.geography().elections)

    def results(self, election: str, since: int = 0) -> tuple[int, list[UnitResult]]:
        """What changed since ``since``, after folding what other processes logged."""
        self._ready()
        with self._lock:
            self.geography()
            self._catch_up()
        return self.totals.results(election, since)

    def fed_contests(self) -> frozenset[str]:
        """Contests with at least one tally counted through the intake (not only seeded)."""
        self._ready()
        with self._lock:
            self._catch_up()
            return frozenset(self._fed)

    def contests_of(self, election: str) -> frozenset[str]:
        """The contests of ``election`` the geography knows."""
        self._ready()
        return frozenset(self.geography().elections.get(election, []))

    def night_feed(self, stored: ResultsFeed) -> NightFeed:
        """The feed election night publishes: these totals where tallies come in, ``stored``
        elsewhere (:mod:`.feed`)."""
        return NightFeed(self, stored)

    # --- submissions ---------------------------------------------------------------

    def submit(self, sub: Submission) -> Answer:
        """Take one tally (see the module's docstring); a Problem when refused."""
        self._ready()  # 503 while starting: not logged, the key stays free
        digest = hashlib.sha256(sub.body).hexdigest()
        tally: Tally | None = None
        try:
            if not sub.key or len(sub.key) > no.MAX_KEY or not sub.key.isascii() or \
                    not sub.key.isprintable():
                raise no.KeyMissing(f"An Idempotency-Key header is required: 1 to {no.MAX_KEY} "
                                 "printable ASCII characters, new for each tally")
            if len(sub.reason) > no.MAX_REASON:
                raise no.ReasonTooLong(f"A correction's reason is at most {no.MAX_REASON} "
                                       "characters")
            if sub.reason and not {"review", "admin"} & sub.scopes:
                raise no.NeedsReview("A correction needs a token with scope 'review'")
            if sub.evidence and not self.evidence.has(sub.evidence):
                raise no.EvidenceMissing(f"No evidence with SHA-256 {sub.evidence[:64]} is "
                                         "stored: upload it first (POST /intake/evidence)")
            tally = read_tally(sub, self.geography(), self.node.base,
                               self.node.jsonld_limits)  # parsing and checks in parallel
            return self._decide(sub, tally, digest)
        except Problem as problem:
            if not isinstance(problem, _Logged):
                if isinstance(problem, no.NeedsReview):  # kept for a supervisor, if readable
                    tally = readable_tally(sub, self.geography(), self.node.base,
                                           self.node.jsonld_limits)
                self._append("tally-refused", REFUSED, no.details(sub, digest, problem, tally),
                             sub.subject)
            raise problem.inner if isinstance(problem, _Logged) else problem from None

    def _decide(self, sub: Submission, tally: Tally, digest: str) -> Answer:
        """Decide under the lock, write outside it (the store group-commits concurrent
        writes), log after; one decision at a time per station and per key."""
        station, mine = (tally.contest, tally.unit), (sub.subject, sub.key)
        while True:
            with self._lock:
                busy = self._inflight.get(station) or self._inflight.get(mine)
                if busy is None:
                    self._catch_up()
                    known = self._keys.get(mine)
                    if known is not None and known[0] == digest:
                        replay = answer_of(known[1])
                        return Answer(replay.status, replay.body, replayed=True)
                    if known is not None:
                        raise KeyReused(f"Idempotency-Key {sub.key[:80]!r} was used for "
                                        f"another body (event {known[1].seq})")
                    kind, details = plan(sub, tally, digest, self._station(tally))
                    done = self._inflight[station] = self._inflight[mine] = threading.Event()
                    break
            busy.wait()
        try:
            if kind in ("tally-counted", "tally-correction"):
                self._write(tally, details, sub.evidence)
        except Problem as problem:
            self._append("tally-refused", REFUSED, no.details(sub, digest, problem, tally),
                         sub.subject)
            raise _Logged(problem) from None
        else:
            event = self._append(kind, ACCEPTED, details, sub.subject)
        finally:
            with self._lock:
                self._inflight.pop(station, None)
                self._inflight.pop(mine, None)
            done.set()
        return answer_of(event)

    def _station(self, tally: Tally) -> Station:
        key = (tally.contest, tally.unit)
        contest = self.totals.geography.contests.get(tally.contest)  # gone since _read: ""
        election = contest.election if contest is not None else ""
        return Station(self._current.get(key), self.totals.counted(*key),
                       tuple(self._pending.get(key, ())),
                       "*" in self.double_entry or
                       election.removeprefix(self.node.base) in self.double_entry)

    def _commit(self, jobs: list[Job]) -> list[Event]:
        """Append a batch of events in one log transaction (:mod:`.commit`): others'
        events folded first, ours once committed. The desk's lock is not held over the
        fsync (every decision waited for it); a decision's catch-up may fold our
        committed events first: they are not folded twice (their stations and keys are
        still in flight, so nothing was decided about them meanwhile)."""

        def before(appender: AnyAppender) -> None:
            with self._lock:
                self._catch_up(appender)

        try:
            events = append_all(self.log, before, [list(j) for j in jobs])
            with self._lock:
                for event in events:
                    if event.seq > self._applied:
                        self._fold(event)
            return events
        except BaseException:  # not committed: the state is rebuilt from the log
            with self._lock:
                self._reset()
            raise

    def _write(self, tally: Tally, details: dict[str, Any], evidence: str) -> None:
        """The ContestResult, through the node's write path (shapes, write hooks)."""
        def last(iri: str) -> str:
            return iri.rstrip("/").rsplit("/", 1)[-1].replace("#", "-")[:80]

        sequence = int(details["sequence"])
        iri = (f"{self.node.base}results/{last(tally.contest)}-{last(tally.unit)}"
               f"-seq-{sequence}")
        link = (f"{self.node.base}intake/evidence?sha256={evidence}", evidence) \
            if evidence else None
        # a settled mismatch has a reason but revises nothing: a first count
        status = "correction" if "revises" in details else "unofficialComplete"
        doc = tally.document(iri, sequence, status, clock.stamp(), link)
        try:
            # (in the bundled context: parsed with it cut to the result's terms)
            self.node.write_document(iri, json.dumps(doc).encode("utf-8"),
                                     "application/ld+json", create_only=True)
        except PreconditionFailed:
            # Written before its event could be logged (the log's disk failed, say): the
            # same numbers are that write, finished now; others are a conflict.
            there = stored_result(self.node.store, iri)
            if there is None or there.tally.fingerprint() != tally.fingerprint():
                raise no.WrittenOtherwise(f"{iri} exists with other numbers") from None
        details["result"] = iri

    def review(self, limit: int) -> Review:
        """What a supervisor settles, at most ``limit`` items (:mod:`.review`)."""
        self._ready()
        with self._lock:
            self._catch_up()
            found = waiting(self._pending, self._disputes, self._current, self.totals.counted)
        return gather(self.log.page, *found, limit)

    # --- evidence --------------------------------------------------------------------

    def store_evidence(self, data: bytes, media_type: str, subject: str) -> Answer:
        """Store a tally sheet; logged like a tally (accepted or refused)."""
        self._ready()
        try:
            digest, found, new = self.evidence.put(data, media_type)
        except Problem as problem:
            self._append("evidence-refused", REFUSED, {
                "status": problem.status, "detail": problem.detail[:1000], "bytes": len(data)},
                subject)
            raise
        event = self._append("evidence-stored", ACCEPTED, {
            "sha256": digest, "mediaType": found, "bytes": len(data), "new": new}, subject)
        return Answer(201 if new else 200, {
            "sha256": digest, "mediaType": found, "event": event.seq,
            "url": f"{self.node.base}intake/evidence?sha256={digest}"})


class _Logged(Problem):
    """A refusal already in the log (raised out of the log's transaction, unwrapped)."""

    def __init__(self, inner: Problem) -> None:
        super().__init__(inner.detail)
        self.inner = inner

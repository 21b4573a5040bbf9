"""The intake desk: where a station's tally is checked, logged, written and counted.

A submission (:meth:`Desk.submit`) goes through, in this order:

1. parsing (:mod:`.tally`) and the contest's facts (:mod:`.geography`): the station must
   vote in the contest, every selection must be one of the contest's, and the numbers
   must be plausible (:func:`ddsnode.elections.plausibility.check_result`, with the
   contest's votes allowed, which the write hook alone does not know);
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
over the log: rebuilt from it at startup, and caught up with what other processes
appended before every decision. Station results already in the store (an import) seed
it. Every refusal after authentication is logged too (401/403 are not: anyone could
fill the log with them).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import defaultdict
from typing import Any

from ddsnode import clock
from ddsnode.elections.hook import ImplausibleResult
from ddsnode.elections.plausibility import ERROR, check_result
from ddsnode.elections.reporting import ResultsFeed, UnitResult
from ddsnode.intake import tally as tallies
from ddsnode.intake.decision import Station, plan
from ddsnode.intake.evidence import EvidenceStore
from ddsnode.intake.feed import NightFeed
from ddsnode.intake.geography import Geography, load_geography
from ddsnode.intake.log import ACCEPTED, REFUSED, Event
from ddsnode.intake.seed import stored_result, stored_tallies
from ddsnode.intake.shared_log import AnyAppender, append_all, open_log
from ddsnode.intake.submission import Answer, KeyReused, Submission, answer_of
from ddsnode.intake.tally import BadTally, Tally
from ddsnode.intake.totals import CORRECTION, COUNTED, Totals
from ddsnode.ldp.node import Node
from ddsnode.problem import (
    BadRequest,
    Conflict,
    Forbidden,
    PreconditionFailed,
    Problem,
    Unprocessable,
    UnsupportedMediaType,
)

__all__ = ["Answer", "Desk", "Submission"]  # the last two from .submission

MAX_KEY = 255  # Idempotency-Key (draft-ietf-httpapi-idempotency-key-header): an opaque id
MAX_REASON = 2000  # characters of a correction's reason
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
        self._applied = 0
        self._current: dict[tuple[str, str], tuple[int, int, str]] = {}  # event, seq, IRI
        self._pending: dict[tuple[str, str], list[tuple[str, str, int]]] = defaultdict(list)
        self._keys: dict[tuple[str, str], tuple[str, Event]] = {}
        self._fed: set[str] = set()  # contests with a tally counted through the intake
        self._inflight: dict[tuple[str, str], threading.Event] = {}  # station or key: busy
        self._cv = threading.Condition()  # the group commit of events (_append)
        self._queue: list[list[Any]] = []
        self._leading = False

    def _reset(self) -> None:
        """Forget the state (a log commit failed): the next use rebuilds it from the log."""
        self._started, self._applied = False, 0
        self.totals = Totals(Geography({}, {}))
        for state in (self._current, self._pending, self._keys, self._fed):
            state.clear()

    def _start(self) -> None:
        """On first use (commands that assemble a node never pay for it): read the
        geography, replay the log, seed from stored station results."""
        with self._lock:
            if self._started:
                return
            self._started = True
            self._stamp, self._checked = self._places_stamp(), time.monotonic()
            self.totals.rebase(load_geography(self.node.store, self.node.base))
            self._catch_up()
            self._seed()

    def close(self) -> None:
        """Close the log."""
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
            elif event.kind in ("tally-entry", "double-entry-mismatch"):
                self._pending[key].append((event.subject, tally.fingerprint(), event.seq))
        if event.disposition == ACCEPTED and d.get("key"):
            self._keys[(event.subject, str(d["key"]))] = (str(d.get("bodySha256")), event)
        self._applied = max(self._applied, event.seq)

    def _catch_up(self, appender: AnyAppender | None = None) -> None:
        """Fold what was appended since (by this process or another)."""
        while True:
            events = appender.after(self._applied) if appender else \
                self.log.page(self._applied, 10_000)
            for event in events:
                self._fold(event)
            if appender is not None or len(events) < 10_000:
                return

    def _seed(self) -> None:
        """Station results already in the store (an import) count as the stations'
        current tallies, unless the log already has one for them (:mod:`.seed`)."""
        found = stored_tallies(self.node.store, self.node.base, self.totals.geography,
                               self._current)
        for key, st in found.items():
            self.totals.apply(st.tally, CORRECTION if st.correction else COUNTED, clock.stamp())
            self._current[key] = (0, st.sequence, st.iri)

    def _places_stamp(self) -> tuple[int | None, int | None]:
        store, base = self.node.store, self.node.base
        return store.container_stamp(base + "places/"), store.container_stamp(base + "elections/")

    def geography(self) -> Geography:
        """The geography, read again when places or elections changed since."""
        self._start()
        with self._lock:
            stamp = self._places_stamp()
            stale = stamp != self._stamp or (None in stamp and time.monotonic() - self._checked
                                             > GEOGRAPHY_RECHECK)
            if stale:
                self._stamp, self._checked = stamp, time.monotonic()
                self.totals.rebase(load_geography(self.node.store, self.node.base))
            return self.totals.geography

    # --- the feed (elections.reporting.ResultsFeed) ----------------------------------

    def elections(self) -> list[str]:
        """Elections with contests on this node."""
        self._start()
        return self.totals.elections()

    def results(self, election: str, since: int = 0) -> tuple[int, list[UnitResult]]:
        """What changed since ``since``, after folding what other processes logged."""
        with self._lock:
            self.geography()
            self._catch_up()
        return self.totals.results(election, since)

    def fed_contests(self) -> frozenset[str]:
        """Contests with at least one tally counted through the intake (not only seeded)."""
        self._start()
        with self._lock:
            self._catch_up()
            return frozenset(self._fed)

    def contests_of(self, election: str) -> frozenset[str]:
        """The contests of ``election`` the geography knows."""
        self._start()
        return frozenset(self.totals.geography.elections.get(election, []))

    def night_feed(self, stored: ResultsFeed) -> NightFeed:
        """The feed election night publishes: these totals where tallies come in, ``stored``
        elsewhere (:mod:`.feed`)."""
        return NightFeed(self, stored)

    # --- submissions ---------------------------------------------------------------

    def submit(self, sub: Submission) -> Answer:
        """Take one tally (see the module's docstring); a Problem when refused."""
        self._start()
        digest = hashlib.sha256(sub.body).hexdigest()
        try:
            if not sub.key or len(sub.key) > MAX_KEY or not sub.key.isascii() or \
                    not sub.key.isprintable():
                raise BadRequest(f"An Idempotency-Key header is required: 1 to {MAX_KEY} "
                                 "printable ASCII characters, new for each tally")
            if len(sub.reason) > MAX_REASON:
                raise BadRequest(f"A correction's reason is at most {MAX_REASON} characters")
            if sub.reason and not {"review", "admin"} & sub.scopes:
                raise Forbidden("A correction needs a token with scope 'review'")
            if sub.evidence and not self.evidence.has(sub.evidence):
                raise Unprocessable(f"No evidence with SHA-256 {sub.evidence[:64]} is stored: "
                                    "upload it first (POST /intake/evidence)")
            tally = self._read(sub)  # parsing and checks run in parallel
            return self._decide(sub, tally, digest)
        except Problem as problem:
            if not isinstance(problem, _Logged):
                self._refuse(sub, digest, problem)
            raise problem.inner if isinstance(problem, _Logged) else problem from None

    def _read(self, sub: Submission) -> Tally:
        geo = self.geography()
        media = sub.media_type.split(";", 1)[0].strip().lower()
        if media in ("application/ld+json", "application/json"):
            tally = tallies.from_jsonld(sub.body, self.node.base, self.node.jsonld_limits)
        elif media in ("application/xml", "text/xml", "application/eml+xml"):
            ident, votes = tallies.station_votes(sub.body)  # 400 first: DTDs, bad XML
            if sub.contest not in geo.contests:
                raise BadTally("An EML tally needs ?contest= the IRI of a contest on this "
                               "node")
            station = geo.station_by_identifier(sub.contest, ident)
            if station is None:
                raise BadTally(f"No polling station {ident[:80]!r} votes in {sub.contest}")
            tally = tallies.from_eml(votes, sub.contest, station)
        else:
            raise UnsupportedMediaType("A tally is application/ld+json (a ContestResult) or "
                                       "application/xml (an EML 510 fragment)")
        contest = geo.contests.get(tally.contest)
        if contest is None:
            raise BadTally(f"{tally.contest[:200]} is not a contest of an election on this node")
        if tally.unit not in geo.stations_of(tally.contest):
            raise BadTally(f"{tally.unit[:200]} is not a polling station of "
                           f"{tally.contest[:200]}")
        unknown = sorted({s for s, _, _ in tally.counts} - contest.selections)
        if unknown:
            raise BadTally(f"Not a selection of this contest: {', '.join(unknown)[:300]}")
        errors = [f for f in check_result(tally.figures(contest.votes_allowed))
                  if f.severity == ERROR]
        if errors:
            raise ImplausibleResult("; ".join(f.message for f in errors),
                                    extra={"findings": [f.to_json() for f in errors]})
        return tally

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
            self._append("tally-refused", REFUSED, self._refusal(sub, digest, problem),
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

    def _append(self, kind: str, disposition: str, details: dict[str, Any],
                subject: str) -> Event:
        """Log one event. Group commit: events from concurrent threads share one
        transaction (one fsync); the first to come commits for those queued behind it."""
        job: list[Any] = [kind, disposition, details, subject, None, None]  # event, error
        with self._cv:
            self._queue.append(job)
            while self._leading and job[4] is None and job[5] is None:
                self._cv.wait()
            lead = job[4] is None and job[5] is None
            if lead:
                self._leading, batch, self._queue = True, self._queue, []
        if lead:
            try:
                with self._lock:  # others' events folded first, ours once committed
                    events = append_all(self.log, self._catch_up, [j[:4] for j in batch])
                    for j, event in zip(batch, events):
                        self._fold(event)
                        j[4] = event
            except BaseException as e:  # not committed: the state is rebuilt from the log
                with self._lock:
                    self._reset()
                for j in batch:
                    j[5] = e
            finally:
                with self._cv:
                    self._leading = False
                    self._cv.notify_all()
        if job[5] is not None:
            raise job[5]
        logged: Event = job[4]
        return logged

    def _write(self, tally: Tally, details: dict[str, Any], evidence: str) -> None:
        """The ContestResult, through the node's write path (shapes, write hooks)."""
        def last(iri: str) -> str:
            return iri.rstrip("/").rsplit("/", 1)[-1].replace("#", "-")[:80]

        sequence = int(details["sequence"])
        iri = (f"{self.node.base}results/{last(tally.contest)}-{last(tally.unit)}"
               f"-seq-{sequence}")
        link = (f"{self.node.base}intake/evidence?sha256={evidence}", evidence) \
            if evidence else None
        status = "correction" if "reason" in details else "unofficialComplete"
        doc = tally.document(iri, sequence, status, clock.stamp(), link)
        try:
            self.node.write_document(iri, json.dumps(doc).encode("utf-8"),
                                     "application/ld+json", create_only=True)
        except PreconditionFailed:
            # Written before its event could be logged (the log's disk failed, say): the
            # same numbers are that write, finished now; others are a conflict.
            there = stored_result(self.node.store, iri)
            if there is None or there.tally.fingerprint() != tally.fingerprint():
                raise Conflict(f"{iri} exists with other numbers") from None
        details["result"] = iri

    def _refusal(self, sub: Submission, digest: str, problem: Problem) -> dict[str, Any]:
        return {"status": problem.status, "problem": problem.slug,
                "detail": problem.detail[:1000], "bodySha256": digest,
                "idempotencyKey": sub.key[:MAX_KEY]}

    def _refuse(self, sub: Submission, digest: str, problem: Problem) -> None:
        self._append("tally-refused", REFUSED, self._refusal(sub, digest, problem), sub.subject)

    # --- evidence --------------------------------------------------------------------

    def store_evidence(self, data: bytes, media_type: str, subject: str) -> Answer:
        """Store a tally sheet; logged like a tally (accepted or refused)."""
        self._start()
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

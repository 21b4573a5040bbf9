"""What the last run published, as the analysis state remembers it, checked against the
store only where someone else wrote since.

An incremental run on 100,000 contributions used to read each of its 217,000 outputs back
from the store: to know whether it was still there, and for each duplicate link its score
and a reviewer's verdict (12.7 s and more of a 60 s run: docs/analysis.md). The state now
keeps each link's fields, and the change-log position the run started at; at the next
run, only the outputs the change log shows written or deleted since (a reviewer's PUT, a
DELETE, the previous run's own writes) are read back. A backend without container stamps,
or a state without a position (made before this), reads every output back, as before.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

import pyoxigraph

from ddsnode.analysis.duplicates import Candidate
from ddsnode.analysis.state import State
from ddsnode.store.base import Store

REVIEW = "https://w3id.org/dds/review-status/"
DDS = "https://w3id.org/dds/ns#"
_PAGE = 1_000


@dataclass(frozen=True)
class StoredLink:
    """What a run needs of a published duplicate link."""

    pair: tuple[str, ...]  # the two contributions
    review: tuple[str, str | None] | None  # (status, reviewer) when a person reviewed it
    score: float | None
    method: str | None
    language: str = ""
    machine_translated: bool = False

    def fields(self) -> list[Any]:
        """Its fields as the state keeps them (see :func:`fields`)."""
        status, reviewer = self.review if self.review is not None else ("candidate", None)
        a, b = (*self.pair, "", "")[:2]
        return [a, b, self.score, self.method, self.language, self.machine_translated,
                status, reviewer]


def fields(candidate: Candidate, review: tuple[str, str | None] | None) -> list[Any]:
    """A link's fields as the state keeps them (JSON: lists, not tuples)."""
    status, reviewer = review if review is not None else ("candidate", None)
    return [candidate.a, candidate.b, candidate.score, candidate.method, candidate.language,
            candidate.machine_translated, status, reviewer]


def _from_fields(kept: list[Any]) -> StoredLink:
    a, b, score, method, language, machine, status, reviewer = kept
    review = (status, reviewer) if status in ("confirmed", "rejected") else None
    return StoredLink((a, b), review, score, method, language, machine)


def changed(store: Store, containers: Collection[str], after: int,
            upto: int | None = None) -> set[str]:
    """The members of ``containers`` the change log shows written or deleted after
    ``after`` (up to ``upto``)."""
    found: set[str] = set()
    while page := store.changes(after=after, limit=_PAGE):
        found.update(c.iri for c in page if c.container in containers
                     and (upto is None or c.seq <= upto))
        after = page[-1].seq
        if upto is not None and after >= upto:
            break
    return found


def position(store: Store, containers: Iterable[str]) -> int:
    """A change-log position no later than now (the latest change to ``containers``), or 0
    when the backend keeps no container stamps."""
    stamps = [store.container_stamp(c) for c in containers]
    return 0 if any(s is None for s in stamps) else max(s or 0 for s in stamps)


class Published:
    """The outputs of the last run: from the state, or from the store for those written
    or deleted by anyone since the state's position."""

    def __init__(self, store: Store, state: State, container: str) -> None:
        self.store = store
        self.state = state
        # None: every output is read back (no position to start from)
        self.touched: set[str] | None = None
        if state.position > 0:
            self.touched = set(state.pending) | changed(store, {container}, state.position)

    def _from_store(self, iri: str) -> bool:
        return self.touched is None or iri in self.touched

    def live(self, iri: str) -> bool:
        """Whether ``iri`` is a live output in the store."""
        if self._from_store(iri):
            current = self.store.get(iri)
            return current is not None and current.kind != "tombstone"
        return iri in self.state.outputs

    def unchanged(self, iri: str) -> bool:
        """Whether ``iri`` is stored as the state says the last run left it."""
        return not self._from_store(iri) and iri in self.state.outputs

    def link(self, iri: str) -> StoredLink | None:
        """The published duplicate link ``iri``, or None."""
        if not self._from_store(iri):
            kept = self.state.links.get(iri)
            return _from_fields(kept) if kept is not None and iri in self.state.outputs \
                else None
        return stored_link(self.store, iri)


def stored_link(store: Store, iri: str) -> StoredLink | None:
    """The duplicate link ``iri`` as stored, or None."""
    current = store.get(iri)
    if current is None or current.kind != "rdf":
        return None
    status, reviewer, score, method, language, machine = None, None, None, None, "", False
    pair: list[str] = []
    for t in pyoxigraph.parse(current.ntriples.encode(), pyoxigraph.RdfFormat.N_TRIPLES):
        if t.subject.value != iri:
            continue
        if t.predicate.value == DDS + "reviewStatus":
            status = t.object.value.removeprefix(REVIEW)
        elif t.predicate.value == DDS + "reviewedBy":
            reviewer = t.object.value
        elif t.predicate.value == DDS + "similarityScore":
            score = float(t.object.value)
        elif t.predicate.value == DDS + "method":
            method = t.object.value
        elif t.predicate.value == DDS + "linksContribution":
            pair.append(t.object.value)
        elif t.predicate.value == DDS + "comparedLanguage":
            language = t.object.value
        elif t.predicate.value == DDS + "viaMachineTranslation":
            machine = t.object.value == "true"
    review = (status, reviewer) if status in ("confirmed", "rejected") else None
    return StoredLink(tuple(sorted(pair)), review, score, method, language, machine)

"""``StoredResults``: a ResultsFeed over the election results already in the node's store.

Imported NIST, EML and OpenElections results and results written over HTTP are
ContestResults in ``results/``; :func:`ddsnode.elections.loading.node_model` reads an
election with them, and the current publication (highest ``sequence``) of each contest
and unit becomes a :class:`UnitResult`. Reading the store is not free, so it happens only
after the store changed, or on the first call. The
intake's running totals implement the same protocol for election night proper.

When to read again: after the store's change log moved (``store.changes``), which sees
every write, delete and tombstone, by this process or another. A write hook alone would
not do: it runs when a write is accepted, before it is committed, so a read right then
could miss it.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from ddsnode.clock import stamp
from ddsnode.elections.loading import node_model
from ddsnode.elections.model import ElectionModel, Unit, current
from ddsnode.elections.reporting import UnitResult
from ddsnode.ldp.access import needs_token
from ddsnode.ldp.node import Node
from ddsnode.publication.documents import ElectionFacts

ELECTION_TYPE = "<https://w3id.org/dds/ns#Election>"
UNCOUNTED = ("preElection", "unofficialPartial", "pre-election", "unofficial-partial")


def _leaves(units: dict[str, Unit], iri: str) -> list[str]:
    """The lowest units under ``iri`` (itself when it has none), at most 1,000,000."""
    out: list[str] = []
    todo, seen = [iri], set[str]()
    while todo and len(seen) < 1_000_000:
        unit = todo.pop()
        if unit in seen:
            continue  # a cycle in partOfUnit/composingUnit: count each unit once
        seen.add(unit)
        children = units[unit].children if unit in units else []
        if children:
            todo.extend(children)
        else:
            out.append(unit)
    return out


def unit_results(model: ElectionModel) -> list[UnitResult]:
    """The current result of every contest and unit of ``model`` as UnitResults."""
    latest = current(model.results)
    out = []
    for (contest, unit_iri), r in sorted(latest.items()):
        unit = model.units.get(unit_iri)
        leaves = _leaves(model.units, unit_iri)
        reported = sum(1 for leaf in leaves if (contest, leaf) in latest)
        if reported == 0 and (r.status or "") not in UNCOUNTED:
            reported = len(leaves)  # a unit's own final figures stand for its stations
        counts = tuple(sorted(r.figures.totals().items()))
        out.append(UnitResult(model.iri, contest, unit_iri, unit.kind if unit else "other",
                              counts, r.figures.cast, r.figures.blank, r.figures.invalid,
                              r.figures.registered, reported, len(leaves),
                              r.status or "preElection", r.reported or model.end or stamp()))
    return out


class StoredResults:
    """A ResultsFeed over the elections of a node's store (``publication_elections``)."""

    def __init__(self, node: Node, selected: str) -> None:
        self.node = node
        self.selected = [s.strip().strip("/") for s in selected.split(",") if s.strip()]
        self._seqs: dict[str, int] = {}  # election -> the change log's seq when last read
        self._lock = threading.Lock()
        self._mark = 0
        self._seen: dict[str, dict[tuple[str, str], tuple[UnitResult, int]]] = {}
        self._facts: dict[str, ElectionFacts] = {}

    def elections(self) -> list[str]:
        """The selected elections found in ``elections/`` (public containers only)."""
        base = self.node.base
        out: list[str] = []
        cursor: str | None = None
        while True:
            page = self.node.store.children(base + "elections/", after=cursor, limit=500)
            for child in page.items:
                path = child.iri[len(base):]
                if child.kind != "rdf" or ("*" not in self.selected and
                                           path not in self.selected):
                    continue
                if needs_token(self.node.containers.get(path)):
                    continue  # a private election is not published (docs/security.md)
                stored = self.node.store.get(child.iri)
                if stored is not None and ELECTION_TYPE in stored.ntriples:
                    out.append(child.iri)
            if not page.next:
                return out
            cursor = page.next

    def facts(self, election: str) -> ElectionFacts | None:
        """The election's name and dates, as last read."""
        return self._facts.get(election)

    def results(self, election: str, since: int = 0) -> tuple[int, list[UnitResult]]:
        """The unit results of ``election`` changed after mark ``since``."""
        with self._lock:
            latest = self._latest_change(self._seqs.get(election, 0))
            if election not in self._seen or latest != self._seqs.get(election):
                # The seq is taken before reading: a write landing meanwhile moves it again.
                self._seqs[election] = latest
                self._refresh(election)
            seen = self._seen.get(election, {})
            # From 0 nothing was had, so nothing is withdrawn: a reader that knows nothing
            # of removals (since 0, every call) never sees one.
            return self._mark, [r for r, mark in seen.values()
                                if mark > since and not (since == 0 and r.withdrawn)]

    def _latest_change(self, after: int) -> int:
        """The seq of the store's latest change (``after`` when none is newer)."""
        while True:
            changes = self.node.store.changes(after=after, limit=1000)
            if not changes:
                return after
            after = changes[-1].seq

    def _refresh(self, election: str) -> None:
        try:
            model = node_model(self.node, election)
        except ValueError:
            self._seen[election] = {}
            return
        self._facts[election] = ElectionFacts(
            model.title.get("en") or next(iter(model.title.values()), model.ident),
            model.start, model.end)
        before = self._seen.get(election, {})
        now = {(r.contest, r.unit): r for r in unit_results(model)}
        # A result deleted from the store stays here as withdrawn (with the mark of its
        # removal), so that a publisher asking from an earlier mark drops it.
        for k in set(before) - set(now):
            old = before[k][0]
            now[k] = old if old.withdrawn else replace(old, withdrawn=True)
        changed = {k for k, r in now.items() if k not in before or before[k][0] != r}
        if changed:
            self._mark += 1
        self._seen[election] = {k: (r, self._mark if k in changed else before[k][1])
                                for k, r in now.items()}

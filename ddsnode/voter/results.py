"""Results at my polling station and every level above it, from a ``ResultsFeed``.

Until the publication package serves signed generations, the feed is
:class:`StoreResults`: the results in the node's store, read back with the election model
(:func:`ddsnode.elections.loading.node_model`) once per change of the ``results/`` and
``elections/`` containers, never per request. Any other :class:`ResultsFeed` (the
intake's running totals, a published generation) can be handed to :func:`results_at`
instead: it only reads :class:`UnitResult` s.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from ddsnode.elections.loading import node_model
from ddsnode.elections.model import ElectionModel, current
from ddsnode.elections.reporting import ResultsFeed, UnitResult
from ddsnode.ldp.node import Node

WATCHED = ("elections/", "results/")
STATUS_WORDS = {"unofficialPartial": "unofficial-partial",
                "unofficialComplete": "unofficial-complete", "certified": "certified",
                "recount": "recount", "correction": "correction",
                "preElection": "pre-election"}


def _stations_below(model: ElectionModel, unit: str) -> list[str]:
    """The polling places at or below ``unit`` (a unit with no sub-units counts as one)."""
    out, todo, seen = [], [unit], set()
    while todo:
        iri = todo.pop()
        if iri in seen or iri not in model.units:
            continue
        seen.add(iri)
        children = model.units[iri].children
        if not children:
            out.append(iri)
        todo += children
    return out


def unit_results(model: ElectionModel) -> list[UnitResult]:
    """Every current (highest-sequence) result of ``model`` as UnitResults."""
    latest = current(model.results)
    reported = {key for key in latest}
    out = []
    for (contest, unit), r in sorted(latest.items()):
        below = _stations_below(model, unit) or [unit]
        done = sum(1 for s in below if (contest, s) in reported)
        kind = model.units[unit].kind if unit in model.units else "other"
        counts = tuple(sorted(r.figures.counts_of("total").items()))
        out.append(UnitResult(model.iri, contest, unit, kind, counts, r.figures.cast,
                              r.figures.blank, r.figures.invalid, r.figures.registered,
                              done, len(below), STATUS_WORDS.get(r.status or "", "unknown"),
                              r.reported or ""))
    return out


class StoreResults:
    """A ResultsFeed over the results in a node's store (re-read when they change)."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[str, list[UnitResult]]] = {}

    def _stamp(self) -> str:
        return " ".join(str(self.node.store.container_stamp(self.node.base + c))
                        for c in WATCHED)

    def elections(self) -> list[str]:
        """The elections of the node (members of ``elections/`` typed Election)."""
        out, cursor = [], None
        while True:
            page = self.node.store.children(self.node.base + "elections/", after=cursor,
                                            limit=500)
            for child in page.items:
                stored = self.node.store.get(child.iri)
                if stored is not None and stored.kind == "rdf" and \
                        "https://w3id.org/dds/ns#Election>" in stored.ntriples:
                    out.append(child.iri)
            if not page.next:
                return out
            cursor = page.next

    def results(self, election: str, since: int = 0) -> tuple[int, list[UnitResult]]:
        """Every result of ``election`` (this feed keeps no history: ``since`` is only
        compared with the change stamp it returns)."""
        mark = self._stamp()
        with self._lock:
            cached = self._cache.get(election)
            if cached is None or cached[0] != mark:
                try:
                    found = unit_results(node_model(self.node, election))
                except ValueError:
                    found = []
                cached = (mark, found)
                self._cache[election] = cached
        number = sum(int(p) for p in mark.split() if p.isdigit())
        return number, ([] if since and since >= number else cached[1])


@dataclass(frozen=True)
class Level:
    """The results of one unit (a station, the voter's unit, a unit above)."""

    unit: str
    results: list[UnitResult]


def results_at(feed: ResultsFeed, elections: list[str], units: list[str]) -> list[Level]:
    """The results of ``elections`` in each of ``units`` (lowest first) that has some."""
    wanted = set(units)
    by_unit: dict[str, list[UnitResult]] = {}
    for election in elections:
        for r in feed.results(election)[1]:
            if r.unit in wanted:
                by_unit.setdefault(r.unit, []).append(r)
    return [Level(u, sorted(by_unit[u], key=lambda r: r.contest)) for u in units
            if u in by_unit]

"""Station results already in the store, as the intake's starting point.

An election imported before the night (or results written by PUT) may already hold
polling stations' ``ContestResult``s. The intake counts the current one of each
(highest ``sequence``) as that station's tally, unless its own log has one; a tally for
such a station is then a correction. Read from ``results/`` directly (primary-key
lookups, no SPARQL), once, at the intake's start.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass

from ddsnode.intake.geography import Geography
from ddsnode.intake.tally import BadTally, Tally, from_graph
from ddsnode.rdf import rdfio
from ddsnode.rdf.vocab import DDS
from ddsnode.store.base import Store

__all__ = ["StoredTally", "stored_result", "stored_tallies"]


@dataclass(frozen=True)
class StoredTally:
    """A station's current result in the store."""

    iri: str
    sequence: int
    correction: bool
    tally: Tally


def stored_result(store: Store, iri: str) -> StoredTally | None:
    """The ContestResult at ``iri`` as a tally, or None (not one, or not readable)."""
    stored = store.get(iri)
    if stored is None or stored.kind != "rdf" or "ContestResult" not in stored.ntriples:
        return None
    g = rdfio.graph_from_ntriples(stored.ntriples)
    main = next(iter(g.subjects(DDS.contest, None)), None)
    if main is None:
        return None
    try:
        tally = from_graph(g, main)
    except BadTally:
        return None
    status = str(g.value(main, DDS.resultsStatus) or "")
    return StoredTally(str(main), int(str(g.value(main, DDS.sequence) or 0)),
                       status.endswith("/correction"), tally)


def stored_tallies(store: Store, base: str, geography: Geography,
                   skip: Container[tuple[str, str]], known: Container[str] = (),
                   checkpoint: Callable[[], None] = lambda: None,
                   ) -> dict[tuple[str, str], StoredTally]:
    """(contest, station) -> its current stored result, for stations not in ``skip``;
    results at IRIs in ``known`` (the log's own: their stations are in ``skip``) are not
    read — after a restart mid-night that is nearly every result, each a read and a
    parse."""
    best: dict[tuple[str, str], StoredTally] = {}
    cursor: str | None = None
    while True:
        checkpoint()
        page = store.children(base + "results/", after=cursor, limit=500)
        for item in page.items:
            if item.iri in known:
                continue
            found = stored_result(store, item.iri)
            if found is None:
                continue
            key = (found.tally.contest, found.tally.unit)
            if key in skip or found.tally.unit not in geography.stations_of(key[0]):
                continue
            if key not in best or found.sequence > best[key].sequence:
                best[key] = found
        if not page.next:
            return best
        cursor = page.next

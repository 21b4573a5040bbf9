"""What the clerk's page calls elections, contests, selections and polling stations.

Read from the stored resources themselves (``store.get``, N-Triples parsed by
pyoxigraph), only for what one page shows: the intake's geography knows IRIs and
identifiers, not names. A title or name in the reader's language, else a fallback
language, else any (``explorer.labels.pick``); a selection is named as the result pages
name it (``explorer.ballot.choice_names``: its text, or its candidates' ballot names with
their parties). A long list of stations is narrowed by a search over their
identifiers and IRIs (names are read only for the stations listed), so a page costs at
most ``clerk.MAX_STATIONS_LISTED`` reads whatever the election's size.
"""

from __future__ import annotations

from collections import defaultdict

import pyoxigraph as ox

from ddsnode.explorer.ballot import choice_names
from ddsnode.explorer.labels import local_name, pick
from ddsnode.intake.geography import Geography
from ddsnode.rdf import rdfio
from ddsnode.rdf.vocab import DCTERMS, FOAF
from ddsnode.store.base import Store

__all__ = ["Names"]

_NAME, _TITLE = str(FOAF.name), str(DCTERMS.title)
Facts = dict[str, dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]]]


class Names:
    """Labels of one node's election resources, read when a page needs them."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _stored(self, iri: str) -> str | None:
        """The N-Triples of the resource stored at ``iri`` (its fragments included: a
        contest's selections and candidates), or None."""
        stored = self.store.get(iri.split("#", 1)[0])
        return stored.ntriples if stored is not None and stored.kind == "rdf" else None

    def facts(self, iri: str) -> Facts:
        """subject -> predicate -> objects of the resource stored at ``iri``."""
        out: Facts = defaultdict(lambda: defaultdict(list))
        for t in ox.parse(self._stored(iri) or "", format=ox.RdfFormat.N_TRIPLES):
            if isinstance(t.subject, ox.NamedNode):
                out[t.subject.value][t.predicate.value].append(t.object)
        return out

    def label(self, iri: str, lang: str) -> str:
        """The title or name of ``iri`` in ``lang`` (else a fallback language, else
        any: ``labels.pick``), else its last segment."""
        facts = self.facts(iri).get(iri, {})
        for p in (_TITLE, _NAME):
            texts = {o.language or "": o.value for o in facts.get(p, ())
                     if isinstance(o, ox.Literal)}
            found = pick(texts, lang)
            if found:
                return found
        return local_name(iri)

    def selections(self, contest: str, lang: str) -> dict[str, str]:
        """selection IRI -> what the ballot calls it, as the result pages name it
        (``explorer.ballot.choice_names``)."""
        stored = self._stored(contest)
        if stored is None:
            return {}
        graph = rdfio.parse(stored, "nt")
        return choice_names(graph, lang, lambda party: self.label(party, lang))

    def stations(self, geo: Geography, contest: str, q: str, limit: int, chosen: str,
                 lang: str) -> tuple[list[tuple[str, str]], int]:
        """(IRI, label) of the contest's stations matching ``q`` (at most ``limit``, the
        ``chosen`` one always), and how many more matched."""
        needle = q.strip().casefold()
        every = sorted(geo.stations_of(contest))

        def ident(iri: str) -> str:
            unit = geo.units.get(iri)
            return unit.identifier if unit is not None else ""

        if len(every) <= limit:  # all of them named: the search may use the names
            named = [(iri, self._station(iri, ident(iri), lang)) for iri in every]
            found = [(i, n) for i, n in named if needle in f"{n} {i}".casefold()]
            return found, 0
        matches = [i for i in every if needle in f"{ident(i)} {local_name(i)}".casefold()]
        shown = matches[:limit]
        if chosen in geo.stations_of(contest) and chosen not in shown:
            shown.append(chosen)
        return [(i, self._station(i, ident(i), lang)) for i in shown], \
            max(0, len(matches) - limit)

    def _station(self, iri: str, identifier: str, lang: str) -> str:
        name = self.label(iri, lang)
        return f"{name} ({identifier})" if identifier and identifier not in name else name

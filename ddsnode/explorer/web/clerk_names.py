"""What the clerk's page calls elections, contests, selections and polling stations.

Read from the stored resources themselves (``store.get``, N-Triples parsed by
pyoxigraph), only for what one page shows: the intake's geography knows IRIs and
identifiers, not names. A title or name in the reader's language, else English, else
any; a selection is named by its candidates' ballot names and their parties, or by its
text (a ballot measure). A long list of stations is narrowed by a search over their
identifiers and IRIs (names are read only for the stations listed), so a page costs at
most ``clerk.MAX_STATIONS_LISTED`` reads whatever the election's size.
"""

from __future__ import annotations

from collections import defaultdict

import pyoxigraph as ox

from ddsnode.intake.geography import Geography
from ddsnode.rdf.vocab import DCTERMS, DDS, FOAF
from ddsnode.store.base import Store

__all__ = ["Names"]

_NAME, _TITLE = str(FOAF.name), str(DCTERMS.title)
_BALLOT, _TEXT = str(DDS.ballotName), str(DDS.selectionText)
_CANDIDATE, _PARTY, _SELECTION = str(DDS.candidate), str(DDS.party), str(DDS.hasSelection)
_ID = str(DCTERMS.identifier)
Facts = dict[str, dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]]]


def _local(iri: str) -> str:
    return iri.rstrip("/").rsplit("#", 1)[-1].rsplit("/", 1)[-1] or iri


class Names:
    """Labels of one node's election resources, read when a page needs them."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def facts(self, iri: str) -> Facts:
        """subject -> predicate -> objects of the resource stored at ``iri`` (its
        fragments included: a contest's selections and candidates)."""
        out: Facts = defaultdict(lambda: defaultdict(list))
        stored = self.store.get(iri.split("#", 1)[0])
        if stored is None or stored.kind != "rdf":
            return out
        for t in ox.parse(stored.ntriples, format=ox.RdfFormat.N_TRIPLES):
            if isinstance(t.subject, ox.NamedNode):
                out[t.subject.value][t.predicate.value].append(t.object)
        return out

    @staticmethod
    def _text(facts: Facts, iri: str, predicates: tuple[str, ...], lang: str) -> str:
        """The first of ``predicates`` with a literal, in ``lang``, else en, else any."""
        for p in predicates:
            found = [o for o in facts.get(iri, {}).get(p, ()) if isinstance(o, ox.Literal)]
            for want in (lang, "en", None):
                for o in found:
                    if want is None or o.language == want:
                        return o.value
        return ""

    def label(self, iri: str, lang: str) -> str:
        """The name or title of ``iri``, else its last segment."""
        return self._text(self.facts(iri), iri, (_TITLE, _NAME), lang) or _local(iri)

    def selections(self, contest: str, lang: str) -> dict[str, str]:
        """selection IRI -> what the ballot calls it."""
        facts = self.facts(contest)
        parties: dict[str, str] = {}
        out: dict[str, str] = {}
        for sel in facts.get(contest, {}).get(_SELECTION, ()):
            if not isinstance(sel, ox.NamedNode):
                continue
            names, party_iris = [], [o.value for o in facts[sel.value].get(_PARTY, ())]
            for cand in facts[sel.value].get(_CANDIDATE, ()):
                names.append(self._text(facts, cand.value, (_BALLOT, _NAME), lang))
                party_iris += [o.value for o in facts[cand.value].get(_PARTY, ())]
            for p in party_iris:
                if p not in parties:
                    parties[p] = self.label(p, lang)
            party = ", ".join(dict.fromkeys(parties[p] for p in party_iris))
            text = ", ".join(n for n in names if n) or \
                self._text(facts, sel.value, (_TEXT, _NAME), lang)
            out[sel.value] = f"{text} ({party})" if text and party else \
                text or party or _local(sel.value)
        return out

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
        matches = [i for i in every if needle in f"{ident(i)} {_local(i)}".casefold()]
        shown = matches[:limit]
        if chosen in geo.stations_of(contest) and chosen not in shown:
            shown.append(chosen)
        return [(i, self._station(i, ident(i), lang)) for i in shown], \
            max(0, len(matches) - limit)

    def _station(self, iri: str, identifier: str, lang: str) -> str:
        name = self.label(iri, lang)
        return f"{name} ({identifier})" if identifier and identifier not in name else name

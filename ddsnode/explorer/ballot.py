"""Names of a contest's choices, read from the contest resource, for a result page.

A contest result counts votes per selection IRI (``…/municipal-2026-council#list-rc``);
the contest describes each selection (NIST SP 1500-100 ``BallotSelection``): a ballot
measure's ``selectionText`` ("Oui" / "Yes"), or a candidate selection's candidates with
their ``ballotName`` and ``party``. A reader sees those names, never the fragment.
"""

from __future__ import annotations

from collections.abc import Callable

import rdflib

from ddsnode.explorer.labels import pick
from ddsnode.explorer.view import term


def _by_lang(graph: rdflib.Graph, subject: rdflib.term.Node, name: str) -> dict[str, str]:
    return {(v.language or ""): str(v) for v in graph.objects(subject, rdflib.URIRef(term(name)))
            if isinstance(v, rdflib.Literal)}


def choice_names(contest: rdflib.Graph, lang: str,
                 name_of: Callable[[str], str]) -> dict[str, str]:
    """Selection IRI -> what a reader calls it: its text, else its candidates' ballot
    names with their party (``Camille Peuplier (Rivemont en commun)``)."""
    out: dict[str, str] = {}
    selections = rdflib.URIRef(term("selections"))
    for selection in contest.objects(None, selections):
        if not isinstance(selection, rdflib.URIRef):
            continue
        text = pick(_by_lang(contest, selection, "selectionText"), lang)
        if text:
            out[str(selection)] = text
            continue
        people = []
        for candidate in sorted(contest.objects(selection, rdflib.URIRef(term("candidates"))),
                                key=str):
            name = pick(_by_lang(contest, candidate, "ballotName"), lang)
            party = next((str(p) for p in contest.objects(
                candidate, rdflib.URIRef(term("party")))), None)
            if name and party:
                people.append(f"{name} ({name_of(party)})")
            elif name or party:
                people.append(name or name_of(str(party)))
        if people:
            out[str(selection)] = ", ".join(people)
    return out


"""Names of a contest's choices, read from the contest resource, for a result page.

A contest result counts votes per selection IRI (``…/municipal-2026-council#list-rc``);
the contest describes each selection (NIST SP 1500-100 ``BallotSelection``): a ballot
measure's ``selectionText`` ("Oui" / "Yes"), or a candidate selection's candidates with
their ``ballotName`` and ``party`` (described in the contest, or resources of their own
as ``ddsnode import nist`` writes them). A reader sees those names, never the fragment.
"""

from __future__ import annotations

from collections.abc import Callable

import rdflib

from ddsnode.explorer.candidacy import Describe, described
from ddsnode.explorer.labels import pick
from ddsnode.explorer.view import term


def _by_lang(graph: rdflib.Graph, subject: rdflib.term.Node, name: str) -> dict[str, str]:
    return {(v.language or ""): str(v) for v in graph.objects(subject, rdflib.URIRef(term(name)))
            if isinstance(v, rdflib.Literal)}


def choice_names(contest: rdflib.Graph, lang: str, name_of: Callable[[str], str],
                 describe: Describe | None = None) -> dict[str, str]:
    """Selection IRI -> what a reader calls it: its text, else its candidates' ballot
    names with their party (``Camille Peuplier (Rivemont en commun)``); a candidate
    written apart from its contest is read with ``describe``."""
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
            # The selection's contest IRI is its own, less the fragment.
            graph = described(contest, str(selection).split("#")[0], candidate, describe)
            name = pick(_by_lang(graph, candidate, "ballotName"), lang)
            party = next((str(p) for p in graph.objects(
                candidate, rdflib.URIRef(term("party")))), None)
            if name and party:
                people.append(f"{name} ({name_of(party)})")
            elif name or party:
                people.append(name or name_of(str(party)))
        if people:
            out[str(selection)] = ", ".join(people)
    return out


"""A party's lists: the contests where its candidates stand, with their names and the
votes of the latest result published for each contest.

A candidate is a fragment of its contest (``…/municipal-2026-council#candidate-rc-1``,
NIST SP 1500-100 ``Candidate`` with ``ballotName`` and ``party``), inside a selection,
or a resource of its own that the selection names (``elections/{slug}-candidate-{id}``,
as ``ddsnode import nist`` writes it); a result counts votes per selection. So the
party's page reads the contests that link to it, or to its candidates, and, per contest,
the result with the highest ``sequence`` (the latest publication).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import rdflib

from ddsnode.explorer import view
from ddsnode.explorer.labels import pick


@dataclass
class Candidacy:
    """A party's list in one contest, and how it fared."""

    contest: str  # IRI
    contest_title: str
    selection: str  # IRI of the selection the candidates are in
    names: list[str]
    votes: int | None = None
    share: float | None = None  # of the valid votes of that result
    status: str | None = None
    unit: str | None = None  # where that result was counted
    result: str | None = None  # IRI of the result read
    # (ballot name, IRI of the foaf:Person standing or None), in the order of ``names``:
    # the party's page links each candidate to the person's page (``dds:person``).
    people: list[tuple[str, str | None]] = field(default_factory=list)


def _term(name: str) -> rdflib.URIRef:
    return rdflib.URIRef(view.term(name))


Describe = Callable[[str], rdflib.Graph | None]  # a candidate resource's graph, if any


def described(contest: rdflib.Graph, contest_iri: str, candidate: rdflib.term.Node,
              describe: Describe | None) -> rdflib.Graph:
    """The graph describing ``candidate``: its contest's when it is a fragment or
    described there, else its own resource's (``describe``), else the contest's."""
    if isinstance(candidate, rdflib.URIRef) and describe is not None \
            and not str(candidate).startswith(contest_iri + "#") \
            and next(contest.predicate_objects(candidate), None) is None:
        return describe(str(candidate)) or contest
    return contest


def lists_in(contest: rdflib.Graph, contest_iri: str, party: str, lang: str,
             title: str, describe: Describe | None = None) -> list[Candidacy]:
    """The candidacies of ``party`` in ``contest`` (one per selection naming it); a
    candidate written apart from its contest is read with ``describe``."""
    out = []
    for selection in sorted(contest.objects(rdflib.URIRef(contest_iri),
                                            _term("selections")), key=str):
        people: list[tuple[str, str | None]] = []
        for candidate in sorted(contest.objects(selection, _term("candidates")), key=str):
            graph = described(contest, contest_iri, candidate, describe)
            if str(next(graph.objects(candidate, _term("party")), "")) != party:
                continue
            ballot = {(v.language or ""): str(v) for v in
                      graph.objects(candidate, _term("ballotName"))
                      if isinstance(v, rdflib.Literal)}
            person = next((str(o) for o in graph.objects(candidate, _term("person"))
                           if isinstance(o, rdflib.URIRef)), None)
            people.append((pick(ballot, lang) or "", person))
        if people:
            named = [(n, p) for n, p in people if n]
            out.append(Candidacy(contest_iri, title, str(selection), [n for n, _ in named],
                                 people=named))
    return out


def fared(candidacy: Candidacy, results: list[tuple[str, rdflib.Graph]],
          name_of: Callable[[str], str]) -> Candidacy:
    """``candidacy`` with the votes of the latest of ``results`` (IRI, graph) for its
    selection."""
    latest = max(results, default=None, key=lambda r: _sequence(r[1], r[0]))
    if latest is None:
        return candidacy
    iri, graph = latest
    tally = view.tally(graph, rdflib.URIRef(iri), "", lambda s: s)
    if tally is None:
        return candidacy
    for vote in tally.votes:
        if vote.label == candidacy.selection:
            candidacy.votes, candidacy.share = vote.count, vote.share
    main = rdflib.URIRef(iri)
    status = next(graph.objects(main, _term("resultsStatus")), None)
    unit = next(graph.objects(main, _term("reportingUnit")), None)
    candidacy.status = name_of(str(status)) if status is not None else None
    candidacy.unit = name_of(str(unit)) if unit is not None else None
    candidacy.result = iri
    return candidacy


def _sequence(graph: rdflib.Graph, iri: str) -> int:
    for value in graph.objects(rdflib.URIRef(iri), _term("sequence")):
        try:
            return int(str(value))
        except ValueError:
            return 0
    return 0

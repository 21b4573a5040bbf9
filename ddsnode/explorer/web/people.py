"""The people parts of resource pages: a contest's candidates, a person's candidacies
(with the latest result of their list) and memberships, read through the search index.

Bounded per page: ``MAX_CONTESTS`` contests naming the person, ``MAX_RESULTS`` results
read per contest to find the latest, ``MAX_CANDIDATES`` candidate resources read (a NIST
import writes candidates apart from their contest), ``MAX_MEMBERSHIPS`` memberships (docs/explorer.md
"Candidates and persons"; docs/security.md: every cost bounded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import rdflib

from ddsnode.explorer import candidacy, people, view
from ddsnode.explorer.labels import local_name, pick
from ddsnode.explorer.search import Hit
from ddsnode.explorer.web.site import Site

MAX_CONTESTS = 50  # contests listed on a person's page
MAX_RESULTS = 200  # results read per contest to find the latest
MAX_MEMBERSHIPS = 100  # memberships listed on a person's page
MAX_CANDIDATES = 500  # candidate resources read per page (NIST imports write them apart)

GraphOf = Callable[[Site, Hit], rdflib.Graph | None]


@dataclass
class Member:
    """A person's membership of the organisation or party whose page this is."""

    membership: str
    person: str
    person_name: str
    role: str | None
    start: str | None
    end: str | None
    start_text: str = ""
    end_text: str = ""


def members(site: Site, organisation: str, lang: str, name_of: Callable[[str], str],
            graph_of: GraphOf) -> list[Member]:
    """The members of ``organisation`` (``org:Membership`` whose ``org:organization`` it
    is), at most ``MAX_MEMBERSHIPS``, the oldest first: a party's page links the persons
    who belong to it, as a person's page links the parties they belong to."""
    out = []
    for hit in site.index.incoming(organisation, view.term("organization"), MAX_MEMBERSHIPS):
        graph = graph_of(site, hit)
        if graph is None:
            continue
        main = rdflib.URIRef(hit.iri)

        def one(name: str, graph: rdflib.Graph = graph, main: rdflib.URIRef = main
                ) -> str | None:
            return next((str(o) for o in graph.objects(main, rdflib.URIRef(view.term(name)))),
                        None)
        person = one("memberAgent")
        if person is None or one("organization") != organisation:
            continue
        start, end = one("startDate"), one("endDate")
        out.append(Member(hit.iri, person, name_of(person), one("roleName"), start, end,
                          people.when(start, lang), people.when(end, lang)))
    return sorted(out, key=lambda m: (m.start or "", m.person_name, m.membership))


def person(site: Site, iri: str, lang: str, name_of: Callable[[str], str],
           graph_of: GraphOf) -> people.PersonView:
    """The candidacies and memberships of person ``iri``."""
    out = people.PersonView()
    describe = describer(site, graph_of)
    for hit in contests_naming(site, iri):
        graph = graph_of(site, hit)
        if graph is None:
            continue
        title = pick(hit.titles, lang) or local_name(hit.iri)
        found = people.standings_of(iri, graph, hit.iri, title, lang, name_of, describe)
        if not found:
            continue
        results = [(r.iri, g) for r in site.index.incoming(hit.iri, view.term("contest"),
                                                           MAX_RESULTS)
                   if (g := graph_of(site, r)) is not None]
        for standing in found:
            listed = candidacy.Candidacy(hit.iri, title, standing.candidate.selection, [])
            standing.fared = candidacy.fared(listed, results, name_of)
        out.standings += found
    for hit in site.index.incoming(iri, view.term("memberAgent"), MAX_MEMBERSHIPS):
        graph = graph_of(site, hit)
        if graph is None:
            continue
        member = people.membership_of(graph, hit.iri, iri, lang, name_of)
        if member is not None:
            out.memberships.append(member)
    out.memberships.sort(key=lambda m: (m.start or "", m.iri))
    return out


def contest(site: Site, graph: rdflib.Graph, iri: str, lang: str,
            name_of: Callable[[str], str], graph_of: GraphOf) -> list[people.Candidate]:
    """The candidates of contest ``iri``: described in its graph, else read one by one
    (at most ``MAX_CANDIDATES``)."""
    return people.candidates(graph, iri, lang, name_of, describer(site, graph_of))


def contests_naming(site: Site, target: str, term: str = "person") -> list[Hit]:
    """Contests with a candidate naming ``target`` by ``term`` (``person``, ``party``):
    the contest itself when its candidates are fragments, else the contests whose
    selections name the candidate resource that does (a NIST import), at most
    ``MAX_CONTESTS``."""
    out: dict[str, Hit] = {}
    for hit in site.index.incoming(target, view.term(term), MAX_CONTESTS):
        if local_name(hit.kind) == "Candidate":
            for contest_hit in site.index.incoming(hit.iri, view.term("candidates"),
                                                   MAX_CONTESTS):
                out.setdefault(contest_hit.iri, contest_hit)
        else:
            out.setdefault(hit.iri, hit)
    return list(out.values())[:MAX_CONTESTS]


def describer(site: Site, graph_of: GraphOf) -> candidacy.Describe:
    """Graphs of candidate resources, read through the index, ``MAX_CANDIDATES`` per
    page at most."""
    left = [MAX_CANDIDATES]

    def describe(iri: str) -> rdflib.Graph | None:
        if left[0] <= 0:
            return None
        left[0] -= 1
        hit = site.index.hit(iri)
        return graph_of(site, hit) if hit is not None else None
    return describe

"""Candidates and persons: who stands in a contest, and a person's candidacies and
memberships.

A candidate is a fragment of its contest (NIST SP 1500-100 ``Candidate``: ``ballotName``,
``party``, ``postElectionStatus``; ``dds:person`` names the ``foaf:Person`` standing,
docs/elections.md "Candidate → person"). Persons and their ``org:Membership``s live in
``organisations/`` (Popolo import). A person's page finds its contests and memberships
through the search index's links (``SearchIndex.incoming``), never by a query over the
whole store: the cost is a few indexed lookups plus the graphs of the contests found,
bounded by the callers' limits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import rdflib
from babel.dates import format_date, format_skeleton

from ddsnode.explorer import view
from ddsnode.explorer.candidacy import Candidacy, Describe, described
from ddsnode.explorer.labels import pick


@dataclass
class Candidate:
    """One candidate of a contest, as its page (or a person's) shows it."""

    iri: str  # the fragment
    selection: str
    ballot_name: str
    party: str | None = None  # IRI
    person: str | None = None  # IRI of the foaf:Person
    status: str | None = None  # postElectionStatus: NIST's word (winner, defeated…)
    party_name: str | None = None
    person_name: str | None = None  # when the ballot gives no name


@dataclass
class Standing:
    """A person's candidacy: the contest, the candidate fragment and how the list fared."""

    contest: str
    contest_title: str
    candidate: Candidate
    fared: Candidacy | None = None


@dataclass
class Membership:
    """A person's membership of an organisation (W3C ORG ``org:Membership``)."""

    iri: str
    organisation: str | None
    organisation_name: str | None
    role: str | None
    start: str | None  # xsd:date, xsd:gYearMonth or xsd:gYear, as the source wrote it
    end: str | None
    start_text: str = ""  # as the reader's language writes it
    end_text: str = ""


@dataclass
class PersonView:
    """What a person's page adds to the resource page."""

    standings: list[Standing] = field(default_factory=list)
    memberships: list[Membership] = field(default_factory=list)


def _term(name: str) -> rdflib.URIRef:
    return rdflib.URIRef(view.term(name))


def _one(graph: rdflib.Graph, subject: rdflib.term.Node, name: str) -> str | None:
    value = next(graph.objects(subject, _term(name)), None)
    return str(value) if value is not None else None


def candidates(contest: rdflib.Graph, contest_iri: str, lang: str,
               name_of: Callable[[str], str],
               describe: Describe | None = None) -> list[Candidate]:
    """The candidates of ``contest``, in the order of their selections then IRIs.

    A candidate is described in the contest (a fragment, as the examples write it) or is
    a resource of its own that the selection names (``elections/{slug}-candidate-{id}``,
    as ``ddsnode import nist`` writes it): then ``describe`` gives its graph."""
    out = []
    main = rdflib.URIRef(contest_iri)
    for selection in sorted(contest.objects(main, _term("selections")), key=str):
        for node in sorted(contest.objects(selection, _term("candidates")), key=str):
            if not isinstance(node, rdflib.URIRef):
                continue
            graph = described(contest, contest_iri, node, describe)
            names = {(v.language or ""): str(v) for v in
                     graph.objects(node, _term("ballotName"))
                     if isinstance(v, rdflib.Literal)}
            status = _one(graph, node, "postElectionStatus")
            party, person = _one(graph, node, "party"), _one(graph, node, "person")
            out.append(Candidate(
                str(node), str(selection), pick(names, lang) or "", party=party,
                person=person, status=status,
                party_name=name_of(party) if party else None,
                person_name=name_of(person) if person else None))
    return out


def standings_of(person: str, contest: rdflib.Graph, contest_iri: str, title: str,
                 lang: str, name_of: Callable[[str], str],
                 describe: Describe | None = None) -> list[Standing]:
    """The candidacies of ``person`` in ``contest`` (a candidate naming someone else is
    not theirs)."""
    return [Standing(contest_iri, title, c)
            for c in candidates(contest, contest_iri, lang, name_of, describe)
            if c.person == person]


def membership_of(graph: rdflib.Graph, iri: str, person: str, lang: str,
                  name_of: Callable[[str], str]) -> Membership | None:
    """The membership ``iri`` when it is ``person``'s (``org:member``), else None."""
    main = rdflib.URIRef(iri)
    if _one(graph, main, "memberAgent") != person:
        return None
    organisation = _one(graph, main, "organization")
    start, end = _one(graph, main, "startDate"), _one(graph, main, "endDate")
    return Membership(iri, organisation, name_of(organisation) if organisation else None,
                      _one(graph, main, "roleName"), start, end, when(start, lang),
                      when(end, lang))


def when(value: str | None, lang: str) -> str:
    """A membership's date as ``lang`` writes it: a day (``1972-01-01``), a month
    (``1970-01``: Popolo allows it) or a year; anything else as written."""
    if not value:
        return ""
    try:
        if len(value) == 7:
            return format_skeleton("yMMMM", date.fromisoformat(value + "-01"), locale=lang)
        if len(value) == 10:
            return format_date(date.fromisoformat(value), "long", locale=lang)
    except ValueError:
        pass
    return value

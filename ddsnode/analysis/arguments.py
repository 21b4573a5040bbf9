"""Pro and contra of a proposal: the arguments for and against, as a page shows them.

Plain data, no web framework (docs/analysis.md, "On a contribution's page"). The
arguments are the statements of the analysis's summaries of the proposal's thread that
take a side (``dds:stance`` inFavour or against): tier 1's are a real comment's own words,
chosen by stance (Decidim's comment alignment: no model involved), and link to it; a
language model's (tier 3) are shown only once a reviewer published its draft, and are
marked as the model's. How many comments take each side is counted from the comments'
own stances, as the page reads the thread. Votes are told as what they are: a platform
that records supports only gives "support", never "consensus"; an agreement share is
given only where votes for and against both exist.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import rdflib

from ddsnode.analysis.panels import Summary, term

SIDES = ("inFavour", "against")
MAX_ARGUMENTS = 20  # per side (a summary has at most panels.MAX_STATEMENTS)


@dataclass
class Argument:
    """One argument: its words, the comments it rests on, who wrote it."""

    text: str
    lang: str
    sources: list[str]  # the comments it rests on (dds:supportedBy)
    quoted: str | None
    by_model: bool  # drafted by a language model, published by a reviewer
    summary: str
    run: str | None


@dataclass
class Side:
    """One side: its arguments and how many comments of the thread take it."""

    stance: str  # inFavour | against
    arguments: list[Argument] = field(default_factory=list)
    comments: int = 0


@dataclass
class ProContra:
    """The arguments for and against a proposal, the comments per side, and its votes."""

    sides: list[Side]
    neutral: int  # comments that take no side
    read: int  # comments read to count them
    complete: bool  # every comment of the thread was read
    supports: int | None  # dds:supportCount
    votes_for: int | None  # dds:votesInFavour
    votes_against: int | None  # dds:votesAgainst

    @property
    def agreement(self) -> float | None:
        """The share of votes in favour: only where votes for and against both exist."""
        if self.votes_for is None or self.votes_against is None:
            return None
        total = self.votes_for + self.votes_against
        return self.votes_for / total if total else None


def pro_contra(subject: str, summaries: Iterable[Summary], stances: Iterable[str | None],
               *, complete: bool, graph: rdflib.Graph | None = None) -> ProContra | None:
    """The pro and contra of ``subject`` from its thread's ``summaries`` (None when no
    statement of theirs takes a side: nothing analysed to show); ``stances``: the local
    names of the thread's comments' stances (None: none), ``graph``: the proposal's own,
    for its votes."""
    sides = {stance: Side(stance) for stance in SIDES}
    for summary in summaries:
        if summary.cites_only or summary.subject != subject:
            continue
        by_model = summary.by_model
        if by_model and summary.status != "published":
            continue  # a model's words are a draft until a reviewer publishes them
        for statement in summary.statements:
            side = sides.get(statement.stance or "")
            if side is None or len(side.arguments) >= MAX_ARGUMENTS:
                continue
            side.arguments.append(Argument(
                text=statement.text, lang=statement.lang, sources=statement.supported_by,
                quoted=statement.quoted, by_model=by_model, summary=summary.iri,
                run=summary.run))
    if not any(side.arguments for side in sides.values()):
        return None
    for side in sides.values():  # the comments' own words first, then the model's
        side.arguments.sort(key=lambda a: a.by_model)
    counted = Counter(stances)
    for stance, side in sides.items():
        side.comments = counted[stance]
    supports, votes_for, votes_against = _votes(graph, subject)
    return ProContra(sides=list(sides.values()), neutral=counted["neutral"],
                     read=sum(counted.values()), complete=complete, supports=supports,
                     votes_for=votes_for, votes_against=votes_against)


def _votes(graph: rdflib.Graph | None, subject: str
           ) -> tuple[int | None, int | None, int | None]:
    if graph is None:
        return None, None, None

    def count(name: str) -> int | None:
        for value in graph.objects(rdflib.URIRef(subject), rdflib.URIRef(term(name))):
            try:
                return int(str(value))
            except ValueError:
                return None
        return None
    return count("supportCount"), count("votesInFavour"), count("votesAgainst")

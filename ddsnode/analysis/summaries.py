"""Extractive thread summaries, with the arguments for and against from comments' stances.

A summary of a proposal's thread selects real comments (never writes new text): strata by
stance (in favour, against, neutral, none) and platform are taken in turn, so that neither
side nor one platform fills the summary; within a stratum, the most central comment (TF-IDF
cosine to the thread's centroid) that is least like those already chosen (maximal marginal
relevance, Carbonell and Goldstein 1998). Each statement is the first sentences of its
comment, quoted exactly, supported by that comment; with a stance, it is an argument for or
against. Agreement figures are "support" where the platform records only supports.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from ddsnode.analysis.corpus import Contribution
from ddsnode.analysis.text import analyse_text, excerpt

METHOD = "extractive-centrality"
_STANCE_ORDER = ("inFavour", "against", "neutral", "")
_MMR_LAMBDA = 0.7
EXCERPT_CHARS = 300


@dataclass
class Statement:
    """One statement: text, language, supporting contributions, quote, stance."""

    text: str
    language: str
    supported_by: list[str]
    quote: str | None = None
    stance: str | None = None


@dataclass
class ThreadSummary:
    """The summary of one thread."""

    subject: str  # the proposal's IRI
    statements: list[Statement] = field(default_factory=list)
    support_count: int | None = None
    supports_only: bool = False  # supports counted, no votes against: say "support"
    method: str = METHOD


def threads(contributions: list[Contribution]) -> dict[str, list[Contribution]]:
    """Proposal IRI -> the comments of its thread at any depth (IRI order)."""
    by_iri = {c.iri: c for c in contributions}
    out: dict[str, list[Contribution]] = defaultdict(list)
    for c in sorted(contributions, key=lambda c: c.iri):
        if c.kind != "Comment":
            continue
        seen, parent = {c.iri}, c.reply_to
        while parent in by_iri and by_iri[parent].kind == "Comment" and parent not in seen:
            seen.add(parent)
            parent = by_iri[parent].reply_to
        if parent in by_iri and by_iri[parent].kind != "Comment":
            out[parent].append(c)
    return dict(out)


def _vectors(comments: list[Contribution]) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer
    docs = [analyse_text(c.original, c.language) for c in comments]
    try:
        x = TfidfVectorizer(token_pattern=r"\S+", lowercase=False).fit_transform(docs)
    except ValueError:  # no words at all
        return np.zeros((len(comments), 1))
    return np.asarray(x.todense())


def select(comments: list[Contribution], limit: int) -> list[Contribution]:
    """Up to ``limit`` comments: stratified by stance and platform, central and diverse."""
    if not comments:
        return []
    x = _vectors(comments)
    centroid = x.mean(axis=0)
    norm = float(np.linalg.norm(centroid)) or 1.0
    centrality = x @ centroid / norm
    strata: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, c in enumerate(comments):
        strata[(c.stance or "", c.platform)].append(i)
    order = sorted(strata, key=lambda k: (_STANCE_ORDER.index(k[0])
                                          if k[0] in _STANCE_ORDER else 9, k[1]))
    chosen: list[int] = []
    while len(chosen) < limit and any(strata[k] for k in order):
        for key in order:
            if len(chosen) >= limit or not strata[key]:
                continue
            def gain(i: int) -> tuple[float, str]:
                redundancy = max((float(x[i] @ x[j]) for j in chosen), default=0.0)
                return (-(_MMR_LAMBDA * float(centrality[i]) - (1 - _MMR_LAMBDA) * redundancy),
                        comments[i].iri)
            best = min(strata[key], key=gain)
            strata[key].remove(best)
            chosen.append(best)
    return [comments[i] for i in chosen]


def statement_of(c: Contribution) -> Statement | None:
    """The statement a comment gives: its first sentences, quoted exactly."""
    text = excerpt(c.original, EXCERPT_CHARS)
    if not text:
        return None
    return Statement(text, c.language, [c.iri], quote=text, stance=c.stance)


def summarise(contributions: list[Contribution], limit: int) -> list[ThreadSummary]:
    """An extractive summary of every proposal's thread that has comments."""
    by_iri = {c.iri: c for c in contributions}
    out = []
    for subject, comments in sorted(threads(contributions).items()):
        proposal = by_iri[subject]
        statements = [s for s in map(statement_of, select(comments, limit)) if s is not None]
        if not statements:
            continue
        out.append(ThreadSummary(subject, statements, proposal.support_count,
                                 supports_only=proposal.support_count is not None
                                 and proposal.votes_against is None))
    return out

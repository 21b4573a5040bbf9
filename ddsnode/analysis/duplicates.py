"""Duplicate candidates: TF-IDF cosine over lemmas, within and across languages.

Proposals (not comments) are compared in every language both have a text in: their own,
or a platform's machine translation (Decidim's ``machine_translations``), a free pivot
across languages. A pair compared through a machine translation is flagged
(dds:viaMachineTranslation). The score of a pair is its best cosine over the languages;
pairs at or above ``analysis_duplicate_threshold`` are candidates, unless their
statements ask for different measures (other figures, a negation, an action the other
lacks: :mod:`ddsnode.analysis.measures`), which similarity alone does not see: with that
check the threshold could come down from 0.55 to 0.45 at the same precision
(docs/analysis.md). The similarity matrix is computed in blocks of rows, so memory stays
bounded by the pairs kept.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ddsnode.analysis.corpus import Contribution
from ddsnode.analysis.measures import Reading, differs, read, statement

METHOD = "tfidf-cosine+measures"
_BLOCK = 2_000
# A stored link keeps its score while a later run's moves by less (run.py, _kept_score).
SCORE_TOLERANCE = 0.01
_COMMENT_KINDS = frozenset({"Comment"})


@dataclass(frozen=True)
class Candidate:
    """Two contributions that may be the same proposal."""

    a: str  # the smaller IRI
    b: str
    score: float
    language: str  # the language compared ("" when none: tier 2 across languages)
    machine_translated: bool
    method: str = METHOD


def comparable(contributions: list[Contribution]) -> list[Contribution]:
    """The contributions duplicates are looked for among (proposals, debates, amendments)."""
    return sorted((c for c in contributions if c.kind not in _COMMENT_KINDS),
                  key=lambda c: c.iri)


def matrix(docs: list[str]) -> sparse.csr_matrix | None:
    """L2-normalised TF-IDF rows (lemma unigrams and bigrams) of token strings."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    vectoriser = TfidfVectorizer(token_pattern=r"\S+", lowercase=False, sublinear_tf=True,
                                 ngram_range=(1, 2), max_df=0.5 if len(docs) >= 50 else 1.0)
    try:
        return sparse.csr_matrix(vectoriser.fit_transform(docs))  # rows are L2-normalised
    except ValueError:  # no term at all
        return None


def _reading(readings: dict[int, Reading], members: list[Contribution], i: int,
             lang: str) -> Reading:
    """The statement of ``members[i]`` read for the measure checks, once per run."""
    if i not in readings:
        readings[i] = read(statement(members[i].texts[lang]), lang)
    return readings[i]


def scores(contributions: list[Contribution], threshold: float, *,
           changed: Collection[str] | None = None,
           known: Mapping[tuple[str, str], str] | None = None
           ) -> dict[tuple[str, str], Candidate]:
    """Every pair at or above ``threshold``, with its best language.

    With ``changed`` (the IRIs new or changed since the last run), only the pairs that
    touch one of them are looked for, and the ``known`` pairs (the links the last run
    published, each with the language it was compared in) are scored again: the rows are
    the same as a run over all pairs would make (the vectoriser is fitted on every text,
    so idf and vocabulary are the whole corpus's), but a pair of two unchanged
    contributions that was under the threshold is not looked at again until the next
    run over all pairs (docs/analysis.md, "Incremental")."""
    items = comparable(contributions)
    best: dict[tuple[str, str], Candidate] = {}
    languages = sorted({lang for c in items for lang in c.texts})
    for lang in languages:
        members = [c for c in items if c.texts.get(lang, "").strip()]
        if len(members) < 2:
            continue
        x = matrix([c.tokens(lang) for c in members])
        if x is None:
            continue
        # Each statement read once for the run, when first in a pair: a cache of texts
        # would thrash on 100,000 proposals (212,000 pairs, most texts in several).
        readings: dict[int, Reading] = {}
        if changed is None:
            found = _all_pairs(x, threshold)
        else:
            found = _touching(x, members, threshold, changed, known or {}, lang)
        for r, col, value, checked in found:
            first, second = members[r], members[col]
            key = (first.iri, second.iri)
            score = round(min(1.0, value), 4)
            current = best.get(key)
            if current is None or score > current.score:
                # similar words, another measure (measures.py); a known pair passed the
                # checks in its language, and its texts are unchanged
                mt = lang in first.machine or lang in second.machine
                # a machine translation keeps the checks it was measured with (measures.py)
                if not checked and differs(_reading(readings, members, r, lang),
                                           _reading(readings, members, col, lang),
                                           translated=mt):
                    continue
                best[key] = Candidate(first.iri, second.iri, score, lang, mt)
    return best


_Pair = tuple[int, int, float, bool]  # row, column (row < column), cosine, already checked


def _all_pairs(x: sparse.csr_matrix, threshold: float) -> Iterator[_Pair]:
    """Every pair of rows of ``x`` with a cosine at or above ``threshold``."""
    for start in range(0, x.shape[0], _BLOCK):
        # Only the columns from this block on: a pair is kept once, row before column,
        # so the rest of the product (half of it) would be thrown away.
        block = (x[start:start + _BLOCK] @ x[start:].T).tocoo()
        keep = (block.data >= threshold) & (block.row < block.col)
        for r, c, value in zip(block.row[keep], block.col[keep], block.data[keep],
                               strict=True):
            yield int(r) + start, int(c) + start, float(value), False


def _touching(x: sparse.csr_matrix, members: list[Contribution], threshold: float,
              changed: Collection[str], known: Mapping[tuple[str, str], str],
              lang: str) -> Iterator[_Pair]:
    """The pairs of rows of ``x`` at or above ``threshold`` that touch a changed member,
    then the ``known`` pairs of unchanged members scored again, in row order."""
    rows = [i for i, c in enumerate(members) if c.iri in changed]
    fresh = set(rows)
    out: list[_Pair] = []
    for start in range(0, len(rows), _BLOCK):
        chosen = rows[start:start + _BLOCK]
        block = (x[chosen] @ x.T).tocoo()
        keep = block.data >= threshold
        for r, c, value in zip(block.row[keep], block.col[keep], block.data[keep],
                               strict=True):
            row, col = chosen[int(r)], int(c)
            if row == col or (col in fresh and col < row):
                continue  # itself, or a pair of two changed members met from the other side
            out.append((min(row, col), max(row, col), float(value), False))
    index = {c.iri: i for i, c in enumerate(members)}
    pairs = [(index[a], index[b], language) for (a, b), language in known.items()
             if a in index and b in index and a not in changed and b not in changed]
    if pairs:
        first = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
        second = np.fromiter((p[1] for p in pairs), dtype=np.int64, count=len(pairs))
        cosines = np.asarray(x[first].multiply(x[second]).sum(axis=1)).ravel()
        for (a, b, language), value in zip(pairs, cosines, strict=True):
            if value >= threshold:
                out.append((min(a, b), max(a, b), float(value), language == lang))
    yield from out

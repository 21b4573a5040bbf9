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

from dataclasses import dataclass

from scipy import sparse

from ddsnode.analysis.corpus import Contribution
from ddsnode.analysis.measures import Reading, differs, read, statement
from ddsnode.analysis.text import analyse_text

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


def scores(contributions: list[Contribution], threshold: float) -> dict[tuple[str, str], Candidate]:
    """Every pair at or above ``threshold``, with its best language."""
    items = comparable(contributions)
    best: dict[tuple[str, str], Candidate] = {}
    languages = sorted({lang for c in items for lang in c.texts})
    for lang in languages:
        members = [c for c in items if c.texts.get(lang, "").strip()]
        if len(members) < 2:
            continue
        x = matrix([analyse_text(c.texts[lang], lang) for c in members])
        if x is None:
            continue
        # Each statement read once for the run, when first in a pair: a cache of texts
        # would thrash on 100,000 proposals (212,000 pairs, most texts in several).
        readings: dict[int, Reading] = {}
        for start in range(0, x.shape[0], _BLOCK):
            # Only the columns from this block on: a pair is kept once, row before column,
            # so the rest of the product (half of it) would be thrown away.
            block = (x[start:start + _BLOCK] @ x[start:].T).tocoo()
            keep = (block.data >= threshold) & (block.row < block.col)
            for r, c, value in zip(block.row[keep], block.col[keep], block.data[keep],
                                   strict=True):
                col = int(c) + start
                first, second = members[int(r) + start], members[col]
                key = (first.iri, second.iri)
                score = round(min(1.0, float(value)), 4)
                current = best.get(key)
                if current is None or score > current.score:
                    if differs(_reading(readings, members, int(r) + start, lang),
                               _reading(readings, members, col, lang)):
                        continue  # similar words, another measure (measures.py)
                    mt = lang in first.machine or lang in second.machine
                    best[key] = Candidate(first.iri, second.iri, score, lang, mt)
    return best

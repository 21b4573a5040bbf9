"""The verifier: no statement is stored unless what it cites says it.

A statement is dropped when it cites no contribution or one the run did not read, when its
quoted span is not in the cited contribution's text (any of its languages, whitespace
folded), or when it is not lexically supported: fewer than ``MIN_OVERLAP`` of its content
words (lemmas, stopwords out) occur in the contributions it cites. Lexical support is a
floor, not proof of meaning: a paraphrase that keeps the words but flips the sense passes,
which is why model output stays a draft until a reviewer publishes it. Extractive
statements pass by construction and are checked all the same.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ddsnode.analysis.corpus import Contribution
from ddsnode.analysis.summaries import Statement
from ddsnode.analysis.text import tokens

MIN_OVERLAP = 0.6
MAX_TEXT = 2_000
_SPACE = re.compile(r"\s+")


def _squash(text: str) -> str:
    return _SPACE.sub(" ", text).strip().lower()


def reason(statement: Statement, known: Mapping[str, Contribution]) -> str | None:
    """Why ``statement`` must be dropped, or None when it stands."""
    if not statement.text.strip():
        return "empty text"
    if len(statement.text) > MAX_TEXT:
        return f"text longer than {MAX_TEXT} characters"
    if not statement.supported_by:
        return "cites no contribution"
    cited = []
    for iri in statement.supported_by:
        if iri not in known:
            return f"cites an unknown contribution {iri[:200]!r}"
        cited.append(known[iri])
    if statement.quote:
        quote = _squash(statement.quote)
        if not any(quote in _squash(t) for t in cited[0].texts.values()):
            return "quotes text that is not in the cited contribution"
    words = set(tokens(statement.text, statement.language))
    if not words:
        return "no content words"
    support = {w for c in cited for lang, t in c.texts.items()
               for w in tokens(t, statement.language if lang == statement.language else lang)}
    overlap = len(words & support) / len(words)
    if overlap < MIN_OVERLAP:
        return f"not supported by the cited contributions (word overlap {overlap:.2f})"
    return None


def verified(statements: list[Statement], known: Mapping[str, Contribution]
             ) -> tuple[list[Statement], list[tuple[Statement, str]]]:
    """(kept, dropped with reasons)."""
    kept, dropped = [], []
    for s in statements:
        why = reason(s, known)
        if why is None:
            kept.append(s)
        else:
            dropped.append((s, why))
    return kept, dropped

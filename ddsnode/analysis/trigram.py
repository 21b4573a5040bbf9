"""PostgreSQL pg_trgm similarity in Python: Decidim's duplicate method, as a baseline.

Decidim's "similar proposals" use ``similarity(title, ?) >= pg_trgm.similarity_threshold``
(Decidim's default threshold is 0.25; PostgreSQL's own is 0.3). pg_trgm (contrib/pg_trgm,
trgm_op.c ``generate_trgm``) lowercases, splits into words on non-alphanumeric
characters, pads each word with two spaces in front and one behind, and takes the set of
its three-character substrings; similarity is shared / (|a| + |b| - shared).
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def trigrams(text: str) -> frozenset[str]:
    """The pg_trgm trigram set of ``text``."""
    out: set[str] = set()
    for word in _WORD.findall(text.lower()):
        padded = f"  {word} "
        out.update(padded[i:i + 3] for i in range(len(padded) - 2))
    return frozenset(out)


def similarity(a: str, b: str) -> float:
    """pg_trgm ``similarity(a, b)``: 0 when either has no trigram."""
    ta, tb = trigrams(a), trigrams(b)
    if not ta or not tb:
        return 0.0
    shared = len(ta & tb)
    return shared / (len(ta) + len(tb) - shared)

"""Words for full-text search in French, English, Catalan and Spanish.

Every word is folded (Unicode NFKD, combining marks dropped, case folded: ``École`` and
``ecole`` are one word, as ``plaça``/``placa`` and ``participación``/``participacion``) and
indexed beside its folded lemma (simplemma, in the language of the literal), so that
``écoles`` finds ``école`` and ``cyclables`` finds ``cyclable``. A query word is looked
up the same way, plus every lemma the indexed vocabulary maps its folded form to (so an
unaccented plural still reaches its lemma).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import simplemma

LANGUAGES = ("fr", "en", "ca", "es")
# Letters and digits; an apostrophe splits (l'école -> l, école), as does a hyphen.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_WORD = 64  # longer "words" are noise (hashes, URLs): cut, never indexed whole


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """``word`` without accents or case (NFKD, combining marks removed, casefold)."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@lru_cache(maxsize=65536)
def lemma(word: str, lang: str | None) -> str:
    """The folded lemma of ``word`` in ``lang`` (any of the four when None)."""
    langs: str | tuple[str, ...] = lang if lang in LANGUAGES else LANGUAGES
    try:
        return fold(simplemma.lemmatize(word, lang=langs))
    except ValueError:  # a language simplemma does not know
        return fold(word)


# One word per language, whose lookup loads that language's dictionary.
_WARM_WORDS = {"fr": "écoles", "en": "schools", "ca": "escoles", "es": "escuelas"}


def warm() -> dict[str, str]:
    """Load the four languages' lemma dictionaries now, and say what one word of each
    became. simplemma loads a language's dictionary on its first lookup in it (1–2 s of
    CPU each here), so without this the first search with words after a start waits
    for them."""
    return {lang: lemma(word, lang) for lang, word in _WARM_WORDS.items()}


def words(text: str, limit: int = 100_000) -> list[str]:
    """The words of ``text`` (at most ``limit`` characters read), each cut to MAX_WORD."""
    return [w[:MAX_WORD] for w in _WORD.findall(text[:limit])]


def index_terms(text: str, lang: str | None) -> tuple[list[str], dict[str, str]]:
    """(terms to index, folded word -> folded lemma) for ``text`` written in ``lang``."""
    terms: list[str] = []
    vocabulary: dict[str, str] = {}
    for word in words(text):
        folded = fold(word)
        terms.append(folded)
        root = lemma(word.lower(), lang)
        if root and root != folded:
            terms.append(root)
            vocabulary[folded] = root
    return terms, vocabulary

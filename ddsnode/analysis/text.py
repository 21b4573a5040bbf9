"""Text of contributions as analysis tokens: language, words, lemmas, stopwords.

fr, en, ca and es get lemmas (simplemma) and stopwords (stopwords-iso); other languages
get lowercased words. A text without a language tag gets one from py3langid, limited to
the languages the node is expected to hold so that a short text is not called Latin.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

LANGUAGES = ("fr", "en", "ca", "es")
WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@cache
def stopwords(lang: str) -> frozenset[str]:
    """The stopwords of ``lang`` (empty for a language stopwords-iso lacks)."""
    import stopwordsiso
    if lang not in LANGUAGES:
        return frozenset()
    return frozenset(w.lower() for w in stopwordsiso.stopwords(lang))


@cache
def _identifier():  # type: ignore[no-untyped-def]
    from py3langid.langid import MODEL_FILE, LanguageIdentifier
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def detect_language(text: str) -> str:
    """The most likely of fr/en/ca/es for ``text`` (py3langid, deterministic)."""
    lang, _ = _identifier().classify(text[:2000])
    return str(lang)


def _raw_lemma(word: str, lang: str) -> str:
    import simplemma
    return str(simplemma.lemmatize(word, lang=lang)).lower()


@cache
def lemma(word: str, lang: str) -> str:
    """The lemma of a lowercase ``word`` of ``lang`` (simplemma; cached)."""
    return _raw_lemma(word, lang)


def fold(text: str) -> str:
    """Lowercase without accents (``Vélo`` -> ``velo``): spelling noise is not a difference."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def content(word: str, lang: str) -> str | None:
    """The folded lemma of a lowercase ``word``, or None for a stopword (cached per word)."""
    stop = stopwords(lang)
    if word in stop:
        return None
    base = lemma(word, lang) if lang in LANGUAGES else word
    if base in stop or len(base) < 2:
        return None
    return fold(base)


def tokens(text: str, lang: str) -> list[str]:
    """Content words of ``text``: lemmatised, stopwords out, accents folded."""
    out = []
    for match in WORD.finditer(text.lower()):
        term = content(match.group(0), lang)
        if term is not None:
            out.append(term)
    return out


@lru_cache(maxsize=1 << 17)
def analyse_text(text: str, lang: str) -> str:
    """``text`` as the space-joined tokens the vectorisers read (cached: topics, duplicates
    and summaries each read every text)."""
    return " ".join(tokens(text, lang))


def sentences(text: str) -> list[str]:
    """``text`` cut after each sentence end; every piece is a substring of ``text``."""
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


def excerpt(text: str, limit: int = 300) -> str:
    """The first sentences of ``text`` within ``limit`` characters: always a substring of it."""
    text = text.strip()
    if len(text) <= limit:
        return text
    end = 0
    for match in _SENTENCE_END.finditer(text):
        if match.start() > limit:
            break
        end = match.start()
    if end == 0:  # one long sentence: cut at a space
        space = text.rfind(" ", 0, limit)
        end = space if space > limit // 2 else limit
    return text[:end].strip()

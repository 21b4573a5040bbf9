"""What a proposal asks for, beyond its words: its figures, its negation, its actions.

Similarity tells the same topic, not the same measure: "limiter les écarts de salaire de 1
à 5" and "… de 1 à 10", "plafonner les salaires" and "plafonner les salaires et augmenter le
SMIC", "manger bio et local" and "ne manger que local" score as high as true duplicates
(docs/analysis.md, the labelled pairs). So a pair of similar proposals is told apart when
their statements (the title, or a text's first line) differ in one of three ways the
labelling rule (``bench/analysis_eval/README.md``) calls another measure:

- **figures**: both state numbers, and not the same ones ("1 à 5" / "1 à 10"); one
  statement with a figure and one without is still the same measure made more precise;
- **negation**: one is negated ("ne … que", "no", "not") and the other is not;
- **another action**: one adds a clause of its own that starts with an action verb the
  other never uses ("…, stopper l'évasion fiscale", "… et augmenter le SMIC"), an
  independent measure the other lacks. A purpose ("pour …", "afin de …") is not a
  clause of its own: only a comma, a semicolon or "and" opens one.

The word lists are small and written here, per language (fr, en, ca, es); they are
grammar words, not a lexicon. An action verb is recognised by its infinitive ending in
French, Catalan and Spanish (a word the lemmatiser leaves as it is); English infinitives
carry no mark, so English gets figures and negation only.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ddsnode.analysis.text import LANGUAGES, fold, lemma

__all__ = ["Reading", "difference", "difference_across", "differs", "read", "statement"]

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_NEXT_WORD = re.compile(r"\s*([^\W\d_]+)", re.UNICODE)
# Words that negate a statement (folded): French "ne/n'" (ne … pas/que/plus/jamais), and
# their kin. "sans" (without) is left out: "sans condition" is a scope, not a negation.
_NEGATION = {
    "fr": frozenset({"ne", "n"}),
    "en": frozenset({"not", "no", "never", "nor", "don", "t"}),
    "ca": frozenset({"no", "mai"}),
    "es": frozenset({"no", "nunca", "jamas"}),
}
# What opens a clause of its own: a comma or semicolon, or "and" (then the next word).
_AND = {"fr": "et", "en": "and", "ca": "i", "es": "y"}
_CLAUSE = re.compile(r"[,;]|\s(?:et|and|i|y)\s", re.IGNORECASE)
# Infinitive endings (fold()ed) of the languages that mark them.
_INFINITIVE = {
    "fr": ("er", "ir", "dre", "ire", "ttre", "uire", "oir"),
    "ca": ("ar", "er", "ir", "re"),
    "es": ("ar", "er", "ir"),
}


def statement(text: str) -> str:
    """The statement of a contribution's text: its first line (the title when it has one)."""
    return text.strip().split("\n", 1)[0]


Reading = tuple[frozenset[str], bool, frozenset[str], frozenset[str]]


@lru_cache(maxsize=1 << 17)
def _word(word: str, lang: str) -> tuple[str, str]:
    """(folded word, folded lemma) of a lowercase ``word``: cached per word, since a text's
    words are read once for each pair it is in (3 million folds on 50,000 proposals)."""
    base = lemma(word, lang) if lang in LANGUAGES else word  # other languages: the word
    return fold(word), fold(base)


def read(text: str, lang: str) -> Reading:
    """(numbers, negated, verbs that open a clause, every word's folded lemma) of a
    statement; :func:`duplicates.scores` keeps one per contribution for the whole run."""
    low = text.lower()

    def base(word: str) -> str:  # other languages have no lemmatiser: the word itself
        return lemma(word, lang) if lang in LANGUAGES else word
    numbers = frozenset(n.replace(",", ".") for n in _NUMBER.findall(low))
    read_words = [_word(w, lang) for w in _WORD.findall(low)]
    negated = any(w in _NEGATION.get(lang, frozenset()) for w, _ in read_words)
    lemmas = frozenset(b for _, b in read_words)
    verbs: set[str] = set()
    endings = _INFINITIVE.get(lang)
    if endings:
        for match in _CLAUSE.finditer(low):
            opened = match.group(0).strip()
            if opened not in (",", ";") and opened != _AND.get(lang):
                continue  # "i"/"e"/"y" of another language: not a conjunction here
            # The next word, right after the opener (spaces only between): matched where
            # it stands, never searched for, so that a text of commas stays linear.
            following = _NEXT_WORD.match(low, match.end())
            if following is None:
                continue  # a clause that starts with a figure or a sign
            word = following.group(1)
            if word == _AND.get(lang):  # ", et protéger …": the clause's verb comes next
                following = _NEXT_WORD.match(low, following.end())
                if following is None:
                    continue
                word = following.group(1)
            if len(word) > 4 and fold(word).endswith(endings) and base(word) == word:
                verbs.add(fold(word))
    return numbers, negated, frozenset(verbs), lemmas


@lru_cache(maxsize=1 << 12)  # at most 4,096 statements of up to analysis_max_text_chars
def _read(text: str, lang: str) -> Reading:
    return read(text, lang)


def difference(a: str, b: str, lang: str) -> str | None:
    """Why the statements of texts ``a`` and ``b`` (language ``lang``) ask for different
    measures ("figures", "negation", "another action"), or None when nothing says so."""
    return differs(_read(statement(a), lang), _read(statement(b), lang))


def differs(a: Reading, b: Reading) -> str | None:
    """:func:`difference` of two statements already :func:`read` (same language)."""
    na, nega, verbs_a, words_a = a
    nb, negb, verbs_b, words_b = b
    if na and nb and na != nb:
        return "figures"
    if nega != negb:
        return "negation"
    if (verbs_a - words_b) or (verbs_b - words_a):
        return "another action"
    return None



def difference_across(a: str, lang_a: str, b: str, lang_b: str) -> str | None:
    """As :func:`difference`, for texts in two languages with no text in common (tier 2):
    figures and negation, each statement read in its own language, and "another action"
    when one adds more clauses of its own with an action verb than the other (which verbs
    they are cannot be compared without a lexicon)."""
    na, nega, verbs_a, _ = _read(statement(a), lang_a)
    nb, negb, verbs_b, _ = _read(statement(b), lang_b)
    if na and nb and na != nb:
        return "figures"
    if nega != negb:
        return "negation"
    if len(verbs_a) != len(verbs_b):
        return "another action"
    return None

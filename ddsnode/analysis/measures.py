"""What a proposal asks for, beyond its words: its figures, its negation, its actions.

Similarity tells the same topic, not the same measure: "limiter les écarts de salaire de 1
à 5" and "… de 1 à 10", "plafonner les salaires" and "plafonner les salaires et augmenter le
SMIC", "manger bio et local" and "ne manger que local" score as high as true duplicates
(docs/analysis.md, the labelled pairs). So a pair of similar proposals is told apart when
their statements (the title, or a text's first line) differ in one of the ways the
labelling rule (``bench/analysis_eval/README.md``) calls another measure:

- **figures**: both state numbers, and not the same ones ("1 à 5" / "1 à 10"); one
  statement with a figure and one without is still the same measure made more precise;
- **negation**: one negates its measure ("ne … que", "no", "not") and the other negates
  nothing; a negation in a purpose or a condition ("… pour ne pas avoir à travailler",
  "… tant que rien n'a changé") is not the measure's, as the rule says of a purpose;
- **another action**: one adds a clause of its own that starts with an action verb the
  other never uses ("…, stopper l'évasion fiscale", "… et augmenter le SMIC", "… et les
  diminuer", "… et mieux protéger …"), an independent measure the other lacks; in a
  statement of several actions the first is a measure too ("taxer l'aérien, et baisser
  les tarifs du train" / "baisser les tarifs du train"). A purpose ("pour …", "afin de
  …") is not a clause of its own, nor is an "and" inside it: only a comma, a semicolon or
  "and" opens one;
- **another object**: both open with the same action verb and what it acts on shares no
  word ("interdire la 5G" / "interdire les pesticides", "consommer local" / "consommer
  moins"), or shares its first word and nothing after it ("instaurer une taxe carbone" /
  "… une taxe sur les transactions financières"). The object is the content words after
  the verb up to the end of its clause (a punctuation mark, "and" opening another verb,
  a purpose); a word of degree ("plus", "moins", "less") is part of it, a word of emphasis
  ("au maximum", "vraiment") or an adverb of manner ("progressivement") is not.

Machine translations (``translated``) and texts in two languages
(:func:`difference_across`) get the checks as they were before 2026-12-08 (figures, any
negation, an added clause's verb): the later ones compare words, which a translation
changes, and they were designed and measured on French pairs only (docs/analysis.md).

The word lists are small and written here, per language (fr, en, ca, es); they are
grammar words, not a lexicon. An action verb is recognised by its infinitive ending in
French, Catalan and Spanish (a word the lemmatiser leaves as it is); English infinitives
carry no mark, so English gets no "another action", and its action is the statement's
first content word when nothing but a modal ("we must", "we need to") comes before it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache

from ddsnode.analysis.text import LANGUAGES, fold, lemma, stopwords

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
# Object pronouns and adverbs that may stand between "and" and its verb ("… et les
# diminuer", "… et mieux protéger").
_CLITIC = {
    "fr": frozenset({"le", "la", "les", "l", "lui", "leur", "en", "y", "se", "s", "mieux",
                     "aussi", "surtout", "egalement", "enfin", "davantage", "plus", "bien",
                     "donc", "ainsi"}),
    "ca": frozenset({"el", "la", "els", "les", "l", "li", "hi", "en", "n", "es", "s", "millor",
                     "tambe", "sobretot", "mes", "be", "aixi"}),
    "es": frozenset({"lo", "la", "los", "las", "le", "les", "se", "mejor", "tambien", "mas",
                     "bien", "asi"}),
}
_CLAUSE = re.compile(r"[,;]|\s(?:et|and|i|y)\s", re.IGNORECASE)
# What opens a purpose or a condition: a negation or an "and" after it belongs to it, not to
# the measure ("… pour ne pas avoir à travailler", "… pour inciter … et réduire …").
_PURPOSE = {
    "fr": re.compile(r"\b(?:pour|afin|tant que|parce que|car|lorsque|quand|puisque)\b"),
    "en": re.compile(r"\b(?:in order|so that|because|while|until|as long as)\b"),
    "ca": re.compile(r"\b(?:per|perqu[eè]|mentre|quan|fins que)\b"),
    "es": re.compile(r"\b(?:para|porque|mientras|cuando|hasta que)\b"),
}
# Infinitive endings (fold()ed) of the languages that mark them.
_INFINITIVE = {
    "fr": ("er", "ir", "dre", "ire", "ttre", "uire", "oir"),
    "ca": ("ar", "er", "ir", "re"),
    "es": ("ar", "er", "ir"),
}
# Another object. A word with a letter (digits allowed: "5G" names an object).
_TOKEN = re.compile(r"[^\W_]*[^\W\d_][^\W_]*", re.UNICODE)
# Where the action's clause ends (and "and" when a verb follows it, see read()).
_CLAUSE_END = re.compile(r"[,;:.!?…()\[\]]")
# Lemmas (folded) of the modal that opens a proposal ("il faut", "we must", "cal", "hay que
# …" is stopwords): skipped before the action.
_MODAL = {
    "fr": frozenset({"falloir", "devoir", "necessaire", "urgent"}),
    "en": frozenset({"need", "must", "should", "ought", "necessary", "let", "us"}),
    "ca": frozenset({"caldre", "deure", "necessari", "cal"}),
    "es": frozenset({"deber", "falta", "necesario", "preciso"}),
}
# Words of degree (folded): stopwords, yet "consommer moins" asks for another measure than
# "consommer local", so they are part of an object.
_DEGREE = {
    "fr": frozenset({"plus", "moins", "davantage"}),
    "en": frozenset({"more", "less", "fewer"}),
    "ca": frozenset({"mes", "menys"}),
    "es": frozenset({"mas", "menos"}),
}
# Words of emphasis (folded lemmas): the rule says emphasis is no difference, so they are
# not an object ("relocaliser au maximum" / "relocaliser la production").
_EMPHASIS = {
    "fr": frozenset({"absolument", "vraiment", "strictement", "totalement", "vite",
                     "rapidement", "urgence", "enfin", "vrai", "massivement", "definitivement"}),
    "en": frozenset({"really", "absolutely", "strictly", "totally", "quickly", "urgently",
                     "now", "finally", "real", "true", "massively", "definitely"}),
    "ca": frozenset({"realment", "absolutament", "estrictament", "totalment", "rapidament",
                     "urgencia", "finalment", "veritable", "massivament", "definitivament"}),
    "es": frozenset({"realmente", "absolutamente", "estrictamente", "totalmente",
                     "rapidamente", "urgencia", "finalmente", "verdadero", "masivamente",
                     "definitivamente"}),
}
# Emphasis only right after a preposition ("au maximum", "en masse"; "le salaire maximum"
# names an object): the preposition, then the word (folded).
_EMPHASIS_AFTER = {
    "fr": (frozenset({"au", "a", "en"}), frozenset({"maximum", "max", "minimum", "masse"})),
    "en": (frozenset({"to", "at", "a", "en"}), frozenset({"maximum", "minimum", "max", "masse"})),
    "ca": (frozenset({"al", "a", "en"}), frozenset({"maxim", "minim", "massa"})),
    "es": (frozenset({"al", "a", "en"}), frozenset({"maximo", "minimo", "masa"})),
}
# Articles that may stand between a preposition and a word of emphasis (folded).
_ARTICLE = frozenset({"the", "le", "la", "les", "el", "els", "los", "las", "l"})
# Endings of adverbs of manner (folded): not what an object is.
_MANNER = ("ment", "ly", "mente")
# English: an action stands first, or right after one of these (folded words).
_EN_BEFORE_ACTION = frozenset({"to", "must", "should", "shall", "will", "can", "could",
                               "would", "need", "needs", "let", "us", "we", "please"})


@lru_cache(maxsize=8)
def _stop(lang: str) -> frozenset[str]:
    """The folded stopwords of ``lang`` (empty for a language without a list)."""
    return frozenset(fold(w) for w in stopwords(lang))


def statement(text: str) -> str:
    """The statement of a contribution's text: its first line (the title when it has one)."""
    return text.strip().split("\n", 1)[0]


# (numbers, negation: 0 none, 1 in a purpose or condition only, 2 in the measure; verbs
# that open a clause, lemmas, the action, its object's lemmas, its object's first lemma,
# the verbs that open a clause as read before 2026-12-08 for translated texts)
Reading = tuple[frozenset[str], int, frozenset[str], frozenset[str], str, frozenset[str], str,
                frozenset[str]]


@lru_cache(maxsize=1 << 17)
def _word(word: str, lang: str) -> tuple[str, str]:
    """(folded word, folded lemma) of a lowercase ``word``: cached per word, since a text's
    words are read once for each pair it is in (3 million folds on 50,000 proposals)."""
    base = lemma(word, lang) if lang in LANGUAGES else word  # other languages: the word
    return fold(word), fold(base)


def read(text: str, lang: str) -> Reading:
    """(numbers, negation (0 none, 1 in a purpose or a condition only, 2 in the measure),
    verbs that open a clause, every word's folded lemma, the action verb, the lemmas of its
    object, the first of them) of a statement; :func:`duplicates.scores` keeps one per
    contribution for the whole run."""
    low = text.lower()
    numbers = frozenset(n.replace(",", ".") for n in _NUMBER.findall(low))
    read_words = [_word(w, lang) for w in _WORD.findall(low)]
    purpose = _PURPOSE.get(lang)
    found = purpose.search(low) if purpose else None
    cut = found.start() if found else len(low)  # the measure's own words end here
    negations = _NEGATION.get(lang, frozenset())
    negated = (2 if any(w in negations for w, _ in (_word(w, lang)
                                                    for w in _WORD.findall(low[:cut])))
               else 1 if any(w in negations for w, _ in read_words) else 0)
    lemmas = frozenset(b for _, b in read_words)
    verbs: set[str] = set()
    plain: set[str] = set()  # the verbs as read before 2026-12-08 (see differs)
    ends = [m.start() for m in _CLAUSE_END.finditer(low)]  # where the action's clause ends
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
            joined = opened == _AND.get(lang)
            if word == _AND.get(lang):  # ", et protéger …": the clause's verb comes next
                following = _NEXT_WORD.match(low, following.end())
                if following is None:
                    continue
                word, joined = following.group(1), True
            if len(word) > 4 and _is_verb(word, lang):
                plain.add(fold(word))
            if opened not in (",", ";") and match.start() > cut:
                continue  # "pour inciter … et réduire …": the purpose goes on
            # "… et les diminuer": after "and", a pronoun, then the verb ("…, les forcer à
            # …" after a comma alone is left as it was: it often restates the first).
            if joined and fold(word) in _CLITIC.get(lang, ()):
                following = _NEXT_WORD.match(low, following.end())
                if following is None:
                    continue
                word = following.group(1)
            verb = _clause_verb(word, lang)
            if verb:
                verbs.add(verb)
                if opened not in (",", ";"):
                    ends.append(match.start())  # "… et augmenter …": another clause
    # A purpose is no part of the object ("replanter des haies pour protéger …").
    action, thing, head = _action(low, lang, sorted(ends + [cut]))
    return numbers, negated, frozenset(verbs), lemmas, action, thing, head, frozenset(plain)


# Spanish pronouns written onto an infinitive ("limpiarlos"): cut before reading the verb.
_ENCLITIC = {"es": ("los", "las", "les", "nos", "lo", "la", "le", "se")}


def _clause_verb(word: str, lang: str) -> str:
    """The folded infinitive a clause opens with (``word``, or ``word`` without a Spanish
    enclitic pronoun), or "" when ``word`` is no infinitive."""
    if len(word) > 4 and _is_verb(word, lang):
        return fold(word)
    for pronoun in _ENCLITIC.get(lang, ()):
        if word.endswith(pronoun) and len(word) - len(pronoun) > 4 \
                and _is_verb(word[:-len(pronoun)], lang):
            return fold(word[:-len(pronoun)])
    return ""


def _is_verb(word: str, lang: str) -> bool:
    """Whether a lowercase ``word`` is an infinitive (fr, ca, es: its ending, and the
    lemmatiser leaves it as it is)."""
    endings = _INFINITIVE.get(lang)
    if not endings or len(word) < 4 or not fold(word).endswith(endings):
        return False
    return (lemma(word, lang) if lang in LANGUAGES else word) == word


def _next_end(ends: list[int], at: int, last: int) -> int:
    """The first clause end after position ``at`` (``ends`` sorted), or ``last``."""
    k = bisect_right(ends, at)
    return ends[k] if k < len(ends) else last


def _action(low: str, lang: str, ends: list[int]) -> tuple[str, frozenset[str], str]:
    """(the action verb, the folded lemmas of its object, the first of them) of a lowercase
    statement, or ("", empty, "") when it opens with no action (a noun: "un revenu
    universel")."""
    if lang not in LANGUAGES:
        return "", frozenset(), ""
    stop, modal = _stop(lang), _MODAL[lang]
    degree, emphasis = _DEGREE[lang], _EMPHASIS[lang]
    prepositions, emphatic = _EMPHASIS_AFTER[lang]
    action, before, end, previous = "", "", 0, ""
    thing: set[str] = set()
    head = ""
    for match in _TOKEN.finditer(low):
        word = match.group(0)
        folded, base = _word(word, lang)
        if folded not in _ARTICLE:  # "to the maximum": the preposition before the article
            previous, was = folded, previous
        else:
            was = previous
        if not action:
            if folded in stop or base in stop or base in modal:
                before = folded
                continue
            if lang == "en":  # no mark: first, or right after a modal or "to"
                if before and before not in _EN_BEFORE_ACTION:
                    return "", frozenset(), ""
            elif not _is_verb(word, lang):
                return "", frozenset(), ""  # opens with a noun or an adjective: no action
            action = base
            # The clause ends at the first end past the verb; an empty object goes on
            # ("relocaliser, et vite, la production").
            end = _next_end(ends, match.start(), len(low))
            continue
        if match.start() > end:
            if thing:
                break
            end = _next_end(ends, match.start(), len(low))
        if folded in degree:
            base = folded
        elif (folded in stop or base in stop or base in emphasis or folded in emphasis
              or (was in prepositions and folded in emphatic)):
            continue
        thing.add(base)
        head = head or base
    return action, frozenset(thing), head


@lru_cache(maxsize=1 << 12)  # at most 4,096 statements of up to analysis_max_text_chars
def _read(text: str, lang: str) -> Reading:
    return read(text, lang)


def difference(a: str, b: str, lang: str, *, translated: bool = False) -> str | None:
    """Why the statements of texts ``a`` and ``b`` (language ``lang``) ask for different
    measures ("figures", "negation", "another action", "another object"), or None when
    nothing says so; ``translated``: one is a machine translation (see :func:`differs`)."""
    return differs(_read(statement(a), lang), _read(statement(b), lang),
                   translated=translated)


def _negation(a: int, b: int) -> bool:
    """Whether one statement negates its measure and the other negates nothing (a negation
    in a purpose, a reason or a condition says nothing of the measure either way)."""
    return (a == 2 and b == 0) or (b == 2 and a == 0)


def differs(a: Reading, b: Reading, *, translated: bool = False) -> str | None:
    """:func:`difference` of two statements already :func:`read` (same language).

    ``translated``: one text is a machine translation (a platform's pivot). Then only the
    checks as they were before 2026-12-08 run (figures, any negation, a clause's verb the
    other lacks): the object and purpose checks compare words, and a translation words the
    same measure otherwise, so they cost recall across languages (docs/analysis.md)."""
    na, nega, verbs_a, words_a, action_a, thing_a, head_a, plain_a = a
    nb, negb, verbs_b, words_b, action_b, thing_b, head_b, plain_b = b
    if na and nb and na != nb:
        return "figures"
    if translated:
        if (nega != 0) != (negb != 0):
            return "negation"
        return "another action" if (plain_a - words_b) or (plain_b - words_a) else None
    if _negation(nega, negb):
        return "negation"
    if (verbs_a - words_b) or (verbs_b - words_a):
        return "another action"
    # A statement of several actions: its first one is a measure of its own too.
    if (verbs_a and action_a and action_a not in words_b) or (
            verbs_b and action_b and action_b not in words_a):
        return "another action"
    if action_a and action_a == action_b and thing_a and thing_b:
        if not _overlap(thing_a, thing_b):
            return "another object"
        # The same thing, told apart by what is said of it ("une taxe carbone" / "une taxe
        # sur les transactions financières"): what follows the first word shares nothing.
        if head_a == head_b and not _overlap(_modifiers(thing_a, head_a),
                                             _modifiers(thing_b, head_b), empty=True):
            return "another object"
    return None


def _modifiers(thing: frozenset[str], head: str) -> frozenset[str]:
    """The words of an object besides its first, without adverbs of manner ("sortir du
    nucléaire progressivement" / "… intelligemment": one measure, said two ways)."""
    return frozenset(w for w in thing if w != head and not w.endswith(_MANNER))


def _overlap(a: frozenset[str], b: frozenset[str], empty: bool = False) -> bool:
    """Whether two sets of lemmas share a word, or a word's first five letters (a light
    stem: "travail" / "travailler"); ``empty``: a side with no word overlaps anything."""
    if not a or not b:
        return empty
    return bool(a & b) or bool({w[:5] for w in a if len(w) >= 5}
                               & {w[:5] for w in b if len(w) >= 5})


def difference_across(a: str, lang_a: str, b: str, lang_b: str) -> str | None:
    """As :func:`difference`, for texts in two languages with no text in common (tier 2):
    figures and negation, each statement read in its own language, and "another action"
    when one adds more clauses of its own with an action verb than the other (which verbs
    they are cannot be compared without a lexicon). These are the checks as they were
    before 2026-12-08: the later ones were designed on French pairs and not measured
    across languages."""
    na, nega, *_, verbs_a = _read(statement(a), lang_a)
    nb, negb, *_, verbs_b = _read(statement(b), lang_b)
    if na and nb and na != nb:
        return "figures"
    if (nega != 0) != (negb != 0):
        return "negation"
    if len(verbs_a) != len(verbs_b):
        return "another action"
    return None

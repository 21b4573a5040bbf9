"""Agreement of two labellers on the same-language duplicate pairs (issue 13), and the
adjudicated labels.

The first labels are ``bench/analysis_eval/makeorg_pairs.csv``; the second labeller's,
made blind (``bench/analysis_eval/blind_sheet.py``: the two texts and the rule, shuffled,
no label), are ``pairs_second_labeller.csv``; each disagreement is settled by the written
rule in ``pairs_adjudicated.csv``. Prints raw agreement, Cohen's kappa, the confusion
table and the disagreements. ``bench/analysis_quality.py`` prints the same and reports the
methods on both sets of labels.

    .venv/bin/python bench/analysis_agreement.py
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

EVAL = Path(__file__).resolve().parent / "analysis_eval"
FIRST = EVAL / "makeorg_pairs.csv"
SECOND = EVAL / "pairs_second_labeller.csv"
ADJUDICATED = EVAL / "pairs_adjudicated.csv"

Pair = tuple[str, str]


def read_rows(path: Path) -> list[dict[str, str]]:
    """The rows of one of the evaluation CSV files."""
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def labels(path: Path) -> dict[Pair, int]:
    """``(a_id, b_id) -> label`` of a file with ``a_id``, ``b_id`` and ``label`` columns."""
    return {(r["a_id"], r["b_id"]): int(r["label"]) for r in read_rows(path)}


def confusion(first: list[int], second: list[int]) -> dict[tuple[int, int], int]:
    """Counts of ``(first label, second label)`` over the pairs, all four cells present."""
    table = {(i, j): 0 for i in (0, 1) for j in (0, 1)}
    for i, j in zip(first, second, strict=True):
        table[(i, j)] += 1
    return table


def kappa(first: list[int], second: list[int]) -> float:
    """Cohen's kappa of two labellers' binary labels: (po - pe) / (1 - pe)."""
    n = len(first)
    table = confusion(first, second)
    observed = (table[(0, 0)] + table[(1, 1)]) / n
    # Chance agreement: each labeller's own share of each label, independently.
    expected = sum((table[(k, 0)] + table[(k, 1)]) * (table[(0, k)] + table[(1, k)])
                   for k in (0, 1)) / (n * n)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def adjudicated_rows() -> list[dict[str, str]]:
    """The first file's rows with the adjudicated labels; a pair turned into a non-duplicate
    is the same topic with another measure, so its kind becomes ``hard-negative``."""
    settled = {(r["a_id"], r["b_id"]): r for r in read_rows(ADJUDICATED)}
    rows = []
    for row in read_rows(FIRST):
        verdict = settled.get((row["a_id"], row["b_id"]))
        if verdict is not None and int(verdict["adjudicated"]) != int(row["label"]):
            label = int(verdict["adjudicated"])
            row = row | {"label": str(label), "kind": "same" if label else "hard-negative",
                         "note": verdict["why"]}
        rows.append(row)
    return rows


def report() -> None:
    """Print the agreement of the two labellers and the adjudication of each disagreement."""
    first, second = labels(FIRST), labels(SECOND)
    if set(first) != set(second):
        sys.exit(f"the label files hold different pairs: {sorted(set(first) ^ set(second))}")
    pairs = list(first)
    a, b = [first[p] for p in pairs], [second[p] for p in pairs]
    table = confusion(a, b)
    agree = table[(0, 0)] + table[(1, 1)]
    print(f"labellers: {len(pairs)} pairs, raw agreement {agree}/{len(pairs)} = "
          f"{agree / len(pairs):.3f}, Cohen's kappa {kappa(a, b):.3f}")
    print(f"  {'':<22}{'second: same':>14}{'second: not':>13}")
    for k, name in ((1, "first: same"), (0, "first: not")):
        print(f"  {name:<22}{table[(k, 1)]:>14}{table[(k, 0)]:>13}")
    settled = {(r["a_id"], r["b_id"]): r for r in read_rows(ADJUDICATED)}
    final = {(r["a_id"], r["b_id"]): int(r["label"]) for r in adjudicated_rows()}
    print(f"  disagreements, adjudicated by the rule ({sum(final.values())} duplicates of "
          f"{len(final)} after, {sum(first.values())} before):")
    for p in pairs:
        if first[p] != second[p]:
            why = settled[p]["why"] if p in settled else "NOT ADJUDICATED"
            print(f"    {p[0]}/{p[1]}: first {first[p]}, second {second[p]} -> "
                  f"{final[p]}: {why}")


if __name__ == "__main__":
    report()

"""Print the same-language pairs without their labels, shuffled, for a second labeller.

Issue 13: the set of ``makeorg_pairs.csv`` was labelled by one person. A second labeller
reads this sheet (the two texts, in a shuffled order and orientation, and nothing else)
beside the rule of ``README.md``, and writes a label per line; ``pairs_second_labeller.csv``
was made so. Run: ``python bench/analysis_eval/blind_sheet.py > /tmp/sheet.txt``.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[2] / "shared" / "data" / "makeorg-mondedapres" / "mondedapres_2020_05_28.csv"
PAIRS = HERE / "makeorg_pairs.csv"


def blind_pairs(seed: int) -> list[tuple[str, str]]:
    """The pairs' ids only (label, kind and note dropped), shuffled in order and orientation."""
    with PAIRS.open(newline="", encoding="utf-8") as f:
        pairs = [(r["a_id"], r["b_id"]) for r in csv.DictReader(f)]
    rng = random.Random(seed)
    rng.shuffle(pairs)
    # Which text comes first is shuffled too, so the file's a/b order hints at nothing.
    return [(b, a) if rng.random() < 0.5 else (a, b) for a, b in pairs]


def main() -> None:
    """Write the sheet: a number, the two ids, the two texts."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=20261207)
    args = parser.parse_args()
    with DATA.open(newline="", encoding="utf-8") as f:
        text = {r["id"]: r["proposition"].strip() for r in csv.DictReader(f)}
    for i, (a, b) in enumerate(blind_pairs(args.seed), 1):
        sys.stdout.write(f"[{i}] {a} | {b}\n  A: {text[a]}\n  B: {text[b]}\n\n")


if __name__ == "__main__":
    main()

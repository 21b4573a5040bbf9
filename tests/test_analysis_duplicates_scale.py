"""Duplicate candidates at scale (issue 13): the blocked product that skips the lower
triangle and the measure checks read once per text find exactly the pairs of the plain
all-pairs definition, on real Make.org proposals and across block boundaries."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from ddsnode.analysis import duplicates
from ddsnode.analysis.corpus import Contribution
from ddsnode.analysis.measures import difference, differs, read, statement
from ddsnode.analysis.text import analyse_text

DATA = (Path(__file__).resolve().parent.parent.parent / "shared" / "data"
        / "makeorg-mondedapres" / "mondedapres_2020_05_28.csv")


def _proposals(n: int) -> list[Contribution]:
    with DATA.open(encoding="utf-8") as f:
        rows = [r["proposition"].strip() for _, r in zip(range(n), csv.DictReader(f),
                                                         strict=False)]
    return [Contribution(f"makeorg:{i:05d}", "Proposal", texts={"fr": t})
            for i, t in enumerate(rows)]


@pytest.mark.skipif(not DATA.is_file(), reason="the Make.org data is not in ../shared/data")
def test_blocked_pairs_are_the_all_pairs_definition() -> None:
    items = _proposals(4_500)  # three blocks of 2,000 rows: pairs within and across blocks
    threshold = 0.45
    found = duplicates.scores(items, threshold)
    members = duplicates.comparable(items)
    x = duplicates.matrix([analyse_text(c.texts["fr"], "fr") for c in members])
    assert x is not None and x.shape[0] > 2 * duplicates._BLOCK
    dense = (x @ x.T).toarray()
    expected = {}
    for i, j in zip(*np.nonzero(np.triu(dense >= threshold, k=1)), strict=True):
        a, b = members[int(i)], members[int(j)]
        if difference(a.texts["fr"], b.texts["fr"], "fr") is None:
            expected[(a.iri, b.iri)] = round(min(1.0, float(dense[i, j])), 4)
    assert len(expected) > 50  # real near pairs, some across blocks
    assert {k: v.score for k, v in found.items()} == expected
    across = [k for k in expected
              if int(k[0].split(":")[1]) // 2_000 != int(k[1].split(":")[1]) // 2_000]
    assert across


def test_read_once_agrees_with_the_pairwise_check() -> None:
    texts = ["Il faut limiter les écarts de salaire de 1 à 5.",
             "Il faut limiter les écarts de salaires de 1 à 10",
             "Il faut manger bio et local.", "Il faut ne manger que local",
             "Il faut plafonner les salaires et augmenter le SMIC.",
             "Il faut plafonner les salaires"]
    for a in texts:
        for b in texts:
            assert differs(read(statement(a), "fr"), read(statement(b), "fr")) \
                == difference(a, b, "fr")

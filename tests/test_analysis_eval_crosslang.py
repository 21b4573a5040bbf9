"""The labelled pairs across languages (``bench/analysis_eval/``) keep their format and
stay a held-out set: the benchmark's figures mean nothing if a file drifts."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "bench" / "analysis_eval"
DATA = ROOT.parent / "shared" / "data" / "makeorg-mondedapres" / "mondedapres_2020_05_28.csv"
COLUMNS = ["a_id", "b_id", "label", "b_lang", "b_translation", "b_pivot_fr"]


def rows(name: str) -> list[dict[str, str]]:
    with (EVAL / name).open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == COLUMNS
        return list(reader)


@pytest.mark.parametrize("name, pairs, same", [("crosslang_pairs.csv", 30, 20),
                                               ("crosslang_pairs_extended.csv", 131, 53)])
def test_each_file_has_its_pairs(name: str, pairs: int, same: int) -> None:
    found = rows(name)
    assert len(found) == pairs
    assert sum(r["label"] == "1" for r in found) == same
    assert {r["label"] for r in found} == {"0", "1"}
    assert {r["b_lang"] for r in found} == {"es", "ca", "en"}
    for r in found:
        assert r["a_id"] != r["b_id"]
        assert r["b_translation"].strip() and r["b_pivot_fr"].strip()
        assert r["b_translation"] != r["b_pivot_fr"]


def test_no_pair_is_labelled_twice() -> None:
    keys = [frozenset((r["a_id"], r["b_id"]))
            for name in ("crosslang_pairs.csv", "crosslang_pairs_extended.csv")
            for r in rows(name)]
    assert len(keys) == len(set(keys))


@pytest.mark.skipif(not DATA.exists(), reason="the Make.org file is in ../shared/data only")
def test_every_id_is_a_real_proposal() -> None:
    with DATA.open(encoding="utf-8") as f:
        ids = {r["id"] for r in csv.DictReader(f)}
    for name in ("crosslang_pairs.csv", "crosslang_pairs_extended.csv"):
        for r in rows(name):
            assert r["a_id"] in ids and r["b_id"] in ids, (name, r["a_id"], r["b_id"])

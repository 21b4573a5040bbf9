"""The duplicate evaluation set's two labellers (issue 13): the second labeller's file covers
the first's pairs, every disagreement is adjudicated, and kappa is Cohen's."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "analysis_agreement.py"


@pytest.fixture(scope="module")
def agreement() -> ModuleType:
    """``bench/analysis_agreement.py``, loaded by path (``bench`` is not a package)."""
    spec = importlib.util.spec_from_file_location("analysis_agreement", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_kappa_is_cohens(agreement: ModuleType) -> None:
    """The textbook case: 50 items, 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no: po 0.7,
    pe 0.5, kappa 0.4; identical labels give 1; a labeller who always says yes gives 0."""
    first = [1] * 20 + [1] * 5 + [0] * 10 + [0] * 15
    second = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert agreement.confusion(first, second) == {(1, 1): 20, (1, 0): 5, (0, 1): 10,
                                                  (0, 0): 15}
    assert agreement.kappa(first, second) == pytest.approx(0.4)
    assert agreement.kappa(first, first) == pytest.approx(1.0)
    assert agreement.kappa(first, [1] * len(first)) == pytest.approx(0.0)


def test_second_labeller_labelled_every_pair_once(agreement: ModuleType) -> None:
    """Same pairs in the same orientation, a 0 or 1 each, a reason for each borderline."""
    first = agreement.read_rows(agreement.FIRST)
    second = agreement.read_rows(agreement.SECOND)
    assert [(r["a_id"], r["b_id"]) for r in second] == [(r["a_id"], r["b_id"]) for r in first]
    assert {r["label"] for r in second} <= {"0", "1"}
    borderline = [r for r in second if r["borderline"] == "1"]
    assert borderline and all(r["reason"].strip() for r in borderline)


def test_every_disagreement_is_adjudicated_once(agreement: ModuleType) -> None:
    """The adjudication file holds exactly the disagreements, with both labels as the files
    have them, a verdict that is one of the two, and why."""
    first, second = agreement.labels(agreement.FIRST), agreement.labels(agreement.SECOND)
    settled = agreement.read_rows(agreement.ADJUDICATED)
    disagreements = {p for p in first if first[p] != second[p]}
    assert {(r["a_id"], r["b_id"]) for r in settled} == disagreements
    assert len(settled) == len(disagreements)
    for row in settled:
        pair = (row["a_id"], row["b_id"])
        assert (int(row["first"]), int(row["second"])) == (first[pair], second[pair])
        assert int(row["adjudicated"]) in (first[pair], second[pair])
        assert row["why"].strip()


def test_adjudicated_rows_apply_the_verdicts(agreement: ModuleType) -> None:
    """The adjudicated set is the first with each verdict applied; a pair turned into a
    non-duplicate becomes a hard negative, and no other row changes."""
    first = agreement.read_rows(agreement.FIRST)
    verdicts = {(r["a_id"], r["b_id"]): int(r["adjudicated"])
                for r in agreement.read_rows(agreement.ADJUDICATED)}
    rows = agreement.adjudicated_rows()
    assert len(rows) == len(first)
    changed = 0
    for before, after in zip(first, rows, strict=True):
        pair = (before["a_id"], before["b_id"])
        if pair in verdicts and verdicts[pair] != int(before["label"]):
            changed += 1
            assert int(after["label"]) == verdicts[pair]
            assert after["kind"] == ("same" if verdicts[pair] else "hard-negative")
        else:
            assert after == before
    assert changed == sum(1 for before in first if verdicts.get(
        (before["a_id"], before["b_id"]), int(before["label"])) != int(before["label"]))

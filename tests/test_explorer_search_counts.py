"""Facet counts through the postings' layout (``facet_counts.Layout``): by doc for a small
result set, one gather for a large one, and per posting for what changed since the
layout was made; every way gives what counting each posting alone gives.

The reference is ``Posting.count_in`` (itself held to SQL by ``tests/test_search_facets.py``);
the postings are random, with pending ids, compactions and new values, and the result
sets run from empty to every doc, so both counting paths and the fallback are compared.
"""

from __future__ import annotations

import numpy as np
import pytest

from ddsnode.explorer.facet_counts import SPARSE, FacetTable, Layout, Posting

FACETS = ("kind", "topic", "language")


def alone(table: FacetTable, mask: np.ndarray) -> dict[str, list[tuple[str, int]]]:
    """The reference: each posting counted on its own, in the table's order."""
    out: dict[str, list[tuple[str, int]]] = {f: [] for f in FACETS}
    for (facet, value), posting in table.postings.items():
        if facet in out and (n := posting.count_in(mask)):
            out[facet].append((value, n))
    return out


@pytest.fixture(scope="module")
def table() -> FacetTable:
    rng = np.random.default_rng(12)
    docs = 3000
    made = FacetTable()
    for facet, values in (("kind", 6), ("topic", 30), ("language", 4), ("node", 2)):
        for v in range(values):
            ids = np.unique(rng.integers(1, docs, size=int(rng.integers(0, docs // 8))))
            made.postings[(facet, f"v{v}")] = Posting(ids.astype(np.int64))
    made.max_id = docs
    made.loaded = True
    return made


def masks(size: int, rng: np.random.Generator) -> list[np.ndarray]:
    out = [np.zeros(size, dtype=np.bool_), np.ones(size, dtype=np.bool_)]
    for share in (0.001, 0.01, 0.05, 1 / SPARSE, 0.3, 0.9):
        out.append(rng.random(size) < share)
    out.append(np.ones(size // 2, dtype=np.bool_))  # made before the last docs came
    return out


def test_both_paths_equal_counting_each_posting(table: FacetTable) -> None:
    rng = np.random.default_rng(3)
    sparse = dense = 0
    for mask in masks(table.max_id + 1, rng):
        assert table.counts(FACETS, mask) == alone(table, mask)
        layout = table._laid_out(FACETS)
        chosen = int(np.count_nonzero(mask[:len(layout.doc_start) - 1]))
        if chosen * SPARSE < len(layout.flat):
            sparse += 1
        else:
            dense += 1
    assert sparse >= 3 and dense >= 3  # both ways were compared


def test_pending_ids_compactions_and_new_values_are_counted(table: FacetTable) -> None:
    rng = np.random.default_rng(5)
    table.counts(FACETS, np.ones(table.max_id + 1, dtype=np.bool_))  # laid out now
    for doc in range(table.max_id + 1, table.max_id + 200):  # new docs, some new values
        table.add(doc, [("kind", f"v{doc % 6}"), ("topic", f"new{doc % 3}"), ("topic", "v1")])
    for doc in rng.choice(table.max_id, size=300, replace=False).tolist():
        table.remove(int(doc), [("kind", f"v{v}") for v in range(6)])
    before = table.postings[("topic", "v1")].base
    table.postings[("topic", "v1")].compact()  # a base replaced behind the layout's back
    assert table.postings[("topic", "v1")].base is not before
    first, *others = masks(table.max_id + 1, rng)
    assert table.counts(FACETS, first) == alone(table, first)
    assert table._layout is None  # it met the replaced base: laid out again next time
    for mask in others:
        assert table.counts(FACETS, mask) == alone(table, mask)
    assert table._layout is not None
    layout = table._layout[1]
    compacted = table.postings[("topic", "v1")]
    assert layout.bases[layout.index[("topic", "v1")]] is compacted.base


def test_an_empty_table_counts_nothing() -> None:
    empty = FacetTable()
    empty.loaded = True
    assert empty.counts(FACETS, np.ones(10, dtype=np.bool_)) == {f: [] for f in FACETS}
    assert len(Layout.of([]).sums(np.ones(10, dtype=np.bool_))) == 0

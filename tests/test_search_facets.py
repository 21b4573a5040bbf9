"""Facet counts and result sets from in-memory postings (ddsnode/explorer/facet_counts.py,
result_set.py) give exactly what SQL over the index's rows gives: the reference here is
the grouped query the explorer used before (``SELECT facet, value, count(*) … GROUP BY``),
run on the same file, over many queries, after writes, rewrites and deletes (the
postings' pending ids), after a compaction, and when another process wrote the file.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ddsnode.explorer import result_set
from ddsnode.explorer.facet_counts import FacetTable, Posting
from ddsnode.explorer.query import FACETS, Limits, SearchQuery, parse
from ddsnode.explorer.search import FACET_VALUES, FILE, SearchIndex
from tests.support.inprocess import LocalNode, local_node

TOPICS = ["https://w3id.org/dds/topics#mobility", "https://w3id.org/dds/topics#housing",
          "https://w3id.org/dds/topics#schools"]
WORDS = ["tram", "garden", "library", "bench", "school"]


def reference(db: Path, query: SearchQuery, match: str | None) -> tuple[int, dict[str, Any],
                                                                         list[str]]:
    """Total, facet counts and the first page's IRIs, by SQL alone."""
    clauses: list[str] = []
    params: list[Any] = []
    if match is not None:
        clauses.append("d.id IN (SELECT rowid FROM terms WHERE terms MATCH ?)")
        params.append(match)
    for facet in FACETS:
        values = query.filters.get(facet)
        if values:
            clauses.append(f"d.id IN (SELECT doc FROM facets WHERE facet = ? AND value IN "
                           f"({', '.join('?' * len(values))}))")
            params += [facet, *values]
    if query.date_from:
        clauses.append("d.date >= ?")
        params.append(query.date_from)
    if query.bbox:
        west, south, east, north = query.bbox
        clauses.append("d.long BETWEEN ? AND ? AND d.lat BETWEEN ? AND ?")
        params += [west, east, south, north]
    where = " AND ".join(clauses) or "1"
    with sqlite3.connect(db) as conn:
        total = conn.execute(f"SELECT count(*) FROM docs d WHERE {where}", params).fetchone()[0]
        counts: dict[str, list[tuple[str, int]]] = {f: [] for f in FACETS}
        for facet, value, n in conn.execute(
                f"SELECT facet, value, count(*) FROM facets WHERE doc IN "
                f"(SELECT d.id FROM docs d WHERE {where}) GROUP BY facet, value", params):
            counts[facet].append((value, n))
        for values in counts.values():
            values.sort(key=lambda fv: (-fv[1], fv[0]))
            del values[FACET_VALUES:]
        first = [r[0] for r in conn.execute(
            f"SELECT d.iri FROM docs d WHERE {where} ORDER BY d.sortkey DESC, d.id DESC "
            f"LIMIT ?", (*params, query.size))]
    return total, counts, first


def write(node: LocalNode, http: Any, n: int, *, topic: str, word: str,
          lang: str = "en") -> None:
    _, raw = node.example("a-proposal-school-streets")
    doc = json.loads(raw)
    doc["id"] = node.url(f"proposals/p{n}")
    doc["title"] = {lang: f"{word} proposal number {n}"}
    doc["body"] = {lang: f"We want a {word} near the river ({n})."}
    doc.pop("machineTranslated", None)
    doc["place"]["id"] = doc["id"] + "#place"
    doc["topic"] = [topic]
    doc["created"] = f"2026-0{1 + n % 9}-1{n % 10}T10:00:00Z"
    r = http.put(doc["id"], content=json.dumps(doc).encode(),
                 headers={"Content-Type": "application/ld+json", **node.auth()})
    assert r.status_code in (201, 204), r.text


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    with local_node(tmp_path_factory.mktemp("search-facets")) as running:
        yield running


def queries(limits: Limits) -> list[SearchQuery]:
    """Every combination of a word (or none), a topic (or none) and a kind (or none),
    plus dates, a bounding box and two values of one facet."""
    out = []
    kinds = ["", "https://w3id.org/dds/ns#Proposal"]
    for word, topic, kind in itertools.product(["", *WORDS], ["", *TOPICS], kinds):
        pairs = [("q", word)] if word else []
        pairs += [("topic", topic)] if topic else []
        pairs += [("kind", kind)] if kind else []
        out.append(parse(pairs, limits))
    out.append(parse([("topic", TOPICS[0]), ("topic", TOPICS[1])], limits))
    out.append(parse([("from", "2026-05-01")], limits))
    out.append(parse([("bbox", "-180,-90,180,90"), ("q", "river")], limits))
    out.append(parse([("q", "nothingmatchesthis")], limits))
    return out


def check_all(index: SearchIndex, db: Path) -> int:
    """Compare every query with the reference; how many were compared."""
    limits = Limits()
    compared = 0
    for query in queries(limits):
        index.generation += 1  # no cached answer: count again
        results = index.search(query)
        total, counts, first = reference(db, query, index._match(query.terms))
        assert results.total == total, query
        assert results.facets == counts, query
        assert [h.iri for h in results.hits] == first, query
        compared += 1
    return compared


def test_counts_equal_sql_through_writes_rewrites_and_deletes(node: LocalNode) -> None:
    core = node.app.node  # type: ignore[attr-defined]
    index = SearchIndex(core.settings.node_dir, core.store, core.base, core.containers)
    db = core.settings.node_dir / FILE
    with node.client() as http:
        for n in range(40):
            write(node, http, n, topic=TOPICS[n % 3], word=WORDS[n % 5])
        index.sync()
        assert check_all(index, db) == 52
        assert index.table.loaded  # counted from the postings, not from rows
        # Rewrites move docs between values (new rowids: pending ids in the postings);
        # deletes remove them.
        for n in range(0, 40, 3):
            write(node, http, n, topic=TOPICS[(n + 1) % 3], word=WORDS[(n + 2) % 5],
                  lang="fr")
        for n in range(1, 40, 7):
            r = http.delete(node.url(f"proposals/p{n}"), headers=node.auth())
            assert r.status_code == 204, r.text
        index.sync()
        pending = sum(len(p.added) + len(p.removed) for p in index.table.postings.values())
        assert pending > 0  # the incremental path is the one compared
        check_all(index, db)
        # Folded back into arrays, the postings still agree.
        for posting in index.table.postings.values():
            posting.compact()
        check_all(index, db)
    index.close()


def test_another_process_writing_the_index_is_seen(node: LocalNode) -> None:
    """Two workers share DIR/explorer.sqlite3: the one that did not write reloads its
    postings (the index's epoch moved) and its caches (the generation moved)."""
    core = node.app.node  # type: ignore[attr-defined]
    db = core.settings.node_dir / FILE
    first = SearchIndex(core.settings.node_dir, core.store, core.base, core.containers)
    second = SearchIndex(core.settings.node_dir, core.store, core.base, core.containers)
    first.sync()
    second.sync()
    kind = parse([("kind", "https://w3id.org/dds/ns#Proposal")], Limits())
    before = second.search(kind).total
    with node.client() as http:
        write(node, http, 500, topic=TOPICS[2], word="tram")
    assert first.sync() == 1  # the first worker indexes the write…
    assert second.sync() == 0  # …so the second finds nothing to replay,
    assert second.search(kind).total == before + 1  # yet answers with it
    assert check_all(second, db) == 52
    first.close()
    second.close()


def test_pages_from_the_loaded_order_and_from_fresh_docs_agree_with_sql(
        node: LocalNode) -> None:
    """A page's rows are chosen among the docs whose place in the order was loaded and
    those written since: from every cursor, both ways, they are SQL's rows."""
    core = node.app.node  # type: ignore[attr-defined]
    index = SearchIndex(core.settings.node_dir, core.store, core.base, core.containers)
    index.sync()
    with node.client() as http:  # written after the load: fresh docs
        for n in range(700, 706):
            write(node, http, n, topic=TOPICS[0], word="bench")
    index.sync()
    assert index.table.fresh
    conn = index._conn()
    kinds = ["https://w3id.org/dds/ns#Proposal", "https://w3id.org/dds/ns#Comment"]
    rows = conn.execute("SELECT sortkey, id FROM docs ORDER BY sortkey DESC, id DESC").fetchall()
    cursors: list[tuple[str, int] | None] = [None, *[(k, d) for k, d in rows[::3]],
                                             ("0000", 0), ("9999", 10 ** 9)]
    compared = 0
    for mask in (None, index.table.union("kind", kinds, index.table.max_id + 1)):
        for cursor in cursors:
            for newer in (False, True):
                got = result_set.page(conn, index.table, mask, cursor, newer, 4)
                where, params = "1", []
                if mask is not None:
                    chosen = np.flatnonzero(mask).tolist()
                    where = f"d.id IN ({', '.join(map(str, chosen))})"
                if cursor is not None:
                    op = ">" if newer else "<"
                    where += f" AND (d.sortkey {op} ? OR (d.sortkey = ? AND d.id {op} ?))"
                    params = [cursor[0], cursor[0], cursor[1]]
                order = "ASC" if newer else "DESC"
                want = conn.execute(
                    f"SELECT d.id FROM docs d WHERE {where} ORDER BY d.sortkey {order}, "
                    f"d.id {order} LIMIT 4", params).fetchall()
                assert [r[-1] for r in got] == [r[0] for r in want], (cursor, newer)
                compared += len(want)
    assert compared > 100
    index.close()


def test_posting_arithmetic() -> None:
    """A posting is its array, plus added, minus removed; a compaction keeps that."""
    posting = Posting(np.array([1, 4, 9], dtype=np.int64))
    table = FacetTable()
    table.loaded = True
    table.postings[("kind", "K")] = posting
    table.add(12, [("kind", "K")])
    table.remove(4, [("kind", "K")])
    table.add(4, [("kind", "K")])  # a reused rowid comes back
    table.remove(9, [("kind", "K")])
    mask = np.zeros(13, dtype=np.bool_)
    mask[[1, 4, 9, 12]] = True
    assert posting.size() == 3 and posting.count_in(mask) == 3
    posting.compact()
    assert posting.base.tolist() == [1, 4, 12] and not posting.added and not posting.removed
    assert table.counts(["kind"], None) == {"kind": [("K", 3)]}
    assert table.union("kind", ["K", "absent"], 13).nonzero()[0].tolist() == [1, 4, 12]
    # A mask made before doc 12 was indexed is shorter than the ids: they are not in it.
    short = np.ones(10, dtype=np.bool_)
    assert posting.count_in(short) == 2
    assert table.union("kind", ["K"], 10).nonzero()[0].tolist() == [1, 4]

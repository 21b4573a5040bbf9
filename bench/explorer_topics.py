"""What the topics of a search cost (issue 13: "the explorer shows … the topics of a filter").

    .venv/bin/python bench/explorer_topics.py [--docs 100000] [--topics 40] [--repeat 7]

Builds a search index file (``explorer.sqlite3``'s own schema, rows written directly: no
node, no store) with ``--docs`` contributions carrying the facets a real one carries (kind,
platform topic, language, node, platform), loads its postings, and measures, in this
process:

* **counting**: the facet counts of a result set (every doc; 60 % of them; 500 of them),
  without the ``cluster`` facet (the baseline of the same run) and with it, after
  ``--topics`` topic clusters holding 90 % of the docs were indexed: the ratio is what the
  topics panel adds to a search's counting;
* **indexing the topics**: the derived ``cluster`` rows of all the topics
  (``clusters.tag_members``), against writing the docs' own facet rows in the same run;
* **indexing a member after its topic**: ``clusters.naming`` per doc, against the
  primary-key look-up of the doc's own row (``SELECT id FROM docs WHERE iri = ?``).

Prints times (best of ``--repeat``) and ratios to the baselines, with the load average.
A script, never a test.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ddsnode.explorer import clusters
from ddsnode.explorer.facet_counts import FacetTable
from ddsnode.explorer.search import DDL

BASE = "https://n.example/"
KIND = "https://w3id.org/dds/ns#Proposal"
FACETS = ("kind", "topic", "place", "platform", "node", "state", "language")


def best(repeat: int, work: Callable[[], Any]) -> float:
    """The best wall time of ``repeat`` runs of ``work``, in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return min(times)


def build(conn: sqlite3.Connection, docs: int, rng: random.Random) -> float:
    """Write ``docs`` contributions and their own facet rows; the facet rows' time (ms)."""
    conn.executescript(DDL)
    rows = [(i, f"{BASE}proposals/p{i}", BASE, KIND, "{}", "{}", f"2026-{i % 12 + 1:02}-01",
             f"2026-{i % 12 + 1:02}-01") for i in range(1, docs + 1)]
    conn.executemany("INSERT INTO docs (id, iri, node, kind, titles, summaries, date, "
                     "sortkey) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    facets = []
    for i in range(1, docs + 1):
        facets += [("kind", KIND, i), ("node", BASE, i),
                   ("topic", f"{BASE}topics/t{rng.randrange(30)}", i),
                   ("language", rng.choice(("fr", "en", "ca", "es")), i),
                   ("platform", f"https://platform{rng.randrange(3)}.example/", i)]
    start = time.perf_counter()
    with conn:
        conn.executemany("INSERT OR IGNORE INTO facets VALUES (?, ?, ?)", facets)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--topics", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(13)
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "explorer.sqlite3")
        own_rows = build(conn, args.docs, rng)
        table = FacetTable()
        table.load(conn, "bench")
        size = table.max_id + 1
        masks: dict[str, Any] = {"every doc": None}
        for name, share in (("60 % of the docs", 0.6), ("500 docs", 500 / args.docs)):
            mask = np.zeros(size, dtype=np.bool_)
            mask[1:] = np.random.default_rng(13).random(size - 1) < share
            masks[name] = mask
        before = {name: best(args.repeat, lambda m=m: table.counts(FACETS, m))
                  for name, m in masks.items()}

        # The topics: a TopicCluster doc each, linking to its members (90 % of the docs).
        members: dict[int, list[str]] = {t: [] for t in range(args.topics)}
        for i in range(1, args.docs + 1):
            if rng.random() < 0.9:
                members[rng.randrange(args.topics)].append(f"{BASE}proposals/p{i}")
        kind, member = clusters.kind(), clusters.member()
        topic_rows = [(args.docs + 1 + t, f"{BASE}analysis/topic-m-{t}", BASE, kind, "{}",
                       "{}", None, "2026-12-01") for t in range(args.topics)]
        with conn:
            conn.executemany("INSERT INTO docs (id, iri, node, kind, titles, summaries, "
                             "date, sortkey) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", topic_rows)
            conn.executemany("INSERT INTO links VALUES (?, ?, ?)",
                             [(m, member, args.docs + 1 + t)
                              for t, ms in members.items() for m in ms])
        start = time.perf_counter()
        with conn:
            tagged = sum(clusters.tag_members(conn, f"{BASE}analysis/topic-m-{t}", BASE, ms,
                                              table, anywhere=True)
                         for t, ms in members.items())
        derived = (time.perf_counter() - start) * 1000
        every = (*FACETS, clusters.FACET)
        after = {name: best(args.repeat, lambda m=m: table.counts(every, m))
                 for name, m in masks.items()}
        counted = table.counts(every, None)[clusters.FACET]
        assert sum(n for _, n in counted) == tagged  # every member counted once

        sample = [f"{BASE}proposals/p{rng.randrange(1, args.docs + 1)}" for _ in range(10_000)]
        lookup = best(3, lambda: [conn.execute("SELECT id FROM docs WHERE iri = ?",
                                               (iri,)).fetchone() for iri in sample])
        naming = best(3, lambda: [clusters.naming(conn, iri, BASE, BASE) for iri in sample])

    load = os.getloadavg()
    print(json.dumps({
        "docs": args.docs, "topics": args.topics, "members": tagged,
        "load_average": [round(v, 2) for v in load],
        "counting_ms": {name: {"baseline": round(before[name], 2),
                               "with_topics": round(after[name], 2),
                               "ratio": round(after[name] / before[name], 2)}
                        for name in masks},
        "indexing_ms": {"own_facet_rows": round(own_rows, 1),
                        "topic_rows": round(derived, 1),
                        "ratio": round(derived / own_rows, 2)},
        "member_after_topic_ms_per_10000": {"pk_lookup": round(lookup, 1),
                                            "naming": round(naming, 1),
                                            "ratio": round(naming / lookup, 2)},
    }, indent=1))


if __name__ == "__main__":
    main()

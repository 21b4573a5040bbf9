"""The analysis's topic clusters as a facet of their members: ``cluster=<topic IRI>``.

A topic cluster (``dds:TopicCluster``, written by ``ddsnode analyse``: docs/analysis.md)
names its members (``dds:member``); the contributions themselves say nothing of it. So
that a search can be narrowed to a topic and count, over its whole result set, how many
results each topic holds, the index gives every member doc a facet row ``("cluster",
topic IRI)``: the rows are derived from the topic's links, kept when either side is
indexed first, and dropped with the topic. Counting them is then the facet counting every
other facet uses (``ddsnode.explorer.facet_counts``): a gather over in-memory postings,
whatever the size of the result set.

A peer's topic is a peer's word (incoming federated data crosses a trust boundary): it
labels that peer's own contributions only, never this node's or a third node's; this
node's own topics label any member it indexes (a ``--scope federation`` run's).

Called by :mod:`ddsnode.explorer.search` inside its write transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from functools import cache

from ddsnode.analysis.panels import term
from ddsnode.explorer.facet_counts import FacetTable

FACET = "cluster"
CHUNK = 500  # IRIs per look-up (SQLite's bound on variables is 32,766; keep queries small)


@cache
def kind() -> str:
    """The class IRI of a topic cluster."""
    return term("TopicCluster")


@cache
def member() -> str:
    """The predicate IRI naming a cluster's members."""
    return term("member")


def naming(conn: sqlite3.Connection, iri: str, node: str, base: str
           ) -> list[tuple[str, str]]:
    """The facet values of doc ``iri``, held by ``node``, from the topic clusters already
    indexed that name it as a member: this node's (``base``) or its own node's (one
    indexed look-up: the ``links`` primary key)."""
    rows = conn.execute(
        "SELECT DISTINCT d.iri FROM links l JOIN docs d ON d.id = l.doc "
        "WHERE l.object = ? AND l.predicate = ? AND d.kind = ? AND d.node IN (?, ?)",
        (iri, member(), kind(), base, node))
    return [(FACET, r[0]) for r in rows]


def tag_members(conn: sqlite3.Connection, topic: str, node: str, members: Iterable[str],
                table: FacetTable, *, anywhere: bool) -> int:
    """Give the indexed ``members`` of the just indexed cluster ``topic``, held by
    ``node``, its facet value (the members on any node when ``anywhere``: a topic of this
    node's; else those ``node`` holds); how many were tagged (members not indexed yet get
    it when they are)."""
    unique = sorted(set(members))
    tagged: list[int] = []
    where = "" if anywhere else " AND node = ?"
    for start in range(0, len(unique), CHUNK):
        chunk = unique[start:start + CHUNK]
        marks = ", ".join("?" * len(chunk))
        for (doc,) in conn.execute(f"SELECT id FROM docs WHERE iri IN ({marks}){where}",
                                   chunk + ([] if anywhere else [node])).fetchall():
            if conn.execute("INSERT OR IGNORE INTO facets VALUES (?, ?, ?)",
                            (FACET, topic, doc)).rowcount:
                tagged.append(int(doc))
    table.tag((FACET, topic), tagged)
    return len(tagged)


def untag_members(conn: sqlite3.Connection, topic: str, table: FacetTable) -> None:
    """Take the facet value of cluster ``topic`` (being removed) off its members."""
    pair = (FACET, topic)
    table.untag(pair, [int(r[0]) for r in conn.execute(
        "SELECT doc FROM facets WHERE facet = ? AND value = ?", pair)])
    conn.execute("DELETE FROM facets WHERE facet = ? AND value = ?", pair)

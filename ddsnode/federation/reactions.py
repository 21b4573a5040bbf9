"""Reaction counts across nodes: A counts the supports, likes, follows and comments its
proposals receive, from its own reactions and from verified reactions kept on peers.

A remote reaction is recorded only after A dereferenced it from the reacting node
itself (the notification is a hint). Reactions are deduplicated by (actor, target,
kind) — the same person supporting twice, or the same notification arriving twice,
counts once — except comments, which are counted one by one (dds:commentCount is "the
number of published comments", replies included). An Undo or Delete removes the row.

The counts (``dds:supportCount``, ``likeCount``, ``followCount``, ``commentCount``) and
``dds:countsComputedAt`` are written into the target's own representation by
the write hook :func:`keep_counts` on every write of a counted resource; a recount is
an ordinary write through the node's one write path (``Node.recount``). Peers that cache
the target therefore show A's authoritative count, never a partial sum of their cache.
"""

from __future__ import annotations

import time

import rdflib

from ddsnode.clock import stamp
from ddsnode.federation.database import FederationDB
from ddsnode.ldp.records import OnAccept, WriteHook
from ddsnode.rdf import rdfio
from ddsnode.rdf.vocab import DDS, XSD
from ddsnode.store.base import Store, StoredResource

KIND_TERMS = {"support": "supportCount", "like": "likeCount", "follow": "followCount",
              "comment": "commentCount"}
#: Every count term the node manages on a resource, with the time they were computed.
COUNT_TERMS = (*KIND_TERMS.values(), "countsComputedAt")


class ReactionLedger:
    """The reactions table: which reactions count toward which of our resources."""

    def __init__(self, db: FederationDB) -> None:
        self.db = db

    def record(self, reaction: str, actor: str, target: str, kind: str, origin: str) -> bool:
        """Record (or refresh) a verified reaction; True when the counts may have changed."""
        with self.db.connect() as db:
            old = db.execute("SELECT actor, target, kind FROM reactions WHERE reaction = ?",
                             (reaction,)).fetchone()
            db.execute("INSERT INTO reactions (reaction, actor, target, kind, origin, "
                       "verified_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(reaction) DO UPDATE"
                       " SET actor = excluded.actor, target = excluded.target, kind = "
                       "excluded.kind, verified_at = excluded.verified_at",
                       (reaction, actor, target, kind, origin, time.time()))
        return old is None or tuple(old) != (actor, target, kind)

    def forget(self, reaction: str) -> str | None:
        """Remove a reaction (Undo, Delete); returns the target it counted toward."""
        with self.db.connect() as db:
            row = db.execute("SELECT target FROM reactions WHERE reaction = ?",
                             (reaction,)).fetchone()
            db.execute("DELETE FROM reactions WHERE reaction = ?", (reaction,))
        return str(row[0]) if row else None

    def target_of(self, reaction: str) -> str | None:
        """The target a recorded reaction counts toward."""
        row = self.db.connect().execute("SELECT target FROM reactions WHERE reaction = ?",
                                        (reaction,)).fetchone()
        return str(row[0]) if row else None

    def counts(self, target: str) -> dict[str, int]:
        """Counts per count term for ``target`` (deduplicated as the module says), on top of
        the platform baseline of an imported resource (see :meth:`set_baseline`)."""
        conn = self.db.connect()
        out = {term: 0 for term in KIND_TERMS.values()}
        base = dict(conn.execute("SELECT term, value FROM baselines WHERE target = ?",
                                 (target,)).fetchall())
        for kind, n in conn.execute(
                "SELECT kind, count(DISTINCT actor) FROM reactions WHERE target = ? AND "
                "kind != 'comment' GROUP BY kind", (target,)).fetchall():
            if kind in KIND_TERMS:
                out[KIND_TERMS[kind]] = int(n)
        out["commentCount"] = int(conn.execute(
            "SELECT count(*) FROM reactions WHERE target = ? AND kind = 'comment'",
            (target,)).fetchone()[0])
        return {term: n + int(base.get(term, 0)) for term, n in out.items()}

    def set_baseline(self, target: str, counts: dict[str, int]) -> None:
        """Keep the counts a source platform stated for an imported resource.

        A Decidim export carries support, like and follow totals but not the individual
        reactions behind them; the node cannot verify those, yet dropping them at the first
        federated reaction would lose the platform's data. They become a baseline that
        verified reactions add to. Comments are not in it: imported comments are resources
        on this node, counted one by one like any local reaction.
        """
        self._baseline(target, counts, replace=False)

    def restate_baseline(self, target: str, counts: dict[str, int]) -> None:
        """The platform states new totals (a re-import): they replace the baseline."""
        self._baseline(target, counts, replace=True)

    def _baseline(self, target: str, counts: dict[str, int], *, replace: bool) -> None:
        with self.db.connect() as db:
            if replace:
                db.execute("DELETE FROM baselines WHERE target = ?", (target,))
            for term, value in counts.items():
                if term != "commentCount":
                    db.execute("INSERT INTO baselines (target, term, value) VALUES (?, ?, ?) "
                               "ON CONFLICT DO NOTHING", (target, term, value))

    def baseline(self, target: str) -> dict[str, int]:
        """The totals the source stated for ``target`` (its baseline), per count term."""
        rows = self.db.connect().execute("SELECT term, value FROM baselines WHERE target = ?",
                                         (target,)).fetchall()
        return {str(term): int(value) for term, value in rows}

    def mark_counted(self, target: str) -> None:
        """Record that the node computes the counts of ``target`` from now on."""
        with self.db.connect() as db:
            db.execute("INSERT INTO counted (target) VALUES (?) ON CONFLICT DO NOTHING",
                       (target,))

    def is_counted(self, target: str) -> bool:
        """Whether the node computes the counts of ``target``."""
        return self.db.connect().execute("SELECT 1 FROM counted WHERE target = ?",
                                         (target,)).fetchone() is not None

    def remote(self, target: str) -> list[tuple[str, str, str, str]]:
        """(reaction, actor, kind, origin) of every reaction recorded for ``target``."""
        rows = self.db.connect().execute(
            "SELECT reaction, actor, kind, origin FROM reactions WHERE target = ? ORDER BY "
            "reaction", (target,)).fetchall()
        return [(r[0], r[1], r[2], r[3]) for r in rows]


def keep_counts(ledger: ReactionLedger) -> WriteHook:
    """A write hook: one rule for the counts every writer states (docs/federation.md, Counts).

    Registered on the Node (``node.write_hooks``), it runs in the write path before
    validation. A resource never counted keeps the counts its writer gives; they become
    the baseline when counting begins (:func:`platform_counts`). On a counted resource a
    stated total that differs from the node's count is the source's new total: once the
    write is accepted it becomes the baseline (as a Decidim re-import restates it) and the
    stored count is that total plus the verified reactions. A total equal to the node's
    (a client sending back what it read) and absent counts keep the node's. Every write of
    a counted resource states the node's current counts, so a recount is an ordinary write
    (``Node.recount``): one write path for clients, importers and federation.
    """
    def hook(graph: rdflib.Graph, main: rdflib.URIRef,
             current: StoredResource | None) -> OnAccept | None:
        target = str(main)
        if not ledger.is_counted(target):
            return None
        terms = [DDS[t] for t in (*KIND_TERMS.values(), "countsComputedAt")]
        sent = {t: _count_value(graph, main, t) for t in KIND_TERMS.values()}
        for term in terms:
            graph.remove((main, term, None))
        stored = rdfio.graph_from_ntriples(current.ntriples) if current is not None \
            else rdflib.Graph()
        restated = {t: n for t, n in sent.items() if n is not None and t != "commentCount"
                    and n != _count_value(stored, main, t)}
        base = ledger.baseline(target)
        counts = ledger.counts(target)  # the baseline plus the verified reactions
        for t, n in restated.items():  # the new total, and the verified reactions on top
            counts[t] = n + counts[t] - base.get(t, 0)
        for t, n in counts.items():
            graph.add((main, DDS[t], rdflib.Literal(n, datatype=XSD.nonNegativeInteger)))
        computed = stored.value(main, DDS.countsComputedAt)
        if computed is None or any(_count_value(stored, main, t) != n
                                   for t, n in counts.items()):
            computed = rdflib.Literal(stamp(),
                                      datatype=XSD.dateTime)
        graph.add((main, DDS.countsComputedAt, computed))
        if not restated:
            return None
        return lambda: ledger.restate_baseline(target, {**base, **restated})

    return hook


def _count_value(graph: rdflib.Graph, main: rdflib.URIRef, term: str) -> int | None:
    value = graph.value(main, DDS[term])
    return int(str(value)) if isinstance(value, rdflib.Literal) and str(value).isdigit() \
        else None


def platform_counts(store: Store, iri: str) -> dict[str, int]:
    """The counts a resource's writer stated (an import's or an HTTP client's totals): the
    baseline when counting begins, one rule for every way in (docs/federation.md)."""
    current = store.get(iri)
    if current is None or current.kind != "rdf" or not current.ntriples:
        return {}
    graph = rdfio.graph_from_ntriples(current.ntriples)
    main = rdflib.URIRef(iri)
    out: dict[str, int] = {}
    for term in KIND_TERMS.values():
        value = graph.value(main, DDS[term])
        if isinstance(value, rdflib.Literal) and str(value).isdigit():
            out[term] = int(str(value))
    return out

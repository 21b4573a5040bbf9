"""Topic lineage: which topic of a refit is which topic of the previous run.

A topic's IRI is ``analysis/topic-<name>``, and its name is given once, when the topic
first appears (``<model id>-<index>`` of the fit it appeared in), then kept: a refit
matches its clusters to the previous run's by member overlap (Jaccard index), one to one
(Hungarian assignment, ``scipy.optimize.linear_sum_assignment``), and a new cluster
matched to an old one with a Jaccard index of at least :data:`MATCH_JACCARD` takes its
name. So a link to a topic keeps working across refits as long as the topic is, by its
members, the same one; a new topic gets a new name, and a topic no cluster matches is
gone (its resource is removed like any output with nothing left: a tombstone, 410).

Deterministic: the overlap matrix is built from sorted IRIs, the assignment is exact,
and a tie is broken by index (the solver's order).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

__all__ = ["MATCH_JACCARD", "first_names", "inherited_names"]

# Half the members of the smaller side in common, when the two have equal sizes, is a
# Jaccard index of 1/3; below about that, calling two clusters the same topic would
# hand a link's reader a topic most of whose members they never saw.
MATCH_JACCARD = 0.3


def first_names(model_id: str, size: int) -> list[str]:
    """The names of the topics of a fit with no history: ``<model id>-<index>`` (the
    IRIs the node always gave, so a node's existing topic links stay valid)."""
    return [f"{model_id}-{i}" for i in range(size)]


def _members(assignment: dict[str, int]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = defaultdict(set)
    for iri, topic in assignment.items():
        out[topic].add(iri)
    return out


def inherited_names(model_id: str, size: int, assignment: dict[str, int],
                    previous_names: list[str], previous: dict[str, int]) -> list[str]:
    """The name of each of ``size`` topics of the fit ``model_id``.

    ``assignment`` maps a contribution to its topic in this fit, ``previous`` to its topic
    in the previous run, whose topic ``i`` was named ``previous_names[i]``. A topic keeps
    the name of the previous topic it is matched to; any other gets ``<model id>-<index>``
    (with a suffix in the rare case that name is still held by a kept topic)."""
    names: list[str | None] = [None] * size
    new, old = _members(assignment), _members(previous)
    old_topics = sorted(t for t in old if 0 <= t < len(previous_names))
    if new and old_topics:
        jaccard = np.zeros((size, len(old_topics)))
        for i in range(size):
            members = new.get(i, set())
            if not members:
                continue
            for j, t in enumerate(old_topics):
                common = len(members & old[t])
                if common:
                    jaccard[i, j] = common / len(members | old[t])
        # Imported here: scipy.optimize costs 0.4 s of CPU to import, and every process
        # that serves or imports reaches this module; only a refit with a previous run
        # needs it.
        from scipy.optimize import linear_sum_assignment

        rows, cols = linear_sum_assignment(-jaccard)
        for i, j in zip(rows, cols, strict=True):
            if jaccard[i, j] >= MATCH_JACCARD:
                names[int(i)] = previous_names[old_topics[int(j)]]
    taken = {n for n in names if n is not None}
    out: list[str] = []
    for i, name in enumerate(names):
        if name is None:
            name, suffix = f"{model_id}-{i}", 0
            while name in taken:  # the same model id refitted (--full on the same input)
                suffix += 1
                name = f"{model_id}-{i}-{suffix}"
            taken.add(name)
        out.append(name)
    return out

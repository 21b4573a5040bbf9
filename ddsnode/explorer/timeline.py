"""A resource's traceability timeline: what of its trace chain is its own story, grouped
by stage (proposal → meeting/debate → decision → budget project → result → milestone),
each step with its date.

The chain (``ddsnode.federation.trace``) is every resource within a few links in either
direction: from a proposal it reaches the decision that answers it, and through that
decision every other proposal it answers and every project it adopts. A timeline keeps
only what is linked to *this* resource: stage by stage, moving away from the start's
stage, a resource of the next stage is kept when it is linked to one already kept, and
of those only the ones closest (in links) to the start — so the project that implements
this proposal stays, and the project the same decision adopted for another does not.
Resources of the same stage as a kept one (a result's parent result) join it, except
proposals: a sibling proposal is exactly what does not belong.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ddsnode.explorer.labels import local_name, pick, vocabulary_labels
from ddsnode.explorer.view import Stage, Step, safe_href

# Where each kind stands in a traceability chain (issue 12: proposal → meeting/debate →
# decision → budget project → result); kinds are matched by their local name.
STEP_ORDER = ("Proposal", "Amendment", "Meeting", "Debate", "Decision", "BudgetProject",
              "Project", "Result", "Milestone")


def rank_of(types: Iterable[str]) -> int | None:
    """The stage of a resource of ``types`` (an index in STEP_ORDER), None for context
    (spaces, phases, places)."""
    names = [local_name(t) for t in types]
    return min((STEP_ORDER.index(n) for n in names if n in STEP_ORDER), default=None)


def related(start: str, ranks: dict[str, int | None],
            links: Iterable[tuple[str, str]]) -> dict[str, int]:
    """The resources of the chain that are ``start``'s own story, with their distance
    (in links) from it. ``ranks``: every resource's stage; ``links``: (subject, object)."""
    neighbours: dict[str, set[str]] = {}
    for a, b in links:
        if a != b:
            neighbours.setdefault(a, set()).add(b)
            neighbours.setdefault(b, set()).add(a)
    first = ranks.get(start)
    if first is None:
        return {start: 0}
    kept: dict[str, int] = {start: 0}
    later = list(range(first + 1, len(STEP_ORDER)))
    earlier = list(range(first - 1, -1, -1))
    filled: set[int] = {first}
    # Two sweeps: the second fills only the earlier stages the first left empty (a
    # result's decision, linked to the proposals found after it, not to the result).
    # Later stages get no second chance: what follows from a resource follows from it.
    for sweep in (1, 2):
        for stage in [first, *later, *earlier] if sweep == 1 else earlier:
            if sweep == 2 and stage in filled:
                continue
            chosen = _next_stage(stage, first, kept, ranks, neighbours)
            if chosen:
                filled.add(stage)
                kept.update(chosen)
    return kept


def _next_stage(stage: int, first: int, kept: dict[str, int],
                ranks: dict[str, int | None], neighbours: dict[str, set[str]]
                ) -> dict[str, int]:
    """The resources of ``stage`` to keep, given those kept so far."""
    candidates: dict[str, int] = {}
    for iri, distance in kept.items():
        for other in neighbours.get(iri, ()):
            if other not in kept and ranks.get(other) == stage:
                candidates[other] = min(candidates.get(other, distance + 1), distance + 1)
    if stage == first:
        # Same stage as the start: its parent result, say; never a sibling proposal.
        return {} if stage == 0 else candidates
    if not candidates:
        return {}
    nearest = min(candidates.values())
    chosen = {i: d for i, d in candidates.items() if d == nearest}
    if stage != 0:
        # Resources of the stage just kept bring their own kind along (one link).
        for iri, distance in list(chosen.items()):
            for other in neighbours.get(iri, ()):
                if other not in kept and other not in chosen and ranks.get(other) == stage:
                    chosen[other] = distance + 1
    return chosen
    return kept


def stages(start: str, nodes: list[dict[str, Any]], links: list[dict[str, Any]], lang: str,
           *, progress_of: Callable[[str], float | None], page_of: Callable[[str], str],
           title_of: Callable[[str], str | None], date_of: Callable[[str], str | None]
           ) -> list[Stage]:
    """The timeline of ``start`` from its trace chain (``Chain.nodes`` values and
    ``Chain.links``): one Stage per kind present, in chain order, steps by date."""
    vocab = vocabulary_labels()
    ranks: dict[str, int | None] = {}
    kinds: dict[str, str] = {}
    for node in nodes:
        iri = str(node["id"])
        types = [str(t) for t in node.get("type", []) or []]
        ranks[iri] = rank_of(types)
        if ranks[iri] is not None:
            name = STEP_ORDER[ranks[iri]]  # type: ignore[index]
            kinds[iri] = next(t for t in types if local_name(t) == name)
    kept = related(start, ranks, ((str(link["subject"]), str(link["object"]))
                                  for link in links))
    by_stage: dict[int, list[Step]] = {}
    for node in nodes:
        iri = str(node["id"])
        rank = ranks.get(iri)
        if rank is None or iri not in kept:
            continue
        source = node.get("source") or {}
        kind = kinds[iri]
        by_stage.setdefault(rank, []).append(Step(
            iri, pick(vocab.get(kind), lang) or local_name(kind),
            title_of(iri) or str(node.get("title") or local_name(iri)),
            page_of(iri) if safe_href(iri) else None, str(source.get("kind", "")),
            progress_of(iri), date_of(iri), iri == start))
    if sum(len(steps) for steps in by_stage.values()) < 2:
        return []  # linked to nothing: no timeline to show
    out = []
    for rank in sorted(by_stage):
        steps = sorted(by_stage[rank], key=lambda s: (s.date or "9999", s.title))
        out.append(Stage(steps[0].kind_label, steps))
    return out

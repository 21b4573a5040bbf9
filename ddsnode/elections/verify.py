"""``ddsnode verify``: re-add every total from the lowest units and compare.

For each contest, a unit's published result is compared with the sum of its sub-units'
results when every sub-unit has reported (partial reporting is not a mismatch: it is
said as a note). Sums are built from the lowest units up: a unit whose sub-units did
not all report still counts with its own published figures one level up. Each selection
and count type is compared, and the ballots cast. Every result is also checked on its
own (:func:`.plausibility.check_result`). A finding names the units whose numbers were
added and where each number comes from; it is not a verdict.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import pairwise

import rdflib
from rdflib import RDF

from ddsnode.elections.model import Result, Unit, current, results_of, units_of
from ddsnode.elections.plausibility import ERROR, NOT_BALLOTS, Finding, check_result
from ddsnode.rdf.vocab import DDS


@dataclass
class Verification:
    """What verify found, and how much it looked at."""

    results: int = 0
    compared: int = 0  # unit totals compared with their sub-units' sums
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        """A plain-text report."""
        head = (f"{self.results} results read, {self.compared} unit totals re-added from "
                f"their sub-units, {len(self.findings)} findings")
        lines = [head]
        lines += [f"{f.severity}: {f.message}" for f in self.findings]
        lines += [f"note: {n}" for n in self.notes[:20]]
        if len(self.notes) > 20:
            lines.append(f"note: ... and {len(self.notes) - 20} more")
        return "\n".join(lines)

    def to_json(self) -> dict[str, object]:
        """As ``--json`` prints it."""
        return {"results": self.results, "compared": self.compared,
                "findings": [f.to_json() for f in self.findings], "notes": self.notes}


def _name(units: dict[str, Unit], iri: str) -> str:
    u = units.get(iri)
    return f"{u.name} ({iri})" if u and u.name else iri


def verify(graph: rdflib.Graph) -> Verification:
    """Check every result in ``graph`` and every unit total against its sub-units."""
    units = units_of(graph)
    allowed: dict[str, int | None] = {}
    for cls in (DDS.CandidateContest, DDS.BallotMeasureContest):
        for c in graph.subjects(RDF.type, cls):
            value = graph.value(c, DDS.votesAllowed)
            allowed[str(c)] = int(str(value)) if value is not None else None
    results = results_of(graph, units, allowed)
    out = Verification(results=len(results))
    latest = current(results)
    for r in latest.values():
        out.findings.extend(check_result(r.figures))
    out.findings.extend(decreases(results, units))
    # One pass over the published results (not contests x units): only a unit that
    # published a result and has sub-units can be re-added.
    for contest, unit_iri in sorted(latest):
        unit = units.get(unit_iri)
        if unit is not None and unit.children:
            _compare(out, latest, units, contest, unit)
    return out


def decreases(results: list[Result], units: dict[str, Unit]) -> list[Finding]:
    """Counts that went down from one publication of a contest and unit to the next,
    when the later one is not a correction or a recount (issue 14)."""
    found = []
    series: dict[tuple[str, str], list[Result]] = defaultdict(list)
    for r in results:
        if r.sequence is not None:
            series[(r.contest, r.figures.unit)].append(r)
    for (_, unit), items in sorted(series.items()):
        items.sort(key=lambda r: r.sequence or 0)
        for before, after in pairwise(items):
            if after.status in ("correction", "recount"):
                continue
            for key, count in sorted(before.figures.counts.items()):
                if key[1] in NOT_BALLOTS:
                    continue  # seats move with the counts; they are not a running count
                later = after.figures.counts.get(key)
                if later is not None and later < count:
                    found.append(Finding(ERROR, "count-decreased", (
                        f"{_name(units, unit)}: {key[1]} votes for {key[0]} went down from "
                        f"{count:,} (sequence {before.sequence}, {before.figures.iri}) to "
                        f"{later:,} (sequence {after.sequence}, {after.figures.iri}); the later "
                        f"one is marked {after.status or 'with no status'}, not as a "
                        "correction or a recount"),
                        (unit,), after.figures.iri))
    return found


def _compare(out: Verification, latest: dict[tuple[str, str], Result],
             units: dict[str, Unit], contest: str, unit: Unit) -> None:
    published = latest[(contest, unit.iri)]
    missing = [c for c in unit.children if (contest, c) not in latest]
    if missing:
        out.notes.append(f"{_name(units, unit.iri)}: {len(missing)} of {len(unit.children)} "
                         f"sub-units have no result for {contest}; its total is not re-added")
        return
    sums: dict[tuple[str, str], int] = defaultdict(int)
    cast: int | None = 0
    for child in unit.children:
        figures = latest[(contest, child)].figures
        for key, count in figures.counts.items():
            sums[key] += count
        cast = None if cast is None or figures.cast is None else cast + figures.cast
    out.compared += 1
    children = tuple(sorted(unit.children))
    where = ", ".join(_name(units, c) for c in children)
    for key in sorted(set(sums) | set(published.figures.counts)):
        if key[1] in NOT_BALLOTS:
            continue  # seats are allocated for the whole district, not added up from units
        mine, theirs = published.figures.counts.get(key), sums.get(key)
        if mine != theirs:
            selection, ctype = key
            out.findings.append(Finding(ERROR, "sub-units-do-not-add-up", (
                f"{_name(units, unit.iri)} publishes {_n(mine)} {ctype} votes for "
                f"{selection} in {published.figures.iri}; its {len(children)} sub-units "
                f"({where}) add up to {_n(theirs)}"), (unit.iri, *children),
                published.figures.iri))
    if cast is not None and published.figures.cast is not None and cast != published.figures.cast:
        out.findings.append(Finding(ERROR, "ballots-do-not-add-up", (
            f"{_name(units, unit.iri)} publishes {published.figures.cast:,} ballots cast in "
            f"{published.figures.iri}; its sub-units ({where}) add up to {cast:,}"),
            (unit.iri, *children), published.figures.iri))


def _n(value: int | None) -> str:
    return "no" if value is None else f"{value:,}"

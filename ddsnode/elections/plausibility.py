"""Plausibility checks on one published result, as findings a person understands.

The arithmetic of a count sheet (issue 14): votes for the selections, plus blank and
invalid ballots, are the ballots counted, which cannot exceed the ballots cast, which
cannot exceed the registered voters (a turnout above 100% is an error); the parts of a
selection's votes by count type (election day, early, absentee ...) cannot add up to
more than its total. The importers run :func:`check_result` before writing a result and
refuse one with an error; ``ddsnode verify`` runs it on every result it reads, next to
the sums over sub-units (:mod:`.verify`). A finding is not a verdict: it says which
numbers disagree and where they come from.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

ERROR, WARNING = "error", "warning"


#: Count types that count something other than ballots (schemes/count-type.ttl ``seats``):
#: never part of a total, never added with the other types.
NOT_BALLOTS = frozenset({"seats"})

@dataclass(frozen=True)
class Finding:
    """One thing that does not add up: how bad, a code, the text, the units involved."""

    severity: str
    code: str
    message: str
    units: tuple[str, ...] = ()
    result: str = ""

    def to_json(self) -> dict[str, object]:
        """As ``verify --json`` prints it."""
        return {"severity": self.severity, "code": self.code, "message": self.message,
                "units": list(self.units), "result": self.result}


@dataclass
class Figures:
    """The numbers of one ContestResult (from a document or from a graph)."""

    iri: str
    unit: str
    unit_name: str = ""
    registered: int | None = None
    cast: int | None = None
    blank: int | None = None
    invalid: int | None = None
    votes_allowed: int | None = None
    counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (selection, type)

    def counts_of(self, ctype: str) -> dict[str, int]:
        """selection -> count, for one count type."""
        return {s: c for (s, t), c in self.counts.items() if t == ctype}

    def totals(self) -> dict[str, int]:
        """selection -> its total: the ``total`` count, else the sum of its parts."""
        parts: dict[str, int] = defaultdict(int)
        out: dict[str, int] = {}
        for (selection, ctype), count in self.counts.items():
            if ctype in NOT_BALLOTS:
                continue
            if ctype == "total":
                out[selection] = count
            else:
                parts[selection] += count
        for selection, total in parts.items():
            out.setdefault(selection, total)
        return out


def _where(f: Figures) -> str:
    return f"{f.unit_name or f.unit} ({f.iri})"


def check_result(f: Figures) -> list[Finding]:
    """What does not add up within one result."""
    found: list[Finding] = []
    units = (f.unit,)
    if f.cast is not None and f.registered is not None and f.cast > f.registered:
        share = f.cast / f.registered if f.registered else float("inf")
        found.append(Finding(ERROR, "turnout-over-100", (
            f"{_where(f)}: {f.cast:,} ballots cast for {f.registered:,} registered voters, "
            f"a turnout of {share:.1%}, which cannot exceed 100%"), units, f.iri))
    parts: dict[str, int] = defaultdict(int)
    for (selection, ctype), count in f.counts.items():
        if ctype != "total" and ctype not in NOT_BALLOTS:
            parts[selection] += count
    for selection, total in sorted(f.counts_of("total").items()):
        if parts.get(selection, 0) > total:
            found.append(Finding(ERROR, "parts-over-total", (
                f"{_where(f)}: the votes for {selection} by count type add up to "
                f"{parts[selection]:,}, more than its total of {total:,}"), units, f.iri))
    if f.cast is not None and f.votes_allowed == 1:
        counted = sum(f.totals().values()) + (f.blank or 0) + (f.invalid or 0)
        if counted > f.cast:
            found.append(Finding(ERROR, "counted-over-cast", (
                f"{_where(f)}: votes for the selections ({sum(f.totals().values()):,}) plus "
                f"blank ({f.blank or 0:,}) and invalid ({f.invalid or 0:,}) ballots make "
                f"{counted:,} ballots counted, more than the {f.cast:,} ballots cast"),
                units, f.iri))
    return found

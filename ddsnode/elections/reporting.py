"""Results per contest and reporting unit, as election night hands them on (issue 15).

The intake (``ddsnode.intake``) keeps these totals up to date as polling stations report;
the publication (``ddsnode.publication``) turns them into signed generations; the
voter pages read them. This module is the contract between them: plain data and one
protocol, so that neither side depends on how the other one works.

A :class:`UnitResult` is the result of one contest in one reporting unit at one level
of the hierarchy (a polling station, a district, the whole electoral district), with
how many of the stations below it have reported (NIST SP 1500-100 v2 calls the
station count ``GpUnit`` ``NumberOfSubUnitsReported``/``TotalSubUnits``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["ResultsFeed", "UnitResult"]


@dataclass(frozen=True)
class UnitResult:
    """One contest's result in one reporting unit."""

    election: str   # election IRI
    contest: str    # contest IRI
    unit: str       # reporting unit IRI
    level: str      # the unit's gpUnitType (``polling-place``, ``district``, ``municipality`` …)
    counts: tuple[tuple[str, int], ...]  # (selection IRI, total votes), sorted by selection
    ballots_cast: int | None
    blank: int | None
    invalid: int | None
    registered: int | None
    stations_reported: int
    stations_total: int
    status: str     # a concept name of the results-status scheme (``unofficialPartial``, ``correction`` …)
    as_of: str      # time of the latest tally included (``clock.TIMESTAMP`` form)
    #: Added for removals (issue 15): True when this contest and unit no longer has a
    #: result (deleted from the store): a publisher drops it from its next generation
    #: (listed under ``removed`` in that generation's diff). Defaults keep every
    #: existing constructor call as it was.
    withdrawn: bool = False


class ResultsFeed(Protocol):
    """Where unit results come from: the intake's running totals, or results in the store."""

    def elections(self) -> list[str]:
        """The IRIs of the elections this feed has results for."""
        ...

    def results(self, election: str, since: int = 0) -> tuple[int, list[UnitResult]]:
        """``(mark, results)``: the unit results of ``election`` that changed after ``mark``
        ``since`` (every one when ``since`` is 0), and the mark to pass next time. A
        result that went away since ``since`` may come back with ``withdrawn`` set (a
        feed that never reports removals simply never sets it)."""
        ...

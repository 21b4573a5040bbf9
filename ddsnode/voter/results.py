"""Results at my polling station and every level above it, from any ``ResultsFeed``.

The pages hand in the feed (``explorer/web/voter.py``): the current signed generation of
a published election, else the results in the node's store
(:class:`ddsnode.publication.stored.StoredResults`). This module only reads
:class:`UnitResult` s, so the intake's running totals would do as well.
"""

from __future__ import annotations

from dataclasses import dataclass

from ddsnode.elections.reporting import ResultsFeed, UnitResult


@dataclass(frozen=True)
class Level:
    """The results of one unit (a station, the voter's unit, a unit above)."""

    unit: str
    results: list[UnitResult]


def results_at(feed: ResultsFeed, elections: list[str], units: list[str]) -> list[Level]:
    """The results of ``elections`` in each of ``units`` (lowest first) that has some."""
    wanted = set(units)
    by_unit: dict[str, list[UnitResult]] = {}
    for election in elections:
        for r in feed.results(election)[1]:
            if r.unit in wanted:
                by_unit.setdefault(r.unit, []).append(r)
    return [Level(u, sorted(by_unit[u], key=lambda r: r.contest)) for u in units
            if u in by_unit]

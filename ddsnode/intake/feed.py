"""What election night publishes: the intake's totals where tallies come in, stored
results elsewhere.

:class:`NightFeed` is the :class:`~ddsnode.elections.reporting.ResultsFeed` the composition
root hands the publisher (``ddsnode/assembly.py``). A contest is published from the
intake's running totals (every level, updated one tally at a time) once a tally for it
came through the intake; until then, and for every other contest, from the results
already in the store (the other feed, which also chooses which elections are published).

Marks: the two feeds count changes separately, so the mark handed out packs both, the
intake's in the high bits. When a contest starts being fed by the intake, the next call
asks the intake for everything (``since`` 0) so that no earlier change is missed.
"""

from __future__ import annotations

from typing import Protocol

from ddsnode.elections.reporting import ResultsFeed, UnitResult

__all__ = ["NightFeed", "Tallied"]

SHIFT = 32  # the stored feed's marks stay far below 2**32 (one per refresh that changed)


class Tallied(ResultsFeed, Protocol):
    """What :class:`NightFeed` needs of the desk (the desk implements it)."""

    def fed_contests(self) -> frozenset[str]:
        """Contests with at least one tally counted through the intake."""
        ...

    def contests_of(self, election: str) -> frozenset[str]:
        """The contests of ``election``."""
        ...

    def wait_ready(self) -> None:
        """Block until the intake has started (its totals hold the log)."""
        ...


class NightFeed:
    """The intake's totals for the contests it receives, ``stored`` for the rest."""

    def __init__(self, intake: Tallied, stored: ResultsFeed) -> None:
        self.intake = intake
        self.stored = stored
        self._fed: dict[str, frozenset[str]] = {}
        self._read_stored: set[str] = set()

    def elections(self) -> list[str]:
        """The elections the stored feed publishes (its selection and privacy rules)."""
        return self.stored.elections()

    def results(self, election: str, since: int = 0) -> tuple[int, list[UnitResult]]:
        """Changed unit results of ``election`` from both feeds, and the packed mark."""
        # The publisher's thread waits for the intake's start (a request would get 503):
        # totals not yet rebuilt from the log must not be published as the results.
        self.intake.wait_ready()
        intake_since, stored_since = since >> SHIFT, since & ((1 << SHIFT) - 1)
        fed = self.intake.fed_contests()
        if fed != self._fed.get(election):
            intake_since = 0  # a contest newly fed by the intake: all of it, once
            self._fed[election] = fed
        intake_mark, tallied = self.intake.results(election, intake_since)
        contests = self.intake.contests_of(election)
        stored: list[UnitResult]
        if contests and contests <= fed and election in self._read_stored:
            # Every contest comes from the intake: the stored feed (which re-reads the
            # election's results after each write) is not asked again. It was asked once,
            # for the election's name and dates.
            stored_mark, stored = stored_since, []
        else:
            stored_mark, stored = self.stored.results(election, stored_since)
            self._read_stored.add(election)
        rows = [r for r in tallied if r.contest in fed] + \
            [r for r in stored if r.contest not in fed]
        return (intake_mark << SHIFT) | stored_mark, rows

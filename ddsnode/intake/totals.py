"""Running totals per contest and reporting unit, kept up to date one tally at a time.

:class:`Totals` implements :class:`ddsnode.elections.reporting.ResultsFeed`. A station's
tally changes the totals of the station and of every unit above it (district, region,
the whole electoral district: :meth:`Geography.ancestors`) by subtracting the station's
previous tally, if any, and adding the new one: the work is the depth of the tree times
the number of selections, whatever the number of stations — nothing is ever recomputed
from scratch. Each change takes the next *mark*; :meth:`results` returns the units whose
mark is above the caller's, which is how a publisher asks "what changed since": from a
list of the changed (contest, unit) pairs kept in mark order, so the answer costs what
changed, not the election's size (at 100,000 stations × 10 contests a scan of every
unit held the totals' lock for about a second at each of the publisher's ticks).
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field

from ddsnode.elections.reporting import UnitResult
from ddsnode.intake.geography import Geography
from ddsnode.intake.tally import Tally

__all__ = ["CORRECTION", "COUNTED", "Totals"]

COUNTED, CORRECTION = "unofficialComplete", "correction"  # results-status scheme words


@dataclass
class _Sum:
    """The running sums of one contest in one unit."""

    votes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    figures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    known: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # stations giving it
    reported: int = 0
    corrected: int = 0
    as_of: str = ""
    mark: int = 0

    def add(self, tally: Tally, sign: int) -> None:
        for selection, votes in tally.totals().items():
            self.votes[selection] += sign * votes
        for name, value in (("cast", tally.cast), ("blank", tally.blank),
                            ("invalid", tally.invalid), ("registered", tally.registered)):
            if value is not None:
                self.figures[name] += sign * value
                self.known[name] += sign

    def figure(self, name: str) -> int | None:
        return self.figures[name] if self.known.get(name) else None


class Totals:
    """The intake's running totals: a :class:`~ddsnode.elections.reporting.ResultsFeed`."""

    def __init__(self, geography: Geography) -> None:
        self.geography = geography
        self._lock = threading.Lock()
        self._stations: dict[tuple[str, str], tuple[Tally, str, str]] = {}
        self._sums: dict[tuple[str, str], _Sum] = defaultdict(_Sum)
        self._mark = 0
        # (contest, unit) in the order of their last change: the newest last
        self._recent: OrderedDict[tuple[str, str], None] = OrderedDict()

    def rebase(self, geography: Geography) -> None:
        """Use a newer geography (units or contests were added): sums are rebuilt from
        the stations' tallies, once, since a unit may have moved in the tree."""
        with self._lock:
            self.geography = geography
            stations = dict(self._stations)
            self._stations.clear()
            self._sums.clear()
            self._recent.clear()
        for tally, status, as_of in stations.values():
            self.apply(tally, status, as_of)

    def apply(self, tally: Tally, status: str, as_of: str) -> int:
        """Count ``tally`` as its station's current one (replacing the previous); the mark."""
        key = (tally.contest, tally.unit)
        with self._lock:
            self._mark += 1
            previous = self._stations.get(key)
            self._stations[key] = (tally, status, as_of)
            for unit in self.geography.ancestors(tally.unit):
                s = self._sums[(tally.contest, unit)]
                if previous is not None:
                    s.add(previous[0], -1)
                    s.corrected -= previous[1] == CORRECTION
                else:
                    s.reported += 1
                s.add(tally, +1)
                s.corrected += status == CORRECTION
                s.as_of = max(s.as_of, as_of)
                s.mark = self._mark
                self._recent[(tally.contest, unit)] = None
                self._recent.move_to_end((tally.contest, unit))
            return self._mark

    def counted(self, contest: str, station: str) -> Tally | None:
        """The tally counted for ``station`` in ``contest``, if any."""
        with self._lock:
            found = self._stations.get((contest, station))
        return found[0] if found else None

    def elections(self) -> list[str]:
        """The elections with at least one contest the geography knows."""
        return sorted(self.geography.elections)

    def results(self, election: str, since: int = 0) -> tuple[int, list[UnitResult]]:
        """Unit results of ``election`` changed after mark ``since`` (all when 0)."""
        geo = self.geography
        out: list[UnitResult] = []
        with self._lock:
            if not since:
                for contest in geo.elections.get(election, []):
                    for unit in geo.units_of(contest):
                        s = self._sums.get((contest, unit))
                        out.append(self._result(election, contest, unit, s or _Sum()))
                return self._mark, out
            changed = []
            for key in reversed(self._recent):  # newest first, until one is not newer
                s = self._sums[key]
                if s.mark <= since:
                    break
                changed.append((key, s))
            for (contest, unit), s in sorted(changed, key=lambda c: c[0]):
                info = geo.contests.get(contest)
                if info is not None and info.election == election and \
                        geo.stations_below(contest, unit):
                    out.append(self._result(election, contest, unit, s))
            return self._mark, out

    def _result(self, election: str, contest: str, unit: str, s: _Sum) -> UnitResult:
        info = self.geography.units.get(unit)
        total = self.geography.stations_below(contest, unit)
        if s.corrected:
            status = CORRECTION
        elif not s.reported:
            status = "preElection"
        else:
            status = COUNTED if s.reported >= total else "unofficialPartial"
        registered = info.registered if info is not None and info.registered is not None \
            else s.figure("registered")
        return UnitResult(election, contest, unit, info.kind if info else "other",
                          tuple(sorted(s.votes.items())), s.figure("cast"), s.figure("blank"),
                          s.figure("invalid"), registered, s.reported, total, status, s.as_of)

"""Seats from list totals: highest averages (D'Hondt, Sainte-Laguë) and largest remainder.

A list contest (a ``CandidateContest`` whose selections are lists, ``numberElected``
seats) gives each list a number of seats computed from its votes. The methods:

- **D'Hondt** (Jefferson): divisors 1, 2, 3 …; each seat goes to the highest quotient
  votes / divisor. Used in the Netherlands (Kieswet P.7-P.8, after lists below one quota
  are left out: ``threshold``), Spain, Belgium, and for the proportional part of French
  municipal councils (Code électoral L262, plus a majority bonus not computed here).
- **Sainte-Laguë** (Webster): divisors 1, 3, 5 …; ``first_divisor`` 1.4 gives the
  modified method (Norway, Sweden).
- **Largest remainder**: each list gets its votes / quota rounded down, the seats left go
  to the largest remainders; quota ``hare`` (votes / seats) or ``droop`` (votes / (seats
  + 1), rounded down, + 1).

Arithmetic is exact (integers and :class:`fractions.Fraction`): no float decides a seat.
When the last seats fall on equal quotients or remainders the law draws lots (Kieswet
P.9); this module does not: the lists that tie are returned in ``tied`` and the seats
they compete for are left unallocated (``unallocated``), so a caller can say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from ddsnode.elections.model import ElectionModel, current

METHODS = ("dhondt", "sainte-lague", "hare", "droop")


@dataclass(frozen=True)
class Allocation:
    """Seats per list, and the lists tied for seats left unallocated (0 when none)."""

    seats: dict[str, int]
    unallocated: int = 0
    tied: tuple[str, ...] = field(default_factory=tuple)


def _check(votes: dict[str, int], number: int) -> None:
    if number < 0:
        raise ValueError(f"number of seats {number} is negative")
    for name, count in votes.items():
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ValueError(f"votes of {name!r} must be a whole number >= 0, not {count!r}")


def _eligible(votes: dict[str, int], threshold: Fraction) -> dict[str, int]:
    """The lists at or above ``threshold`` (a share of all votes, 0 for none)."""
    total = sum(votes.values())
    return {k: v for k, v in votes.items() if v > 0 and Fraction(v, total or 1) >= threshold}


def highest_averages(votes: dict[str, int], number: int, divisors: list[Fraction],
                     threshold: Fraction = Fraction(0)) -> Allocation:
    """Seats by highest averages with the divisor sequence ``divisors`` (one per seat
    a list may win, so at least ``number`` long)."""
    _check(votes, number)
    seats = dict.fromkeys(votes, 0)
    eligible = _eligible(votes, threshold)
    left = number
    # Only a list that has just won a seat has a new quotient: the others' stand (one
    # division per seat, not one per list and seat).
    quotients = {k: Fraction(v) / divisors[0] for k, v in eligible.items()}
    while left > 0 and quotients:
        best = max(quotients.values())
        winners = sorted(k for k, q in quotients.items() if q == best)
        if len(winners) > left:
            return Allocation(seats, left, tuple(winners))
        for k in winners:
            seats[k] += 1
            if seats[k] < len(divisors):
                quotients[k] = Fraction(eligible[k]) / divisors[seats[k]]
            else:  # every seat there is: no seat is left for anyone
                del quotients[k]
        left -= len(winners)
    return Allocation(seats, left)


def largest_remainder(votes: dict[str, int], number: int, quota: str = "hare",
                      threshold: Fraction = Fraction(0)) -> Allocation:
    """Seats by largest remainder with the Hare or Droop quota."""
    _check(votes, number)
    seats = dict.fromkeys(votes, 0)
    eligible = _eligible(votes, threshold)
    total = sum(eligible.values())
    if not eligible or number == 0:
        return Allocation(seats, number if not eligible else 0)
    q = Fraction(total, number) if quota == "hare" else Fraction(total // (number + 1) + 1)
    remainders = {}
    for k, v in eligible.items():
        seats[k] = min(int(Fraction(v) / q), number)
        remainders[k] = Fraction(v) - seats[k] * q
    left = number - sum(seats.values())
    if left < 0:  # the Droop quota can give one seat too many in rare cases
        raise ValueError("the quota gives more seats than there are")
    order = sorted(set(remainders.values()), reverse=True)
    for value in order:
        if left == 0:
            break
        group = sorted(k for k, r in remainders.items() if r == value)
        if len(group) > left:
            return Allocation(seats, left, tuple(group))
        for k in group:
            seats[k] += 1
        left -= len(group)
    return Allocation(seats)


def allocate(votes: dict[str, int], number: int, method: str = "dhondt", *,
             threshold: Fraction = Fraction(0),
             first_divisor: Fraction = Fraction(1)) -> Allocation:
    """Seats for ``number`` seats (a contest's ``numberElected``) from list totals."""
    if method == "dhondt":
        return highest_averages(votes, number, [Fraction(d) for d in range(1, number + 2)],
                                threshold)
    if method == "sainte-lague":
        divisors = [first_divisor] + [Fraction(2 * d + 1) for d in range(1, number + 1)]
        return highest_averages(votes, number, divisors, threshold)
    if method in ("hare", "droop"):
        return largest_remainder(votes, number, method, threshold)
    raise ValueError(f"unknown method {method!r}: one of {', '.join(METHODS)}")


def contest_seats(model: ElectionModel, contest: str, unit: str, method: str = "dhondt",
                  *, number: int | None = None,
                  threshold: Fraction = Fraction(0)) -> Allocation:
    """Seats per selection (its IRI) of ``contest`` from the current result for ``unit``,
    ``number`` defaulting to the contest's ``numberElected``."""
    found = next((c for c in model.contests if c.iri == contest), None)
    if found is None:
        raise ValueError(f"{contest}: not a contest of {model.iri}")
    seats = number if number is not None else found.number_elected
    if seats is None:
        raise ValueError(f"{contest} has no numberElected: give the number of seats")
    result = current(model.results).get((contest, unit))
    if result is None:
        raise ValueError(f"{contest}: no result for {unit}")
    return allocate(result.figures.totals(), seats, method, threshold=threshold)


def quota_threshold(votes: dict[str, int], number: int) -> Fraction:
    """The share of one full quota (votes / seats) as a threshold: Dutch lists below it
    win no seat (Kieswet P.7)."""
    return Fraction(1, number) if number else Fraction(0)


def as_vote_counts(allocation: Allocation) -> list[dict[str, object]]:
    """The allocation as ``VoteCount`` items of count type ``seats`` (NIST CountItemType
    ``seats``), to publish in a ``ContestResult`` beside the votes. Lists tied for a seat
    left to the lot get only the seats they won outright."""
    return [{"type": "VoteCount", "selection": selection, "countType": "seats", "count": n}
            for selection, n in sorted(allocation.seats.items())]

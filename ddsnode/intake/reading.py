"""A submission's tally, read and checked against the election as the store describes it.

Step 1 of :class:`ddsnode.intake.desk.Desk.submit`, outside the desk's lock (tallies are
parsed and checked in parallel): the body is parsed (:mod:`.tally`); the station must
vote in the contest, every selection must be one of the contest's, and the numbers must
be plausible (:func:`ddsnode.elections.plausibility.check_result`, with the contest's
votes allowed, which the write hook alone does not know). Every lookup is a dict or set
lookup in the :class:`.geography.Geography`: the cost follows the tally, not the
election's size.
"""

from __future__ import annotations

from ddsnode.elections.hook import ImplausibleResult
from ddsnode.elections.plausibility import ERROR, check_result
from ddsnode.intake import tally as tallies
from ddsnode.intake.geography import Geography
from ddsnode.intake.refusals import NotAStation, UnknownContest, UnknownSelection
from ddsnode.intake.submission import Submission
from ddsnode.intake.tally import BadTally, Tally
from ddsnode.problem import Problem, UnsupportedMediaType
from ddsnode.rdf.jsonld import JsonLdLimits

__all__ = ["read_tally", "readable_tally"]


def read_tally(sub: Submission, geo: Geography, base: str, limits: JsonLdLimits) -> Tally:
    """The tally of ``sub``; a Problem (400, 413, 415, 422) when it cannot be taken."""
    media = sub.media_type.split(";", 1)[0].strip().lower()
    if media in ("application/ld+json", "application/json"):
        tally = tallies.from_jsonld(sub.body, base, limits)
    elif media in ("application/xml", "text/xml", "application/eml+xml"):
        ident, votes = tallies.station_votes(sub.body)  # 400 first: DTDs, bad XML
        if sub.contest not in geo.contests:
            raise BadTally("An EML tally needs ?contest= the IRI of a contest on this node")
        station = geo.station_by_identifier(sub.contest, ident)
        if station is None:
            raise BadTally(f"No polling station {ident[:80]!r} votes in {sub.contest}")
        tally = tallies.from_eml(votes, sub.contest, station)
    else:
        raise UnsupportedMediaType("A tally is application/ld+json (a ContestResult) or "
                                   "application/xml (an EML 510 fragment)")
    contest = geo.contests.get(tally.contest)
    if contest is None:
        raise UnknownContest(f"{tally.contest[:200]} is not a contest of an election on "
                             "this node")
    if tally.unit not in geo.stations_of(tally.contest):
        raise NotAStation(f"{tally.unit[:200]} is not a polling station of "
                          f"{tally.contest[:200]}")
    unknown = sorted({s for s, _, _ in tally.counts} - contest.selections)
    if unknown:
        raise UnknownSelection(f"Not a selection of this contest: "
                               f"{', '.join(unknown)[:300]}")
    errors = [f for f in check_result(tally.figures(contest.votes_allowed))
              if f.severity == ERROR]
    if errors:
        raise ImplausibleResult("; ".join(f.message for f in errors),
                                extra={"findings": [f.to_json() for f in errors]})
    return tally


def readable_tally(sub: Submission, geo: Geography, base: str,
                   limits: JsonLdLimits) -> Tally | None:
    """The tally of ``sub`` (refused for another reason, kept for a supervisor), or None
    when it is not one."""
    try:
        return read_tally(sub, geo, base, limits)
    except Problem:
        return None

"""A group's NIST CDF view joined from pieces is byte for byte documents.nist_view
(issue 15: a part's rebuild made cheap without changing a published byte)."""

from __future__ import annotations

import random

import pytest

from ddsnode.publication import documents as docs
from ddsnode.publication.documents import ElectionFacts, Json
from ddsnode.publication.nist import UnitIds, nist_bytes

ELECTION = "https://node.example/elections/municipal-2026"
CONTEST = ELECTION + "/mayor"
STATUSES = ["unofficialComplete", "unofficialPartial", "correction", "certified",
            "preElection", "somethingElse"]


def _records(rng: random.Random, count: int, odd: bool) -> list[Json]:
    out = []
    for n in range(count):
        unit = f"https://node.example/places/station-{n}"
        if odd and n % 3 == 0:
            unit += "/é\"\\\u2028 <b>"  # escapes, non-ASCII, a line separator
        selections = rng.sample(["alice", "bob", "chloé", "d\"q", "zed"], rng.randint(0, 4))
        counts = [[f"{CONTEST}/{s}", rng.randrange(0, 10**6)] for s in selections]
        if odd and n % 5 == 0 and counts:
            counts.append(list(counts[0]))  # the same selection twice
        out.append({"contest": CONTEST, "unit": unit, "level": "polling-place",
                    "counts": counts,
                    "ballotsCast": None if n % 4 == 1 else rng.randrange(10**5),
                    "blank": None if n % 6 == 2 else 3,
                    "invalid": None if n % 7 == 3 else rng.randrange(50),
                    "registered": None if n % 2 else 900,
                    "stationsReported": 1, "stationsTotal": 1,
                    "status": rng.choice(STATUSES),
                    "asOf": f"2026-03-{15 + n % 3}T20:{n % 60:02d}:00Z"})
    return sorted(out, key=lambda r: r["unit"])


@pytest.mark.parametrize("facts", [None, ElectionFacts("Municipales « 2026 »", "2026-03-15",
                                                       ""),
                                   ElectionFacts("M", "", "2026-03-22")])
@pytest.mark.parametrize("level", ["polling-place", "district", "precinct", "a level"])
@pytest.mark.parametrize(("count", "odd"), [(0, False), (1, False), (40, False), (60, True)])
def test_joined_report_is_nist_view_byte_for_byte(facts: ElectionFacts | None, level: str,
                                                  count: int, odd: bool) -> None:
    rng = random.Random(count * 31 + len(level))
    records = [{**r, "level": level} for r in _records(rng, count, odd)]
    ids = UnitIds()
    status = docs.least_final(r["status"] for r in records)
    expected = docs.nist_view(ELECTION, facts, CONTEST, level, records,
                              "2026-03-15T21:00:00Z")
    made = nist_bytes(ELECTION, facts, CONTEST, level, records, "2026-03-15T21:00:00Z",
                      status, ids)
    assert made == expected
    assert len(ids) == count  # one id per unit, kept for the next build
    again = nist_bytes(ELECTION, facts, CONTEST, level, records, "2026-03-15T21:00:00Z",
                       status, ids)
    assert again == expected


def test_a_result_holding_the_placeholder_is_built_the_slow_way_with_the_same_bytes() -> None:
    records = _records(random.Random(5), 3, False)
    facts = ElectionFacts("\x00nist-piece\x00", "", "")  # in the report's frame
    expected = docs.nist_view(ELECTION, facts, CONTEST, "polling-place", records, "2026-03-15")
    assert expected.count(b'"\\u0000nist-piece\\u0000"') == 1
    assert nist_bytes(ELECTION, facts, CONTEST, "polling-place", records, "2026-03-15",
                      docs.least_final(r["status"] for r in records), UnitIds()) == expected


def test_records_out_of_order_are_built_the_slow_way_with_the_same_bytes() -> None:
    records = list(reversed(_records(random.Random(9), 5, True)))
    expected = docs.nist_view(ELECTION, None, CONTEST, "district", records, "2026-03-15")
    assert nist_bytes(ELECTION, None, CONTEST, "district", records, "2026-03-15",
                      docs.least_final(r["status"] for r in records), UnitIds()) == expected

"""A group's NIST CDF view joined from pieces is byte for byte documents.nist_view
(issue 15: a part's rebuild made cheap without changing a published byte)."""

from __future__ import annotations

import gzip
import random

import pytest

from ddsnode.publication import documents as docs
from ddsnode.publication.documents import ElectionFacts, Json
from ddsnode.publication.nist import UnitIds, nist_bytes
from ddsnode.publication.parts import PART_SUFFIX, Tables, index_bytes, part_bytes, part_of, stem

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
    # ids kept from a build where the same units were at another level (a unit that moved)
    other = [{**r, "level": "elsewhere"} for r in records]
    nist_bytes(ELECTION, facts, CONTEST, "elsewhere", other, "2026-03-15T21:00:00Z", status,
               ids)
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



def test_tables_files_are_the_views_built_whole_generation_after_generation() -> None:
    """results.json, each part's snapshot and each NIST view are what the functions that
    build them whole make, after changes, removals and a split (the pieces and ids kept
    between builds are never stale)."""
    rng = random.Random(3)
    tables = Tables(ELECTION, part_units=20)
    live: dict[tuple[str, str], Json] = {}
    split_seen = 0
    for step in range(4):
        generated = f"2026-03-15T2{step}:00:00Z"
        changes: dict[tuple[str, str], Json | None] = {}
        for _ in range(120 if step == 0 else 12):
            level = rng.choice(["polling-place", "district"])
            rec = {**_records(rng, 1, False)[0], "unit":
                   f"https://node.example/{level}/{rng.randrange(60)}", "level": level}
            changes[docs.key_of(rec)] = rec
        if step == 3:
            changes.update({k: None for k in sorted(live)[:5]})
        tables.apply(changes)
        for k, v in changes.items():
            if v is None:
                live.pop(k, None)
            else:
                live[k] = v
        built = tables.build(None, generated, lambda b: gzip.compress(b, 6, mtime=0))
        parts = sorted(p for p in built.listing if p.endswith(PART_SUFFIX))
        split_seen += bool(parts)
        in_parts: dict[str, list[Json]] = {}
        rest = []
        for rec in live.values():
            digits = len(parts[0].rsplit("/", 1)[1].removesuffix(PART_SUFFIX)) \
                if parts and rec["level"] == "polling-place" else 0
            if digits:
                in_parts.setdefault(stem(CONTEST, rec["level"], part_of(rec["unit"], digits)),
                                    []).append(rec)
            else:
                rest.append(rec)
        assert built.files["results.json"] == index_bytes(ELECTION, rest, parts)
        groups = {**in_parts, **{stem(CONTEST, lv, ""): [r for r in rest if r["level"] == lv]
                                 for lv in {r["level"] for r in rest}}}
        rebuilt = [p for p in built.files if p.endswith(".nist.json")]
        assert rebuilt
        for path in rebuilt:
            recs = sorted(groups[path.removesuffix(".nist.json")], key=lambda r: r["unit"])
            assert built.files[path] == docs.nist_view(ELECTION, None, CONTEST,
                                                       recs[0]["level"], recs, generated)
            snapshot = path.removesuffix(".nist.json") + PART_SUFFIX
            if snapshot in built.files:
                assert built.files[snapshot] == part_bytes(ELECTION, recs)
    assert split_seen == 4

"""Seat allocation from list totals (issue 14): D'Hondt, Sainte-Laguë, largest remainder.

No sample holds a published seat allocation (the Kiesraad's 110a files give the number
of seats, its 510 file is fake test data at one municipality, NIST's samples have no
party contest with seats), so each method is checked three ways: the textbook example
every description of the methods uses (230,000 votes, 8 seats), each method's own
defining criterion on many generated elections, and the example election's council
(``numberElected`` 55) through :func:`contest_seats`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from ddsnode.commands.demo import load_examples
from ddsnode.commands.node import init_node
from ddsnode.elections.loading import node_model
from ddsnode.elections.seats import allocate, contest_seats, quota_threshold
from ddsnode.ldp.node import Node
from ddsnode.settings import Settings

TEXTBOOK = {"A": 100_000, "B": 80_000, "C": 30_000, "D": 20_000}


@pytest.mark.parametrize(("method", "expected"), [
    ("dhondt", {"A": 4, "B": 3, "C": 1, "D": 0}),
    ("sainte-lague", {"A": 3, "B": 3, "C": 1, "D": 1}),
    ("hare", {"A": 3, "B": 3, "C": 1, "D": 1}),
    ("droop", {"A": 4, "B": 3, "C": 1, "D": 0}),
])
def test_textbook_example(method: str, expected: dict[str, int]) -> None:
    result = allocate(TEXTBOOK, 8, method)
    assert result.seats == expected and result.unallocated == 0 and result.tied == ()


def elections(count: int) -> list[tuple[dict[str, int], int]]:
    rng = random.Random(14)  # fixed: the same cases every run
    out = []
    for _ in range(count):
        lists = rng.randint(2, 12)
        votes = {f"L{i}": rng.randint(0, 200_000) for i in range(lists)}
        out.append((votes, rng.randint(1, 150)))
    return out


@pytest.mark.parametrize(("method", "divisor"), [
    ("dhondt", lambda s: Fraction(s + 1)),
    ("sainte-lague", lambda s: Fraction(2 * s + 1)),
])
def test_highest_averages_meet_their_criterion(method: str,
                                               divisor: Callable[[int], Fraction]) -> None:
    """Every winning quotient is at least every losing one: the lowest v/d(s-1) over
    lists with seats >= the highest v/d(s) over all lists (no tie in these cases)."""
    checked = 0
    for votes, number in elections(300):
        result = allocate(votes, number, method)
        if result.tied:
            continue
        seats = result.seats
        assert sum(seats.values()) == number
        won = [Fraction(votes[k]) / divisor(seats[k] - 1) for k in votes if seats[k]]
        next_ = [Fraction(votes[k]) / divisor(seats[k]) for k in votes]
        assert min(won) >= max(next_)
        checked += 1
    assert checked > 250


@pytest.mark.parametrize("method", ["hare", "droop"])
def test_largest_remainder_meets_quota(method: str) -> None:
    """Each list gets its quota rounded down or up (the quota rule)."""
    for votes, number in elections(300):
        result = allocate(votes, number, method)
        total = sum(votes.values())
        if result.tied or total == 0:
            continue
        quota = Fraction(total, number) if method == "hare" else \
            Fraction(total // (number + 1) + 1)
        assert sum(result.seats.values()) == number
        for k, v in votes.items():
            assert int(v / quota) <= result.seats[k] <= int(v / quota) + 1


def test_a_tie_for_the_last_seat_is_left_to_the_lot() -> None:
    result = allocate({"A": 600, "B": 300, "C": 300}, 2, "dhondt")
    assert result.seats == {"A": 1, "B": 0, "C": 0}
    # A's second quotient (600 / 2) equals B's and C's first: three lists, one seat
    assert result.unallocated == 1 and result.tied == ("A", "B", "C")


def test_quota_threshold_leaves_small_lists_out() -> None:
    votes = {"A": 5_000, "B": 4_000, "C": 900, "D": 100}
    plain = allocate(votes, 10, "sainte-lague").seats
    assert plain["C"] == 1
    kept = allocate(votes, 10, "sainte-lague", threshold=quota_threshold(votes, 10)).seats
    assert kept["C"] == 0 and sum(kept.values()) == 10


def test_modified_sainte_lague_first_divisor() -> None:
    votes = {"A": 60_000, "B": 30_000, "C": 9_000}
    assert allocate(votes, 6, "sainte-lague").seats == {"A": 3, "B": 2, "C": 1}
    # 1.4 as first divisor: C's 9,000 / 1.4 = 6,429 is below A's fourth quotient (8,571)
    assert allocate(votes, 6, "sainte-lague", first_divisor=Fraction(7, 5)).seats == \
        {"A": 4, "B": 2, "C": 0}


@pytest.mark.parametrize(("votes", "number"), [({"A": -1}, 3), ({"A": True}, 3),
                                                ({"A": 1.5}, 3), ({"A": 10}, -1)])
def test_bad_input_is_refused(votes: dict[str, int], number: int) -> None:
    with pytest.raises(ValueError, match="whole number|negative"):
        allocate(votes, number)


def test_unknown_method() -> None:
    with pytest.raises(ValueError, match="unknown method"):
        allocate(TEXTBOOK, 8, "imperiali")


def test_ranked_choice_rounds_are_kept_beside_the_last(tmp_path: Path) -> None:
    """A NIST file with two rounds: the result's counts are the last round's (not the
    rounds added together), every round is kept as a TabulationRound, the export writes
    each count with its Round, and import -> export -> import gives the same rounds."""
    import json

    from ddsnode import resources
    from ddsnode.elections import export
    from ddsnode.elections.run import import_nist
    report = json.loads((resources.examples_dir() / "nist" / "e-election-municipal-2026.json")
                        .read_text(encoding="utf-8"))
    council = report["Election"][0]["Contest"][0]
    assert council["@id"] == "municipal-2026-council"
    for selection in council["ContestSelection"]:
        last = [{**vc, "Round": 2} for vc in selection["VoteCounts"]]
        first = [{**vc, "Round": 1, "Count": vc["Count"] - 100} for vc in selection["VoteCounts"]]
        selection["VoteCounts"] = first + last

    def trip(name: str, data: dict[str, Any]) -> dict[str, Any]:
        source = tmp_path / f"{name}.json"
        source.write_text(json.dumps(data), encoding="utf-8")
        init_node(tmp_path / name, base_url="http://127.0.0.1:8000/")
        settings = Settings.load(tmp_path / name)
        imported = import_nist(settings, tmp_path / name, source, slug="r")
        assert imported.rejects == [] and imported.findings == []
        node = Node.open(settings)
        try:
            model = node_model(node, "http://127.0.0.1:8000/elections/r-election-1")
        finally:
            node.close()
        (result,) = [r for r in model.results if r.contest.endswith("council")]
        totals = {s.rsplit("#", 1)[-1]: n for s, n in result.figures.totals().items()}
        assert totals == {"list-rc": 11052, "list-ar": 6211, "list-res": 4251}
        assert sorted(result.rounds) == [1, 2]
        assert {s.rsplit("#", 1)[-1]: n for (s, t), n in result.rounds[1].items()
                if t == "total"} == {"list-rc": 10952, "list-ar": 6111, "list-res": 4151}
        exported = export.nist_report(model)
        assert export.schema_errors(exported) == []
        return exported

    first_export = trip("a", report)
    exported_council = first_export["Election"][0]["Contest"][0]
    rounds = {vc.get("Round") for s in exported_council["ContestSelection"]
              for vc in s["VoteCounts"]}
    assert rounds == {1, 2}
    second_export = trip("b", first_export)
    strip = ("GeneratedDate", "VendorApplicationId")
    assert {k: v for k, v in first_export.items() if k not in strip} == \
        {k: v for k, v in second_export.items() if k not in strip}


def test_example_council_seats_are_published_and_exported_without_loss(
        tmp_path: Path) -> None:
    """The example council's seats, allocated from its stored result; the allocation
    published as ``seats`` counts goes through the write path (shapes, plausibility:
    seats are not ballots), verifies clean, and exports as NIST ``seats``."""
    import json

    from ddsnode.elections import export
    from ddsnode.elections.loading import node_graph
    from ddsnode.elections.seats import as_vote_counts
    from ddsnode.elections.verify import verify

    base = "https://elections.rivemont.example/"
    init_node(tmp_path / "node", base_url=base)
    settings = Settings.load(tmp_path / "node")
    load_examples(settings)
    node = Node.open(settings)
    try:
        model = node_model(node, base + "elections/municipal-2026")
        unit = base + "places/rivemont-secteur-1"
        contest = base + "elections/municipal-2026-council"
        allocation = contest_seats(model, contest, unit)
        by_list = {k.rsplit("#", 1)[-1]: v for k, v in allocation.seats.items()}
        assert sum(by_list.values()) == 55  # the contest's numberElected
        assert by_list["list-rc"] > by_list["list-ar"] > by_list["list-res"] > 0
        with pytest.raises(ValueError, match="no result"):
            contest_seats(model, contest, base + "places/rivemont")
        iri = base + "results/municipal-2026-council-secteur-1-seq-2"
        doc = json.loads((Path(__file__).resolve().parents[1] / "examples" /
                          "e-result-municipal-2026-council-secteur-1-seq-2.jsonld")
                         .read_text(encoding="utf-8"))
        doc["voteCounts"] += as_vote_counts(allocation)
        node.write_document(iri, json.dumps(doc).encode("utf-8"), "application/ld+json")
        model = node_model(node, base + "elections/municipal-2026")
        graph = node_graph(node)
    finally:
        node.close()
    assert verify(graph).findings == []
    report = export.nist_report(model)
    assert export.schema_errors(report) == []
    council = report["Election"][0]["Contest"][0]
    seats = {s["@id"]: v["Count"] for s in council["ContestSelection"]
             for v in s["VoteCounts"] if v["Type"] == "seats"}
    assert seats == {k.rsplit("#", 1)[-1]: v for k, v in allocation.seats.items()}
    assert sum(seats.values()) == 55
    # ... and a NIST file with seats imports them as seats (not as "other", as before).
    from ddsnode.elections.run import import_nist
    source = tmp_path / "with-seats.json"
    source.write_text(json.dumps(report), encoding="utf-8")
    init_node(tmp_path / "other", base_url="http://127.0.0.1:8000/")
    other = Settings.load(tmp_path / "other")
    imported = import_nist(other, tmp_path / "other", source, slug="s")
    assert imported.rejects == [] and imported.findings == []
    node = Node.open(other)
    try:
        back = node_model(node, "http://127.0.0.1:8000/elections/s-election-1")
    finally:
        node.close()
    assert {s.rsplit("#", 1)[-1]: n for r in back.results
            for (s, t), n in r.figures.counts.items() if t == "seats"} == seats


def test_a_round_that_is_not_a_number_refuses_the_file(tmp_path: Path) -> None:
    import json

    from ddsnode import resources
    from ddsnode.elections.nist import NistError
    from ddsnode.elections.run import import_nist
    report = json.loads((resources.examples_dir() / "nist" / "e-election-municipal-2026.json")
                        .read_text(encoding="utf-8"))
    report["Election"][0]["Contest"][0]["ContestSelection"][0]["VoteCounts"][0]["Round"] = "two"
    source = tmp_path / "bad-round.json"
    source.write_text(json.dumps(report), encoding="utf-8")
    init_node(tmp_path / "node", base_url="http://127.0.0.1:8000/")
    with pytest.raises(NistError, match="Round"):
        import_nist(Settings.load(tmp_path / "node"), tmp_path / "node", source)

"""The intake's running totals: incremental sums agree with a recount, survive a restart
(rebuilt from the event log) and start from station results already in the store."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from ddsnode.assembly import assemble
from ddsnode.commands.demo import rebase
from ddsnode.commands.node import init_node
from ddsnode.elections.reporting import ResultsFeed
from ddsnode.intake.desk import Desk
from ddsnode.intake.geography import ContestInfo, Geography, UnitInfo
from ddsnode.intake.submission import Submission
from ddsnode.intake.tally import Tally
from ddsnode.intake.totals import CORRECTION, COUNTED, Totals
from ddsnode.problem import Conflict
from ddsnode.resources import examples_dir
from ddsnode.settings import Settings
from tests.test_intake import ELECTION_DOCS

BASE = "http://127.0.0.1:8000/"


def _tree(regions: int, districts: int, stations: int) -> Geography:
    """A country of ``regions`` × ``districts`` × ``stations`` polling stations."""
    units = {"nation": UnitInfo("nation", "country", False)}
    for r in range(regions):
        units[f"r{r}"] = UnitInfo(f"r{r}", "region", False, parent="nation")
        for d in range(districts):
            units[f"r{r}d{d}"] = UnitInfo(f"r{r}d{d}", "district", False, parent=f"r{r}")
            for s in range(stations):
                iri = f"r{r}d{d}s{s}"
                units[iri] = UnitInfo(iri, "polling-place", True, parent=f"r{r}d{d}")
    contest = ContestInfo("c", "e", "nation", 1, frozenset({"a", "b"}))
    return Geography(units, {"c": contest})


def _recount(geo: Geography, tallies: dict[str, Tally], unit: str) -> dict[str, int]:
    """The sums over stations below ``unit``, from scratch."""
    out = {"a": 0, "b": 0}
    for station, t in tallies.items():
        if unit in geo.ancestors(station):
            for selection, votes in t.totals().items():
                out[selection] += votes
    return out


def test_incremental_totals_equal_a_recount_after_updates() -> None:
    geo = _tree(3, 4, 5)
    totals: ResultsFeed = Totals(geo)
    assert isinstance(totals, Totals)
    rng = random.Random(15)
    latest: dict[str, Tally] = {}
    stations = sorted(geo.stations_of("c"))
    for i in range(200):  # first reports, then corrections of random stations
        station = stations[i % len(stations)] if i < len(stations) else rng.choice(stations)
        t = Tally("c", station, (("a", "total", rng.randint(0, 500)),
                                 ("b", "total", rng.randint(0, 500))), cast=1000)
        totals.apply(t, CORRECTION if station in latest else COUNTED, f"2026-03-15T20:{i % 60:02d}:00Z")
        latest[station] = t
    mark, results = totals.results("e")
    assert mark == 200
    for r in results:
        assert dict(r.counts) == _recount(geo, latest, r.unit), r.unit
        assert r.stations_reported == r.stations_total
    nation = next(r for r in results if r.unit == "nation")
    assert (nation.stations_total, nation.level, nation.ballots_cast) == (60, "country", 60_000)


def test_an_update_touches_only_its_ancestors() -> None:
    geo = _tree(2, 2, 2)
    totals = Totals(geo)
    for station in sorted(geo.stations_of("c")):
        totals.apply(Tally("c", station, (("a", "total", 1),)), COUNTED, "t")
    mark, _ = totals.results("e")
    totals.apply(Tally("c", "r1d0s1", (("a", "total", 5),)), CORRECTION, "t2")
    _, changed = totals.results("e", since=mark)
    assert sorted(r.unit for r in changed) == ["nation", "r1", "r1d0", "r1d0s1"]
    assert {r.unit: dict(r.counts)["a"] for r in changed}["nation"] == 8 - 1 + 5
    assert all(r.status == CORRECTION for r in changed)


def test_what_changed_since_any_mark_is_what_a_full_scan_finds() -> None:
    """results(since) reads only the changes (newest first): it must agree, row for row
    and in order, with every unit's result filtered by its mark — two contests of two
    elections, one of them over part of the tree."""
    geo = _tree(2, 3, 4)
    geo = Geography(geo.units, {"c": ContestInfo("c", "e", "nation", 1, frozenset({"a", "b"})),
                                "d": ContestInfo("d", "f", "r1", 1, frozenset({"a"}))})
    totals = Totals(geo)
    rng = random.Random(7)
    marks: dict[tuple[str, str], int] = {}
    for i in range(120):
        contest = rng.choice(["c", "d"])
        station = rng.choice(sorted(geo.stations_of(contest)))
        mark = totals.apply(Tally(contest, station, (("a", "total", rng.randint(0, 9)),)),
                            COUNTED, f"t{i}")
        for unit in geo.ancestors(station):
            marks[(contest, unit)] = mark
    for election in ("e", "f"):
        _, everything = totals.results(election)
        for since in (1, 17, 60, 119, 120):
            _, changed = totals.results(election, since)
            expected = [r for r in everything if marks.get((r.contest, r.unit), 0) > since]
            assert changed == expected, (election, since)
    assert totals.results("f", 120)[1] == [] and len(totals.results("f", 1)[1]) > 1


def _node(tmp_path: Path) -> Settings:
    node_dir = tmp_path / "node"
    init_node(node_dir, base_url=BASE)
    settings = Settings.load(node_dir)
    assembly = assemble(settings)
    try:
        for name in ELECTION_DOCS:
            text = rebase((examples_dir() / f"{name}.jsonld").read_text("utf-8"), BASE)
            assembly.node.write_document(json.loads(text)["id"], text.encode(),
                                         "application/ld+json")
    finally:
        assembly.close()
    return settings


def _tally_body(station: str, rc: int) -> bytes:
    contest = BASE + "elections/municipal-2026-council"
    return json.dumps({
        "@context": "https://w3id.org/dds/context/v1", "type": "ContestResult",
        "contest": contest, "reportingUnit": BASE + f"places/{station}",
        "voteCounts": [{"type": "VoteCount", "selection": f"{contest}#list-rc",
                        "countType": "total", "count": rc}]}).encode()


def _rc(desk: Desk, unit: str) -> int:
    _, rows = desk.results(BASE + "elections/municipal-2026")
    return next(dict(r.counts).get(BASE + "elections/municipal-2026-council#list-rc", 0)
                for r in rows if r.unit == BASE + f"places/{unit}"
                and r.contest.endswith("council"))


def test_totals_are_rebuilt_from_the_log_at_startup(tmp_path: Path) -> None:
    settings = _node(tmp_path)
    first = assemble(settings)
    desk = first.intake
    assert desk is not None
    try:
        for key, station, rc in (("a", "bureau-101", 10), ("b", "bureau-201", 7)):
            desk.submit(Submission(_tally_body(station, rc), "application/ld+json", key, "t1",
                                   frozenset({"write"})))
        desk.submit(Submission(_tally_body("bureau-101", 12), "application/ld+json", "c",
                               "t1", frozenset({"write", "review"}), reason="misread"))
        before = desk.results(BASE + "elections/municipal-2026")[1]
    finally:
        first.close()
    again = assemble(settings)
    try:
        assert again.intake is not None
        after = again.intake.results(BASE + "elections/municipal-2026")[1]
        strip = [(r.unit, r.contest, r.counts, r.stations_reported, r.status) for r in before]
        assert strip == [(r.unit, r.contest, r.counts, r.stations_reported, r.status)
                         for r in after]
        assert _rc(again.intake, "rivemont") == 19
        # the key is remembered across the restart: a retry is a replay
        replay = again.intake.submit(Submission(_tally_body("bureau-101", 10),
                                                "application/ld+json", "a", "t1",
                                                frozenset({"write"})))
        assert replay.replayed and replay.status == 201
    finally:
        again.close()


def test_station_results_already_stored_seed_the_totals(tmp_path: Path) -> None:
    settings = _node(tmp_path)
    first = assemble(settings)
    try:
        doc = json.loads(_tally_body("bureau-104", 33))
        doc.update(id=BASE + "results/imported-104", sequence=3, resultsStatus="certified")
        first.node.write_document(doc["id"], json.dumps(doc).encode(), "application/ld+json")
    finally:
        first.close()
    again = assemble(settings)
    try:
        desk = again.intake
        assert desk is not None
        assert _rc(desk, "rivemont-secteur-1") == 33
        with pytest.raises(Conflict):
            desk.submit(Submission(_tally_body("bureau-104", 34), "application/ld+json", "x",
                                   "t1", frozenset({"write"})))
        fixed = desk.submit(Submission(_tally_body("bureau-104", 34), "application/ld+json",
                                       "y", "t1", frozenset({"review"}), reason="recount"))
        assert fixed.body["sequence"] == 4 and _rc(desk, "rivemont") == 34
    finally:
        again.close()

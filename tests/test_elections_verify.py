"""``ddsnode verify``: nothing on clean data, every seeded inconsistency found (issue 14).

A small NIST report is built here (a state of two counties, one contest): clean, it
adds up; each seeded variant breaks one rule. Verify reads it as a file, and from a
node where the same results were written through the write path (PUT), since the
importer itself refuses a result that cannot be (tested here too).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ddsnode.cli import main
from ddsnode.commands.demo import load_examples
from ddsnode.commands.node import init_node
from ddsnode.elections.loading import file_graph, load_any
from ddsnode.elections.verify import verify
from ddsnode.settings import Settings

BASE = "http://127.0.0.1:8000/"
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "elections" / \
    "civics-cdf-samples"
Json = dict[str, Any]


def counts(unit: str, yes: tuple[int, int], no: tuple[int, int]) -> dict[str, list[Json]]:
    """VoteCounts of the two selections in ``unit``: (election day, total) each."""
    def vc(kind: str, n: int) -> Json:
        return {"@type": "ElectionResults.VoteCounts", "GpUnitId": unit, "Type": kind, "Count": n}
    return {"yes": [vc("election-day", yes[0]), vc("total", yes[1])],
            "no": [vc("election-day", no[0]), vc("total", no[1])]}


def report() -> Json:
    """A clean report: state s = county a + county b."""
    units = [
        {"@id": "s", "@type": "ElectionResults.ReportingUnit", "Type": "state",
         "Name": "State", "ComposingGpUnitIds": ["a", "b"], "VotersRegistered": 1000},
        {"@id": "a", "@type": "ElectionResults.ReportingUnit", "Type": "county",
         "Name": "County A", "VotersRegistered": 600},
        {"@id": "b", "@type": "ElectionResults.ReportingUnit", "Type": "county",
         "Name": "County B", "VotersRegistered": 400},
    ]
    per_unit = [counts("a", (200, 300), (100, 150)), counts("b", (80, 120), (50, 90)),
                counts("s", (280, 420), (150, 240))]
    selections = [{"@id": sel, "@type": "ElectionResults.BallotMeasureSelection",
                   "Selection": {"@type": "ElectionResults.InternationalizedText",
                                 "Text": [{"@type": "ElectionResults.LanguageString",
                                           "Content": sel, "Language": "en"}]},
                   "VoteCounts": [vc for u in per_unit for vc in u[sel]]}
                  for sel in ("yes", "no")]
    ballots = [{"@type": "ElectionResults.BallotCounts", "GpUnitId": u, "Type": "total",
                "BallotsCast": n} for u, n in (("a", 460), ("b", 215), ("s", 675))]
    return {
        "@type": "ElectionResults.ElectionReport", "Format": "summary-contest",
        "GeneratedDate": "2026-03-15T22:00:00+01:00", "Issuer": "test",
        "IssuerAbbreviation": "test", "SequenceStart": 1, "SequenceEnd": 1,
        "Status": "unofficial-complete", "VendorApplicationId": "test", "GpUnit": units,
        "Election": [{"@type": "ElectionResults.Election",
                      "Name": {"@type": "ElectionResults.InternationalizedText",
                               "Text": [{"@type": "ElectionResults.LanguageString",
                                         "Content": "Test", "Language": "en"}]},
                      "StartDate": "2026-03-15", "EndDate": "2026-03-15", "Type": "general",
                      "ElectionScopeId": "s", "BallotCounts": ballots,
                      "Contest": [{"@id": "m", "@type": "ElectionResults.BallotMeasureContest",
                                   "Name": "Measure", "ElectionDistrictId": "s",
                                   "ContestSelection": selections}]}]}


def _count(r: Json, unit: str, sel: str, kind: str, value: int) -> None:
    contest = r["Election"][0]["Contest"][0]
    for s in contest["ContestSelection"]:
        for vc in s["VoteCounts"]:
            if s["@id"] == sel and vc["GpUnitId"] == unit and vc["Type"] == kind:
                vc["Count"] = value


def _cast(r: Json, unit: str, value: int) -> None:
    for b in r["Election"][0]["BallotCounts"]:
        if b["GpUnitId"] == unit:
            b["BallotsCast"] = value


@dataclass(frozen=True)
class Seeded:
    """One inconsistency put into the clean report, and what verify must say."""

    name: str
    seed: Callable[[Json], None]
    code: str
    units: frozenset[str]  # source ids of the units the finding must name
    refused_on_import: bool
    also: tuple[str, ...] = ()  # what follows in the sums (a changed sub-unit)


SEEDED = [
    Seeded("a unit that does not add up", lambda r: _count(r, "s", "yes", "total", 421),
           "sub-units-do-not-add-up", frozenset({"s", "a", "b"}), False),
    Seeded("a sub-unit changed under its parent", lambda r: _count(r, "b", "no", "election-day", 49),
           "sub-units-do-not-add-up", frozenset({"s", "a", "b"}), False),
    Seeded("ballots cast that do not add up", lambda r: _cast(r, "s", 700),
           "ballots-do-not-add-up", frozenset({"s", "a", "b"}), False),
    Seeded("turnout over 100%", lambda r: _cast(r, "b", 401), "turnout-over-100",
           frozenset({"b"}), True, ("ballots-do-not-add-up",)),
    Seeded("a vote-type part over its total", lambda r: _count(r, "a", "yes", "election-day", 301),
           "parts-over-total", frozenset({"a"}), True, ("sub-units-do-not-add-up",)),
]


def write_report(path: Path, data: Json) -> Path:
    """The report as a JSON file."""
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_clean_report_has_no_findings(tmp_path: Path) -> None:
    found = verify(file_graph(write_report(tmp_path / "clean.json", report()), 1 << 20))
    assert found.findings == []
    assert found.compared == 1 and found.results == 3


@pytest.mark.parametrize("sample", sorted(s for s in SAMPLES.glob("*.xml")
                                          if "officeholder" not in s.name), ids=lambda p: p.stem)
def test_nist_samples_have_no_findings(sample: Path) -> None:
    assert verify(load_any(str(sample))).findings == []


def test_example_scenario_has_no_findings(tmp_path: Path) -> None:
    node_dir = tmp_path / "node"
    init_node(node_dir, base_url=BASE)
    load_examples(Settings.load(node_dir))
    found = verify(load_any(str(node_dir)))
    assert found.results == 3 and found.findings == []
    assert main(["verify", str(node_dir)]) == 0


@pytest.mark.parametrize("case", SEEDED, ids=[c.name for c in SEEDED])
def test_seeded_inconsistency_is_found_in_a_file(tmp_path: Path, case: Seeded) -> None:
    data = copy.deepcopy(report())
    case.seed(data)
    path = write_report(tmp_path / "seeded.json", data)
    found = verify(file_graph(path, 1 << 20))
    assert sorted(f.code for f in found.findings) == sorted((case.code, *case.also)), \
        found.text()
    finding = next(f for f in found.findings if f.code == case.code)
    named = {u.rsplit("-unit-", 1)[-1] for u in finding.units}
    assert named == set(case.units)
    assert main(["verify", str(path)]) == 1


@pytest.mark.parametrize("case", SEEDED, ids=[c.name for c in SEEDED])
def test_seeded_inconsistency_is_found_on_a_node(tmp_path: Path, case: Seeded) -> None:
    """Imported: a result that cannot be is refused (and said why); one that is only
    inconsistent with others is stored, and verify on the node finds it."""
    node_dir = tmp_path / "node"
    init_node(node_dir, base_url=BASE)
    data = copy.deepcopy(report())
    case.seed(data)
    out = tmp_path / "report.json"
    assert main(["import", "nist", str(node_dir), str(write_report(tmp_path / "s.json", data)),
                 "--report", str(out)]) == 0
    imported = json.loads(out.read_text(encoding="utf-8"))
    found = verify(load_any(str(node_dir)))
    if case.refused_on_import:
        assert imported["counts"]["result"]["rejected"] == 1
        assert case.code in {f["code"] for f in imported["findings"]}
        assert found.findings == [] and found.results == 2
    else:
        assert imported["totals"]["rejected"] == 0
        assert [f.code for f in found.findings] == [case.code]
        assert main(["verify", str(node_dir)]) == 1


@pytest.mark.parametrize("source", ["missing.json", "not-a-report.json", "broken.xml",
                                    str(SAMPLES / "officeholder_sample_feed.xml")])
def test_unreadable_source_is_exit_2(tmp_path: Path, source: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "not-a-report.json").write_text("[1, 2]", encoding="utf-8")
    (tmp_path / "broken.xml").write_text("<ElectionReport><Election>", encoding="utf-8")
    assert main(["verify", str(tmp_path / source)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ddsnode: ") and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(("status", "codes"), [
    ("unofficial-complete", ["count-decreased"]),
    ("correction", []),
    ("recount", []),
])
def test_counts_that_go_down_between_sequences(tmp_path: Path, status: str,
                                               codes: list[str]) -> None:
    """A second publication (sequence 2) with fewer votes for a county: a finding unless
    it is a correction or a recount. The state total is lowered with it, so the sums
    still hold."""
    node_dir = tmp_path / "node"
    init_node(node_dir, base_url=BASE)
    first = write_report(tmp_path / "seq1.json", report())
    assert main(["import", "nist", str(node_dir), str(first), "--slug", "r"]) == 0
    later = copy.deepcopy(report())
    later["SequenceStart"] = later["SequenceEnd"] = 2
    later["Status"] = status
    _count(later, "a", "no", "total", 140)
    _count(later, "s", "no", "total", 230)
    second = write_report(tmp_path / "seq2.json", later)
    assert main(["import", "nist", str(node_dir), str(second), "--slug", "r"]) == 0
    found = verify(load_any(str(node_dir)))
    assert found.results == 6
    assert sorted({f.code for f in found.findings}) == codes, found.text()
    for finding in found.findings:
        assert finding.units == (BASE + "places/r-unit-a",) or \
            finding.units == (BASE + "places/r-unit-s",)


def test_a_polling_station_counts_towards_the_unit_it_serves() -> None:
    """A station placed only by ``dds:servesUnit`` is the child of that unit, so its
    results are re-added into the unit's total (the example election's stations)."""
    import rdflib

    from ddsnode.elections.model import units_of
    from ddsnode.rdf.vocab import DDS

    g = rdflib.Graph()
    sector, station, other = (rdflib.URIRef(f"https://e.example/places/{n}")
                              for n in ("sector", "bureau-1", "bureau-2"))
    g.add((sector, rdflib.RDF.type, DDS.GpUnit))
    for s in (station, other):
        g.add((s, rdflib.RDF.type, DDS.PollingStation))
        g.add((s, DDS.servesUnit, sector))
    g.add((other, DDS.servesUnit, station))  # two served units: not placed by them
    units = units_of(g)
    assert units[str(station)].parent == str(sector)
    assert units[str(other)].parent is None
    assert units[str(sector)].children == [str(station)]

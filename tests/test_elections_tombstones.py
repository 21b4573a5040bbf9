"""Tombstones on re-import (issue 14): what a later file of the same source no longer has.

Like the Decidim importer: a resource an earlier import of the same slug wrote, absent
from the re-imported file, becomes a tombstone (410 Gone), counted ``tombstoned`` in the
report. Not tombstoned: earlier sequences of a result (the record of earlier
publications), kinds the file does not produce (a 230 list and a 510 count share a slug),
anything when the file has broken lines, and anything with ``--keep-missing``.
The sources are the example election as NIST CDF, the Georgia OpenElections file and
the Kiesraad's EML files, each cut down here.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from ddsnode import resources
from ddsnode.cli import main
from ddsnode.commands.node import init_node
from ddsnode.ldp.node import Node
from ddsnode.settings import Settings
from tests.support.inprocess import local_node

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "elections"
GA = SHARED / "openelections" / "20200811__ga__primary__general__runoff.csv"
KIESRAAD = SHARED / "kiesraad-eml"
EXAMPLE = resources.examples_dir() / "nist" / "e-election-municipal-2026.json"
BASE = "http://127.0.0.1:8000/"


def imported(node_dir: Path, fmt: str, source: Path, *extra: str) -> dict[str, Any]:
    """Run ``import FORMAT`` with slug ``s`` and return the JSON report."""
    if not node_dir.exists():
        init_node(node_dir, base_url=BASE)
    out = node_dir.parent / f"{source.name}.report.json"  # never beside a shared file
    assert main(["import", fmt, str(node_dir), str(source), "--slug", "s", "--quiet",
                 "--report", str(out), *extra]) == 0
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


def kinds(node_dir: Path, iris: list[str]) -> list[str | None]:
    """The stored kind (rdf, tombstone) of each IRI, None when absent."""
    node = Node.open(Settings.load(node_dir))
    try:
        return [(r.kind if (r := node.store.get(i)) is not None else None) for i in iris]
    finally:
        node.close()


def nist_file(tmp: Path, name: str, report: dict[str, Any]) -> Path:
    path = tmp / name
    path.write_text(json.dumps(report), encoding="utf-8")
    return path


def without_referendum(report: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(report)
    election = out["Election"][0]
    election["Contest"] = [c for c in election["Contest"] if "referendum" not in c["@id"]]
    return out


def test_a_contest_gone_from_the_file_is_tombstoned(tmp_path: Path) -> None:
    full = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    node_dir = tmp_path / "node"
    first = imported(node_dir, "nist", nist_file(tmp_path, "full.json", full))
    assert first["totals"]["tombstoned"] == 0
    contest = BASE + "elections/s-contest-municipal-2026-referendum"
    result = BASE + "results/s-result-municipal-2026-referendum-rivemont-seq-2"
    council = BASE + "elections/s-contest-municipal-2026-council"
    assert kinds(node_dir, [contest, result, council]) == ["rdf", "rdf", "rdf"]

    second = imported(node_dir, "nist", nist_file(tmp_path, "less.json",
                                                   without_referendum(full)))
    assert second["counts"]["contest"]["tombstoned"] == 1
    assert second["counts"]["result"]["tombstoned"] == 1
    assert second["totals"]["tombstoned"] == 2
    assert second["counts"]["contest"]["updated"] == 1  # its sourceDigest is the new file's
    assert kinds(node_dir, [contest, result, council]) == ["tombstone", "tombstone", "rdf"]

    # Once tombstoned, the entry is forgotten: the same file again tombstones nothing,
    # and the full file brings the contest back.
    again = imported(node_dir, "nist", nist_file(tmp_path, "less2.json",
                                                  without_referendum(full)))
    assert again["totals"]["tombstoned"] == 0
    back = imported(node_dir, "nist", nist_file(tmp_path, "full2.json", full))
    assert back["counts"]["contest"]["created"] == 1
    assert kinds(node_dir, [contest, result]) == ["rdf", "rdf"]


def test_a_tombstoned_resource_answers_410(tmp_path: Path) -> None:
    full = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    with local_node(tmp_path) as node:
        imported(node.dir, "nist", nist_file(tmp_path, "full.json", full))
        imported(node.dir, "nist", nist_file(tmp_path, "less.json", without_referendum(full)))
        with node.client() as http:
            gone = http.get("/elections/s-contest-municipal-2026-referendum",
                            headers=node.auth(node.read_token))
            kept = http.get("/elections/s-contest-municipal-2026-council",
                            headers=node.auth(node.read_token))
    assert gone.status_code == 410
    assert kept.status_code == 200


def test_earlier_sequences_are_kept(tmp_path: Path) -> None:
    full = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    node_dir = tmp_path / "node"
    imported(node_dir, "nist", nist_file(tmp_path, "seq2.json", full))
    later = copy.deepcopy(full)
    later["SequenceStart"] = later["SequenceEnd"] = 3
    report = imported(node_dir, "nist", nist_file(tmp_path, "seq3.json", later))
    assert report["totals"]["tombstoned"] == 0
    assert report["counts"]["result"]["created"] == 2  # one per contest × unit
    assert kinds(node_dir, [BASE + "results/s-result-municipal-2026-referendum-rivemont-seq-2",
                            BASE + "results/s-result-municipal-2026-referendum-rivemont-seq-3"]) \
        == ["rdf", "rdf"]


def test_keep_missing_tombstones_nothing(tmp_path: Path) -> None:
    full = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    node_dir = tmp_path / "node"
    imported(node_dir, "nist", nist_file(tmp_path, "full.json", full))
    report = imported(node_dir, "nist", nist_file(tmp_path, "less.json",
                                                   without_referendum(full)), "--keep-missing")
    assert report["totals"]["tombstoned"] == 0
    assert kinds(node_dir, [BASE + "elections/s-contest-municipal-2026-referendum"]) == ["rdf"]


def ga(tmp: Path, rows: list[str], name: str) -> Path:
    folder = tmp / name
    folder.mkdir()
    path = folder / GA.name
    path.write_text("".join(rows), encoding="utf-8")
    return path


def ga_rows(count: int) -> list[str]:
    with GA.open(encoding="utf-8") as f:
        return [next(f) for _ in range(count + 1)]


def test_openelections_precinct_gone_is_tombstoned(tmp_path: Path) -> None:
    rows = ga_rows(12)
    node_dir = tmp_path / "node"
    first = imported(node_dir, "openelections", ga(tmp_path, rows, "a"))
    assert first["counts"]["result"]["created"] == 12
    # Homer (line 11) leaves the file: its result and its precinct go.
    second = imported(node_dir, "openelections",
                      ga(tmp_path, [r for r in rows if ",Homer," not in r], "b"))
    assert second["counts"]["result"]["tombstoned"] == 1
    assert second["counts"]["unit"]["tombstoned"] == 1
    assert second["totals"]["tombstoned"] == 2
    assert second["counts"]["result"]["updated"] == 11  # the new file's sourceDigest


def test_openelections_broken_lines_tombstone_nothing(tmp_path: Path) -> None:
    rows = ga_rows(12)
    node_dir = tmp_path / "node"
    imported(node_dir, "openelections", ga(tmp_path, rows, "a"))
    damaged = [r if ",Homer," not in r else "Banks,Homer,U.S. House\n" for r in rows]
    report = imported(node_dir, "openelections", ga(tmp_path, damaged, "b"))
    assert report["totals"]["tombstoned"] == 0
    assert any(n.startswith("no tombstones: 1 broken line") for n in report["notes"])


def test_openelections_refused_result_is_not_tombstoned(tmp_path: Path) -> None:
    rows = ga_rows(12)
    node_dir = tmp_path / "node"
    imported(node_dir, "openelections", ga(tmp_path, rows, "a"))
    spoiled = [re.sub(r",126,126,", ",12x,126,", r) for r in rows]  # Homer's votes
    report = imported(node_dir, "openelections", ga(tmp_path, spoiled, "b"))
    assert report["counts"]["result"]["rejected"] == 1
    assert report["totals"]["tombstoned"] == 0


def test_eml_candidate_list_and_count_do_not_tombstone_each_other(tmp_path: Path) -> None:
    node_dir = tmp_path / "node"
    candidates = (KIESRAAD / "eml230b_test.eml.xml").read_text(encoding="utf-8")
    count = tmp_path / "count.eml.xml"  # a copy: the report is written beside the source
    count.write_bytes((KIESRAAD / "Fake_test_data_Telling_TK2023_gemeente_Dordrecht.eml.xml")
                      .read_bytes())
    first = tmp_path / "list.eml.xml"
    first.write_text(candidates, encoding="utf-8")
    listed = imported(node_dir, "eml", first)["counts"]["candidate"]["created"]
    assert listed >= 2
    assert imported(node_dir, "eml", count)["totals"]["tombstoned"] == 0
    # The last candidate leaves the list: that candidate goes, nothing the count wrote.
    cut = candidates[:candidates.rindex("<Candidate>")] + \
        candidates[candidates.index("</Candidate>", candidates.rindex("<Candidate>"))
                   + len("</Candidate>"):]
    second = tmp_path / "list2.eml.xml"
    second.write_text(cut, encoding="utf-8")
    report = imported(node_dir, "eml", second)
    assert report["counts"]["candidate"]["tombstoned"] == 1
    assert report["totals"]["tombstoned"] == 1
    assert imported(node_dir, "eml", count)["totals"] == {
        "created": 0, "updated": 0, "unchanged": 11, "rejected": 0, "tombstoned": 0}

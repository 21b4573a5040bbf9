"""Version tolerance and incremental imports, on variants derived from the real export.

Each test starts from a cut-down copy of the nightly export (``small_export``), changes
it the way another Decidim version, an operator's edit or a damaged download would, and
imports it into a real node: no crash, the differences reported, the rest imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support import decidim_variants as variants
from tests.test_decidim_import import BASE, SLUG, counts, document, init_node, run_import

pytestmark = pytest.mark.slow  # each test imports into a real node (durable writes)


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return variants.small_export(tmp_path / "export")


@pytest.fixture
def node_dir(tmp_path: Path) -> Path:
    return init_node(tmp_path / "node")


def file_report(report: dict[str, Any], entity: str) -> dict[str, Any]:
    found: dict[str, Any] = next(f for f in report["files"] if f["entity"] == entity)
    return found


def test_changed_row_updates_exactly_that_resource(export: Path, node_dir: Path) -> None:
    first = run_import(node_dir, export)
    assert first["totals"]["rejected"] == 0
    variants.set_cell(export, "proposals", "4", "title/en", "A clearer title")
    second = run_import(node_dir, export)
    assert second["totals"]["updated"] == 1 and counts(second, "updated") == {"proposals": 1}
    assert second["totals"]["created"] == second["totals"]["tombstoned"] == 0
    assert document(node_dir, f"proposals/{SLUG}-4")["title"]["en"] == "A clearer title"


def test_disappeared_row_becomes_a_tombstone(export: Path, node_dir: Path) -> None:
    run_import(node_dir, export)
    variants.delete_row(export, "proposal_comments", "273")
    kept = run_import(node_dir, export, "--no-tombstones")
    assert kept["totals"]["tombstoned"] == 0
    gone = run_import(node_dir, export)
    assert counts(gone, "tombstoned") == {"proposal_comments": 1}
    assert gone["totals"]["updated"] == gone["totals"]["created"] == 0
    from ddsnode.ldp.node import Node
    from ddsnode.settings import Settings
    node = Node.open(Settings.load(node_dir))
    try:
        stored = node.store.get(f"{BASE}comments/{SLUG}-273")
        assert stored is not None and stored.kind == "tombstone"
    finally:
        node.close()


def test_older_column_names(export: Path, node_dir: Path) -> None:
    variants.older_columns(export)
    report = run_import(node_dir, export)
    assert report["totals"]["rejected"] == 0
    assert file_report(report, "proposals")["unknownColumns"] == []
    doc = document(node_dir, f"proposals/{SLUG}-3")
    assert int(doc["likeCount"]) == 18  # "endorsements" before likes
    topics = doc["topic"] if isinstance(doc["topic"], list) else [doc["topic"]]
    assert f"{BASE}topics/{SLUG}-category#7" in topics
    assert "ddstopic:mobility" in topics  # "Mobility" matches the shared topic's label
    scheme = document(node_dir, f"topics/{SLUG}-category")
    assert scheme["type"] == "ConceptScheme"


def test_missing_locale_and_missing_columns(export: Path, node_dir: Path) -> None:
    variants.drop_locale(export, "proposals", "ca")
    variants.drop_columns(export, "proposals", ["state", "latitude", "longitude"])
    report = run_import(node_dir, export)
    assert report["totals"]["rejected"] == 0
    assert file_report(report, "proposals")["missingColumns"] == ["state"]
    doc = document(node_dir, f"proposals/{SLUG}-3")
    assert set(doc["title"]) == {"en", "es"}
    assert doc["state"] == "notAnswered" and "place" in doc  # the address is still there


def test_reordered_headers_change_nothing(export: Path, node_dir: Path) -> None:
    first = run_import(node_dir, export)
    for entity in ("proposals", "proposal_comments", "results"):
        variants.reorder_headers(export, entity)
    again = run_import(node_dir, export)
    assert again["totals"]["unchanged"] == first["totals"]["created"]
    assert again["totals"]["updated"] == again["totals"]["created"] == 0


def test_broken_lines_are_reported_and_skipped(export: Path, node_dir: Path) -> None:
    first = run_import(node_dir, export)
    variants.break_lines(export, "proposal_comments")
    report = run_import(node_dir, export)
    malformed = file_report(report, "proposal_comments")["malformed"]
    assert len(malformed) == 3
    assert any("NUL" in m["reason"] for m in malformed)
    assert any("never closed" in m["reason"] for m in malformed)
    assert report["totals"]["unchanged"] == first["totals"]["created"]
    assert any("proposal_comments" in s for s in report["tombstonesSkipped"])


def test_formula_prefixed_cells_are_restored(export: Path, node_dir: Path) -> None:
    variants.set_cell(export, "proposals", "3", "title/en", "'=1+2 is not a formula here")
    report = run_import(node_dir, export)
    assert report["totals"]["rejected"] == 0
    assert document(node_dir, f"proposals/{SLUG}-3")["title"]["en"] == \
        "=1+2 is not a formula here"
    project = document(node_dir, f"projects/{SLUG}-1")
    assert project["identifier"] == "-PROJ-2025-01-1"  # the export wrote '-PROJ-2025-01-1


def test_unknown_columns_are_counted(export: Path, node_dir: Path) -> None:
    variants.add_unknown_column(export, "meetings")
    report = run_import(node_dir, export)
    assert file_report(report, "meetings")["unknownColumns"] == ["brand_new_field/en"]
    assert report["totals"]["rejected"] == 0


def test_invalid_rows_are_rejected_with_reasons(export: Path, node_dir: Path) -> None:
    for column in ("title/en", "title/ca", "title/machine_translations/es"):
        variants.set_cell(export, "meetings", "2", column, "")
    report = run_import(node_dir, export)
    rejects = [r for r in report["rejected"] if r["id"] == "2"]
    assert len(rejects) == 1
    assert rejects[0]["file"].endswith("open-data-meetings.csv")
    assert rejects[0]["row"] > 1 and "title" in rejects[0]["reason"].lower()
    assert counts(report, "rejected") == {"meetings": 1}


def test_result_with_linked_proposals(export: Path, node_dir: Path) -> None:
    urls = ("https://nightly.decidim.org/processes/premium-horizon/f/7/proposals/3, "
            "https://nightly.decidim.org/processes/premium-horizon/f/7/proposals/4")
    variants.set_cell(export, "results", "2", "proposal_urls", urls)
    report = run_import(node_dir, export)
    assert report["totals"]["rejected"] == 0
    doc = document(node_dir, f"results/{SLUG}-2")
    assert doc["implements"] == [f"{BASE}proposals/{SLUG}-3", f"{BASE}proposals/{SLUG}-4"]
    assert float(doc["progress"]) == 61.0


def test_a_resource_deleted_on_the_node_stays_deleted_on_reimport(export: Path,
                                                                 node_dir: Path) -> None:
    from ddsnode.ldp.node import Node
    from ddsnode.settings import Settings
    run_import(node_dir, export)
    iri = f"{BASE}proposals/{SLUG}-4"
    node = Node.open(Settings.load(node_dir))
    try:
        node.delete(iri)  # a moderator's decision on the node
    finally:
        node.close()
    again = run_import(node_dir, export)
    assert counts(again, "withheld") == {"proposals": 1}
    assert again["totals"]["created"] == again["totals"]["updated"] == 0

    def kind() -> str:
        node = Node.open(Settings.load(node_dir))
        try:
            stored = node.store.get(iri)
            assert stored is not None
            return stored.kind
        finally:
            node.close()

    assert kind() == "tombstone"
    restored = run_import(node_dir, export, "--restore-deleted")
    assert counts(restored, "created") == {"proposals": 1}
    assert kind() == "rdf"
    assert run_import(node_dir, export)["totals"]["withheld"] == 0  # back to normal


def test_a_reimport_restates_the_platform_totals_under_the_counted_reactions(
        export: Path, node_dir: Path) -> None:
    from ddsnode.assembly import assemble
    from ddsnode.settings import Settings
    variants.set_cell(export, "proposals", "4", "votes", "10")
    run_import(node_dir, export)
    iri = f"{BASE}proposals/{SLUG}-4"
    # A verified support from another node, counted as the federation runtime does.
    assembly = assemble(Settings.load(node_dir))
    ledger = assembly.federation.ledger
    try:
        ledger.record("http://peer.test/reactions/s1", "http://peer.test/people/a", iri,
                      "support", "http://peer.test/")
        assembly.federation.recount(iri)  # the baseline is what the platform stated
    finally:
        assembly.close()
    assert int(document(node_dir, f"proposals/{SLUG}-4")["supportCount"]) == 11
    variants.set_cell(export, "proposals", "4", "votes", "15")  # the platform moved on
    again = run_import(node_dir, export)
    assert counts(again, "updated") == {"proposals": 1}
    assert int(document(node_dir, f"proposals/{SLUG}-4")["supportCount"]) == 16  # 15 + 1 verified
    assert ledger.counts(iri)["supportCount"] == 16

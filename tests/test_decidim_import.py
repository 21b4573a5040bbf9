"""``ddsnode import decidim`` on the real nightly export: counts, mapping, privacy, re-import.

The export is ``../shared/data/decidim-nightly`` (ODbL 1.0 / DbCL 1.0, see SOURCES.md).
The node is real (``python -m ddsnode init`` in a temporary directory) and every document
goes through the validated write path. The full import takes a while, so it runs once
per module and these tests are marked slow.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rdflib

from ddsnode.cli import main
from ddsnode.ldp import conneg
from ddsnode.ldp.node import Node
from ddsnode.settings import Settings
from tests.support.decidim_variants import NIGHTLY

pytestmark = pytest.mark.slow
BASE = "http://127.0.0.1:8799/"
SLUG = "nightly-decidim-org"


def init_node(path: Path, base: str = BASE) -> Path:
    """A node directory made by the real command."""
    subprocess.run([sys.executable, "-m", "ddsnode", "init", str(path), "--base-url", base],
                   check=True, capture_output=True)
    return path


def run_import(node_dir: Path, source: str | Path, *extra: str) -> dict[str, Any]:
    """Run the command in-process and return its JSON report."""
    report = node_dir.parent / f"report-{len(list(node_dir.parent.glob('report-*')))}.json"
    status = main(["import", "decidim", str(node_dir), str(source), "--quiet",
                   "--report", str(report), *extra])
    assert status == 0
    data: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    return data


def document(node_dir: Path, path: str) -> dict[str, Any]:
    """The stored compacted JSON-LD of ``{BASE}{path}``."""
    node = Node.open(Settings.load(node_dir))
    try:
        stored = node.store.get(node.base + path)
        assert stored is not None and stored.kind == "rdf", path
        rep = node.renderings.get(stored, "application/ld+json")
        assert rep is not None
        doc: dict[str, Any] = json.loads(rep.body)
        for item in doc.get("@graph", []):  # a document with hash resources comes as a graph
            if item.get("id") == node.base + path:
                return {**item, "@graph": doc["@graph"]}
        return doc
    finally:
        node.close()


def graph(node_dir: Path, path: str) -> rdflib.Graph:
    """The stored graph of ``{BASE}{path}``."""
    node = Node.open(Settings.load(node_dir))
    try:
        stored = node.store.get(node.base + path)
        assert stored is not None and stored.kind == "rdf", path
        return rdflib.Graph().parse(data=stored.ntriples, format="nt")
    finally:
        node.close()


def counts(report: dict[str, Any], outcome: str) -> dict[str, int]:
    """kind -> count of one outcome."""
    return {k: v[outcome] for k, v in report["counts"].items() if v[outcome]}


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    node_dir = init_node(tmp_path_factory.mktemp("nightly") / "node")
    yield node_dir, run_import(node_dir, NIGHTLY)


def test_counts_per_entity(imported: tuple[Path, dict[str, Any]]) -> None:
    _, report = imported
    assert counts(report, "created") == {
        "taxonomies": 5, "user_groups": 16, "participatory_processes": 2, "assemblies": 4,
        "conferences": 2, "initiatives": 2, "proposals": 45, "proposal_answers": 36,
        "debates": 48, "meetings": 80, "projects": 24, "results": 288,
        "debate_comments": 25, "meeting_comments": 372, "proposal_comments": 202,
        "result_comments": 1260, "platform": 2, "legacy_taxonomies": 1,
        "participants": report["counts"]["participants"]["created"]}
    assert report["totals"]["rejected"] == 0
    assert report["repeatedRows"] == 90  # the export repeats its space rows
    skipped = {f["entity"] for f in report["files"] if not f["imported"]}
    assert skipped == {"users", "posts", "post_comments", "pages", "moderations"}


def test_proposal_mapping(imported: tuple[Path, dict[str, Any]]) -> None:
    node_dir, _ = imported
    doc = document(node_dir, f"proposals/{SLUG}-3")
    assert doc["type"] == "Proposal"
    assert set(doc["title"]) == {"en", "ca", "es"}
    assert doc["machineTranslated"] == "es"  # es came from machine_translations only
    assert doc["state"] == "rejected" and doc["platformState"] == "rejected"
    assert float(doc["place"]["lat"]) == pytest.approx(-83.49252110256795)
    assert float(doc["place"]["long"]) == pytest.approx(-64.28833998779858)
    assert doc["inSpace"] == f"{BASE}processes/{SLUG}-process-1"
    assert doc["originalUrl"] == "https://nightly.decidim.org/processes/premium-horizon/f/7/proposals/3"
    assert doc["sourcePlatform"] == f"{BASE}processes/{SLUG}"
    assert doc["source"] == "https://nightly.decidim.org/open-data/download"
    assert "importedAt" in doc and int(doc["likeCount"]) == 18
    answer = document(node_dir, doc["answeredBy"][len(BASE):])
    assert answer["decisionType"] == "answer" and answer["outcome"] == "rejected"
    amendment = document(node_dir, f"proposals/{SLUG}-5")
    assert amendment["type"] == "Amendment"
    assert amendment["amends"] == f"{BASE}proposals/{SLUG}-4"


def test_comment_thread_and_stance(imported: tuple[Path, dict[str, Any]]) -> None:
    node_dir, _ = imported
    top = document(node_dir, f"comments/{SLUG}-272")
    reply = document(node_dir, f"comments/{SLUG}-273")
    assert top["inReplyTo"] == f"{BASE}proposals/{SLUG}-2"
    assert reply["inReplyTo"] == top["id"]
    assert top["stance"] == reply["stance"] == "neutral"
    assert top["author"].startswith(f"{BASE}participants/{SLUG}-")
    assert reply["author"] == f"{BASE}organisations/{SLUG}-group-8"  # posted as a user group


def test_result_and_taxonomy(imported: tuple[Path, dict[str, Any]]) -> None:
    node_dir, _ = imported
    result = document(node_dir, f"results/{SLUG}-1")
    assert float(result["progress"]) == 61.0 and result["status"] == "inProgress"
    assert f"{BASE}topics/{SLUG}-taxonomy-31#t-32" in result["topic"]
    child = document(node_dir, f"results/{SLUG}-2")
    assert child["parent"] == result["id"] and child["platformState"] == "status_1"
    scheme = document(node_dir, f"topics/{SLUG}-taxonomy-31")
    assert scheme["type"] == "ConceptScheme"
    tops = {c.rsplit("-", 1)[-1] for c in scheme["topConcepts"]}
    assert {"32", "38", "44"} <= tops
    concepts = {c["id"]: c for c in scheme["@graph"] if c.get("type") == "Concept"}
    assert concepts[f"{scheme['id']}#t-32"]["notation"] == "32"


def test_platform_and_participants(imported: tuple[Path, dict[str, Any]]) -> None:
    node_dir, _ = imported
    platform = document(node_dir, f"processes/{SLUG}")
    assert platform["software"] == "Decidim" and platform["homepage"] == "https://nightly.decidim.org/"
    key = (node_dir / "pseudonym.key")
    assert key.stat().st_mode & 0o777 == 0o600


READ_AS = (conneg.TURTLE, conneg.JSONLD)


def test_no_real_names_anywhere(imported: tuple[Path, dict[str, Any]]) -> None:
    node_dir, _ = imported
    with (NIGHTLY / "nightly.decidim.org-open-data-users.csv").open(newline="",
                                                                     encoding="utf-8") as f:
        names = {row["name"] for row in csv.DictReader(f, delimiter=";") if row["name"]}
    node = Node.open(Settings.load(node_dir))
    try:
        seen, after, texts = 0, 0, []
        while True:
            changes = node.store.changes(after=after, limit=500)
            if not changes:
                break
            for change in changes:
                stored = node.store.get(change.iri)
                assert stored is not None
                texts.append(stored.ntriples)
                # Every representation is rendered from these triples alone; Turtle
                # writes literals its own way (long strings), JSON-LD as JSON strings:
                # one of each way is read here (all five offers: 68 s in CI, for nothing).
                for offer in READ_AS if stored.kind != "container" else ():
                    rep = node.renderings.get(stored, offer)
                    assert rep is not None
                    texts.append(rep.body.decode("utf-8"))
                seen += 1
            after = changes[-1].seq
    finally:
        node.close()
    everything = "\n".join(texts)
    assert seen > 3000
    leaked = sorted(n for n in names if n in everything)
    assert leaked == []


def test_reimport_changes_nothing(imported: tuple[Path, dict[str, Any]]) -> None:
    node_dir, first = imported
    again = run_import(node_dir, NIGHTLY)
    assert again["totals"]["created"] == again["totals"]["updated"] == 0
    assert again["totals"]["tombstoned"] == 0
    assert again["totals"]["unchanged"] == first["totals"]["created"]

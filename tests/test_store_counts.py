"""Issue 16: imported proposals keep their stated counts on every backend.

One Decidim export imported by the real command into a node on each backend (embedded,
PostgreSQL, a SPARQL server); a verified reaction counted on top of the platform's total,
then a re-import that restates the total: the stored ``supportCount`` must be the same
on the three (``docs/federation.md``, Counts).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ddsnode.cli import main
from ddsnode.commands.node import init_node
from ddsnode.settings import Settings
from tests.support import decidim_variants as variants
from tests.support.postgres import PostgresServer
from tests.support.sparql_server import SparqlServer

pytestmark = pytest.mark.slow  # real imports into real stores (durable writes)

BASE = "http://127.0.0.1:8799/"
SLUG = "nightly-decidim-org"
DDS = "https://w3id.org/dds/ns#"


@pytest.fixture(scope="module")
def sparql_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparqlServer]:
    with SparqlServer(tmp_path_factory.mktemp("oxigraph"), timeout_s=10) as server:
        yield server


@pytest.fixture(params=["embedded", "postgresql", "sparql"])
def node_dir(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    extra: dict[str, Any] = {}
    if request.param == "postgresql":
        pg: PostgresServer = request.getfixturevalue("postgres_server")
        extra = {"store": "postgresql", "database_url": pg.database()}
    elif request.param == "sparql":
        server: SparqlServer = request.getfixturevalue("sparql_server")
        server.clear()
        extra = {"store": "sparql", "sparql_query_url": server.query_url,
                 "sparql_update_url": server.update_url}
    init_node(tmp_path / "node", base_url=BASE, extra=extra)
    return tmp_path / "node"


def run_import(node_dir: Path, export: Path) -> dict[str, Any]:
    report = node_dir.parent / f"report-{len(list(node_dir.parent.glob('report-*')))}.json"
    assert main(["import", "decidim", str(node_dir), str(export), "--quiet",
                 "--report", str(report)]) == 0
    data: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    return data


def support_counts(node_dir: Path) -> dict[str, int]:
    """IRI -> stated supportCount of every live proposal, read through the store."""
    from ddsnode.store import open_store
    store = open_store(Settings.load(node_dir))
    try:
        out: dict[str, int] = {}
        after = 0
        while changes := store.changes(after, 500):
            after = changes[-1].seq
            for change in changes:
                stored = store.get(change.iri)
                if stored is None or stored.kind != "rdf" or "/proposals/" not in change.iri:
                    continue
                for line in stored.ntriples.splitlines():
                    if line.startswith(f"<{change.iri}> <{DDS}supportCount> "):
                        out[change.iri] = int(line.split('"')[1])
        return out
    finally:
        store.close()


def sparql_counts(node_dir: Path) -> dict[str, int]:
    """IRI -> supportCount of every resource as ``/sparql`` sees it (the store's query)."""
    from ddsnode.store import open_store
    store = open_store(Settings.load(node_dir))
    try:
        result = store.sparql(f"SELECT ?p ?n WHERE {{ ?p <{DDS}supportCount> ?n }}",
                              accept=["text/csv"],
                              timeout=30, limit=10_000)
        rows = result.body.decode("utf-8").splitlines()[1:]
        return {p: int(n) for p, n in (row.split(",") for row in rows)}
    finally:
        store.close()


def test_imported_counts_survive_on_every_backend(node_dir: Path, tmp_path: Path) -> None:
    from ddsnode.assembly import assemble
    export = variants.small_export(tmp_path / "export")
    variants.set_cell(export, "proposals", "4", "votes", "10")
    run_import(node_dir, export)
    stated = support_counts(node_dir)
    iri = f"{BASE}proposals/{SLUG}-4"
    assert stated[iri] == 10
    assert len(stated) > 1
    proposals = {p: n for p, n in stated.items() if p.startswith(f"{BASE}proposals/")}
    assert {p: n for p, n in sparql_counts(node_dir).items() if p in proposals} == proposals
    # A verified support from another node, counted as the federation runtime does.
    assembly = assemble(Settings.load(node_dir))
    try:
        assembly.federation.ledger.record("http://peer.test/reactions/s1",
                                          "http://peer.test/people/a", iri, "support",
                                          "http://peer.test/")
        assembly.federation.recount(iri)
    finally:
        assembly.close()
    assert support_counts(node_dir) == {**stated, iri: 11}
    variants.set_cell(export, "proposals", "4", "votes", "15")  # the platform moved on
    again = run_import(node_dir, export)
    assert again["files"]  # the report names the files it read
    assert support_counts(node_dir) == {**stated, iri: 16}  # 15 stated + 1 verified
    assert sparql_counts(node_dir)[iri] == 16


def test_an_import_from_another_machine_knows_what_earlier_imports_wrote(
        postgres_server: PostgresServer, tmp_path: Path) -> None:
    """The import ledger is in the database on PostgreSQL: a re-import through a second
    node directory finds everything unchanged and tombstones a row that disappeared."""
    url = postgres_server.database()
    extra = {"store": "postgresql", "database_url": url}
    init_node(tmp_path / "a", base_url=BASE, extra=extra)
    init_node(tmp_path / "b", base_url=BASE, extra=extra)
    export = variants.small_export(tmp_path / "export")
    first = run_import(tmp_path / "a", export)
    assert first["totals"]["created"] > 0
    again = run_import(tmp_path / "b", export)
    assert again["totals"]["created"] == again["totals"]["updated"] == 0
    variants.delete_row(export, "proposal_comments", "273")
    gone = run_import(tmp_path / "b", export)
    assert {k: v["tombstoned"] for k, v in gone["counts"].items() if v["tombstoned"]} == \
        {"proposal_comments": 1}
    assert not (tmp_path / "b" / "imports.db").exists()

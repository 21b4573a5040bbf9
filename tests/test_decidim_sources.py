"""Where an export comes from: the ZIP, a platform's URL (a fake Decidim over real HTTP,
through the guarded outbound client), its GraphQL API, and a SOURCE that cannot be read.
Also: importing while ``ddsnode serve`` runs on the same node directory.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest
import rdflib

from ddsnode.decidim.graphql import read_api
from ddsnode.rdf.vocab import DDS, RDF
from tests.support import decidim_variants as variants
from tests.support.fake_decidim import Running
from tests.support.node import free_port
from tests.test_decidim_import import SLUG, counts, document, graph, init_node, run_import

pytestmark = pytest.mark.slow


@pytest.fixture
def export(tmp_path: Path) -> Path:
    folder = variants.small_export(tmp_path / "export")
    for entity in ("results", "meetings", "debates", "debate_comments", "projects"):
        (folder / variants.file_name(entity)).unlink()
    return folder


def test_zip_source_imports_like_the_folder(export: Path, tmp_path: Path) -> None:
    archive = tmp_path / "nightly.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in export.glob("*.csv"):
            z.write(path, f"open-data/{path.name}")  # a folder inside the ZIP is fine
    from_zip = run_import(init_node(tmp_path / "a"), archive)
    from_folder = run_import(init_node(tmp_path / "b"), export)
    assert counts(from_zip, "created") == counts(from_folder, "created")
    assert from_zip["totals"]["rejected"] == 0


def test_url_source_downloads_the_export(export: Path, tmp_path: Path) -> None:
    node_dir = init_node(tmp_path / "node")
    with Running(export) as fake:
        report = run_import(node_dir, fake.url)
        assert fake.fake.requests == ["download"]
    assert report["source"] == f"{fake.url}open-data/download"
    assert counts(report, "created")["proposals"] == 45
    # The file names say which platform this is, so IRIs match a folder import's.
    assert document(node_dir, f"proposals/{SLUG}-3")["title"]["en"]


def test_api_reader_pages_and_maps(export: Path, tmp_path: Path) -> None:
    with Running(export) as fake:
        api = read_api(f"{fake.url}api", page_size=2)
        pages = fake.fake.requests.count("api")
    proposals = api.rows["proposals"]
    in_processes = 7  # proposals (not amendments) of the nightly export in processes
    assert len(proposals) == in_processes
    assert pages > 1 + in_processes // 2  # one for the processes, then page after page
    row = next(r for r in proposals if r["id"] == "3")
    assert row["title/en"] and row["title/machine_translations/es"]
    assert row["url"].endswith("/processes/premium-horizon/f/7/proposals/3")
    assert api.steps["1"][1]["active"] is True


def test_url_source_through_the_api(export: Path, tmp_path: Path) -> None:
    node_dir = init_node(tmp_path / "node")
    with Running(export) as fake:
        report = run_import(node_dir, fake.url, "--via", "api")
    # Without file names, the platform is the URL's host and port.
    slug = f"127-0-0-1-{fake.port}"
    assert report["source"] == f"{fake.url}api"
    assert counts(report, "created")["proposals"] == 7
    assert counts(report, "created")["participatory_processes"] == 2
    assert report["totals"]["rejected"] == 0
    process = document(node_dir, f"processes/{slug}-process-1")
    stored = graph(node_dir, f"processes/{slug}-process-1")
    phases = set(stored.subjects(RDF.type, DDS.Phase))
    assert len(phases) == 2
    assert str(stored.value(rdflib.URIRef(process["id"]), DDS.activePhase)).endswith("#phase-102")
    proposal = document(node_dir, f"proposals/{slug}-3")
    assert proposal["inSpace"] == process["id"] and proposal["state"] == "rejected"


def test_export_and_api_together_add_phases(export: Path, tmp_path: Path) -> None:
    node_dir = init_node(tmp_path / "node")
    with Running(export) as fake:
        report = run_import(node_dir, fake.url, "--via", "both")
        assert fake.fake.requests == ["download", "api"]
    assert counts(report, "created")["proposals"] == 45
    process = document(node_dir, f"processes/{SLUG}-process-1")
    assert "phases" in process


def test_unreadable_source_exits_2_with_one_line(tmp_path: Path) -> None:
    node_dir = init_node(tmp_path / "node")
    not_zip = tmp_path / "export.zip"
    not_zip.write_text("not a zip")
    empty = tmp_path / "empty"
    empty.mkdir()
    port = free_port()  # nothing listens there
    for source in (str(tmp_path / "missing"), str(not_zip), str(empty),
                   f"http://127.0.0.1:{port}/", "ftp://example.org/export.zip"):
        done = subprocess.run([sys.executable, "-m", "ddsnode", "import", "decidim",
                               str(node_dir), source], check=False, capture_output=True, text=True)
        assert done.returncode == 2, (source, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("ddsnode: "), (source, done.stderr)


def test_import_while_the_node_serves(export: Path, tmp_path: Path) -> None:
    port = free_port()
    node_dir = init_node(tmp_path / "node", base=f"http://127.0.0.1:{port}/")
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        server = subprocess.Popen([sys.executable, "-m", "ddsnode", "serve", str(node_dir),
                                   "--port", str(port)], stdout=sink, stderr=sink,
                                  start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1.0)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.skip("`ddsnode serve` did not start (the HTTP layer is being "
                                "finished concurrently): " + log.read_text()[-300:])
                time.sleep(0.2)
        done = subprocess.run([sys.executable, "-m", "ddsnode", "import", "decidim",
                               str(node_dir), str(export), "--quiet"],
                              check=False, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        answer = httpx.get(f"http://127.0.0.1:{port}/proposals/{SLUG}-3",
                           headers={"Accept": "application/ld+json"}, timeout=10.0)
        assert answer.status_code == 200
        assert answer.json()["title"]["en"]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)

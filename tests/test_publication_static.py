"""``ddsnode publish --static`` and ``ddsnode verify URL`` of a published election (issue 15).

The static site is served by a plain static file server (Python's ``http.server``, which
labels ``.jws`` and the pointer as it likes): clients and ``ddsnode verify`` follow it
exactly as they follow the node.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ddsnode import resources
from ddsnode.cli import main
from ddsnode.commands.demo import rebase
from ddsnode.commands.node import init_node
from ddsnode.ldp.node import Node
from ddsnode.publication.archive import Archive
from ddsnode.settings import Settings
from tests.support.node import REPO, free_port
from tests.test_publication import CORRECTION, ELECTION, FIRST, SETUP


def _node(root: Path, base: str, names: tuple[str, ...]) -> Path:
    node_dir = root / "node"
    if not node_dir.exists():
        init_node(node_dir, base_url=base, extra={"publication_elections": "*"})
    node = Node.open(Settings.load(node_dir))
    try:
        for name in names:
            text = rebase((resources.examples_dir() / f"{name}.jsonld").read_text("utf-8"),
                          node.base)
            node.write_document(json.loads(text)["id"], text.encode(), "application/ld+json")
    finally:
        node.close()
    return node_dir


def test_publish_static_writes_generations_pointer_and_jwks(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str],
                                                            ) -> None:
    node_dir = _node(tmp_path, "http://127.0.0.1:8000/", SETUP + FIRST)
    site = tmp_path / "site"
    assert main(["publish", str(node_dir), "--static", str(site)]) == 0
    assert f"{ELECTION}: generation 1" in capsys.readouterr().out
    _node(tmp_path, "http://127.0.0.1:8000/", (CORRECTION,))
    assert main(["publish", str(node_dir), "--static", str(site)]) == 0
    assert f"{ELECTION}: generation 2" in capsys.readouterr().out
    results = site / ELECTION / "results"
    pointer = json.loads((results / "current").read_bytes())
    assert pointer["generation"] == 2 and (results / pointer["manifest"]).is_file()
    # The node stores each file once by its hash; the site has every file at the path it
    # is served at, with the bytes the manifest lists.
    archive = Archive.of(node_dir)
    for generation in (1, 2):
        listed = archive.listed(ELECTION, generation)
        folder = results / "g" / str(generation)
        ours = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
        assert ours == set(listed) | {"manifest.jws"}
        for path, line in listed.items():
            body = (folder / path).read_bytes()
            assert hashlib.sha256(body).hexdigest() == line.sha256, path
            assert body == archive.read(ELECTION, f"g/{generation}/{path}")
    keys = json.loads((site / ".well-known" / "jwks.json").read_bytes())["keys"]
    assert keys and all(k["kty"] == "OKP" for k in keys)
    # Nothing changed: no new generation.
    assert main(["publish", str(node_dir), "--static", str(site)]) == 0
    assert f"{ELECTION}: generation 2" in capsys.readouterr().out


@pytest.mark.slow  # ddsnode publish as typed (tests/support/fastloop.py)
def test_publish_refuses_a_directory_that_is_no_node(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "ddsnode", "publish", str(tmp_path),
                           "--static", str(tmp_path / "site")], capture_output=True, text=True,
                          cwd=REPO)
    assert done.returncode == 2 and "Traceback" not in done.stderr


@pytest.mark.slow
def test_verify_checks_a_static_site_end_to_end(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    node_dir = _node(tmp_path, base, SETUP + FIRST)
    site = tmp_path / "site"
    cli = [sys.executable, "-m", "ddsnode"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([*cli, "publish", str(node_dir), "--static", str(site)], check=True,
                   cwd=REPO, env=env, capture_output=True)
    _node(tmp_path, base, (CORRECTION,))
    subprocess.run([*cli, "publish", str(node_dir), "--static", str(site)], check=True,
                   cwd=REPO, env=env, capture_output=True)
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                               "127.0.0.1", "--directory", str(site)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(base + ".well-known/jwks.json", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        ok = subprocess.run([*cli, "verify", base + ELECTION, "--json"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        report = json.loads(ok.stdout)
        assert (report["generation"], report["manifests"], report["findings"]) == (2, 2, [])
        assert report["files"] > 10
        # One byte changed in a file of the current generation: verify says which.
        csv = next((site / ELECTION / "results" / "g" / "2").rglob("*.csv"))
        csv.write_bytes(csv.read_bytes().replace(b",", b";", 1))
        bad = subprocess.run([*cli, "verify", base + ELECTION], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=120)
        assert bad.returncode == 1
        assert f"{csv.name}: does not match its hash" in bad.stdout
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_verify_re_adds_a_total_from_its_stations() -> None:
    from ddsnode.publication.verification import PublicationCheck, _totals

    def rec(unit: str, level: str, votes: tuple[int, int], total: int) -> dict[str, object]:
        return {"contest": "c", "unit": unit, "level": level, "stationsTotal": total,
                "counts": [["a", votes[0]], ["b", votes[1]]]}

    stations = [rec("s1", "polling-place", (10, 5), 1), rec("s2", "polling-place", (7, 3), 1)]
    right = PublicationCheck("u")
    _totals([*stations, rec("top", "municipality", (17, 8), 2)], right)
    assert (right.totals, right.findings) == (1, [])
    wrong = PublicationCheck("u")
    _totals([*stations, rec("top", "municipality", (17, 9), 2)], wrong)
    assert wrong.totals == 1 and "2 stations add up to" in wrong.findings[0]
    partial = PublicationCheck("u")
    _totals([stations[0], rec("top", "municipality", (17, 8), 2)], partial)
    assert partial.totals == 0 and partial.findings == [] and "1 of 2" in partial.notes[0]


def test_a_running_node_serves_what_the_command_published(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.inprocess import local_node
    from tests.test_publication import put, reader
    with local_node(tmp_path) as node, reader(node) as http:
        for name in SETUP + FIRST:
            put(node, http, name)
        assert http.get(f"/{ELECTION}/results/current").status_code == 404
        assert "resultsPointer" not in http.get(f"/{ELECTION}").headers["link"]
        monkeypatch.setenv("DDS_PUBLICATION_ELECTIONS", "*")
        assert main(["publish", str(node.dir), "--static", str(tmp_path / "site")]) == 0
        pointer = http.get(f"/{ELECTION}/results/current")  # at once: no restart, no wait
        assert pointer.status_code == 200 and pointer.json()["generation"] == 1
        assert http.get(f"/{ELECTION}/results/{pointer.json()['manifest']}").status_code == 200
        assert "resultsPointer" in http.get(f"/{ELECTION}").headers["link"]

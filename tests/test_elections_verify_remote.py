"""``ddsnode verify URL``: a running node's results, read through the guarded outbound
client from its ``/sparql`` (issue 14). A real server (a socket is needed): slow.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from ddsnode.cli import main
from tests.support.node import running_node
from tests.test_elections_verify import _count, report

pytestmark = pytest.mark.slow


def test_verify_a_running_node_by_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with running_node(tmp_path) as node:
        clean = tmp_path / "clean.json"
        clean.write_text(json.dumps(report()), encoding="utf-8")
        assert main(["import", "nist", str(node.dir), str(clean), "--slug", "c"]) == 0
        capsys.readouterr()
        assert main(["verify", node.base, "--json"]) == 0
        found = json.loads(capsys.readouterr().out)
        assert found["results"] == 3 and found["compared"] == 1 and found["findings"] == []

        seeded = copy.deepcopy(report())
        _count(seeded, "s", "yes", "total", 421)  # the state does not add up
        path = tmp_path / "seeded.json"
        path.write_text(json.dumps(seeded), encoding="utf-8")
        assert main(["import", "nist", str(node.dir), str(path), "--slug", "d"]) == 0
        capsys.readouterr()
        assert main(["verify", node.base, "--json"]) == 1
        found = json.loads(capsys.readouterr().out)
        assert [f["code"] for f in found["findings"]] == ["sub-units-do-not-add-up"]
        assert set(found["findings"][0]["units"]) == {
            node.base + "places/d-unit-s", node.base + "places/d-unit-a",
            node.base + "places/d-unit-b"}

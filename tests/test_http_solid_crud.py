"""The Solid community's CRUD conformance suite against an open container of a real node.

``../shared/judges/solid-crud-tests.sh`` installs ``solid-crud-tests`` from npm once (into
``~/.cache/ddsnode-judges``) and runs it; Community Solid Server passes 36 of 36.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.node import REPO, running_node

JUDGE = REPO.parent / "shared" / "judges" / "solid-crud-tests.sh"


@pytest.mark.slow
@pytest.mark.skipif(not JUDGE.is_file() or shutil.which("npm") is None,
                    reason="needs ../shared/judges and npm")
def test_solid_crud_suite_passes_in_an_open_container(tmp_path: Path) -> None:
    with running_node(tmp_path, settings={"open_containers": "open/"}) as node:
        done = subprocess.run(["bash", str(JUDGE)], env={**os.environ,
                              "SERVER_ROOT": node.url("open/")},
                              capture_output=True, text=True, timeout=1800, check=False)
    summary = re.search(r"(\d+) passed, (\d+) failed", done.stdout)
    assert summary, done.stdout[-3000:] + done.stderr[-3000:]
    assert (int(summary[1]), int(summary[2])) == (36, 0), done.stdout[-3000:]

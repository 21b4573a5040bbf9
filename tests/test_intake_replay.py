"""The election-night replay runs as printed (docs/election-night.md), time compressed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ddsnode.intake.log import verify

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_replay_reports_publishes_corrects_and_verifies(tmp_path: Path) -> None:
    node_dir = tmp_path / "night"
    r = subprocess.run([sys.executable, str(REPO / "examples/election-night/replay.py"),
                        "--speed", "7200", "--dir", str(node_dir)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    lines = r.stdout.splitlines()
    assert sum(" counted " in line for line in lines) == 48  # 24 stations × 2 contests
    assert any("bureau-101 council    corrected" in line for line in lines)
    assert "Rivemont council correction, 24/24 stations" in r.stdout
    assert r.stdout.rstrip().endswith("replay: every check passed")
    count, faults = verify(node_dir)  # the kept directory: 1 evidence + 48 + 1 correction
    assert (count, faults) == (50, [])

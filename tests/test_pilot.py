"""The pilot a newcomer runs (examples/pilot-decidim/run.py) works end to end."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXPORT = ROOT.parent / "shared" / "data" / "decidim-nightly"


@pytest.mark.slow
@pytest.mark.skipif(not EXPORT.is_dir(), reason="the Decidim sample export is not beside the repo")
def test_pilot_runs_and_shows_each_step() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "pilot-decidim" / "run.py")],
                          capture_output=True, text=True, timeout=600, check=False)
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    for step in ("== 1.", "== 2.", "== 3.", "== 4.", "== 5.", "== 6.", "== 7.", "== Done"):
        assert step in out
    assert "(0 rejected)" in out
    assert "support: " in out and "(remote, from B)" in out  # A verified B's support
    def counts(label: str) -> dict[str, object]:
        line = next(ln for ln in out.splitlines() if label in ln)
        return dict(ast.literal_eval(line.split(":", 1)[1].strip()))
    before, after = counts("counts on A before"), counts("counts on A after")
    # The numbers add up: the platform's totals (replies included) are what A counts, and
    # the pilot waited until A had counted both of B's reactions (issue 10, item 11).
    for term in ("supportCount", "commentCount"):
        assert int(str(after[term])) == int(str(before[term] or 0)) + 1, (before, after)
    assert after["countsComputedAt"] is not None
    assert "comment: " in out and out.count("(remote, from B)") == 2
    trace = out[out.index("== 6."):]
    assert "\timplements\t" in trace and "\tanswers\t" in trace
    # Node B's explorer lists every proposal of A (from its peer cache) beside its own,
    # and the page of A's proposal on B links to the original on A (issue 12, item 4).
    explorer = out[out.index("== 7."):]
    listed = re.search(r"proposals on B's explorer: (\d+) of node B's own, (\d+) of node "
                       r"A's \(cached; A publishes (\d+)\)", explorer)
    assert listed is not None, explorer
    own_b, of_a, published = (int(g) for g in listed.groups())
    assert own_b > 0 and of_a == published > 0
    origin = re.search(r"one of A's on B's explorer: (http://127\.0\.0\.1:\d+)/explore/"
                       r"resource\?iri=.*\n.*links to the original on A: "
                       r"(http://127\.0\.0\.1:\d+)/proposals/", explorer)
    assert origin is not None and origin.group(1) != origin.group(2), explorer

"""How election import, re-import, export and verify grow with the size of the file.

    .venv/bin/python bench/elections.py [--rows 500,1000,2000,4000]

For each n it takes the first n data rows of the real New Hampshire 2018 precinct file
(``../shared/data/elections/openelections/``, OpenElections), makes a fresh node with
``init``, and times in this process: the first import (everything created, one store
transaction), the re-import (everything unchanged, nothing written), ``export csv`` and
``verify`` of the node directory. It prints n, the seconds of each step and the ratio of
the first import's time to the previous n's (about 2 for linear growth). A script,
never a test; the whole run takes well under two minutes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ddsnode.commands.node import init_node
from ddsnode.elections.run import export_election, import_openelections, verify_source
from ddsnode.settings import Settings

SOURCE = REPO.parent / "shared" / "data" / "elections" / "openelections" / \
    "20181106__nh__general__precinct.csv"


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", default="500,1000,2000,4000")
    args = parser.parse_args()
    lines = SOURCE.read_text(encoding="utf-8").splitlines(keepends=True)
    print(f"{'rows':>6} {'docs':>6} {'import s':>9} {'ratio':>6} {'re-import s':>12} "
          f"{'export s':>9} {'verify s':>9}")
    previous = None
    for n in (int(x) for x in args.rows.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            node_dir = root / "node"
            init_node(node_dir, base_url="http://127.0.0.1:8000/")
            settings = Settings.load(node_dir)
            path = root / SOURCE.name
            path.write_text("".join(lines[: n + 1]), encoding="utf-8")
            start = time.perf_counter()
            report = import_openelections(settings, node_dir, path, slug="oe")
            first = time.perf_counter() - start
            start = time.perf_counter()
            import_openelections(settings, node_dir, path, slug="oe")
            again = time.perf_counter() - start
            start = time.perf_counter()
            export_election(settings, "elections/oe-election-2018-11-06", "csv")
            exported = time.perf_counter() - start
            start = time.perf_counter()
            verify_source(str(node_dir))
            verified = time.perf_counter() - start
            ratio = f"{first / previous:.2f}" if previous else "-"
            previous = first
            docs = report.totals()["created"]
            print(f"{n:>6} {docs:>6} {first:>9.2f} {ratio:>6} {again:>12.2f} "
                  f"{exported:>9.2f} {verified:>9.2f}", flush=True)


if __name__ == "__main__":
    main()

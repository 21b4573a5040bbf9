"""Benchmark of ``ddsnode import decidim``: the nightly export, then synthetic ×10 and ×100.

    .venv/bin/python bench/import_decidim.py [--scales 1,10,100] [--write-up-to 10]
                                             [--workdir DIR]

For each scale it builds an export (scale 1 is the real export in
``../shared/data/decidim-nightly``, ODbL/DbCL; larger scales repeat its content rows with
new ids and consistent references: ids, parent ids, commentables, URLs, authors), makes a
fresh node with ``ddsnode init``, and times in a child process (so each has its own
memory peak):

* the first import (everything created), then a re-import (everything unchanged);
* above ``--write-up-to``, a ``--dry-run`` import instead (read, map, compare; nothing
  validated or written), to keep the run short; ``--write-up-to 100`` writes ×100 too
  (about 20 minutes).

It prints seconds, resources per second and the peak resident memory (``ru_maxrss``)
of each run. It is a script, never a test.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NIGHTLY = ROOT.parent / "shared" / "data" / "decidim-nightly"
HOST = "nightly.decidim.org"
CONTENT = ("proposals", "debates", "meetings", "projects", "results", "proposal_comments",
           "debate_comments", "meeting_comments", "result_comments")
URL_IDS = re.compile(r"/(proposals|debates|meetings|projects|results)/(\d+)")
OFFSET = 10_000_000

csv.field_size_limit(1 << 30)


def _read(entity: str) -> tuple[list[str], list[dict[str, str]]]:
    with (NIGHTLY / f"{HOST}-open-data-{entity}.csv").open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f, delimiter=";")
        return list(reader.fieldnames or []), list(reader)


def _shift(value: str, off: int) -> str:
    return str(int(value) + off) if value.strip().isdigit() else value


def _shift_urls(value: str, off: int) -> str:
    return URL_IDS.sub(lambda m: f"/{m.group(1)}/{int(m.group(2)) + off}", value)


def _copy_row(row: dict[str, str], off: int, groups: set[str]) -> dict[str, str]:
    out = dict(row)
    for key, value in row.items():
        if not value:
            continue
        if key in ("id", "parent/id", "commentable_id"):
            out[key] = _shift(value, off)
        elif key == "related_proposals":
            out[key] = ", ".join(_shift(v.strip(), off) if v.strip().isdigit()
                                 else _shift_urls(v.strip(), off) for v in value.split(","))
        elif "url" in key:
            out[key] = _shift_urls(value, off)
        elif key == "reference":
            out[key] = f"{value}-x{off // OFFSET}"
    author = row.get("author/id", "")
    if author and author not in groups and ("/profiles/" in row.get("author/url", "")
                                            or "commentable_id" in row):
        out["author/id"] = _shift(author, off)  # more people, so more participants
    return out


def synthesise(scale: int, target: Path) -> Path:
    """An export ``scale`` times the nightly one (scale 1: the real files)."""
    target.mkdir(parents=True, exist_ok=True)
    groups = {r["id"] for r in _read("user_groups")[1]}
    for path in NIGHTLY.glob("*.csv"):
        entity = path.stem.split("-open-data-")[1]
        if scale == 1 or entity not in CONTENT:
            shutil.copy(path, target / path.name)
            continue
        header, rows = _read(entity)
        with (target / path.name).open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=header, delimiter=";")
            writer.writeheader()
            for copy in range(scale):
                for row in rows:
                    writer.writerow(_copy_row(row, copy * OFFSET, groups) if copy else row)
    return target


def one_run(node_dir: Path, export: Path, dry_run: bool) -> dict[str, object]:
    """Run one import in this process; return timings, counts and the memory peak."""
    sys.path.insert(0, str(ROOT))
    from ddsnode.decidim.importer import Importer
    from ddsnode.decidim.source import open_source
    from ddsnode.node import Node
    from ddsnode.settings import Settings

    started = time.perf_counter()
    node = Node.open(Settings.load(node_dir))
    try:
        report = Importer(node, node_dir, open_source(str(export)), dry_run=dry_run).run()
    finally:
        node.close()
    seconds = time.perf_counter() - started
    totals = dict(report.totals())
    resources = sum(totals.get(k, 0) for k in ("created", "updated", "unchanged", "rejected"))
    return {"seconds": round(seconds, 2), "resources": resources, "totals": totals,
            "per_second": round(resources / seconds, 1) if seconds else None,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def _child(node_dir: Path, export: Path, dry_run: bool) -> dict[str, object]:
    args = [sys.executable, __file__, "--one", str(node_dir), str(export)]
    if dry_run:
        args.append("--dry-run")
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    """Parse arguments, run the scales, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10,100")
    parser.add_argument("--write-up-to", type=int, default=10,
                        help="largest scale imported for real (above: --dry-run)")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--one", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dry-run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(args.one[0], args.one[1], args.dry_run)))
        return 0
    work = args.workdir or Path(tempfile.mkdtemp(prefix="ddsnode-bench-"))
    rows = []
    for scale in (int(s) for s in args.scales.split(",")):
        export = synthesise(scale, work / f"export-x{scale}")
        size = sum(p.stat().st_size for p in export.glob("*.csv")) / 1e6
        node_dir = work / f"node-x{scale}"
        subprocess.run([sys.executable, "-m", "ddsnode", "init", str(node_dir)], check=True,
                       capture_output=True, cwd=ROOT)
        if scale <= args.write_up_to:
            runs = [("first import", _child(node_dir, export, False)),
                    ("re-import", _child(node_dir, export, False))]
        else:
            runs = [("dry run", _child(node_dir, export, True))]
        for label, result in runs:
            rows.append((scale, size, label, result))
            print(f"x{scale:<4} {size:8.1f} MB  {label:13} {result['seconds']:>9} s  "
                  f"{result['resources']:>8} resources  {result['per_second']:>8}/s  "
                  f"peak {result['peak_rss_mb']} MB", flush=True)
    print(json.dumps([{"scale": s, "csv_mb": round(m, 1), "run": label, **r}
                      for s, m, label, r in rows], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

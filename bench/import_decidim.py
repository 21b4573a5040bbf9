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

``--hostile`` measures instead how memory grows with the size of a hostile input
(issue 9, item 10): a CSV file with one cell of n MiB on a line with no end, and a ZIP
whose member inflates to n MiB of zeros. Each is read with the node's limits (a record is
at most ``max_body_bytes``; ZIP members by ``import_max_unzipped_bytes`` and
``import_max_zip_ratio``) and, as the baseline, with those limits lifted (what the
importer did before: the whole line, the whole member). It prints n, seconds and the
tracemalloc peak of each, and the ratio of peaks between successive n.
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
from functools import partial
from pathlib import Path
from typing import Any

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
    from ddsnode.ldp.node import Node
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


def _hostile_files(work: Path, mib: int) -> tuple[Path, Path]:
    """A proposals CSV with one ``mib`` MiB cell (and no line end), and a ZIP bomb."""
    import zipfile
    folder = work / f"hostile-{mib}"
    folder.mkdir(parents=True, exist_ok=True)
    header, rows = _read("proposals")
    path = folder / f"{HOST}-open-data-proposals.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header, delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    with path.open("ab") as raw:
        raw.write(b"990001;")
        block = b"x" * (1 << 20)
        for _ in range(mib):
            raw.write(block)
    bomb = work / f"bomb-{mib}.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(f"{HOST}-open-data-debates.csv", "w", force_zip64=True) as member:
            zeros = b"\0" * (1 << 20)
            for _ in range(mib):
                member.write(zeros)
        archive.writestr(path.name, path.read_bytes()[: -(mib << 20) - 7])  # the good rows
    return path, bomb


def _measure(read: Any) -> tuple[float, float]:
    """(seconds, tracemalloc peak in MiB) of ``read()``."""
    import tracemalloc
    tracemalloc.start()
    started = time.perf_counter()
    try:
        read()
    except (MemoryError, ValueError):  # ValueError: UnreadableSource, every file refused
        pass
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / (1 << 20)
    tracemalloc.stop()
    return seconds, peak


def hostile(work: Path, sizes: list[int]) -> None:
    """The table of ``--hostile``: bounded reads against the unbounded baseline."""
    sys.path.insert(0, str(ROOT))
    from ddsnode.decidim.csvrows import CsvFile
    from ddsnode.decidim.source import ZipLimits, from_zip
    from ddsnode.settings import Settings

    defaults = Settings({})
    bounded = ZipLimits(defaults.import_max_unzipped_bytes, defaults.import_max_zip_ratio)
    lifted = ZipLimits(1 << 62, 1 << 62)

    def read_csv(path: Path, limit: int) -> None:
        with path.open("rb") as stream:
            for _ in CsvFile(path.name, stream, max_record_bytes=limit).records():
                pass

    def read_zip(path: Path, limits: ZipLimits, limit: int) -> None:
        export = from_zip(path, str(path), limits=limits)
        for entity in export.files:
            with export.open(entity) as stream:
                for _ in CsvFile(entity, stream, max_record_bytes=limit).records():
                    pass

    print(f"{'n MiB':>6} {'input':<26} {'limits':<8} {'seconds':>8} {'peak MiB':>9} "
          f"{'peak ratio':>10}")
    last: dict[tuple[str, str], float] = {}
    for mib in sizes:
        path, bomb = _hostile_files(work, mib)
        cases = [("CSV: one cell, no line end", "node",
                  partial(read_csv, path, defaults.max_body_bytes)),
                 ("CSV: one cell, no line end", "lifted", partial(read_csv, path, 1 << 62)),
                 ("ZIP: member of zeros", "node",
                  partial(read_zip, bomb, bounded, defaults.max_body_bytes)),
                 ("ZIP: member of zeros", "lifted", partial(read_zip, bomb, lifted, 1 << 62))]
        for label, how, run in cases:
            seconds, peak = _measure(run)
            before = last.get((label, how))
            ratio = f"{peak / before:10.2f}" if before else f"{'':>10}"
            last[(label, how)] = peak
            print(f"{mib:>6} {label:<26} {how:<8} {seconds:>8.2f} {peak:>9.1f} {ratio}",
                  flush=True)


def main() -> int:
    """Parse arguments, run the scales, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10,100")
    parser.add_argument("--write-up-to", type=int, default=10,
                        help="largest scale imported for real (above: --dry-run)")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--one", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dry-run", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--hostile", metavar="MIB,...", nargs="?", const="4,16,64",
                        help="memory against hostile input sizes (default 4,16,64 MiB)")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(args.one[0], args.one[1], args.dry_run)))
        return 0
    work = args.workdir or Path(tempfile.mkdtemp(prefix="ddsnode-bench-"))
    if args.hostile:
        hostile(work, [int(n) for n in args.hostile.split(",")])
        shutil.rmtree(work, ignore_errors=True) if not args.workdir else None
        return 0
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

"""One incremental analysis run on an existing analysed node, timed alone (issue 13).

    .venv/bin/python bench/analysis_incremental.py NODE_DIR COPY_DIR START [--new 1000]

Copies NODE_DIR (a node ``bench/analysis_speed.py --node`` made and analysed) to COPY_DIR
(unless they are the same directory: then it goes on from where the last run left it),
writes ``--new`` more of that benchmark's texts (its ``texts_for``, from index START: use
the node's count so far) through ``Node.write_document``, not timed, then runs
``analyse`` once and prints its wall clock and CPU seconds, the load average before and
after, and what it wrote. Run it twice or more in a row: the first run of a new version
may read every contribution again to fill what it keeps between runs. A script, never a
test; the machine is shared, so read the load with the figures.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import analysis_speed  # noqa: I001 (the benchmark's texts)

from ddsnode.analysis.run import analyse
from ddsnode.ldp.node import Node
from ddsnode.settings import Settings


def load() -> str:
    """The one-minute load average."""
    return Path("/proc/loadavg").read_text().split()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("node", type=Path)
    parser.add_argument("copy", type=Path)
    parser.add_argument("start", type=int, help="index of the first new text")
    parser.add_argument("--new", type=int, default=1000)
    args = parser.parse_args()
    if args.node.resolve() != args.copy.resolve():
        shutil.rmtree(args.copy, ignore_errors=True)
        shutil.copytree(args.node, args.copy, symlinks=True)
    settings = Settings.load(args.copy)
    texts = analysis_speed.texts_for(args.start + args.new)
    node = Node.open(settings)
    with node.store.transaction():
        for i in range(args.start, args.start + args.new):
            iri = f"{settings.base_url}proposals/m{i}"
            doc = {"@context": "https://w3id.org/dds/context/v1", "id": iri, "type": "Proposal",
                   "title": {"fr": texts[i][:200]}, "body": {"fr": texts[i]}}
            node.write_document(iri, json.dumps(doc).encode(), "application/ld+json")
    node.close()
    before, cpu, wall = load(), time.process_time(), time.perf_counter()
    report = analyse(settings, args.copy)
    print(f"+{args.new} from {args.start}: wall {time.perf_counter() - wall:.1f} s, "
          f"CPU {time.process_time() - cpu:.1f} s, load {before} -> {load()}; written "
          f"{report.written}, unchanged {report.unchanged}, duplicates {report.duplicates}, "
          f"refit {report.refitted}")


if __name__ == "__main__":
    main()

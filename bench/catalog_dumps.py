"""Cost of a catalogue build (the bulk dumps) against the floor of reading the store.

For each size, a node gets N proposals (bench/fill.py: one validated write, then
clones), then, in the same run:

* baseline: page through every container and ``store.get`` every member (what any
  dump must do at least);
* build: ``catalog.build.build`` (N-Triples gzip, JSON-LD, CSV for the node, each
  container and each process; hashing; the switch).

Printed: seconds of each, the ratio build/baseline, and the peak of Python memory
(tracemalloc) during each, so that a reader sees the build's memory does not grow with
N (it holds one page and one resource at a time). Usage::

    .venv/bin/python bench/catalog_dumps.py [N ...]     (default: 2000 20000)
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fill import fill_big_container  # noqa: E402
from ddsnode.catalog import build as builds  # noqa: E402
from ddsnode.catalog.dump import members, public_containers  # noqa: E402
from ddsnode.commands.node import init_node  # noqa: E402
from ddsnode.ldp.node import Node  # noqa: E402
from ddsnode.settings import Settings  # noqa: E402

BASE = "http://127.0.0.1:8000/"


def measured(work: Callable[[], object]) -> tuple[float, int]:
    """(seconds, peak bytes of Python allocations) of ``work()``: timed once untraced,
    then run again under tracemalloc (which slows it) for the memory peak."""
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak


def run(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        node_dir = Path(tmp) / "node"
        init_node(node_dir, base_url=BASE, extra={"catalog_rebuild_seconds": 0})
        fill_big_container(node_dir, BASE, "proposals/", n)
        node = Node.open(Settings.load(node_dir))
        try:
            def baseline() -> int:
                return sum(len(r.ntriples) for path, _ in public_containers(node)
                           for r in members(node, path))

            def build() -> object:
                return builds.build(node, node_dir, max_processes=200, issuer="bench")

            base_s, base_peak = measured(baseline)
            build_s, build_peak = measured(build)
            made = builds.load(node_dir)
            assert made is not None
            size = sum(f.size for f in made.files.values())
        finally:
            node.close()
    print(f"N={n:>7}: read floor {base_s:6.2f} s (peak {base_peak / 1e6:5.1f} MB), "
          f"build {build_s:6.2f} s (peak {build_peak / 1e6:5.1f} MB), "
          f"ratio {build_s / base_s:4.1f}x, {n / build_s:7.0f} resources/s, "
          f"{len(made.files)} files, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    for count in [int(a) for a in sys.argv[1:]] or [2000, 20000]:
        run(count)

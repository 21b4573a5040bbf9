"""What starting a node costs, and two costs each node or check paid again every time.

    .venv/bin/python bench/node_start.py [--nodes 100] [--pages 30] [--calls 3]
                                         [--before REV] [--after REV]

CPU seconds (``time.process_time``: every thread of the process) of, in one process:

* **start**: an in-process node started and stopped (``tests/support/inprocess.py``:
  ``init``, tokens, ``create_app``, the ASGI lifespan's start and stop), mean and median
  over ``--nodes`` after one warm-up node;
* **pages**: a node started, one proposal PUT, the explorer's home, a search, the
  proposals container and the proposal's page read as HTML, then stopped; over
  ``--pages`` nodes (what an explorer test does);
* **reference**: pyshacl's validation of each bundled example (parse excluded),
  ``--calls`` rounds.

Each is measured twice in the same process: as it runs, and "cold", with the
process-wide caches this tree has emptied before each node or call (the configured
containers' records, the explorer's compiled templates, pyshacl's harvested shapes):
what each node or call paid when they were not shared. ``--before REV`` measures the
tree of git revision REV too (``git archive`` into a temporary directory), and
``--after REV`` a revision instead of this checkout, for a before/after table from one
run. Temporary node directories go to ``/dev/shm`` when it exists, as in the tests. The
machine is shared: the load average is printed with the figures. A script, never a test.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

#: (module, attribute) of each process-wide cache the "cold" runs empty, where it exists.
CACHES = (("ddsnode.ldp.node", "_configured_container"),
          ("ddsnode.explorer.web.site", "templates"),
          ("ddsnode.validation.reference", "_HARVESTED"))


def _caches() -> list[Callable[[], None]]:
    """How to empty each cache of :data:`CACHES` this tree has."""
    found = []
    for module, name in CACHES:
        cache = getattr(importlib.import_module(module), name, None)
        if cache is not None:
            found.append(getattr(cache, "cache_clear", None) or cache.clear)
    return found


def _cpu(runs: int, once: Callable[[], None], cold: bool) -> list[float]:
    """CPU seconds of each of ``runs`` calls of ``once``, after one warm-up call."""
    clear = _caches() if cold else []
    once()
    out = []
    for _ in range(runs):
        for empty in clear:
            empty()
        started = time.process_time()
        once()
        out.append(time.process_time() - started)
    return out


def measure(nodes: int, pages: int, calls: int) -> dict[str, list[float]]:
    """Every figure of this tree (run in a child process whose path starts at the tree)."""
    from ddsnode.authoring.sources import Sources
    from ddsnode.validation.reference import validate_pyshacl
    from tests.support.inprocess import local_node

    root = Path(tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
    count = iter(range(1 << 30))

    def start() -> None:
        with local_node(root / str(next(count))):
            pass

    def browse() -> None:
        with local_node(root / str(next(count))) as node, node.client() as http:
            iri, body = node.example("a-proposal-school-streets")
            node.put(http, iri, body)
            html = {"Accept": "text/html"}
            for path in ("/", "/explore?q=school", "/proposals/", iri):
                response = http.get(path, headers=html)
                assert response.status_code == 200, (path, response.status_code)

    src = Sources.bundled()
    graphs = [src.parse_example(path) for path in src.example_files()]
    out: dict[str, list[float]] = {}
    for cold in (False, True):
        suffix = " cold" if cold else ""
        out["start" + suffix] = _cpu(nodes, start, cold)
        out["pages" + suffix] = _cpu(pages, browse, cold)
        out["reference" + suffix] = _per_call(graphs, calls, validate_pyshacl, cold)
    return out


def _per_call(graphs: list[Any], calls: int, validate: Callable[[Any], Any],
              cold: bool) -> list[float]:
    """CPU seconds of each validation of each graph, ``calls`` rounds after a warm-up one;
    ``cold``: the caches emptied before every call."""
    clear = _caches() if cold else []
    for graph in graphs:
        validate(graph)
    out = []
    for _ in range(calls):
        for graph in graphs:
            for empty in clear:
                empty()
            started = time.process_time()
            validate(graph)
            out.append(time.process_time() - started)
    return out


def _tree(revision: str, scratch: Path) -> Path:
    """The files of git revision ``revision``, extracted under ``scratch``."""
    archive = subprocess.run(["git", "archive", revision], cwd=HERE.parent, check=True,
                             capture_output=True).stdout
    target = scratch / revision.replace("/", "_")
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def _load() -> str:
    return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--before", help="git revision to measure first")
    parser.add_argument("--after", help="git revision to measure instead of this checkout")
    parser.add_argument("--tree", help=argparse.SUPPRESS)  # internal: measure this tree
    args = parser.parse_args()
    if args.tree:
        sys.path.insert(0, args.tree)
        print(json.dumps(measure(args.nodes, args.pages, args.calls)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        trees = [(f"after ({args.after})" if args.after else "after (this checkout)",
                  _tree(args.after, Path(scratch)) if args.after else HERE.parent)]
        if args.before:
            trees.insert(0, (f"before ({args.before})", _tree(args.before, Path(scratch))))
        print(f"# {args.nodes} nodes started, {args.pages} browsed, {args.calls} rounds of "
              "reference validation per tree; CPU ms (mean / median)")
        print(f"{'tree':<34} {'figure':<16} {'mean':>8} {'median':>8} {'runs':>5}  load")
        for label, tree in trees:
            before = _load()
            env = {**os.environ, "PYTHONPATH": str(tree)}
            env.setdefault("TMPDIR", "/dev/shm" if os.path.isdir("/dev/shm") else "/tmp")
            out = subprocess.run(
                [sys.executable, __file__, "--tree", str(tree), "--nodes", str(args.nodes),
                 "--pages", str(args.pages), "--calls", str(args.calls)],
                check=True, capture_output=True, text=True, cwd=tree, env=env).stdout
            figures = json.loads(out.splitlines()[-1])
            for name, values in figures.items():
                print(f"{label:<34} {name:<16} {statistics.mean(values) * 1000:>8.2f} "
                      f"{statistics.median(values) * 1000:>8.2f} {len(values):>5}  "
                      f"{before} -> {_load().removeprefix('load average ')}")


if __name__ == "__main__":
    main()

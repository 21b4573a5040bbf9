"""The cost of one validated write in-process, without HTTP: ``Node.post`` in a loop.

    .venv/bin/python bench/write_path.py [--writes 2000] [--profile]

A fresh node (``ddsnode init`` in a temporary directory, embedded store) takes the
20-triple proposal of ``bench/run.py`` by POST, with the federation write hook the
server registers. Each write is its own transaction, so each pays its own fsync (the
server's writer thread shares one among the requests queued meanwhile). Prints wall and
CPU time per write with the fast SHACL engine and, as the baseline of the same run, with
pyshacl (the reference engine the fast one is tested against); ``--profile`` adds the
top of a cProfile of the fast engine's writes. A script, never a test.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.run import TURTLE_20  # noqa: E402
from ddsnode.http.app import create_app  # noqa: E402
from ddsnode.ldp.node import Node  # noqa: E402
from ddsnode.settings import Settings  # noqa: E402

BASE = "http://127.0.0.1:9/"


def fresh_node(tmp: Path, engine: str) -> Node:
    """A node directory made by ``ddsnode init``, opened as the server opens it."""
    node_dir = tmp / engine
    subprocess.run([sys.executable, "-m", "ddsnode", "init", str(node_dir), "--base-url", BASE],
                   check=True, stdout=subprocess.DEVNULL)
    app = create_app(Settings.load(node_dir).replace(validation_engine=engine))
    node: Node = app.node  # type: ignore[attr-defined]
    return node


def per_write(node: Node, writes: int) -> tuple[float, float]:
    """(wall ms, CPU ms) per POST, after a warm-up."""
    body = TURTLE_20.format(iri="", base=BASE).encode()
    for _ in range(min(200, writes)):
        node.post(BASE + "proposals/", body, "text/turtle")
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(writes):
        node.post(BASE + "proposals/", body, "text/turtle")
    return ((time.perf_counter() - wall) * 1000 / writes,
            (time.process_time() - cpu) * 1000 / writes)


def main() -> int:
    """Measure both engines; print the table and the ratio."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--writes", type=int, default=2000)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--sort", default="cumulative", help="cProfile order (e.g. tottime)")
    args = ap.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="ddswrite-") as tmp:
        for engine, writes in (("fast", args.writes), ("pyshacl", max(50, args.writes // 20))):
            node = fresh_node(Path(tmp), engine)
            try:
                results[engine] = per_write(node, writes)
                if args.profile and engine == "fast":
                    profile = cProfile.Profile()
                    profile.enable()
                    per_write(node, writes)
                    profile.disable()
                    pstats.Stats(profile).sort_stats(args.sort).print_stats(40)
            finally:
                node.close()
    print(f"{'engine':10} {'wall ms/write':>14} {'CPU ms/write':>13}")
    for engine, (wall, cpu) in results.items():
        print(f"{engine:10} {wall:14.3f} {cpu:13.3f}")
    fast, ref = results["fast"], results["pyshacl"]
    print(f"pyshacl / fast (CPU): {ref[1] / fast[1]:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How the cost of a PATCH grows: a hostile one (rows multiplied) and an ordinary one.

    .venv/bin/python bench/patch_cost.py [--before REV] [--limit SECONDS]

Each case runs in its own process, on one node in that process (``tests/support/
inprocess``), and is stopped after ``--limit`` seconds (reported as "> limit"):

* hostile: ``INSERT { <#it> ex:n ?c } WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }`` on a
  resource of n triples — n³ solutions (issue 9, item 2: such a PATCH ran without
  limit, memory growing, every write waiting). After the change it is refused once
  ``patch_solution_limit`` solutions are counted, so its cost stops growing with n.
* ordinary: change one value (DELETE/INSERT … WHERE) of a resource of n triples —
  should grow linearly with n.

Prints n, status, seconds and the ratio to the previous n. ``--before REV`` measures
the tree of git revision REV (``git archive``) too. A script, never a test.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

HERE = Path(__file__).resolve().parent
EX = "http://example.org/"
CASES = {
    "hostile": ((10, 20, 40, 80, 160),
                f"INSERT {{ <#it> <{EX}n> ?c }} WHERE {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }}"),
    "ordinary": ((1000, 2000, 4000, 8000),
                 (f"DELETE {{ <#it> <{EX}p3> ?o }} INSERT {{ <#it> <{EX}p3> \"changed\" }} "
                  f"WHERE {{ <#it> <{EX}p3> ?o }}")),
}


def one(tree: Path, case: str, n: int) -> tuple[int, float]:
    """(status, seconds) of the case's PATCH on a resource of ``n`` triples."""
    sys.path.insert(0, str(tree))
    from tests.support.inprocess import local_node

    body = "".join(f'<#it> <{EX}p{i}> "value number {i}" .\n' for i in range(n)).encode()
    with tempfile.TemporaryDirectory() as tmp, \
            local_node(Path(tmp), settings={"open_containers": "open/"}) as node, \
            node.client() as http:
        assert http.put("open/r", content=body,
                        headers={"Content-Type": "text/turtle"}).status_code == 201
        # A first PATCH starts the patch worker (after the change): not counted.
        http.patch("open/r", content=f'INSERT DATA {{ <#it> <{EX}warm> "up" }}'.encode(),
                   headers={"Content-Type": "application/sparql-update"})
        started = time.perf_counter()
        r = http.patch("open/r", content=CASES[case][1].encode(),
                       headers={"Content-Type": "application/sparql-update"})
        return r.status_code, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="git revision to measure too (before the change)")
    parser.add_argument("--limit", type=float, default=15.0, help="seconds per case")
    parser.add_argument("--tree", help=argparse.SUPPRESS)  # internal: one case on a tree
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tree:
        status, seconds = one(Path(args.tree), args.case, args.n)
        print(status, seconds)
        return
    scratch = tempfile.TemporaryDirectory()
    trees: list[tuple[str, Path]] = [("after", HERE.parent)]
    if args.before:
        archive = subprocess.run(["git", "archive", args.before], cwd=HERE.parent,
                                 check=True, capture_output=True).stdout
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(scratch.name, filter="data")
        trees.insert(0, (f"before ({args.before})", Path(scratch.name)))
    print(f"{'tree':<22} {'case':<9} {'n':>6} {'status':>7} {'seconds':>9} {'ratio':>6}")
    for label, tree in trees:
        for case, (sizes, _) in CASES.items():
            previous = None
            for n in sizes:
                try:
                    out = subprocess.run(
                        [sys.executable, __file__, "--tree", str(tree), "--case", case,
                         "--n", str(n)], capture_output=True, text=True, cwd=tree,
                        timeout=args.limit + 5, check=True).stdout.split()
                    status, seconds = out[0], float(out[1])
                except subprocess.TimeoutExpired:
                    status, seconds = "-", float("inf")
                shown = f"> {args.limit:g}" if seconds == float("inf") else f"{seconds:.3f}"
                ratio = f"{seconds / previous:.1f}" if previous and seconds != float("inf") \
                    else ""
                print(f"{label:<22} {case:<9} {n:>6} {status:>7} {shown:>9} {ratio:>6}",
                      flush=True)
                if seconds == float("inf"):
                    break  # larger n only take longer
                previous = seconds
    scratch.cleanup()


if __name__ == "__main__":
    main()

"""What the transport bounds cost a read: GET req/s before and after, same run.

    .venv/bin/python bench/transport.py [--duration 8] [--connections 16] [--rounds 2]

One node directory with a 20-triple proposal, served in turn by three configurations of
the same code, each on its own port, with wrk driving GET (Turtle, and the HTML page):

* ``before``: uvicorn's stock httptools protocol, the app without the security-headers
  middleware (what ``ddsnode serve`` ran before issue 9 items 4 and 15);
* ``protocol``: the bounded protocol (``ddsnode/http/server.py``), same app as before;
* ``after``: the bounded protocol and the full app (what ``ddsnode serve`` runs now).

Rounds alternate the configurations so that the machine's drift spreads over all of
them. Prints req/s and p99 per configuration and the ratio to ``before``. A script,
never a test: no timing threshold lives in the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.run import PY, TURTLE_20, free_port, run_wrk, wait_http

MODES = ("before", "protocol", "after")


def serve(mode: str, node_dir: Path, port: int) -> None:
    """Run the node in this process in one of the three configurations."""
    import uvicorn

    from ddsnode.http.app import create_app
    from ddsnode.http.server import server_config
    from ddsnode.settings import Settings

    settings = Settings.load(node_dir, overrides={"port": port, "log_level": "warning"})
    app = create_app(settings)
    config = server_config(app, settings)
    if mode in ("before", "protocol"):
        config.app = app.app  # type: ignore[attr-defined]  # without SecurityHeadersMiddleware
    if mode == "before":
        config.http = "httptools"
    uvicorn.Server(config).run()


def main() -> int:
    """Measure each configuration ``--rounds`` times and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=int, default=8)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--serve", nargs=3, metavar=("MODE", "DIR", "PORT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve[0], Path(args.serve[1]), int(args.serve[2]))
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="ddsbench-transport-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    node_dir = tmp / "node"
    subprocess.run([PY, "-m", "ddsnode", "init", str(node_dir), "--base-url", base],
                   check=True, stdout=subprocess.DEVNULL)
    token = subprocess.run([PY, "-m", "ddsnode", "token", "create", str(node_dir)],
                           check=True, capture_output=True, text=True).stdout.strip()
    res = f"{base}proposals/bench-20"
    rows: dict[tuple[str, str], list[tuple[float, float]]] = {}
    w = {"duration": args.duration, "connections": args.connections}
    for _ in range(args.rounds):
        for mode in MODES:
            proc = subprocess.Popen([PY, str(Path(__file__).resolve()), "--serve", mode,
                                     str(node_dir), str(port)], env={**os.environ})
            try:
                wait_http(base)
                r = httpx.put(res, content=TURTLE_20.format(iri=res, base=base).encode(),
                              headers={"Authorization": f"Bearer {token}",
                                       "Content-Type": "text/turtle"})
                r.raise_for_status()
                for label, accept in (("GET Turtle", "text/turtle"), ("GET HTML", "text/html")):
                    httpx.get(res, headers={"Accept": accept}).raise_for_status()  # rendered
                    result = run_wrk(label, mode, res, script="accept.lua",
                                     env={"ACCEPT": accept}, **w)
                    if result.errors:
                        raise RuntimeError(f"{mode} {label}: {result.errors} errors")
                    rows.setdefault((label, mode), []).append((result.rps, result.p99_ms))
            finally:
                proc.terminate()
                proc.wait(30)
    print(f"\nwrk -c{args.connections} -d{args.duration}s, {args.rounds} rounds, "
          "median of rounds\n")
    print(f"{'request':<12} {'configuration':<10} {'req/s':>9} {'p99 ms':>8} {'vs before':>10}")
    for label in ("GET Turtle", "GET HTML"):
        reference = statistics.median(r for r, _ in rows[(label, "before")])
        for mode in MODES:
            rps = statistics.median(r for r, _ in rows[(label, mode)])
            p99 = statistics.median(p for _, p in rows[(label, mode)])
            print(f"{label:<12} {mode:<10} {rps:>9.0f} {p99:>8.2f} {rps / reference:>9.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

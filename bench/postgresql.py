"""PostgreSQL store with 1, 2 and 4 worker processes against the embedded store, same run.

    .venv/bin/python bench/postgresql.py [--duration 3] [--connections 16] [--workers 1,2,4]

Starts a throwaway PostgreSQL from the distribution's binaries (tests/support/postgres.py:
initdb in a temporary directory, fsync on, ``synchronous_commit = on``) and, in turn, a
node on the embedded store (one process: its only mode) and nodes on PostgreSQL served by
``ddsnode serve --workers N``. Each is driven by wrk (bench/run.py's harness) with a
GET of one 20-triple proposal (JSON-LD and Turtle) and a validated POST; the table gives
req/s, p50, p99 and the ratio to the embedded store measured in this run. Then, on two
independent PostgreSQL processes: how long after a 201 from one the resource is readable
through the other (GET, and ``/sparql`` ASK: that process's index replays the shared
change log), and how long the background loops stand still when their owner is SIGKILLed
(the default ``loop_lease_seconds``). A script, never a test: no threshold lives here.

    .venv/bin/python bench/postgresql.py --machines [--rounds 10]

Two machines instead (two node directories, one database, one process each): a public
GET against the same GET with a bearer token (each check reads the token from the
database on PostgreSQL, from ``admin.db`` on the embedded store, measured in the same
run for the ratio), and how long after a 201 through one machine the other's explorer
search finds it (its search index replays the shared change log).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run import PY, TURTLE_20, Result, check_post, free_port, run_wrk, wait_http
from tests.support.pg_nodes import children, loop_owner, wait_for_owner
from tests.support.postgres import PostgresServer


class Node:
    """One node directory and the serve process(es) on it."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/"
        self.dir = root / f"node-{self.port}"
        self.env = {**os.environ, "DDS_LOG_LEVEL": "warning", **env}
        subprocess.run([PY, "-m", "ddsnode", "init", str(self.dir), "--base-url", self.base],
                       check=True, stdout=subprocess.DEVNULL, env=self.env)
        self.token = subprocess.run([PY, "-m", "ddsnode", "token", "create", str(self.dir)],
                                    check=True, capture_output=True, text=True,
                                    env=self.env).stdout.strip()
        self.procs: list[subprocess.Popen[bytes]] = []

    def serve(self, *, workers: int = 1, port: int | None = None) -> str:
        """Start ``ddsnode serve`` (``--workers``) on ``port``; its URL once it answers."""
        port = port or self.port
        cmd = [PY, "-m", "ddsnode", "serve", str(self.dir), "--port", str(port)]
        if workers > 1:
            cmd += ["--workers", str(workers)]
        self.procs.append(subprocess.Popen(cmd, env=self.env, stdout=subprocess.DEVNULL))
        url = f"http://127.0.0.1:{port}/"
        wait_http(url)
        return url

    def stop(self) -> None:
        """SIGTERM every process, then wait."""
        for p in self.procs:
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def measure(label: str, node: Node, url: str, tmp: Path, args: argparse.Namespace) -> list[Result]:
    """GET JSON-LD, GET Turtle and a validated POST on ``url``."""
    w = {"duration": args.duration, "connections": args.connections}
    auth = {"Authorization": f"Bearer {node.token}"}
    res = f"{node.base}proposals/bench-20"
    with httpx.Client(timeout=30) as client:
        client.put(url + "proposals/bench-20", content=TURTLE_20.format(
            iri=res, base=node.base).encode(),
            headers={**auth, "Content-Type": "text/turtle"}).raise_for_status()
        body = tmp / f"post-{node.port}.ttl"
        body.write_text(TURTLE_20.format(iri="", base=node.base))
        check_post(client, url + "proposals/", body.read_text(), node.token)
    results = []
    for name, accept in (("GET JSON-LD", "application/ld+json"), ("GET Turtle", "text/turtle")):
        # Warm every worker's render cache first: the table is about the steady state.
        run_wrk(name, label, url + "proposals/bench-20", script="accept.lua",
                env={"ACCEPT": accept}, duration=1, connections=args.connections)
        results.append(run_wrk(name, label, url + "proposals/bench-20", script="accept.lua",
                               env={"ACCEPT": accept}, **w))
    results.append(run_wrk("POST validated", label, url + "proposals/", script="post.lua",
                           env={"BODY_FILE": str(body), "CONTENT_TYPE": "text/turtle",
                                "TOKEN": node.token}, **w))
    return results


def visibility(node: Node, a: str, b: str, rounds: int) -> tuple[list[float], list[float]]:
    """Seconds from a 201 through ``a`` until ``b`` serves it: GET, and /sparql ASK."""
    auth = {"Authorization": f"Bearer {node.token}", "Content-Type": "text/turtle"}
    gets, asks = [], []
    with httpx.Client(timeout=30) as http:
        http.get(b + "sparql", params={"query": "ASK {}"})  # start b's index first
        for n in range(rounds):
            title = f"visible {n} {time.time()}"
            body = TURTLE_20.format(iri="", base=node.base).replace(
                "Protected bike lanes on the river quays", title)
            r = http.post(a + "proposals/", content=body.encode(), headers=auth)
            r.raise_for_status()
            path = r.headers["location"][len(node.base):]
            done = time.monotonic()
            while http.get(b + path).status_code != 200:
                time.sleep(0.001)
            gets.append(time.monotonic() - done)
            query = f'ASK {{ ?s <http://purl.org/dc/terms/title> "{title}"@en }}'
            while not http.get(b + "sparql", params={"query": query},
                               headers={"Accept": "application/sparql-results+json"}
                               ).json()["boolean"]:
                time.sleep(0.001)
            asks.append(time.monotonic() - done)
    return gets, asks


def takeover(node: Node, supervisor: subprocess.Popen[bytes], rounds: int) -> list[float]:
    """Seconds between SIGKILL of the loops' owner and another process holding them."""
    url = node.env["DDS_DATABASE_URL"]
    waits = []
    for _ in range(rounds):
        deadline = time.monotonic() + 60
        while len(children(supervisor.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        owner, _ = wait_for_owner(url)
        os.kill(owner, signal.SIGKILL)
        killed = time.monotonic()
        wait_for_owner(url, other_than=owner, timeout=60)
        waits.append(time.monotonic() - killed)
        time.sleep(1.5)  # let the supervisor replace the killed worker
    assert loop_owner(url) is not None
    return waits


def tokens(label: str, node: Node, url: str, args: argparse.Namespace) -> list[Result]:
    """GET Turtle of a public resource without and with a bearer token."""
    w = {"duration": args.duration, "connections": args.connections}
    res = f"{node.base}proposals/bench-20"
    httpx.put(url + "proposals/bench-20", timeout=30, content=TURTLE_20.format(
        iri=res, base=node.base).encode(), headers={"Authorization": f"Bearer {node.token}",
                                                     "Content-Type": "text/turtle"}
              ).raise_for_status()
    env = {"ACCEPT": "text/turtle", "TOKEN": node.token}
    run_wrk("warm", label, url + "proposals/bench-20", script="accept.lua", env=env,
            duration=1, connections=args.connections)
    return [run_wrk("GET public", label, url + "proposals/bench-20", script="accept.lua",
                    env=env, **w),
            run_wrk("GET with token", label, url + "proposals/bench-20", script="bearer.lua",
                    env=env, **w)]


def search_delay(node: Node, a: str, b: str, rounds: int) -> list[float]:
    """Seconds from a 201 through ``a`` until ``b``'s /explore?q= finds it."""
    auth = {"Authorization": f"Bearer {node.token}", "Content-Type": "text/turtle"}
    waits = []
    with httpx.Client(timeout=30) as http:
        http.get(b + "explore", params={"q": "warm"})  # b's index built before timing
        for n in range(rounds):
            word = f"beacon{n}q{int(time.time())}"
            body = TURTLE_20.format(iri="", base=node.base).replace(
                "Protected bike lanes on the river quays", word)
            r = http.post(a + "proposals/", content=body.encode(), headers=auth)
            r.raise_for_status()
            path = r.headers["location"][len(node.base):]
            done = time.monotonic()
            while path not in http.get(b + "explore", params={"q": word}).text:
                time.sleep(0.005)
            waits.append(time.monotonic() - done)
    return waits


def machines(args: argparse.Namespace) -> int:
    """Two node directories on one database, against one embedded node."""
    tmp = Path(tempfile.mkdtemp(prefix="ddsbench-machines-"))
    results: list[Result] = []
    with PostgresServer() as pg:
        node = Node(tmp, {})
        try:
            results += tokens("embedded", node, node.serve(), args)
        finally:
            node.stop()
        node = Node(tmp, {"DDS_STORE": "postgresql", "DDS_DATABASE_URL": pg.database()})
        other = tmp / "machine-b"
        subprocess.run([PY, "-m", "ddsnode", "init", str(other), "--base-url", node.base],
                       check=True, stdout=subprocess.DEVNULL, env=node.env)
        try:
            a = node.serve()
            port = free_port()
            node.procs.append(subprocess.Popen(
                [PY, "-m", "ddsnode", "serve", str(other), "--port", str(port)],
                env=node.env, stdout=subprocess.DEVNULL))
            b = f"http://127.0.0.1:{port}/"
            wait_http(b)
            results += tokens("pg machine B", node, b, args)
            waits = search_delay(node, a, b, args.rounds)
        finally:
            node.stop()
    base = {r.server: r.rps for r in results if r.name == "GET public"}
    print(f"\n{args.connections} connections, {args.duration} s each\n")
    for r in results:
        print(f"{r.name:16} {r.server:14} {r.rps:8.0f} req/s  p50 {r.p50_ms:6.2f} ms  "
              f"p99 {r.p99_ms:6.2f} ms  errors {r.errors}  "
              f"{r.rps / base[r.server]:.2f}x the public GET")
    print(f"written through machine A, found by machine B's search ({args.rounds} writes): "
          f"p50 {1000 * statistics.median(waits):.0f} ms, max {1000 * max(waits):.0f} ms "
          f"(each: {', '.join(f'{1000 * w:.0f}' for w in waits)})")
    return 0


def main() -> int:
    """Run every configuration and print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=int, default=3)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--machines", action="store_true",
                    help="two node directories on one database instead (tokens, search)")
    args = ap.parse_args()
    if args.machines:
        return machines(args)
    tmp = Path(tempfile.mkdtemp(prefix="ddsbench-pg-"))
    results: list[Result] = []
    with PostgresServer() as pg:
        node = Node(tmp, {})
        try:
            results += measure("embedded", node, node.serve(), tmp, args)
        finally:
            node.stop()
        for n in (int(x) for x in args.workers.split(",")):
            node = Node(tmp, {"DDS_STORE": "postgresql", "DDS_DATABASE_URL": pg.database()})
            try:
                results += measure(f"pg x{n}", node, node.serve(workers=n), tmp, args)
            finally:
                node.stop()
        node = Node(tmp, {"DDS_STORE": "postgresql", "DDS_DATABASE_URL": pg.database()})
        try:
            a, b = node.serve(), node.serve(port=free_port())
            gets, asks = visibility(node, a, b, args.rounds)
        finally:
            node.stop()
        node = Node(tmp, {"DDS_STORE": "postgresql", "DDS_DATABASE_URL": pg.database()})
        try:
            node.serve(workers=2)
            waits = takeover(node, node.procs[0], 2)
        finally:
            node.stop()
    by = {(r.name, r.server): r for r in results}
    print(f"\n{args.connections} connections, {args.duration} s each, os.cpu_count() = "
          f"{os.cpu_count()}\n")
    print(f"{'scenario':16} {'store':10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'errors':>6} {'vs embedded':>11}")
    for r in results:
        base = by.get((r.name, "embedded"))
        ratio = f"{r.rps / base.rps:10.2f}x" if base and base.rps else ""
        print(f"{r.name:16} {r.server:10} {r.rps:8.0f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} "
              f"{r.errors:6d} {ratio:>11}")

    def ms(values: list[float]) -> str:
        return (f"p50 {1000 * statistics.median(values):.1f} ms, "
                f"max {1000 * max(values):.1f} ms")

    print(f"\nwritten through one process, readable through another ({args.rounds} writes):")
    print(f"  GET     {ms(gets)}")
    print(f"  /sparql {ms(asks)}")
    print(f"takeover of the background loops after SIGKILL of their owner "
          f"(loop_lease_seconds default): {ms(waits)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""HTTP benchmark: ddsnode against Community Solid Server and a bare Starlette app, same run.

    .venv/bin/python bench/run.py [--duration 10] [--connections 16] [--skip-css]

Starts, on 127.0.0.1 only: a ddsnode (fresh node directory), Community Solid Server 7.2
in memory (../shared/judges/community-solid-server.sh, from npm), and bench/bare_app.py
(the ceiling of our stack: a fixed 2 KB JSON body). Drives each with wrk (Debian
package; installed with apt-get if missing) at the same concurrency, and prints req/s,
p50 and p99 with ratios against the baselines measured in this same run. It is a
script, never a test: no timing threshold lives in the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
JUDGES = ROOT.parent / "shared" / "judges"
PY = sys.executable

TURTLE_20 = """@prefix dds: <https://w3id.org/dds/ns#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix schema: <https://schema.org/> .
@prefix geo: <http://www.w3.org/2003/01/geo/wgs84_pos#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<{iri}> a dds:Proposal ;
  dct:title "Protected bike lanes on the river quays"@en, "Des pistes cyclables protégées sur les quais"@fr ;
  schema:text "Separate cyclists from traffic along the quays, from the old bridge to the station."@en,
    "Séparer les cyclistes de la circulation le long des quais, du vieux pont à la gare."@fr ;
  dds:inSpace <{base}processes/mobility-2026> ;
  dds:inPhase <{base}processes/mobility-2026#phase-2> ;
  dds:state <https://w3id.org/dds/state/evaluating> ;
  dct:subject <https://w3id.org/dds/topic/mobility>, <https://w3id.org/dds/topic/environment> ;
  dct:creator <{base}participants/p-7f3a> ;
  dds:supportCount "128"^^xsd:nonNegativeInteger ;
  dds:commentCount "17"^^xsd:nonNegativeInteger ;
  dds:countsComputedAt "2026-04-02T10:00:00Z"^^xsd:dateTime ;
  dds:platformState "evaluating" ;
  dct:spatial <{iri}#place> .
<{iri}#place> a dct:Location ;
  geo:lat "45.7640"^^xsd:double ;
  geo:long "4.8357"^^xsd:double .
"""


@dataclass
class Result:
    """One wrk measurement: throughput, latency, and what went wrong (if anything)."""

    name: str
    server: str
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int  # HTTP responses outside 2xx/3xx (their statuses in ``statuses``)
    socket_errors: int  # connect/read/write errors and timeouts (no response within TIMEOUT)
    statuses: dict[int, int] = field(default_factory=dict)  # by HTTP status (post.lua only)

    @property
    def errors(self) -> int:
        """Every request that did not succeed."""
        return self.non_2xx + self.socket_errors


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 60) -> None:
    """Wait until ``url`` answers at all."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def ensure_wrk() -> str:
    """The wrk binary, installed from Debian's packages if missing."""
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True,
                   stdout=subprocess.DEVNULL)
    return shutil.which("wrk") or "wrk"


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
# wrk drops a response slower than its timeout from the latency histogram and counts a
# "timeout" instead; its 2 s default would hide the slow tail that p99 is about.
TIMEOUT = "10s"


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


def run_wrk(name: str, server: str, url: str, *, duration: int, connections: int,
            script: str | None = None, env: dict[str, str] | None = None) -> Result:
    """Drive ``url`` with wrk and parse req/s and the latency distribution."""
    cmd = [ensure_wrk(), f"-t{min(2, connections)}", f"-c{connections}", f"-d{duration}s",
           "--timeout", TIMEOUT, "--latency", url]
    if script:
        cmd[1:1] = ["-s", str(HERE / "wrk" / script)]
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})},
                         check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    statuses = {int(code): int(n) for code, n in re.findall(r"^status (\d+) (\d+)$", out,
                                                                   re.MULTILINE)}
    return Result(name, server, rps, p50, p99, int(bad.group(1)) if bad else 0,
                  sum(int(x) for x in sock.groups()) if sock else 0, statuses)


def check_post(client: httpx.Client, url: str, body: str, token: str) -> None:
    """One POST like the benchmark's must answer 201 before it is measured."""
    headers = {"Content-Type": "text/turtle", "Slug": "bench-check"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    r = client.post(url, content=body.encode(), headers=headers)
    if r.status_code != 201:
        raise RuntimeError(f"sample POST to {url}: {r.status_code} {r.text[:300]}")


class Servers:
    """The processes under test; stopped on exit."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.pids: list[int] = []
        self.tmp = Path(tempfile.mkdtemp(prefix="ddsbench-"))

    def start_ddsnode(self, fill: int = 0) -> tuple[str, str, Path]:
        """A fresh node, its proposals/ filled with ``fill`` items before it starts;
        returns (base URL, write token, node dir)."""
        port = free_port()
        base = f"http://127.0.0.1:{port}/"
        node_dir = self.tmp / f"node-{port}"
        subprocess.run([PY, "-m", "ddsnode", "init", str(node_dir), "--base-url", base],
                       check=True, stdout=subprocess.DEVNULL)
        if fill:
            from bench.fill import fill_big_container
            fill_big_container(node_dir, base, "proposals/", fill)
        token = subprocess.run([PY, "-m", "ddsnode", "token", "create", str(node_dir)],
                               check=True, capture_output=True, text=True).stdout.strip()
        self.procs.append(subprocess.Popen(
            [PY, "-m", "ddsnode", "serve", str(node_dir), "--port", str(port)],
            env={**os.environ, "DDS_LOG_LEVEL": "warning"}))
        wait_http(base)
        return base, token, node_dir

    def start_bare(self) -> str:
        """The bare Starlette ceiling app; returns its URL."""
        port = free_port()
        self.procs.append(subprocess.Popen(
            [PY, "-m", "uvicorn", "bench.bare_app:app", "--port", str(port), "--no-access-log",
             "--log-level", "warning"], cwd=ROOT))
        url = f"http://127.0.0.1:{port}/x"
        wait_http(url)
        return url

    def start_css(self) -> str:
        """Community Solid Server 7.2 in memory; returns its base URL."""
        port = free_port()
        out = subprocess.run(["bash", str(JUDGES / "community-solid-server.sh")],
                             env={**os.environ, "PORT": str(port)}, capture_output=True,
                             text=True, check=True).stdout.strip().splitlines()
        self.pids.append(int(out[-1]))
        base = f"http://127.0.0.1:{port}/"
        wait_http(base, timeout=120)
        return base

    def stop(self) -> None:
        """Stop every process started."""
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)


def fill_container(client: httpx.Client, container: str, n: int, *, token: str | None,
                   body_for: Callable[[str], tuple[str, str]]) -> None:
    """Create ``n`` children of ``container`` by PUT (the same way on both servers)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for i in range(n):
        iri = f"{container}item-{i:06d}"
        ctype, body = body_for(iri)
        r = client.put(iri, content=body.encode(), headers={**headers, "Content-Type": ctype})
        if r.status_code >= 300:
            raise RuntimeError(f"fill {iri}: {r.status_code} {r.text[:300]}")


def main() -> int:
    """Run every scenario and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--skip-css", action="store_true")
    ap.add_argument("--big", type=int, default=100_000, help="items in the big container")
    args = ap.parse_args()
    servers = Servers()
    results: list[Result] = []
    w = {"duration": args.duration, "connections": args.connections}
    try:
        bare = servers.start_bare()
        base, token, _ = servers.start_ddsnode()
        css = None if args.skip_css else servers.start_css()
        client = httpx.Client(timeout=30)
        auth = {"Authorization": f"Bearer {token}"}
        res = f"{base}proposals/bench-20"
        r = client.put(res, content=TURTLE_20.format(iri=res, base=base).encode(),
                       headers={**auth, "Content-Type": "text/turtle"})
        r.raise_for_status()
        results.append(run_wrk("bare 2 KB JSON", "bare", bare, **w))
        for label, accept in (("GET 20 triples JSON-LD", "application/ld+json"),
                              ("GET 20 triples Turtle", "text/turtle")):
            results.append(run_wrk(label, "ddsnode", res, script="accept.lua",
                                   env={"ACCEPT": accept}, **w))
        body_file = servers.tmp / "post.ttl"
        body_file.write_text(TURTLE_20.format(iri="", base=base))
        check_post(client, f"{base}proposals/", body_file.read_text(), token)
        results.append(run_wrk("POST validated", "ddsnode", f"{base}proposals/", script="post.lua",
                               env={"BODY_FILE": str(body_file), "CONTENT_TYPE": "text/turtle",
                                    "TOKEN": token}, **w))
        for n in (1_000, args.big):
            nbase, _, _ = servers.start_ddsnode(fill=n)
            results.append(run_wrk(f"page of {n:,}", "ddsnode", f"{nbase}proposals/",
                                   script="accept.lua", env={"ACCEPT": "text/turtle"}, **w))
        if css:
            cres = f"{css}bench-20"
            client.put(cres, content=TURTLE_20.format(iri=cres, base=css).encode(),
                       headers={"Content-Type": "text/turtle"}).raise_for_status()
            for label, accept in (("GET 20 triples JSON-LD", "application/ld+json"),
                                  ("GET 20 triples Turtle", "text/turtle")):
                results.append(run_wrk(label, "css", cres, script="accept.lua",
                                       env={"ACCEPT": accept}, **w))
            cbody = servers.tmp / "post-css.ttl"
            cbody.write_text(TURTLE_20.format(iri="", base=css))
            check_post(client, css, cbody.read_text(), "")
            results.append(run_wrk("POST validated", "css", css, script="post.lua",
                                   env={"BODY_FILE": str(cbody), "CONTENT_TYPE": "text/turtle",
                                        "TOKEN": ""}, **w))
            fill_container(client, f"{css}c1k/", 1_000, token=None,
                           body_for=lambda iri: ("text/turtle", TURTLE_20.format(iri=iri, base=css)))
            results.append(run_wrk("page of 1,000", "css", f"{css}c1k/", script="accept.lua",
                                   env={"ACCEPT": "text/turtle"}, **w))
    finally:
        servers.stop()
    report(results, args)
    return 0


def report(results: list[Result], args: argparse.Namespace) -> None:
    """Print the table with ratios against CSS and the bare ceiling, and save it as JSON."""
    by = {(r.name, r.server): r for r in results}
    bare = by.get(("bare 2 KB JSON", "bare"))
    print(f"\n{args.connections} connections, {args.duration} s each, one process per server\n")
    print(f"{'scenario':28} {'server':8} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'non2xx':>6}"
          f" {'sockerr':>7} {'vs CSS':>8} {'vs bare':>8}")
    for r in results:
        css = by.get((r.name, "css"))
        vs_css = f"{r.rps / css.rps:7.1f}x" if css and r.server == "ddsnode" and css.rps else ""
        vs_bare = f"{100 * r.rps / bare.rps:6.0f}%" if bare and r.server == "ddsnode" else ""
        print(f"{r.name:28} {r.server:8} {r.rps:10.0f} {r.p50_ms:8.2f} {r.p99_ms:8.2f}"
              f" {r.non_2xx:6d} {r.socket_errors:7d} {vs_css:>8} {vs_bare:>8}")
    for r in results:
        if r.statuses:
            counts = ", ".join(f"{code}: {n}" for code, n in sorted(r.statuses.items()))
            print(f"  {r.name} on {r.server}: responses by status {counts}")
    print(f"  sockerr: connect/read/write errors and responses slower than {TIMEOUT}")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(
        [{**r.__dict__, "errors": r.errors} for r in results], indent=1))


if __name__ == "__main__":
    sys.exit(main())

"""The cost of a trace on the demo, against a plain read, before and after (issue 10, item 12).

    .venv/bin/python bench/trace.py [--runs 20] [--before COMMIT]

Loads the demo (``ddsnode demo --no-serve``) into a temporary directory, then measures,
for the demo's proposal ``protected-bike-lanes``:

* in-process, warm (what ``GET /trace`` costs a running node): a plain read of the
  resource through the ASGI app; the walk of this checkout (one SPARQL query per
  level of the walk, off the event loop); and the walk of ``ddsnode/federation/trace.py`` as it
  was at ``--before`` (one query per resource), loaded from git into the same process
  over the same node, as the baseline of the same run;
* the whole command ``ddsnode trace DIR IRI`` (a new process: imports, opening the store,
  the SPARQL index worker), with the node stopped and with the node running (then the
  index is held by the node's worker; before, every hop tried to start a worker of its
  own, failed, and the chain lost every incoming link), for this checkout and for the
  tree at ``--before`` (``git archive``), on the same demo directory.

Prints a table: case, runs, median wall and CPU ms, ratio to the plain read, links found. A
script, never a test; well under two minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import httpx

from ddsnode.commands.peer import open_federation
from ddsnode.federation.trace import Tracer
from ddsnode.http.app import create_app

Row = tuple[str, int, float, float, Any]  # case, runs, wall ms, cpu ms, links
BEFORE = "693e005"  # the commit before the trace was batched per level (issue 10, item 12)
PATH = "proposals/protected-bike-lanes"


def demo(tmp: Path, port: int) -> Path:
    """A demo directory with the examples loaded (not serving)."""
    node_dir = tmp / "demo"
    subprocess.run([sys.executable, "-m", "ddsnode", "demo", str(node_dir), "--no-serve",
                    "--port", str(port)], check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return node_dir


def old_tracer(commit: str) -> type | None:
    """``Tracer`` of ``ddsnode/federation/trace.py`` at ``commit``, or None without git."""
    try:
        source = subprocess.run(["git", "show", f"{commit}:ddsnode/federation/trace.py"], cwd=ROOT,
                                check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    spec = importlib.util.spec_from_loader("trace_before", loader=None)
    assert spec is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    exec(compile(source, f"{commit}:ddsnode/federation/trace.py", "exec"), module.__dict__)  # noqa: S102
    return module.Tracer  # type: ignore[no-any-return]


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (commands, workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def median_ms(runs: int, once: Callable[[], Any]) -> tuple[float, float, Any]:
    """Median wall and CPU time of ``once()`` in ms over ``runs`` runs, and its last result.

    CPU time is the steadier figure on a shared machine: wall time counts the waits for
    a core; an index worker still running is not counted until it ends."""
    walls, cpus, result = [], [], None
    for _ in range(runs):
        start, cpu = time.perf_counter(), _cpu()
        result = once()
        walls.append((time.perf_counter() - start) * 1000)
        cpus.append((_cpu() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus), result


def in_process(node_dir: Path, runs: int, before: str) -> list[Row]:
    """Plain read, walk now, walk before: warm, in this process."""
    node, fed = open_federation(node_dir)
    iri = node.base + PATH
    app = create_app(node.settings, node=node)
    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
                               base_url=node.base)

    def run(coro: Awaitable[Any]) -> Any:
        return loop.run_until_complete(coro)

    async def read() -> int:
        r = await client.get("/" + PATH, headers={"Accept": "text/turtle"})
        assert r.status_code == 200, r.text
        return 0

    async def over_http() -> int:
        r = await client.get("/trace", params={"iri": iri})
        assert r.status_code == 200, r.text
        return len(r.json()["links"])

    rows: list[Row] = []
    try:
        run(Tracer(fed).walk(iri))  # warm: the index worker, the ontology, the caches
        rows.append(("plain read GET /" + PATH, runs, *median_ms(runs, lambda: run(read()))))
        rows.append(("GET /trace (now)", runs, *median_ms(runs, lambda: run(over_http()))))
        rows.append(("Tracer.walk (now)", runs, *median_ms(
            runs, lambda: len(run(Tracer(fed).walk(iri)).links))))
        old = old_tracer(before)
        if old is not None:
            rows.append((f"Tracer.walk (before, {before})", runs, *median_ms(
                runs, lambda: len(run(old(fed).walk(iri)).links))))
    finally:
        run(client.aclose())
        loop.close()
        node.close()
    return rows


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def before_tree(commit: str, tmp: Path) -> Path | None:
    """The source tree at ``commit`` (``git archive``), to run its CLI; None without git."""
    tree = tmp / "before"
    tree.mkdir()
    try:
        archive = subprocess.run(["git", "archive", commit], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return tree


def command(node_dir: Path, iri: str, runs: int, tree: Path = ROOT) -> tuple[float, float, int]:
    """Median wall and CPU ms of ``ddsnode trace DIR IRI`` (the code of ``tree``) and the
    links it printed. Bytecode is cached (in a temporary prefix, as an installed package
    has it) and one run warms it: PYTHONDONTWRITEBYTECODE would make every run compile
    every module again, which no user's install does."""
    env = {**os.environ, "PYTHONPATH": str(tree),
           "PYTHONPYCACHEPREFIX": str(node_dir.parent / "pycache" / tree.name)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)

    def once() -> int:
        out = subprocess.run([sys.executable, "-m", "ddsnode", "trace", str(node_dir), iri],
                             check=True, capture_output=True, text=True, cwd=tree,
                             env=env).stdout
        return sum(1 for line in out.splitlines() if line.count("\t") >= 3)
    once()
    return median_ms(runs, once)


def serving(node_dir: Path, port: int) -> subprocess.Popen[bytes]:
    """The demo node serving on ``port`` (its index worker started by one query)."""
    server = subprocess.Popen([sys.executable, "-m", "ddsnode", "serve", str(node_dir),
                               "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/sparql",
                         params={"query": "ASK { ?s ?p ?o }"}).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise SystemExit("the demo node did not start")


def main() -> None:
    """Run the cases and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=20, help="runs of each in-process case")
    parser.add_argument("--cli-runs", type=int, default=3, help="runs of each command case")
    parser.add_argument("--before", default=BEFORE, help="commit of the baseline trace.py")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        node_dir = demo(Path(tmp), port)
        rows = in_process(node_dir, args.runs, args.before)
        iri = f"http://127.0.0.1:{port}/{PATH}"
        old = before_tree(args.before, Path(tmp))
        trees = [("now", ROOT)] + ([(f"before, {args.before}", old)] if old else [])
        for label, tree in trees:
            rows.append((f"ddsnode trace, node stopped ({label})", args.cli_runs,
                         *command(node_dir, iri, args.cli_runs, tree)))
        server = serving(node_dir, port)
        try:
            for label, tree in trees:
                rows.append((f"ddsnode trace, node running ({label})", args.cli_runs,
                             *command(node_dir, iri, args.cli_runs, tree)))
        finally:
            server.terminate()
            server.wait(30)
    read_ms = rows[0][2]
    print(f"{'case':<50} {'runs':>5} {'wall ms':>9} {'cpu ms':>8} {'x read':>7} {'links':>6}")
    for case, runs, ms, cpu, links in rows:
        print(f"{case:<50} {runs:>5} {ms:>9.1f} {cpu:>8.1f} {ms / read_ms:>7.0f} {links:>6}")


if __name__ == "__main__":
    main()

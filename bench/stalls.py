"""Where a served node's latency tail comes from: ``ddsnode serve`` with instruments.

    .venv/bin/python bench/stalls.py DIR --port PORT --report FILE

Runs the node of ``DIR`` exactly as ``ddsnode serve`` does (``create_app``,
``server_config``, one uvicorn server), with instruments that live in this script only:

* **event-loop lag**: a task that sleeps 1 ms and records how late it wakes (the loop was
  busy, or could not get the GIL): the largest lag of each second and every lag over
  ``--stall-ms``;
* **stall stacks**: a watchdog thread that, when the loop has not ticked for ``--stall-ms``,
  samples the loop thread's Python stack (``sys._current_frames``), so a blocking call
  names itself; samples count by their innermost frames;
* **garbage collections**: ``gc.callbacks``, the time of each collection by generation;
* **handler time**: an ASGI wrapper timing the application from the call to the end of
  its response, and the protocol's time from a request's first byte read to its
  response's last byte written (the rest of a client's latency is the wait for the loop
  to read the socket, the kernel and the client);
* **thread-pool queueing**: the wait between handing a function to a worker thread
  (``asyncio.to_thread``, ``anyio.to_thread.run_sync``) and its start.

``kill -USR1`` writes what was recorded since the last report (JSON) to ``--report`` and
starts again; the benchmarks (``--stalls``) send it around every wrk scenario. A script,
never a test.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import json
import os
import signal
import sys
import threading
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

LAG_PERIOD = 0.001  # the monitor's sleep: a tick per loop iteration at most


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile of ``values`` (nearest rank), 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


class Instruments:
    """Everything recorded between two reports; thread-safe enough for counters."""

    def __init__(self, stall_ms: float) -> None:
        self.stall = stall_ms / 1000
        self.tick = time.perf_counter()
        self.main_thread = threading.get_ident()
        self.gc_started = 0.0
        self.gc_cpu_started = 0.0
        self.gc_generation = -1
        self.reset()

    def reset(self) -> None:
        """Start a new report."""
        self.since = time.perf_counter()
        self.skip = True  # the tick under way measured the report's own making
        self.lag_max_per_s: dict[int, float] = {}
        self.lags: list[float] = []
        # (at s, lag ms, during a gc, then of the stall's ms: on the CPU, waiting for a CPU,
        # neither)
        self.stalls: list[tuple[float, float, bool, float, float, float]] = []
        self.stacks: Counter[str] = Counter()
        self.gcs: list[tuple[int, float, int]] = []  # (generation, ms, collected)
        self.gc_cpu: list[float] = []  # CPU ms of each collection (wall may include waits)
        self.handler: list[float] = []
        self.served: list[float] = []  # first byte read -> response written, ms
        self.handler_by_path: dict[str, list[float]] = {}
        self.queue_wait: list[float] = []
        self.hops_by_name: Counter[str] = Counter()
        self.in_flight_max = 0
        self.in_flight = 0
        self.others: Counter[str] = Counter()  # other threads' frames during stalls
        self.cpu_at_start = thread_cpu()

    # -- the loop --------------------------------------------------------------------

    async def monitor(self) -> None:
        """Measure how late a 1 ms sleep wakes, for ever; split each stall into the loop
        thread's CPU time, its wait for a CPU (the kernel's run queue: the machine, not
        the node) and the rest (blocked: the GIL, a lock, I/O)."""
        sched = os.open("/proc/thread-self/schedstat", os.O_RDONLY)  # this thread's

        def run_queue() -> float:
            return int(os.pread(sched, 64, 0).split()[1]) / 1e9

        while True:
            start, cpu, waited = time.perf_counter(), time.thread_time(), run_queue()
            await asyncio.sleep(LAG_PERIOD)
            now = time.perf_counter()
            self.tick = now
            lag = now - start - LAG_PERIOD
            if self.skip:
                self.skip = False
                continue
            self.lags.append(lag * 1000)
            second = int(now - self.since)
            if lag * 1000 > self.lag_max_per_s.get(second, 0.0):
                self.lag_max_per_s[second] = lag * 1000
            if lag > self.stall:
                on_cpu = (time.thread_time() - cpu) * 1000
                queued = (run_queue() - waited) * 1000
                elapsed = (now - start) * 1000
                self.stalls.append((round(now - self.since, 3), round(lag * 1000, 1),
                                    self.gc_generation >= 0, round(on_cpu, 1),
                                    round(queued, 1), round(elapsed - on_cpu - queued, 1)))

    def watchdog(self) -> None:
        """A thread: sample the loop thread's stack while the loop is late."""
        sampled_tick = 0.0
        while True:
            time.sleep(0.002)
            tick = self.tick
            if time.perf_counter() - tick < self.stall or tick == sampled_tick:
                continue
            sampled_tick = tick  # one sample per stall
            frame = sys._current_frames().get(self.main_thread)
            if frame is None:
                continue
            where = traceback.extract_stack(frame)[-8:]
            key = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}"
                              for f in reversed(where))
            if self.gc_generation >= 0:
                key = f"[in gc gen {self.gc_generation}] " + key
            self.stacks[key] += 1
            names = {t.ident: t.name for t in threading.enumerate()}
            for ident, other in sys._current_frames().items():
                if ident in (self.main_thread, threading.get_ident()):
                    continue
                top = traceback.extract_stack(other)[-3:]
                self.others[names.get(ident, "?") + ": " + " <- ".join(
                    f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(top))] += 1

    # -- collections -------------------------------------------------------------------

    def on_gc(self, phase: str, info: dict[str, int]) -> None:
        """``gc.callbacks`` hook: time each collection."""
        if phase == "start":
            self.gc_started = time.perf_counter()
            self.gc_cpu_started = time.thread_time()  # the collecting thread's CPU
            self.gc_generation = info["generation"]
        else:
            self.gcs.append((info["generation"],
                             (time.perf_counter() - self.gc_started) * 1000,
                             info.get("collected", 0)))
            self.gc_cpu.append((time.thread_time() - self.gc_cpu_started) * 1000)
            self.gc_generation = -1

    # -- the application and the thread pool ------------------------------------------------

    def wrap_app(self, app: Any) -> Any:
        """An ASGI wrapper timing ``app`` per request."""

        async def timed(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            start = time.perf_counter()
            self.in_flight += 1
            self.in_flight_max = max(self.in_flight_max, self.in_flight)
            try:
                await app(scope, receive, send)
            finally:
                self.in_flight -= 1
                ms = (time.perf_counter() - start) * 1000
                self.handler.append(ms)
                key = scope["path"].split("/")[1] if "/" in scope["path"] else ""
                self.handler_by_path.setdefault(key, []).append(ms)

        for name in ("node", "assembly"):
            if hasattr(app, name):
                setattr(timed, name, getattr(app, name))
        return timed

    def queued(self, fn: Any) -> Any:
        """``fn`` recording the wait between its submission and its start."""
        submitted = time.perf_counter()
        self.hops_by_name[getattr(fn, "__qualname__", type(fn).__name__)] += 1

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            self.queue_wait.append((time.perf_counter() - submitted) * 1000)
            return fn(*args, **kwargs)
        return run

    def patch_thread_hops(self) -> None:
        """Time every hop to a worker thread (both ways the node makes one)."""
        import anyio.to_thread
        from anyio._backends import _asyncio as anyio_asyncio

        original_anyio = anyio.to_thread.run_sync

        async def anyio_run_sync(func: Any, *args: Any, **kwargs: Any) -> Any:
            return await original_anyio(self.queued(func), *args, **kwargs)

        anyio.to_thread.run_sync = anyio_run_sync  # type: ignore[assignment]
        del anyio_asyncio
        # uvloop's loop is no asyncio.BaseEventLoop: asyncio.to_thread itself is wrapped
        # (the node calls it as ``asyncio.to_thread``, looked up at each call).
        original_to_thread = asyncio.to_thread

        async def to_thread(func: Any, /, *args: Any, **kwargs: Any) -> Any:
            return await original_to_thread(self.queued(func), *args, **kwargs)

        asyncio.to_thread = to_thread

    # -- the report --------------------------------------------------------------------------

    def report(self) -> dict[str, Any]:
        """What was recorded since the last report."""
        gen: dict[str, dict[str, float]] = {}
        for g in (0, 1, 2):
            times = [ms for gg, ms, _ in self.gcs if gg == g]
            gen[str(g)] = {"count": len(times), "total_ms": round(sum(times), 1),
                           "max_ms": round(max(times, default=0.0), 1),
                           "p99_ms": round(percentile(times, 99), 2),
                           "cpu_max_ms": round(max((c for (gg, _, _), c in zip(
                               self.gcs, self.gc_cpu, strict=False) if gg == g),
                               default=0.0), 1)}
        return {
            "seconds": round(time.perf_counter() - self.since, 1),
            "requests": len(self.handler),
            "handler_ms": {f"p{p}": round(percentile(self.handler, p), 2) for p in (50, 95, 99, 99.9)}
            | {"max": round(max(self.handler, default=0.0), 1)},
            "served_ms": {f"p{p}": round(percentile(self.served, p), 2)
                          for p in (50, 95, 99, 99.9)} | {"max": round(max(self.served,
                                                                            default=0.0), 1)},
            "handler_by_path": {k: {"n": len(v), "p99": round(percentile(v, 99), 2),
                                    "max": round(max(v), 1)}
                                for k, v in self.handler_by_path.items()},
            "in_flight_max": self.in_flight_max,
            "loop_lag_ms": {f"p{p}": round(percentile(self.lags, p), 2) for p in (50, 99, 99.9)}
            | {"max": round(max(self.lags, default=0.0), 1), "ticks": len(self.lags)},
            "lag_max_per_second": [round(self.lag_max_per_s.get(s, 0.0), 1)
                                   for s in range(int(time.perf_counter() - self.since) + 1)],
            "stalls": self.stalls[:200],
            "stall_count": len(self.stalls),
            "stall_ms_split": {"total": round(sum(x[1] for x in self.stalls), 1),
                               "on_cpu": round(sum(x[3] for x in self.stalls), 1),
                               "run_queue": round(sum(x[4] for x in self.stalls), 1),
                               "blocked": round(sum(x[5] for x in self.stalls), 1)},
            "stall_stacks": self.stacks.most_common(12),
            "other_threads_in_stalls": self.others.most_common(12),
            "thread_cpu_s": {k: round(v - self.cpu_at_start.get(k, 0.0), 2)
                             for k, v in thread_cpu().items()
                             if v - self.cpu_at_start.get(k, 0.0) > 0.005},
            "gc": gen,
            "tracked_objects": len(gc.get_objects()),
            "frozen_objects": gc.get_freeze_count(),
            "tracked_by_type": Counter(type(o).__name__ for o in gc.get_objects()).most_common(8),
            "thread_queue_ms": {"n": len(self.queue_wait)} | {
                f"p{p}": round(percentile(self.queue_wait, p), 2) for p in (50, 99)}
            | {"max": round(max(self.queue_wait, default=0.0), 1),
               "by_function": self.hops_by_name.most_common(6)},
        }


def thread_cpu() -> dict[str, float]:
    """CPU seconds (user + system) of each thread of this process, by Python name."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(int(task.name)) or (task / "comm").read_text().strip()
        key = f"{name} ({task.name})"
        out[key] = (int(fields[11]) + int(fields[12])) / tick
    return out


def main() -> int:
    """Serve ``DIR`` instrumented until SIGTERM/SIGINT."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--report", type=Path, required=True)
    ap.add_argument("--stall-ms", type=float, default=20.0)
    args = ap.parse_args()
    import uvicorn

    from ddsnode.http.app import create_app
    from ddsnode.http.server import server_config
    from ddsnode.settings import Settings

    settings = Settings.load(args.dir, overrides={"port": args.port})
    instruments = Instruments(args.stall_ms)
    instruments.patch_thread_hops()
    gc.callbacks.append(instruments.on_gc)
    app = instruments.wrap_app(create_app(settings))
    config = server_config(app, settings)
    protocol: Any = config.http

    class TimedProtocol(protocol):  # type: ignore[misc, valid-type]
        """Times each request from its first byte read to its last byte written."""

        def on_message_begin(self) -> None:
            self._begun = time.perf_counter()
            super().on_message_begin()

        def on_response_complete(self) -> None:
            instruments.served.append((time.perf_counter() - self._begun) * 1000)
            super().on_response_complete()

    config.http = TimedProtocol
    server = uvicorn.Server(config)

    def dump(*_: Any) -> None:
        args.report.write_text(json.dumps(instruments.report()))
        instruments.reset()

    signal.signal(signal.SIGUSR1, dump)
    threading.Thread(target=instruments.watchdog, daemon=True).start()
    original_startup = server.startup

    async def startup(sockets: Any = None) -> None:
        asyncio.get_running_loop().create_task(instruments.monitor())
        await original_startup(sockets)

    server.startup = startup  # type: ignore[method-assign]
    server.run()
    return 0


def request_report(pid: int, report: Path, timeout: float = 10.0) -> dict[str, Any]:
    """Ask the instrumented server ``pid`` for its report (and a fresh start)."""
    report.unlink(missing_ok=True)
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if report.exists():
            try:
                return dict(json.loads(report.read_text()))
            except json.JSONDecodeError:
                pass  # still being written
        time.sleep(0.05)
    raise RuntimeError("the instrumented server wrote no report")


def print_report(name: str, r: dict[str, Any]) -> None:
    """A few lines of one scenario's instruments."""
    h, lag, g, sv = r["handler_ms"], r["loop_lag_ms"], r["gc"], r["served_ms"]
    print(f"  [{name}] {r['requests']} requests in {r['seconds']} s; handler ms p50 "
          f"{h['p50']:.2f} p99 {h['p99']:.2f} p99.9 {h['p99.9']:.2f} max {h['max']:.1f}; "
          f"in flight max {r['in_flight_max']}")
    print(f"  first byte read -> response written, ms: p50 {sv['p50']:.2f} p95 {sv['p95']:.2f} "
          f"p99 {sv['p99']:.2f} p99.9 {sv['p99.9']:.2f} max {sv['max']:.1f}")
    print(f"  loop lag ms p50 {lag['p50']:.2f} p99 {lag['p99']:.2f} max {lag['max']:.1f} "
          f"({lag['ticks']} ticks); stalls > threshold: {r['stall_count']}; "
          f"max lag per second: {r['lag_max_per_second']}")
    split = r["stall_ms_split"]
    print(f"  stalls' time {split['total']} ms: loop thread on a CPU {split['on_cpu']} ms, "
          f"waiting for a CPU {split['run_queue']} ms, blocked {split['blocked']} ms")
    print("  gc: " + "; ".join(f"gen {k}: {v['count']} x, total {v['total_ms']} ms, max "
                               f"{v['max_ms']} ms (CPU {v['cpu_max_ms']} ms)"
                               for k, v in g.items()))
    print(f"  tracked objects (what a full collection walks): {r['tracked_objects']:,}, "
          f"frozen: {r['frozen_objects']:,}; most: {r['tracked_by_type']}")
    q = r["thread_queue_ms"]
    print(f"  thread hops: {q['n']}, wait p50 {q['p50']} p99 {q['p99']} max {q['max']} ms; "
          f"{q['by_function']}")
    print(f"  thread CPU s: {r['thread_cpu_s']}")
    for stack, n in r["stall_stacks"][:5]:
        print(f"    {n:4} x {stack[:300]}")
    for stack, n in r["other_threads_in_stalls"][:6]:
        print(f"    other {n:4} x {stack[:200]}")


if __name__ == "__main__":
    sys.exit(main())

"""The background analysis of ``ddsnode serve``: a run at most every N minutes, when
contributions changed (issue 13, ``docs/analysis.md``, "In the background").

What it costs is bounded and cancellable because the run is a **child process**
(``ddsnode.analysis.child``: what ``ddsnode analyse DIR`` runs):

- the server's event loop and GIL are never held by TF-IDF or NMF, so pages keep being
  served while a run goes on; the child runs at a lower priority (``nice`` +10) with one
  BLAS thread;
- ``analysis_max_seconds`` bounds its time (it is killed, and its transaction never
  commits: the previous run's outputs stay), ``analysis_max_memory_mb`` its address space
  (``RLIMIT_AS``: past it, allocations fail and the run ends in error, not the server);
- stopping the server kills a run in progress.

Which process runs it: the one holding ``DIR/analysis/schedule.lock`` (an ``flock``,
released when the process dies, so another worker takes over). The store's loop lease
(``ddsnode.store.lease``) is not reused: it is one claim per node that the federation's
loops already hold, and on PostgreSQL a second claim from the same process is a second
session that would never get it. Two runs never overlap anyway (``run.lock``, ``run.py``).

When: the store's change log is watched for creations, changes and deletions in the
``proposals/`` and ``comments/`` containers (the analysis's own writes in ``analysis/``
do not count, or each run would call the next). The sequence number a run started from is
kept in ``DIR/analysis/schedule.json``, so a restart does not rerun on unchanged data.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ddsnode.analysis.state import DIRECTORY
from ddsnode.ldp.node import Node

log = logging.getLogger(__name__)
WATCHED = ("proposals/", "comments/")
_PAGE = 1000


@dataclass
class Outcome:
    """How the latest background run ended (for the log and tests)."""

    status: str  # "done", "failed", "timed out", "cancelled"
    seconds: float
    detail: str = ""


def due(last_run: float | None, now: float, changed: bool, every_seconds: float) -> bool:
    """Whether a run should start: contributions changed, and the previous run started at
    least ``every_seconds`` ago (or there was none)."""
    return changed and (last_run is None or now - last_run >= every_seconds)


class Schedule:
    """The background analysis of the node served by this process."""

    def __init__(self, node: Node) -> None:
        if node.settings.node_dir is None:
            raise ValueError("the background analysis needs a node directory")
        self.node = node
        self.node_dir: Path = node.settings.node_dir
        self.folder = self.node_dir / DIRECTORY
        self.every_seconds = float(node.settings.analysis_every_minutes) * 60
        self.max_seconds = float(node.settings.analysis_max_seconds)
        self.max_memory = int(node.settings.analysis_max_memory_mb) * 1024 * 1024
        self.outcomes: list[Outcome] = []
        self.running = False  # a child process is analysing now
        self._task: asyncio.Task[None] | None = None
        self._lock_fd: int | None = None

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start the loop (nothing when ``analysis_every_minutes`` is 0)."""
        if self.every_seconds > 0 and self._task is None:
            from ddsnode.analysis.embeddings import status
            log.info("analysis: every %g minutes; %s", self.every_seconds / 60,
                     status(self.node.settings))
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        """Stop the loop; a run in progress is killed (its writes never commit)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing releases the flock
            self._lock_fd = None

    # --- the loop ----------------------------------------------------------------------

    async def _hold(self) -> None:
        """Wait until this process holds ``schedule.lock`` (one scheduler per node)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(self.folder / "schedule.lock", os.O_RDWR | os.O_CREAT, 0o600)
        while True:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                await asyncio.sleep(min(5.0, self.every_seconds))

    async def _loop(self) -> None:
        await self._hold()
        tick = min(5.0, self.every_seconds)
        seen = self._seen()
        last_run: float | None = None
        while True:
            try:
                latest, changed = await asyncio.to_thread(self.changes_after, seen)
                now = time.monotonic()
                if due(last_run, now, changed, self.every_seconds):
                    last_run = now
                    outcome = await self.run_once()
                    if outcome.status == "done":
                        seen = latest
                        self._remember(seen)
                elif not changed:
                    seen = latest  # only the analysis's own writes (or none): skip them
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - logged; the next tick tries again
                log.exception("analysis: the background schedule failed")
            await asyncio.sleep(tick)

    def changes_after(self, seq: int) -> tuple[int, bool]:
        """(latest change, whether a watched container changed) after ``seq`` (blocking)."""
        watched = tuple(self.node.base + c for c in WATCHED)
        changed = False
        while True:
            page = self.node.store.changes(after=seq, limit=_PAGE)
            if not page:
                return seq, changed
            changed = changed or any(c.container in watched or c.iri.startswith(watched)
                                     for c in page)
            seq = page[-1].seq

    async def run_once(self) -> Outcome:
        """One run in a child process, within the time and memory bounds."""
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ddsnode.analysis.child", str(self.node_dir),
            str(self.max_memory), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
        self.running = True
        try:
            _, err = await asyncio.wait_for(process.communicate(), self.max_seconds)
        except TimeoutError:
            await _kill(process)
            outcome = Outcome("timed out", time.monotonic() - started,
                              f"killed after analysis_max_seconds ({self.max_seconds:g} s)")
        except asyncio.CancelledError:
            await _kill(process)
            self.outcomes.append(Outcome("cancelled", time.monotonic() - started))
            raise
        else:
            text = err.decode("utf-8", "replace").strip().splitlines()
            status = "done" if process.returncode == 0 else "failed"
            outcome = Outcome(status, time.monotonic() - started,
                              text[-1][:500] if text and status == "failed" else "")
        finally:
            self.running = False
        self.outcomes.append(outcome)
        log_at = log.info if outcome.status == "done" else log.warning
        log_at("analysis: background run %s in %.1f s %s", outcome.status, outcome.seconds,
               outcome.detail)
        return outcome

    def _seen(self) -> int:
        try:
            return int(json.loads((self.folder / "schedule.json").read_text())["seq"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0

    def _remember(self, seq: int) -> None:
        path = self.folder / "schedule.json"
        path.with_suffix(".tmp").write_text(json.dumps({"seq": seq}))
        path.with_suffix(".tmp").replace(path)


async def _kill(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    await process.wait()

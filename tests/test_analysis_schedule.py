"""The background analysis of ``ddsnode serve`` (issue 13): a run when contributions
changed, at most every ``analysis_every_minutes``, in a child process bounded in time and
memory, owned by one process of the node.

The node is served in-process; the run is the real child process (``ddsnode.analysis.child``)
writing through the node's store. Waits poll with a generous deadline (no timing threshold).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ddsnode.analysis.run import analyse
from ddsnode.analysis.schedule import Schedule, due
from ddsnode.ldp.node import Node
from ddsnode.settings import Settings
from tests.support.analysis_corpus import PROPOSALS, proposal_doc
from tests.support.inprocess import LocalNode, local_node

DEADLINE = 120.0


def schedule_of(node: LocalNode) -> Schedule:
    schedule = node.app.assembly.analysis  # type: ignore[attr-defined]
    assert isinstance(schedule, Schedule)
    return schedule


def wait_for(condition: Callable[[], Any]) -> Any:
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("not reached within the deadline")


def put_proposals(node: LocalNode, http: Any, slugs: list[str]) -> None:
    for slug in slugs:
        doc = proposal_doc(slug, PROPOSALS[slug], node.base)
        r = http.put(doc["id"], content=json.dumps(doc), headers={
            **node.auth(), "Content-Type": "application/ld+json"})
        assert r.status_code in (201, 204), r.text


def runs(http: Any) -> set[str]:
    listing = http.get("/analysis/?type=dds:AnalysisRun", headers={"Accept": "application/ld+json"})
    assert listing.status_code == 200, listing.text
    return {m for m in listing.text.split('"') if "/analysis/run-" in m}


def test_due_only_when_contributions_changed_and_the_interval_passed() -> None:
    assert due(None, 0.0, True, 60.0)
    assert not due(None, 0.0, False, 60.0)
    assert not due(100.0, 130.0, True, 60.0)
    assert due(100.0, 160.0, True, 60.0)
    assert not due(100.0, 1000.0, False, 60.0)


def test_off_by_default(tmp_path: Path) -> None:
    with local_node(tmp_path) as node, node.client() as http:
        put_proposals(node, http, sorted(PROPOSALS)[:3])
        schedule = schedule_of(node)
        assert schedule.every_seconds == 0 and schedule._task is None
        assert not (node.dir / "analysis" / "schedule.lock").exists()


@pytest.mark.slow  # the scheduler's analysis processes, run and killed at their limits
def test_runs_when_contributions_change_and_not_on_its_own_writes(tmp_path: Path) -> None:
    slugs = sorted(PROPOSALS)
    with local_node(tmp_path, settings={"analysis_every_minutes": 0.002}) as node, \
            node.client() as http:
        schedule = schedule_of(node)
        put_proposals(node, http, slugs[:-1])
        state = node.dir / "analysis" / "schedule.json"

        def caught_up() -> int:
            # The scheduler has analysed every contribution written so far.
            if not state.exists():
                return 0
            seq = int(json.loads(state.read_text())["seq"])
            return seq if not schedule.changes_after(seq)[1] else 0
        seq = wait_for(caught_up)
        assert schedule.outcomes and all(o.status == "done" for o in schedule.outcomes)
        # What came after the run it recorded are the run's own writes, in analysis/:
        # they are not a reason for another run.
        after = schedule.node.store.changes(after=seq, limit=1000)
        assert after and all("/analysis/" in c.iri for c in after)
        done = len(schedule.outcomes)
        put_proposals(node, http, slugs[-1:])  # a new contribution: a new run
        assert schedule.changes_after(seq)[1] is True
        wait_for(lambda: len(schedule.outcomes) > done)
        assert schedule.outcomes[-1].status == "done", schedule.outcomes
        assert len(runs(http)) == len(schedule.outcomes)


@pytest.mark.slow  # the scheduler's analysis processes, run and killed at their limits
def test_a_run_past_its_time_is_killed_and_writes_nothing(tmp_path: Path) -> None:
    settings = {"analysis_every_minutes": 0.002, "analysis_max_seconds": 0.05}
    with local_node(tmp_path, settings=settings) as node, node.client() as http:
        schedule = schedule_of(node)
        put_proposals(node, http, sorted(PROPOSALS))
        wait_for(lambda: schedule.outcomes)
        assert schedule.outcomes[0].status == "timed out"
        assert "analysis_max_seconds" in schedule.outcomes[0].detail
        assert runs(http) == set()
        assert not (node.dir / "analysis" / "schedule.json").exists()  # it will try again


@pytest.mark.slow  # the scheduler's analysis processes, run and killed at their limits
def test_a_run_past_its_memory_fails_and_the_server_stays(tmp_path: Path) -> None:
    settings = {"analysis_every_minutes": 0.002, "analysis_max_memory_mb": 32}
    with local_node(tmp_path, settings=settings) as node, node.client() as http:
        schedule = schedule_of(node)
        put_proposals(node, http, sorted(PROPOSALS))
        wait_for(lambda: schedule.outcomes)
        assert schedule.outcomes[0].status == "failed", schedule.outcomes
        assert runs(http) == set()
        assert http.get("/proposals/", headers={"Accept": "application/ld+json"}).status_code == 200


@pytest.mark.slow  # the scheduler's analysis processes, run and killed at their limits
def test_one_scheduler_per_node_directory(tmp_path: Path) -> None:
    settings = {"analysis_every_minutes": 0.002}
    with local_node(tmp_path, settings=settings) as node, node.client() as http:
        schedule = schedule_of(node)
        wait_for(lambda: schedule._lock_fd is not None)
        # Another process (another worker) cannot take the lock while this one holds it.
        fd = os.open(node.dir / "analysis" / "schedule.lock", os.O_RDWR)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                raise AssertionError("the scheduler's lock was free")
            except BlockingIOError:
                pass
        finally:
            os.close(fd)
        put_proposals(node, http, sorted(PROPOSALS)[:2])


@pytest.mark.slow  # the scheduler's analysis processes, run and killed at their limits
def test_stopping_the_server_kills_a_run_in_progress(tmp_path: Path) -> None:
    settings = {"analysis_every_minutes": 0.002}
    with local_node(tmp_path, settings=settings) as node, node.client() as http:
        schedule = schedule_of(node)
        put_proposals(node, http, sorted(PROPOSALS))
        wait_for(lambda: schedule.running)
    assert schedule.outcomes and schedule.outcomes[-1].status == "cancelled", schedule.outcomes
    assert not schedule.running and schedule._task is None
    # The killed run committed nothing: no run resource, and the lock is free again.
    node_handle = Node.open(Settings.load(node.dir))
    try:
        assert node_handle.store.children(node.base + "analysis/", limit=10).items == []
    finally:
        node_handle.close()
    assert analyse(Settings.load(node.dir), node.dir).contributions == len(PROPOSALS)

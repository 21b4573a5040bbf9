"""The intake starts with the server, in the background: while it reads the stations and
replays its log, a tally is answered 503 at once (problem+json, Retry-After), nothing is
logged and the key stays free; then the same tally counts. Stopping the node while the
start runs ends the start's thread before the store and the log close.

The start is held where a big election holds it (the desk's lock, taken by the start
for its whole duration), so the test does not depend on how fast the machine is.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from ddsnode.http.app import create_app
from ddsnode.intake.desk import Desk
from ddsnode.intake.log import verify
from ddsnode.settings import Settings
from tests.support.inprocess import LocalNode, _LoopTransport, local_node, running
from tests.test_intake import COUNCIL, ELECTION, load_election, post, tally


@pytest.fixture(scope="module")
def node_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalNode, Path]]:
    """A node directory with the example election, its server stopped."""
    with local_node(tmp_path_factory.mktemp("start")) as node:
        with node.client() as http:
            load_election(node, http)
    yield node, node.dir


@contextmanager
def _serving(node_dir: Path, base: str, held: bool) -> Iterator[tuple[httpx.Client, Desk]]:
    """The node's app started again (a restart), its intake's start held while ``held``."""
    app = create_app(Settings.load(node_dir))
    desk = app.assembly.intake  # type: ignore[attr-defined]
    assert isinstance(desk, Desk)
    if held:
        desk._lock.acquire()  # the start waits here, as behind a big geography

    def release() -> None:  # before the stop, which waits for the start's thread
        if held and desk._lock._is_owned():  # type: ignore[attr-defined]
            desk._lock.release()

    try:
        with running(app) as loop:
            try:
                with httpx.Client(transport=_LoopTransport(app, loop), base_url=base,
                                  timeout=30) as http:
                    yield http, desk
            finally:
                release()
    finally:
        release()  # the start failed before the body ran


def test_tallies_get_503_while_the_intake_starts_then_count(
        node_dir: tuple[LocalNode, Path]) -> None:
    node, path = node_dir
    body = tally(node, "bureau-101", 300, 200, 100)
    with _serving(path, node.base, held=True) as (http, desk):
        r = post(node, http, body, "first-key")
        assert r.status_code == 503, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["retry-after"] == "2"
        assert r.json()["status"] == 503 and "starting" in r.json()["detail"]
        busy = http.get("/intake/totals", params={"election": node.url(ELECTION)})
        assert busy.status_code == 503 and busy.headers["retry-after"] == "2"
        log = http.get("/intake/log").json()
        assert log["events"] == []  # a 503 is no event: the log is the start's to read
        assert desk.opening is not None and not desk.opening.ready
        desk._lock.release()
        deadline = time.monotonic() + 60
        while r.status_code == 503 and time.monotonic() < deadline:
            time.sleep(float(r.headers["retry-after"]) / 20)
            r = post(node, http, body, "first-key")  # the same key: it was never taken
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "counted" and r.json()["event"] == 1
        city = next(x for x in http.get("/intake/totals", params={
            "election": node.url(ELECTION)}).json()["results"]
            if x["unit"] == node.url("places/rivemont") and x["contest"] == node.url(COUNCIL))
        assert city["stations_reported"] == 1
    assert verify(path) == (1, [])


def test_stopping_while_the_intake_starts_ends_its_thread_first(
        node_dir: tuple[LocalNode, Path]) -> None:
    node, path = node_dir
    with _serving(path, node.base, held=True) as (http, desk):
        assert desk.opening is not None
        thread = desk.opening._thread
        assert thread is not None and thread.is_alive()
        r = post(node, http, tally(node, "bureau-104", 30, 20, 10), "k-104")
        assert r.status_code == 503
        desk._lock.release()  # the start goes on, and the node stops at once
    # The lifespan's stop joined the start's thread before closing the store and log:
    # the start either finished or stopped at a checkpoint, never ran on a closed store.
    assert not thread.is_alive()
    assert verify(path)[1] == []


def test_a_command_using_the_desk_starts_it_on_first_use(
        node_dir: tuple[LocalNode, Path]) -> None:
    """Without a server (``ddsnode`` commands, scripts), the desk starts when first used:
    no thread, no 503."""
    from ddsnode.assembly import assemble

    node, path = node_dir
    a = assemble(Settings.load(path))
    try:
        assert a.intake is not None and a.intake.opening is None
        assert node.url(ELECTION) in a.intake.elections()
    finally:
        a.close()

"""What a supervisor settles: double entries that differ, tallies refused for a counted
station (``Desk.review``, ``intake/review.py``), and a correction that settles each.

Through the API (``POST /intake/tallies``) on an in-process node with the example
election, double entry on; the queue is read from the desk itself, as the supervisor's
page reads it. The problem documents the API answers are those of before: the refusal
classes of ``intake/refusals.py`` only name the reason for the pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ddsnode.intake.desk import Desk
from ddsnode.intake.refusals import AlreadyCounted, NeedsReview, details
from ddsnode.intake.review import differing, figures_of, submission_body
from ddsnode.intake.submission import Submission
from ddsnode.intake.tally import Tally
from ddsnode.ldp.tokens import TokenRegistry
from ddsnode.problem import BadRequest
from tests.support.inprocess import LocalNode, local_node
from tests.test_intake import COUNCIL, events, load_election, post, tally

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture
def node(tmp_path: Path) -> Iterator[LocalNode]:
    with local_node(tmp_path, settings={"intake_double_entry": "*"}) as running:
        with running.client() as http:
            load_election(running, http)
        yield running


def desk_of(node: LocalNode) -> Desk:
    desk = node.app.assembly.intake  # type: ignore[attr-defined]
    assert isinstance(desk, Desk)
    return desk


def test_entries_that_differ_wait_for_a_supervisor_who_settles_them(node: LocalNode) -> None:
    registry = TokenRegistry(node.dir)
    second = registry.create(["write"], label="clerk 2")
    review = registry.create(["write", "review"], label="supervisor")
    right, wrong = tally(node, "bureau-101", 5, 3, 2), tally(node, "bureau-101", 5, 8, 2)
    with node.client() as http:
        a = post(node, http, right, "a")
        b = post(node, http, wrong, "b", token=second)
        assert (a.status_code, b.json()["status"]) == (202, "mismatch")
        queue = desk_of(node).review(100)
        assert queue.more == 0 and queue.corrections == ()
        [item] = queue.mismatches
        assert (item.contest, item.unit) == (node.url(COUNCIL), node.url("places/bureau-101"))
        assert [e.event for e in item.entries] == [a.json()["event"], b.json()["event"]]
        assert item.entries[0].subject != item.entries[1].subject
        assert differing([e.tally for e in item.entries]) == {node.url(COUNCIL) + "#list-ar",
                                                               "cast"}
        # A correction settles it: the supervisor's numbers count, with the reason.
        assert post(node, http, right, "c", Correction_Reason="recount").status_code == 403
        settled = post(node, http, right, "d", token=review, Correction_Reason="sheet re-read",
                       Revises=str(a.json()["event"]))
        assert settled.status_code == 201, settled.text
        assert settled.json()["status"] == "counted" and settled.json()["sequence"] == 1
        logged = events(http)[-1]
        assert logged["details"]["entries"] == [a.json()["event"]]
        assert logged["details"]["reason"] == "sheet re-read"
        stored = http.get(settled.headers["location"],
                          headers={"Accept": "application/ld+json"}).json()
        assert stored["resultsStatus"] == "unofficialComplete"  # a first count, not a revision
    assert desk_of(node).review(100).mismatches == ()


def test_a_correction_of_nothing_and_a_stale_entry_are_still_refused(node: LocalNode) -> None:
    review = TokenRegistry(node.dir).create(["write", "review"], label="supervisor")
    with node.client() as http:
        nothing = post(node, http, tally(node, "bureau-104", 1, 2, 3), "x", token=review,
                       Correction_Reason="why")
        assert nothing.status_code == 409 and "nothing to correct" in nothing.json()["detail"]
        post(node, http, tally(node, "bureau-104", 1, 2, 3), "y")  # one entry: no mismatch
        again = post(node, http, tally(node, "bureau-104", 1, 2, 3), "z", token=review,
                     Correction_Reason="why")
        assert again.status_code == 409 and again.json()["type"].endswith("/conflict")


def test_tallies_refused_for_a_counted_station_wait_until_a_correction(
        node: LocalNode) -> None:
    registry = TokenRegistry(node.dir)
    second = registry.create(["write"], label="clerk 2")
    review = registry.create(["write", "review"], label="supervisor")
    first, other = tally(node, "bureau-201", 7, 8, 9), tally(node, "bureau-201", 7, 8, 19)
    with node.client() as http:
        post(node, http, first, "p")
        counted = post(node, http, first, "q", token=second)
        assert counted.status_code == 201
        late = post(node, http, other, "r")  # no reason: already counted
        assert late.status_code == 409 and late.json()["title"] == "Conflict"
        assert set(late.json()) == {"type", "title", "status", "detail", "instance",
                                    "current"}
        scoped = post(node, http, other, "s", token=second, Correction_Reason="PV p.2")
        assert scoped.status_code == 403 and scoped.json()["type"].endswith("/forbidden")
        refused = [e for e in events(http) if e["kind"] == "tally-refused"]
        assert [e["details"].get("reason") for e in refused[-2:]] == [None, "PV p.2"]
        [item] = desk_of(node).review(100).corrections  # the same numbers twice: one item
        assert item.current == counted.json()["event"] and item.counted is not None
        assert item.counted.event == item.current and item.proposed.reason == "PV p.2"
        assert differing([item.counted.tally, item.proposed.tally]) == {
            node.url(COUNCIL) + "#list-res", "cast"}
        fixed = post(node, http, submission_body(item.proposed.tally), "t", token=review,
                     Correction_Reason=item.proposed.reason, Revises=str(item.current))
        assert fixed.status_code == 201 and fixed.json()["status"] == "corrected"
    assert desk_of(node).review(100).corrections == ()


def test_the_queue_is_bounded_and_says_how_many_more(node: LocalNode) -> None:
    second = TokenRegistry(node.dir).create(["write"], label="clerk 2")
    with node.client() as http:
        for i, station in enumerate(("bureau-101", "bureau-104", "bureau-201")):
            post(node, http, tally(node, station, 1, 2, 3), f"a{i}")
            post(node, http, tally(node, station, 1, 2, 4), f"b{i}", token=second)
    queue = desk_of(node).review(2)
    assert [m.unit.rsplit("/", 1)[-1] for m in queue.mismatches] == ["bureau-101",
                                                                     "bureau-104"]
    assert queue.more == 1 and len(desk_of(node).review(10).mismatches) == 3


def test_what_the_log_keeps_of_a_refusal() -> None:
    t = Tally("https://n.example/c", "https://n.example/s",
              (("https://n.example/c#a", "total", 4),), cast=4)
    sub = Submission(b"{}", "application/ld+json", "k", "tok-1", frozenset({"write"}),
                     reason="misread")
    kept = details(sub, "ab" * 32, NeedsReview("needs review"), t)
    assert kept["tally"] == t.to_json() and kept["reason"] == "misread"
    assert kept["status"] == 403 and kept["problem"] == "forbidden"
    assert "tally" not in details(sub, "ab" * 32, BadRequest("bad"), t)  # not for review
    assert AlreadyCounted("x").type.endswith("/conflict")  # the API's problem type, unchanged
    assert figures_of(t) == {"https://n.example/c#a": 4, "cast": 4, "blank": None,
                             "invalid": None, "registered": None}
    assert b'"countType":"total"' in submission_body(t)

"""The outbox: durable, idempotent delivery with backoff, Retry-After, breaker, dead letters.

The peer here misbehaves in ways a real node will not (503 with Retry-After, 500 forever,
410), so it is an ``httpx.MockTransport`` behind the real outbound client.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from ddsnode.federation.database import FederationDB
from ddsnode.federation.outbox import Outbox
from tests.support.mock_peer import mock_client

INBOX = "http://peer.test/inbox"


def _outbox(tmp_path: Path, answer: Callable[[httpx.Request], httpx.Response],
            **policy: float) -> tuple[Outbox, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    return Outbox(FederationDB(tmp_path), mock_client(answer, seen),
                  **policy), seen  # type: ignore[arg-type]


def _activity(n: int = 1) -> dict[str, object]:
    return {"id": f"http://us.test/feed#change-{n}", "type": "Update",
            "actor": "http://us.test/", "object": {"id": f"http://us.test/proposals/{n}"}}


def test_an_activity_is_queued_once_per_inbox_and_delivered(tmp_path: Path) -> None:
    outbox, seen = _outbox(tmp_path, lambda r: httpx.Response(202))
    assert outbox.enqueue(_activity(), [INBOX, INBOX]) == 1
    assert outbox.enqueue(_activity(), [INBOX]) == 0  # idempotent on (activity id, inbox)
    assert asyncio.run(outbox.deliver_due()) == 1
    assert [r.method for r in seen] == ["POST"]
    assert seen[0].headers["content-type"] == "application/ld+json"
    assert [d.state for d in outbox.letters("delivered")] == ["delivered"]
    assert outbox.inboxes_notified_about("http://us.test/proposals/1") == [INBOX]


def test_retry_after_is_honoured(tmp_path: Path) -> None:
    outbox, _ = _outbox(tmp_path, lambda r: httpx.Response(503, headers={"Retry-After": "120"}))
    outbox.enqueue(_activity(), [INBOX])
    before = time.time()
    asyncio.run(outbox.deliver_due())
    (letter,) = outbox.letters("pending")
    assert letter.attempts == 1 and "503" in letter.last_error
    assert letter.next_attempt_at >= before + 119
    assert asyncio.run(outbox.deliver_due()) == 0  # not due yet


def test_failures_back_off_then_become_dead_letters(tmp_path: Path) -> None:
    outbox, seen = _outbox(tmp_path, lambda r: httpx.Response(500), max_attempts=3,
                           backoff_base=0.0, breaker_threshold=100)
    outbox.enqueue(_activity(), [INBOX])
    for _ in range(3):
        asyncio.run(outbox.deliver_due())
    assert len(seen) == 3 and not outbox.letters("pending")
    (dead,) = outbox.letters("dead")
    assert dead.attempts == 3 and "500" in dead.last_error
    assert outbox.retry_dead() == 1 and len(outbox.letters("pending")) == 1


def test_a_permanent_refusal_is_dead_at_once(tmp_path: Path) -> None:
    outbox, seen = _outbox(tmp_path, lambda r: httpx.Response(410))
    outbox.enqueue(_activity(), [INBOX])
    asyncio.run(outbox.deliver_due())
    assert len(seen) == 1 and len(outbox.letters("dead")) == 1


def test_an_unreachable_inbox_is_never_contacted(tmp_path: Path) -> None:
    outbox, seen = _outbox(tmp_path, lambda r: httpx.Response(202))
    outbox.enqueue(_activity(), ["http://169.254.169.254/inbox"])
    asyncio.run(outbox.deliver_due())
    (dead,) = outbox.letters("dead")
    assert not seen and "169.254.169.254" in dead.last_error


def test_the_circuit_breaker_opens_per_host(tmp_path: Path) -> None:
    outbox, seen = _outbox(tmp_path, lambda r: httpx.Response(500), backoff_base=0.0,
                           breaker_threshold=2, breaker_cooldown=60.0, concurrency=1)
    for n in range(1, 5):
        outbox.enqueue(_activity(n), [INBOX])
    asyncio.run(outbox.deliver_due())
    assert len(seen) == 2  # opened after two failures: the other rows wait
    ((host, failures, open_until),) = outbox.breakers()
    assert host == "http://peer.test:80" and failures == 2 and open_until > time.time() + 50
    asyncio.run(outbox.deliver_due())
    assert len(seen) == 2
    outbox.hurry(host)  # the operator re-adds the peer: due now, breaker closed
    asyncio.run(outbox.deliver_due())
    assert len(seen) > 2

"""Stated totals and verified remote reactions, end to end (issue 10, item 2).

A proposal written over HTTP with ``supportCount 312`` (its platform's total) became
``supportCount 1`` when the first verified remote support arrived. The rule
(docs/federation.md, Counts): a stated total is the baseline, and verified reactions add
to it. Here the support really comes from a peer: its node notifies our inbox (signed),
ours dereferences the support from the peer, verifies it is the peer's own person's,
records it and recounts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.cluster import wait_for
from tests.support.peered import Peered, peered

CONTEXT = "https://w3id.org/dds/context/v1"


def _support(p: Peered, n: int, target: str, person: str) -> str:
    iri = p.fake.serve(f"/reactions/s-{n}", json.dumps({
        "@context": CONTEXT, "id": f"{p.fake.base}reactions/s-{n}", "type": "Support",
        "supportKind": "vote", "actor": f"{p.fake.base}participants/{person}",
        "reactsTo": target, "created": "2026-03-19T08:15:02Z"}).encode())
    return iri


def _notify(p: Peered, n: int, reaction: str) -> None:
    activity = {"id": f"{p.fake.base}feed#change-{n}", "type": "Create",
                "actor": p.fake.base, "object": {"id": reaction, "type": ["Support"]}}
    body, headers = p.fake.signed(p.node.url("inbox"), activity)
    response = p.http.post("/inbox", content=body, headers=headers)
    assert response.status_code == 202, response.text[:500]


def _count(p: Peered, iri: str) -> Any:
    doc = p.http.get(iri, headers={"Accept": "application/ld+json"}).json()
    return doc.get("supportCount")


def test_a_verified_remote_support_adds_to_the_stated_total(tmp_path: Path) -> None:
    with peered(tmp_path) as p:
        iri, body = p.node.example("a-proposal-quai-bike-lane")
        doc = json.loads(body)
        doc["supportCount"] = 312
        written = p.http.put(iri, content=json.dumps(doc).encode(), headers={
            **p.node.auth(), "Content-Type": "application/ld+json"})
        assert written.status_code in (201, 204), written.text[:500]
        assert int(_count(p, iri)) == 312

        first = _support(p, 1, iri, "p-1")
        _notify(p, 1, first)
        wait_for(lambda: int(_count(p, iri)) == 313, what="312 + 1")

        # The same support announced again, and re-read: still counted once.
        _notify(p, 2, first)
        assert p.ingest(first) == "fetched"
        assert int(_count(p, iri)) == 313

        # Another person of the peer: 314. A client sending back what it read keeps it.
        assert p.ingest(_support(p, 3, iri, "p-2")) == "fetched"
        assert int(_count(p, iri)) == 314
        read = p.http.get(iri, headers={"Accept": "application/ld+json"}).json()
        again = p.http.put(iri, content=json.dumps(read).encode(), headers={
            **p.node.auth(), "Content-Type": "application/ld+json"})
        assert again.status_code in (201, 204), again.text[:500]
        assert int(_count(p, iri)) == 314
        p.answers()

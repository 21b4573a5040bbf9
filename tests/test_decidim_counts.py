"""Imported counts add up once the node counts (issue 10, item 11: the pilot's 5 then 4).

Decidim's ``comments`` column counts a proposal's whole thread, replies included (it
equals the comments whose ``root_commentable_url`` is the proposal, for every proposal of
the nightly export). When the node starts counting a proposal (its first new reaction),
it must arrive at the same number from the comments it holds, then add one per new
comment or reply: stated + 1 = counted, never a drop to the top-level comments only.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from tests.support import decidim_variants as variants
from tests.support.inprocess import LocalNode, local_node
from tests.test_decidim_hostile_size import SLUG, run_import

JSONLD = "application/ld+json"
CONTEXT = "https://w3id.org/dds/context/v1"


def put(http: httpx.Client, node: LocalNode, path: str, doc: dict[str, Any]) -> None:
    body = {"@context": CONTEXT, "id": node.url(path), **doc}
    r = http.put(path, json=body, headers={"Content-Type": JSONLD, **node.auth()})
    assert r.status_code in (201, 204), r.text


def counted(http: httpx.Client, path: str, comments: int, supports: int) -> None:
    """Wait until the node publishes these counts for the proposal (polled, 60 s at most:
    a deadline against a hang, not a timing threshold)."""
    deadline = time.monotonic() + 60
    while True:
        doc: dict[str, Any] = http.get(path, headers={"Accept": JSONLD}).json()
        got = (int(doc.get("commentCount", -1)), int(doc.get("supportCount", -1)))
        if doc.get("countsComputedAt") and got == (comments, supports):
            return
        assert time.monotonic() < deadline, (got, (comments, supports))
        time.sleep(0.2)


def test_replies_count_like_decidim_counts_them(tmp_path: Path) -> None:
    folder = variants.copy_export(tmp_path / "export", ["proposals", "proposal_comments"])
    _, proposals = variants.read(folder, "proposals")
    _, comments = variants.read(folder, "proposal_comments")
    direct = Counter(c["commentable_id"] for c in comments
                     if c["commentable_type"].endswith("Proposal"))
    # a proposal whose thread has replies: Decidim's total is more than its direct comments
    row = next(p for p in proposals if int(p["comments"]) > direct[p["id"]])
    stated, supports = int(row["comments"]), int(row["votes"] or 0)
    reply_to = next(c["id"] for c in comments if c["commentable_id"] == row["id"]
                    and c["commentable_type"].endswith("Proposal"))
    path = f"proposals/{SLUG}-{row['id']}"
    with local_node(tmp_path) as node, node.client() as http:
        assert run_import(node, folder)["totals"]["rejected"] == 0
        # the imported comments are local reactions: counting may already have begun
        before = http.get(path, headers={"Accept": JSONLD}).json()
        assert int(before["commentCount"]) == stated
        put(http, node, "participants/someone", {"type": "Participant", "nickname": "someone"})
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        put(http, node, "reactions/a-support", {
            "type": "Support", "supportKind": "vote", "actor": node.url("participants/someone"),
            "reactsTo": node.url(path), "created": now})
        counted(http, path, stated, supports + 1)  # the thread, replies included, and +1
        put(http, node, "comments/a-reply", {
            "type": "Comment", "author": node.url("participants/someone"),
            "inReplyTo": node.url(f"comments/{SLUG}-{reply_to}"), "stance": "neutral",
            "body": {"en": "A reply in the thread"}, "created": now})
        counted(http, path, stated + 1, supports + 1)
        assert http.get("sparql", params={"query": "ASK { ?s ?p ?o }"}).status_code == 200

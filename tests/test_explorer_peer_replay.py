"""The explorer replays the peer cache in the background (``Site.synced``): with
``explorer_peer_sync_seconds`` above 0 no request waits for that replay, and a copy of a
peer's resource that arrives in the cache becomes searchable within a period or two."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from tests.support.inprocess import local_node

PEER = "https://peer.example/"
WORD = "quetzalcoatlrepliqua"
JSONLD = {"Accept": "application/ld+json"}


def test_a_peer_copy_becomes_searchable_and_no_request_fails(tmp_path: Path) -> None:
    iri = PEER + "proposals/far-away"
    ntriples = (f'<{iri}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> '
                f'<https://w3id.org/dds/ns#Proposal> .\n'
                f'<{iri}> <http://purl.org/dc/terms/title> "A {WORD} for the river"@en .\n')
    with local_node(tmp_path, settings={"explorer_peer_sync_seconds": 0.3}) as node:
        with node.client() as http:
            assert http.get("/explore", params={"q": WORD}, headers=JSONLD
                            ).json()["hydra:totalItems"] == 0
            with sqlite3.connect(node.dir / "federation.db") as db:
                db.execute("INSERT INTO cache (iri, origin, fetched_from, status, fetched_at, "
                           "ntriples, container) VALUES (?, ?, ?, 'valid', ?, ?, ?)",
                           (iri, PEER.rstrip("/"), iri, time.time(), ntriples, "proposals/"))
            totals = []
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                answer = http.get("/explore", params={"q": WORD}, headers=JSONLD)
                assert answer.status_code == 200, answer.text
                totals.append(answer.json()["hydra:totalItems"])
                if totals[-1]:
                    break
                time.sleep(0.05)
            page = http.get("/explore/resource", params={"iri": iri},
                            headers={"Accept": "text/html"})
    assert totals[-1] == 1 and set(totals) <= {0, 1}
    assert page.status_code == 200 and WORD in page.text

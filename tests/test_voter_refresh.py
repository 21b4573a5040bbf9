"""The voter lookup's table is checked in the background (``VoterSite.ready``).

With ``voter_refresh_seconds`` above 0, a request never waits for a check of the
table's inputs or a rebuild: it answers from the table in hand while one check runs on a
worker thread, and a write shows in the answers once that check has swapped the new
table in (docs/voter.md, Cost).
"""

from __future__ import annotations

import glob
import time
from pathlib import Path

from ddsnode import resources
from tests.support.inprocess import local_node

VOTE = "/explore/vote.json"
LATE = "e-place-bureau-104"  # a station of secteur 1, written after the first answers


def test_a_write_shows_after_a_background_check_and_no_answer_fails(tmp_path: Path) -> None:
    with local_node(tmp_path, settings={"voter_refresh_seconds": 0.2}) as node:
        with node.client() as http:
            examples = sorted(glob.glob(str(resources.examples_dir() / "e-*.jsonld")))
            for path in examples:
                if Path(path).stem != LATE:
                    iri, body = node.example(Path(path).stem)
                    assert http.put(iri, content=body, headers={
                        "Content-Type": "application/ld+json", **node.auth()}
                    ).status_code == 201
            unit = node.url("places/rivemont-secteur-1")
            before = http.get(VOTE, params={"unit": unit}).json()
            assert [s["name"] for s in before["stations"]] == [
                "Bureau 101 – École des Tanneurs"]
            iri, body = node.example(LATE)
            assert http.put(iri, content=body, headers={
                "Content-Type": "application/ld+json", **node.auth()}).status_code == 201
            seen: list[list[str]] = []
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                answer = http.get(VOTE, params={"unit": unit})
                assert answer.status_code == 200, answer.text  # the old table, or the new
                seen.append([s["name"] for s in answer.json()["stations"]])
                if len(seen[-1]) == 2:
                    break
                time.sleep(0.05)
            after = [s["name"] for s in http.get(VOTE, params={"unit": unit}).json()[
                "stations"]]
    assert set(map(tuple, seen)) <= {("Bureau 101 – École des Tanneurs",), (
        "Bureau 101 – École des Tanneurs", "Bureau 104 – Mairie annexe de la Presqu'île")}
    assert seen[-1] == after == ["Bureau 101 – École des Tanneurs",
                                 "Bureau 104 – Mairie annexe de la Presqu'île"]

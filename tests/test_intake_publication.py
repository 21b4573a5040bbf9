"""Tallies in, signed generations out: the intake's totals are what election night publishes.

A contest that receives tallies through the intake is published from the running totals
at every level (station, secteur, municipality); the other contest keeps its stored
result. Generations are fetched and every file hash checked with the publication's own
test helpers.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from ddsnode.ldp.tokens import TokenRegistry
from tests.support.inprocess import local_node
from tests.test_intake import ELECTION, load_election, post, tally
from tests.test_publication import fetch_generation, reader, wait_for

SETTINGS = {"publication_elections": "*", "publication_interval_seconds": 0.2}
COUNCIL = "municipal-2026-council"


def snapshot_where(http: httpx.Client, ok: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(pointer, snapshot) of the first generation whose snapshot satisfies ``ok``."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r = http.get(f"/{ELECTION}/results/current")
        if r.status_code == 200:
            pointer = r.json()
            snap = http.get(f"/{ELECTION}/results/g/{pointer['generation']}/results.json").json()
            if ok(snap):
                return pointer, snap
        time.sleep(0.1)
    raise AssertionError("no such generation appeared")


def council(snap: dict[str, Any], unit: str) -> dict[str, Any] | None:
    return next((r for r in snap["results"] if r["contest"].endswith(COUNCIL)
                 and r["unit"].endswith("/" + unit)), None)


def test_intake_tallies_and_a_correction_reach_signed_generations(tmp_path: Any) -> None:
    with local_node(tmp_path, settings=SETTINGS) as node, reader(node) as http:
        load_election(node, http)
        _, referendum = node.example("e-result-municipal-2026-referendum-rivemont-seq-1")
        iri = json.loads(referendum)["id"]
        assert http.put(iri, content=referendum, headers={
            "Content-Type": "application/ld+json", **node.auth()}).status_code == 201
        first = post(node, http, tally(node, "bureau-101", 500, 300, 200), "a")
        post(node, http, tally(node, "bureau-104", 100, 50, 25), "b")
        post(node, http, tally(node, "bureau-201", 7, 8, 9), "c")

        def all_in(snap: dict[str, Any]) -> bool:
            city = council(snap, "rivemont")
            return city is not None and city["stationsReported"] == 3

        pointer, snap = snapshot_where(http, all_in)
        city = council(snap, "rivemont")
        assert city is not None and city["stationsTotal"] == 3
        assert sorted(n for _, n in city["counts"]) == [234, 358, 607]
        sector = council(snap, "rivemont-secteur-1")
        assert sector is not None and sorted(n for _, n in sector["counts"]) == [225, 350, 600]
        # the referendum had no tally through the intake: its stored result is published
        ref = [r for r in snap["results"] if r["contest"].endswith("referendum")]
        assert [(r["unit"].rsplit("/", 1)[-1], r["status"]) for r in ref] == \
            [("rivemont", "unofficialComplete")]
        manifest, files = fetch_generation(http, pointer)  # signature and hashes checked
        assert "results.json" in files and manifest["generation"] == pointer["generation"]

        review = TokenRegistry(node.dir).create(["write", "review"], label="supervisor")
        fixed = post(node, http, tally(node, "bureau-101", 450, 300, 200), "d", token=review,
                     Correction_Reason="misread", Revises=str(first.json()["event"]))
        assert fixed.status_code == 201

        def corrected(snap: dict[str, Any]) -> bool:
            city = council(snap, "rivemont")
            return city is not None and city["status"] == "correction"

        later, snap = snapshot_where(http, corrected)
        assert later["generation"] > pointer["generation"]
        city = council(snap, "rivemont")
        assert city is not None and sorted(n for _, n in city["counts"]) == [234, 358, 557]
        diff = json.loads(http.get(f"/{ELECTION}/results/g/{later['generation']}/diff.json"
                                   ).content)
        if later["generation"] == pointer["generation"] + 1:  # else spread over several
            touched = {(r["contest"].rsplit("/", 1)[-1], r["unit"].rsplit("/", 1)[-1])
                       for r in diff["changed"]}
            assert touched == {(COUNCIL, u) for u in ("bureau-101", "rivemont-secteur-1",
                                                      "rivemont")}
        assert wait_for(http, later["generation"])["generation"] >= later["generation"]

"""Generations in parts, and removals (issue 15, performance).

A station level with more units than ``part_units`` is split into parts; a generation
rebuilds only the parts whose units changed, and writes only their files (every file
is stored once by its hash: an unchanged one is not written again). The diffs replayed from generation 1 still give the snapshot (each part
and ``results.json``) byte for byte; ``ddsnode verify`` and mirrors check the whole of it;
a result withdrawn by the feed (deleted from the store) leaves the next generation.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from ddsnode import resources
from ddsnode.commands.demo import rebase
from ddsnode.commands.node import init_node
from ddsnode.elections.reporting import UnitResult
from ddsnode.ldp.node import Node
from ddsnode.publication import documents as docs
from ddsnode.publication.archive import Archive
from ddsnode.publication.keyring import Keyring
from ddsnode.publication.listing import PART_MANIFEST, Line, Listing, expand
from ddsnode.publication.parts import read_snapshot, snapshot_files
from ddsnode.publication.publisher import Publisher
from ddsnode.publication.stored import StoredResults
from ddsnode.publication.verification import check
from ddsnode.settings import Settings
from tests.support.node import free_port
from tests.test_publication import ELECTION, FIRST, SETUP

STATIONS = 24


class Night:
    """A ResultsFeed of a synthetic election: stations, their district and the total, per
    contest (test data for the publisher, which is the code under test)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.election = base + ELECTION
        self.mark = 0
        self.latest: dict[tuple[str, str], tuple[UnitResult, int]] = {}

    def elections(self) -> list[str]:
        return [self.election]

    def results(self, election: str, since: int = 0) -> tuple[int, list[UnitResult]]:
        return self.mark, [r for r, m in self.latest.values() if m > since]

    def station(self, contest: int, n: int, votes: int) -> UnitResult:
        return UnitResult(self.election, f"{self.base}elections/c{contest}",
                          f"{self.base}places/station-{n}", "polling-place",
                          ((f"{self.base}elections/c{contest}#a", votes),
                           (f"{self.base}elections/c{contest}#b", 10)),
                          votes + 10, 0, 0, 100, 1, 1, "unofficialPartial",
                          f"2026-06-07T20:{self.mark % 60:02d}:00Z")

    def report(self, contest: int, stations: range, votes: int) -> None:
        """Stations report (or report again), and the contest's total follows."""
        self.mark += 1
        for n in stations:
            r = self.station(contest, n, votes)
            self.latest[(r.contest, r.unit)] = (r, self.mark)
        mine = [r for r, _ in self.latest.values()
                if r.contest.endswith(f"/c{contest}") and r.level == "polling-place"
                and not r.withdrawn]
        total = UnitResult(self.election, f"{self.base}elections/c{contest}",
                           f"{self.base}places/city", "municipality",
                           tuple((s, sum(dict(r.counts)[s] for r in mine))
                                 for s in sorted(dict(mine[0].counts))),
                           sum(r.ballots_cast or 0 for r in mine), 0, 0, 100 * STATIONS,
                           len(mine), STATIONS, "unofficialPartial",
                           f"2026-06-07T20:{self.mark % 60:02d}:00Z")
        self.latest[(total.contest, total.unit)] = (total, self.mark)

    def withdraw(self, contest: int, n: int) -> None:
        self.mark += 1
        r = self.station(contest, n, 0)
        old = self.latest[(r.contest, r.unit)][0]
        self.latest[(r.contest, r.unit)] = (replace(old, withdrawn=True), self.mark)


def generation_dir(archive: Archive, n: int) -> Path:
    return archive.results_dir(ELECTION) / "g" / str(n)


def manifest_of(archive: Archive, n: int) -> dict[str, Any]:
    jws = (generation_dir(archive, n) / "manifest.jws").read_bytes()
    return json.loads(docs_payload(jws))


def listed_of(archive: Archive, n: int) -> dict[str, Line]:
    """Every file generation ``n`` lists: in its manifest and in its part manifests."""
    return expand(Listing.of(manifest_of(archive, n)),
                  lambda p: archive.read(ELECTION, f"g/{n}/{p}"))


def docs_payload(jws: bytes) -> bytes:
    from ddsnode.publication.verification import payload_of
    return payload_of(jws)


def on_disk(archive: Archive, n: int) -> dict[str, bytes]:
    """Every file generation ``n`` holds here, by path, as it is read (its object, or its
    file in ``g/{n}/`` for a generation written before objects)."""
    out = {}
    for path in archive.listed(ELECTION, n):
        try:
            out[path] = archive.read(ELECTION, f"g/{n}/{path}")
        except FileNotFoundError:
            continue  # a mirror keeps only the diffs of the generations it walked over
    return out


def objects_of(archive: Archive) -> set[str]:
    """The SHA-256s of the objects stored for the election."""
    root = archive.results_dir(ELECTION) / "objects"
    return {p.name for p in root.glob("*/*") if not p.name.startswith(".")}


def only_manifest(archive: Archive, n: int) -> bool:
    """Whether generation ``n``'s folder holds its signed manifest and nothing else."""
    return [p.name for p in generation_dir(archive, n).iterdir()] == ["manifest.jws"]


def replayed(archive: Archive, upto: int) -> dict[docs.Key, docs.Json]:
    records: dict[docs.Key, docs.Json] = {}
    for n in range(1, upto + 1):
        docs.apply_diff(records, json.loads(archive.read(ELECTION, f"g/{n}/diff.json")))
    return records


def publish(tmp_path: Path, base: str = "http://127.0.0.1:9/") -> tuple[Night, Publisher]:
    night = Night(base)
    tmp_path.mkdir(exist_ok=True)
    archive = Archive(tmp_path / "publication")
    keyring = Keyring.open(tmp_path, production=False)
    return night, Publisher(night, archive, keyring, base=base, interval=0, part_units=8)


def test_a_change_rebuilds_its_part_and_links_every_other_file(tmp_path: Path) -> None:
    night, publisher = publish(tmp_path)
    for contest in (0, 1):
        night.report(contest, range(STATIONS), 50)
    assert len(publisher.publish_once(force=True)) == 1
    stored = objects_of(publisher.archive)
    night.report(0, range(3, 4), 77)  # one station of contest 0 corrects
    [second] = publisher.publish_once(force=True)
    archive = publisher.archive
    index = json.loads(archive.read(ELECTION, "g/2/results.json"))
    # 24 stations > 8: both contests' station levels are in parts; the totals are not.
    assert index["parts"] and {r["level"] for r in index["results"]} == {"municipality"}
    assert all(p.endswith(".results.json") and p.count("/") == 2 for p in index["parts"])
    # The manifest and its part manifests list every file, each with its hash; nothing
    # else is on disk. The manifest itself lists no file of a part.
    files = on_disk(archive, 2)
    listed = listed_of(archive, 2)
    assert set(listed) == set(files)
    for path, body in files.items():
        assert listed[path].sha256 == hashlib.sha256(body).hexdigest()
    top = manifest_of(archive, 2)
    assert not any(f["path"].count("/") == 2 for f in top["files"])
    assert {m["path"] for m in top["manifests"]} == \
        {p.removesuffix(".results.json") + PART_MANIFEST for p in index["parts"]}
    # Only the changed station's part (and the totals, snapshot, diff) were written;
    # every other file is generation 1's, hard-linked.
    changed_part = next(p for p in index["parts"] if p.startswith(docs.slug(
        night.base + "elections/c0")) and any(r["unit"].endswith("/station-3") for r in
                                               json.loads(files[p])["results"]))
    stem = changed_part.removesuffix(".results.json")
    written = {p for p in files if p not in second.reused}
    assert {stem + ".csv", stem + ".jsonld", changed_part, stem + PART_MANIFEST,
            "diff.json", "results.json"} <= written
    # Every other part manifest is byte for byte generation 1's (hard-linked).
    assert {m["path"] for m in top["manifests"]} & written == {stem + PART_MANIFEST}
    assert not any(p.startswith(docs.slug(night.base + "elections/c1")) for p in written)
    # Stored by content: the generation's folder holds its manifest only, the objects
    # written are exactly the new files' (an unchanged file is not written again), and
    # every reused file is an object generation 1 stored.
    assert only_manifest(archive, 1) and only_manifest(archive, 2)
    assert objects_of(archive) - stored == {listed[p].sha256 for p in written}
    assert {listed[p].sha256 for p in second.reused} <= stored
    assert len(second.reused) > len(written) * 5
    # The diff holds the station and the total; replayed from 1, it gives every file of
    # the snapshot byte for byte.
    diff = json.loads(files["diff.json"])
    assert sorted(r["unit"].rsplit("/", 1)[1] for r in diff["changed"]) == \
        ["city", "station-3"]
    records = replayed(archive, 2)
    assert len(records) == 2 * (STATIONS + 1)
    for path, body in snapshot_files(night.election, records, index["parts"]).items():
        assert files[path] == body, path
    assert len(read_snapshot(lambda p: files[p])) == len(records)
    # A part's views are its records' views, whichever of them were serialised again.
    for path in index["parts"]:
        recs = json.loads(files[path])["results"]
        part_stem = path.removesuffix(".results.json")
        assert files[part_stem + ".jsonld"] == docs.jsonld_view(recs)
        assert files[part_stem + ".csv"] == docs.csv_view(recs)


def test_a_withdrawn_result_leaves_the_next_generation_and_a_restart_reads_parts(
        tmp_path: Path) -> None:
    night, publisher = publish(tmp_path)
    night.report(0, range(STATIONS), 40)
    publisher.publish_once(force=True)
    night.withdraw(0, 5)
    night.report(0, range(0), 0)  # the total follows
    [second] = publisher.publish_once(force=True)
    unit = night.base + "places/station-5"
    contest = night.base + "elections/c0"
    assert (contest, unit) in second.changed
    files = on_disk(publisher.archive, 2)
    diff = json.loads(files["diff.json"])
    assert diff["removed"] == [[contest, unit]]
    assert unit not in {r["unit"] for r in read_snapshot(lambda p: files[p])}
    # 24 stations, 8 units a part at most before splitting: 16 parts (one hex digit).
    part = f"{docs.slug(contest)}/polling-place/{hashlib.sha256(unit.encode()).hexdigest()[:1]}"
    if part + ".csv" in files:  # other stations share its part
        assert unit not in files[part + ".csv"].decode()
    assert any(p.startswith(part[:-1]) and len(p.split("/")[2].split(".")[0]) == 1
               for p in files)
    assert not any(unit in files[p].decode() for p in files if p.endswith(".csv"))
    # Withdrawn again: nothing new. A restarted publisher reads the parts back and
    # neither renumbers nor republishes.
    assert publisher.publish_once(force=True) == []
    again = Publisher(night, publisher.archive, publisher.keyring, base=night.base,
                      interval=0, part_units=8)
    again.publish_once(force=True)
    assert publisher.archive.pointer(ELECTION).generation == 2  # type: ignore[union-attr]
    # Below the threshold again, the level is joined back into one file per view.
    for n in range(STATIONS - 1, 6, -1):
        night.withdraw(0, n)
    night.report(0, range(0), 0)
    [third] = again.publish_once(force=True)
    files = on_disk(again.archive, 3)
    assert "parts" not in json.loads(files["results.json"])
    assert f"{docs.slug(contest)}/polling-place.csv" in files
    assert not any(p.count("/") == 2 for p in files)
    records = replayed(again.archive, 3)
    assert len(records) == 7 and files["results.json"] == \
        docs.snapshot_bytes(night.election, records)
    stations = [records[k] for k in sorted(records) if records[k]["level"] == "polling-place"]
    assert files[f"{docs.slug(contest)}/polling-place.jsonld"] == docs.jsonld_view(stations)
    assert files[f"{docs.slug(contest)}/polling-place.csv"] == docs.csv_view(stations)


def test_a_store_deletion_is_removed_from_the_next_generation(tmp_path: Path) -> None:
    node_dir = tmp_path / "node"
    init_node(node_dir, base_url="http://127.0.0.1:9/")
    node = Node.open(Settings.load(node_dir))
    try:
        ids = []
        for name in SETUP + FIRST:
            text = rebase((resources.examples_dir() / f"{name}.jsonld").read_text("utf-8"),
                          node.base)
            ids.append(json.loads(text)["id"])
            node.write_document(ids[-1], text.encode(), "application/ld+json")
        archive = Archive.of(node_dir)
        publisher = Publisher(StoredResults(node, "*"), archive,
                              Keyring.open(node_dir, production=False), base=node.base,
                              interval=0)
        [first] = publisher.publish_once(force=True)
        before = replayed(archive, 1)
        node.delete(ids[-1])  # the referendum's result
        [second] = publisher.publish_once(force=True)
        gone = set(before) - set(replayed(archive, 2))
        assert gone and all("referendum" in contest for contest, _ in gone)
        diff = json.loads(archive.read(ELECTION, "g/2/diff.json"))
        assert sorted(tuple(k) for k in diff["removed"]) == sorted(gone)
        snapshot = archive.read(ELECTION, "g/2/results.json")
        assert snapshot == docs.snapshot_bytes(node.base + ELECTION, replayed(archive, 2))
        assert publisher.publish_once(force=True) == []
    finally:
        node.close()


@pytest.mark.slow
def test_verify_checks_every_part_of_a_static_site(tmp_path: Path) -> None:
    port = free_port()
    night, publisher = publish(tmp_path / "origin", f"http://127.0.0.1:{port}/")
    night.report(0, range(STATIONS), 30)
    publisher.publish_once(force=True)
    night.report(0, range(2, 4), 31)
    publisher.publish_once(force=True)
    site = tmp_path / "site"
    publisher.archive.copy_to(site)
    jwks = tmp_path / "jwks.json"
    jwks.write_bytes(publisher.keyring.jwks_bytes())
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                               "127.0.0.1", "--directory", str(site)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = night.election
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(url + "/results/current", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        good = asyncio.run(check(url, jwks))
        assert good is not None and good.findings == [], good.text()
        assert good.generation == 2 and good.totals == 1
        assert good.files == len(listed_of(publisher.archive, 2))
        # A part's bytes changed, and its hash recomputed into nothing: verify says so.
        index = json.loads((site / ELECTION / "results/g/2/results.json").read_bytes())
        part = site / ELECTION / "results/g/2" / index["parts"][0]
        data = json.loads(part.read_bytes())
        data["results"] = data["results"][1:]
        os.unlink(part)  # a hard link: the origin's copy stays as it was
        part.write_bytes(docs.canonical(data) + b"\n")
        bad = asyncio.run(check(url, jwks))
        assert bad is not None
        assert any(index["parts"][0] in f and "does not match its hash" in f
                   for f in bad.findings), bad.text()
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_voter_pages_read_the_parts_of_a_published_snapshot(tmp_path: Path) -> None:
    from ddsnode.explorer.web.voter_published import PublishedResults
    base = "http://127.0.0.1:9/"
    node_dir = tmp_path / "node"
    init_node(node_dir, base_url=base)
    node = Node.open(Settings.load(node_dir))
    try:
        night = Night(base)
        publisher = Publisher(night, Archive.of(node_dir), Keyring.open(node_dir,
                                                                       production=False),
                              base=base, interval=0, part_units=8)
        for contest in (0, 1):
            night.report(contest, range(STATIONS), 20 + contest)
        publisher.publish_once(force=True)
        index = json.loads(publisher.archive.read(ELECTION, "g/1/results.json"))
        assert index["parts"] and len(index["results"]) == 2  # the two totals only
        generation, results = PublishedResults(node).results(night.election)
        assert generation == 1
        assert {(r.contest, r.unit) for r in results} == \
            {(r.contest, r.unit) for r, _ in night.latest.values()}
        station = night.station(1, 7, 21)
        assert next(r for r in results if (r.contest, r.unit) ==
                    (station.contest, station.unit)).counts == station.counts
    finally:
        node.close()


def test_a_mirror_fetches_only_the_files_that_changed(tmp_path: Path) -> None:
    from tests.test_mirror import FakeOrigin, Published, mirror_of, poll
    night, publisher = publish(tmp_path / "origin")
    pointers = {}
    for n, votes in ((1, 30), (2, 31)):
        night.report(0, range(STATIONS) if n == 1 else range(4, 5), votes)
        publisher.publish_once(force=True)
        pointers[n] = (publisher.archive.results_dir(ELECTION) / "current").read_bytes()
    origin = FakeOrigin(Published(tmp_path / "origin", publisher.archive, publisher.keyring,
                                  pointers), pointer=1)
    mirror = mirror_of(tmp_path, origin)
    assert poll(mirror) == "generation 1"
    origin.requests.clear()
    origin.pointer = 2
    mirror = mirror_of(tmp_path, origin)
    assert poll(mirror) == "generation 2"
    fetched = {r.split("/results/g/2/", 1)[1] for r in origin.requests if "/results/g/2/" in r}
    lines, before = listed_of(publisher.archive, 2), listed_of(publisher.archive, 1)
    listed = set(lines)
    reused = {p for p in listed if before.get(p) == lines[p]}
    assert len(reused) > len(listed) / 2
    assert fetched and "manifest.jws" in fetched and "diff.json" in fetched
    assert fetched - {"manifest.jws"} == listed - reused  # what changed, nothing else
    # Of the part manifests, only the changed part's was fetched.
    assert {p for p in fetched if p.endswith(PART_MANIFEST)} == \
        {p for p in listed - reused if p.endswith(PART_MANIFEST)} and \
        len({p for p in fetched if p.endswith(PART_MANIFEST)}) == 1
    assert on_disk(mirror.archive, 2) == on_disk(publisher.archive, 2)  # every file served


@pytest.mark.parametrize("parts", [5, "x", [1], [None], ["no-such/part/0.results.json"]])
def test_a_malformed_parts_list_is_refused_not_crashed_on(parts: object) -> None:
    index = docs.canonical({"election": "e", "results": [], "parts": parts})
    files = {"results.json": index}
    with pytest.raises((ValueError, KeyError)):
        read_snapshot(lambda p: files[p])
    # What verify compares: the replayed records split as listed never equal the files.
    if isinstance(parts, list) and all(isinstance(p, str) for p in parts):
        expected = snapshot_files("e", {}, parts)
        assert any(files.get(p) != b for p, b in expected.items())

"""The two-level manifest (issue 15): format v2, part manifests, and the v1 generations
already on disk.

An origin publishes a split election (24 stations in parts of 8 per contest). Its
generation 1 is rewritten as the flat format v1 (as a node of the previous release wrote
it, signed by the same key); generation 2 is the publisher's v2, chained to it. The
shelf, a mirror and ``ddsnode verify`` read both; a mirror fetches only the part
manifests whose hash changed; every way a part manifest can lie is refused. The network
is faked at the outbound client's transport (``httpx.MockTransport``), as in
tests/test_mirror.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from ddsnode.publication.archive import Archive, pointer_bytes
from ddsnode.publication.jws import sign
from ddsnode.publication.keyring import Keyring
from ddsnode.publication.listing import (
    FORMAT,
    FORMAT_V1,
    PART_FORMAT,
    PART_MANIFEST,
    Line,
    Listing,
    ListingError,
    expand,
    part_manifest_bytes,
    part_manifest_for,
)
from ddsnode.publication.mirror import Mirror
from ddsnode.publication.publisher import Publisher
from ddsnode.publication.shelf import Shelf
from ddsnode.publication.verification import check, payload_of
from tests.test_mirror import URL, FakeOrigin, Published, mirror_of, poll
from tests.test_publication import ELECTION
from tests.test_publication_parts import (
    STATIONS,
    Night,
    generation_dir,
    objects_of,
    on_disk,
    only_manifest,
    publish,
)

BASE = "http://127.0.0.1:9/"
H = "0" * 64


def manifest(archive: Archive, n: int) -> dict[str, Any]:
    return dict(json.loads(payload_of((generation_dir(archive, n) / "manifest.jws")
                                      .read_bytes())))


def everything(archive: Archive, n: int) -> dict[str, Line]:
    return expand(Listing.of(manifest(archive, n)),
                  lambda p: archive.read(ELECTION, f"g/{n}/{p}"))


def to_v1(published: Published, n: int) -> None:
    """Rewrite generation ``n`` (the only one) as the previous releases wrote it: format
    v1, every file listed in the signed manifest (indented), no part manifests; on disk,
    every file in the generation's folder and no objects. The pointer names the new
    manifest."""
    archive, key = published.archive, published.keyring.node_key
    folder = generation_dir(archive, n)
    top = manifest(archive, n)
    lines = everything(archive, n)
    for path in top["manifests"]:
        del lines[path["path"]]
    for path in lines:
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(archive.read(ELECTION, f"g/{n}/{path}"))
    shutil.rmtree(archive.results_dir(ELECTION) / "objects")
    flat = {k: v for k, v in top.items() if k != "manifests"}
    flat["format"] = FORMAT_V1
    flat["files"] = [ln.to_json() for _, ln in sorted(lines.items())]
    payload = json.dumps(flat, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8")
    jws = sign(payload, key.key, key.kid).encode("ascii")
    (folder / "manifest.jws").write_bytes(jws)
    raw = pointer_bytes(top["election"], n, hashlib.sha256(jws).hexdigest(),
                        top["generatedAt"])
    archive.switch(ELECTION, raw)
    published.pointers[n] = raw


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> tuple[Published, Night]:
    root = tmp_path_factory.mktemp("manifest")
    night, publisher = publish(root, BASE)
    for contest in (0, 1):
        night.report(contest, range(STATIONS), 40)
    publisher.publish_once(force=True)
    published = Published(root, publisher.archive, publisher.keyring)
    to_v1(published, 1)
    night.report(1, range(5, 6), 41)  # one station of contest 1 corrects
    # A restarted publisher (the new release) continues the chain from the v1 generation.
    again = Publisher(night, Archive(publisher.archive.root), publisher.keyring, base=BASE,
                      interval=0, part_units=8)
    assert [g.number for g in again.publish_once(force=True)] == [2]
    published.pointers[2] = (publisher.archive.results_dir(ELECTION) / "current").read_bytes()
    return published, night


def test_the_manifest_says_its_format_and_lists_parts_by_their_manifests(
        origin: tuple[Published, Night]) -> None:
    archive = origin[0].archive
    old, new = manifest(archive, 1), manifest(archive, 2)
    assert old["format"] == FORMAT_V1 and "manifests" not in old
    assert new["format"] == FORMAT
    assert new["previous"] == hashlib.sha256(payload_of(
        (generation_dir(archive, 1) / "manifest.jws").read_bytes())).hexdigest()
    # Listed directly: the files of no part; by part manifest: each part of the snapshot.
    assert {f["path"] for f in new["files"]} >= {"results.json", "diff.json"}
    assert all(part_manifest_for(f["path"]) is None for f in new["files"])
    parts = json.loads(archive.read(ELECTION, "g/2/results.json"))["parts"]
    assert sorted(m["path"] for m in new["manifests"]) == \
        sorted(p.removesuffix(".results.json") + PART_MANIFEST for p in parts)
    for entry in new["manifests"]:
        raw = archive.read(ELECTION, f"g/2/{entry['path']}")
        assert hashlib.sha256(raw).hexdigest() == entry["sha256"] and len(raw) == entry["size"]
        body = json.loads(raw)
        assert body["format"] == PART_FORMAT and "generation" not in body
        stem = entry["path"].removesuffix(PART_MANIFEST)
        assert all(f["path"].startswith(stem + ".") for f in body["files"])
        assert raw == part_manifest_bytes(Listing.of(new).part(entry["path"], raw).values())
    # Flat and two-level list the same files with the same hashes (the part manifests
    # aside); generation 1 keeps the old layout (its files in its folder), generation 2
    # is its manifest and objects: each file's object holds the bytes of its hash.
    assert set(everything(archive, 2)) == set(on_disk(archive, 2))
    assert (generation_dir(archive, 1) / "results.json").is_file()
    assert only_manifest(archive, 2)
    for path, line in everything(archive, 2).items():
        assert hashlib.sha256(archive.objects(ELECTION).read(line.sha256)).hexdigest() == \
            line.sha256, path
    # A file generation 2 shares with generation 1 (old layout) became its object by a
    # hard link to generation 1's file, not by a copy.
    shared = [p for p, ln in everything(archive, 2).items()
              if everything(archive, 1).get(p) == ln]
    assert shared
    for path in shared:
        line = everything(archive, 2)[path]
        assert Path(archive.objects(ELECTION).path(line.sha256)).samefile(
            generation_dir(archive, 1) / path)
    assert len(new["files"]) + len(new["manifests"]) < len(old["files"]) / 2


def test_an_unchanged_part_keeps_a_byte_identical_part_manifest(
        origin: tuple[Published, Night], tmp_path: Path) -> None:
    published, night = origin
    archive = Archive(tmp_path / "publication")
    publisher = Publisher(night, archive, published.keyring, base=BASE, interval=0,
                          part_units=8)
    publisher.publish_once(force=True)
    stored = objects_of(archive)
    night.report(0, range(9, 10), 43)
    [second] = publisher.publish_once(force=True)
    one, two = manifest(archive, 1)["manifests"], manifest(archive, 2)["manifests"]
    changed = [b["path"] for a, b in zip(one, two, strict=True) if a != b]
    assert len(changed) == 1 and changed[0].startswith(next(
        f["path"].split("/")[0] for f in two if "c0" in f["path"]))
    for entry in two:
        if entry["path"] not in changed:
            assert entry["path"] in second.reused and entry["sha256"] in stored
    # One part manifest changed: its object, and its part's files', are all that is new.
    new = objects_of(archive) - stored
    assert next(e["sha256"] for e in two if e["path"] == changed[0]) in new
    assert len(new) < len(stored) / 4


def test_the_shelf_serves_both_formats_from_their_manifests(
        origin: tuple[Published, Night]) -> None:
    archive = origin[0].archive
    shelf = Shelf(archive, 1024 * 1024)
    for n in (1, 2):
        for path, line in everything(archive, n).items():
            served = shelf.file(ELECTION, f"g/{n}/{path}")
            assert served is not None and served.etag == f'"{line.sha256}"', (n, path)
            assert hashlib.sha256(served.body).hexdigest() == line.sha256
    part = next(p for p in everything(archive, 2) if p.endswith(".csv") and p.count("/") == 2)
    served = shelf.file(ELECTION, f"g/2/{part}")
    assert served is not None and served.gz is not None  # the twin, from its part
    assert shelf.file(ELECTION, "g/2/" + part.replace(".csv", ".xlsx")) is None
    assert shelf.file(ELECTION, "g/1/" + part.rsplit(".", 1)[0].split(".")[0]
                      + PART_MANIFEST) is None  # v1 had none


def test_a_mirror_follows_from_v1_to_v2_fetching_only_what_changed(
        origin: tuple[Published, Night], tmp_path: Path) -> None:
    published = origin[0]
    fake = FakeOrigin(published, pointer=1)
    assert poll(mirror_of(tmp_path, fake)) == "generation 1"
    assert on_disk(mirror_of(tmp_path, fake).archive, 1) == on_disk(published.archive, 1)
    fake.requests.clear()
    fake.pointer = 2
    mirror = mirror_of(tmp_path, fake)
    assert poll(mirror) == "generation 2"
    assert on_disk(mirror.archive, 2) == on_disk(published.archive, 2)
    fetched = {r.split("/g/2/", 1)[1] for r in fake.requests if "/g/2/" in r}
    listed = everything(published.archive, 2)
    old = everything(published.archive, 1)
    differs = {p for p, ln in listed.items() if old.get(p) != ln}
    assert fetched - {"manifest.jws"} == differs  # v1's flat lines count as held
    # Then v2 to v2: a part manifest with the served hash is not fetched.
    fake.requests.clear()
    assert poll(mirror_of(tmp_path, fake)) == "up to date (generation 2)"
    assert not [r for r in fake.requests if "/g/" in r]


def test_verify_walks_a_chain_of_both_formats(origin: tuple[Published, Night]) -> None:
    fake = FakeOrigin(origin[0], pointer=2)
    found = asyncio.run(check(URL, transport=httpx.MockTransport(fake)))
    assert found is not None
    assert found.findings == [], found.text()
    assert found.manifests == 2 and found.files == len(everything(origin[0].archive, 2))
    assert "flat manifests (format v1): 1 of 2 generations, 1 to 1" in found.notes
    # A part manifest's bytes changed: verify says which, and does not believe it.
    part = manifest(origin[0].archive, 2)["manifests"][0]["path"]
    fake.replace[f"g/2/{part}"] = b'{"format":"' + PART_FORMAT.encode() + b'","files":[]}\n'
    bad = asyncio.run(check(URL, transport=httpx.MockTransport(fake)))
    assert bad is not None
    assert any(part in f and "does not match its hash" in f for f in bad.findings), bad.text()


def forged(published: Published, change: dict[str, bytes]) -> FakeOrigin:
    """An origin whose generation 2 lists part manifests replaced by ``change`` (path ->
    bytes), the manifest re-signed by the origin's own key: the signature holds, so
    only the part manifest's content can be refused."""
    archive, key = published.archive, published.keyring.node_key
    top = manifest(archive, 2)
    for entry in top["manifests"]:
        if entry["path"] in change:
            entry["sha256"] = hashlib.sha256(change[entry["path"]]).hexdigest()
            entry["size"] = len(change[entry["path"]])
    payload = json.dumps(top, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    jws = sign(payload, key.key, key.kid).encode("ascii")
    raw = pointer_bytes(top["election"], 2, hashlib.sha256(jws).hexdigest(),
                        top["generatedAt"])
    fake = FakeOrigin(Published(published.dir, archive, published.keyring,
                                {**published.pointers, 2: raw}), pointer=2)
    fake.replace.update({"g/2/manifest.jws": jws, **{f"g/2/{p}": b for p, b in change.items()}})
    return fake


@pytest.mark.parametrize("lie", ["foreign file", "not json", "wrong format", "listed twice",
                                 "cut short", "too big"])
def test_a_lying_part_manifest_is_refused_and_nothing_is_served(
        origin: tuple[Published, Night], tmp_path: Path, lie: str) -> None:
    published = origin[0]
    top = manifest(published.archive, 2)
    part = top["manifests"][0]["path"]
    raw = published.archive.read(ELECTION, f"g/2/{part}")
    body = json.loads(raw)
    lines = body["files"]
    if lie == "foreign file":  # a part manifest vouching for a file of another part
        body["files"] = lines + [{**lines[0], "path": "results.json"}]
        bad = json.dumps(body).encode()
    elif lie == "not json":
        bad = b"\xff{"
    elif lie == "wrong format":
        bad = json.dumps({**body, "format": FORMAT}).encode()
    elif lie == "listed twice":
        bad = json.dumps({**body, "files": lines + lines[:1]}).encode()
    elif lie == "cut short":
        bad = raw[: len(raw) // 2]
    else:
        bad = b" " * (9 * 1024 * 1024)
    fake = forged(published, {part: bad})
    mirror = mirror_of(tmp_path, fake)
    outcome = poll(mirror)
    assert outcome.startswith("refused:"), outcome
    assert mirror.archive.pointer(ELECTION) is None
    assert not (mirror.archive.results_dir(ELECTION) / "g" / "2").exists()
    found = asyncio.run(check(URL, transport=httpx.MockTransport(fake)))
    assert found is not None and found.findings, lie


def test_a_mirror_refuses_an_unknown_manifest_format(origin: tuple[Published, Night],
                                                     tmp_path: Path) -> None:
    published = origin[0]
    key = published.keyring.node_key
    top = {**manifest(published.archive, 2), "format": "https://example.org/v9"}
    jws = sign(json.dumps(top).encode(), key.key, key.kid).encode("ascii")
    fake = FakeOrigin(Published(published.dir, published.archive, published.keyring,
                                {2: pointer_bytes(top["election"], 2,
                                                  hashlib.sha256(jws).hexdigest(), "x")}))
    fake.replace["g/2/manifest.jws"] = jws
    mirror: Mirror = mirror_of(tmp_path, fake)
    outcome = poll(mirror)
    assert outcome.startswith("refused:") and "unknown format" in outcome


def _line(path: str, **over: object) -> dict[str, object]:
    return {"path": path, "sha256": H, "size": 1, "type": "text/csv", **over}


@pytest.mark.parametrize(("manifest_body", "says"), [
    ({"format": FORMAT, "files": "x"}, "not a list"),
    ({"format": FORMAT, "files": [_line("../x")]}, "bad file path"),
    ({"format": FORMAT, "files": [_line("manifest.jws")]}, "bad file path"),
    ({"format": FORMAT, "files": [_line("a", sha256="ABC")]}, "SHA-256"),
    ({"format": FORMAT, "files": [_line("a", size=True)]}, "size"),
    ({"format": FORMAT, "files": [_line("a", size=-1)]}, "size"),
    ({"format": FORMAT, "files": [_line("a", type="\n")]}, "type"),
    ({"format": FORMAT, "files": [_line("a"), _line("a")]}, "listed twice"),
    ({"format": FORMAT, "files": [], "manifests": [_line("c/l/p.q.manifest.json")]},
     "part manifest path"),
    ({"format": FORMAT, "files": [], "manifests": [_line("c/l.manifest.json")]},
     "part manifest path"),
    ({"format": FORMAT, "files": [_line("c/l/p.csv")],
      "manifests": [_line("c/l/p.manifest.json")]}, "beside its part manifest"),
    ({"files": []}, "unknown format"),
])
def test_a_malformed_listing_is_refused_with_a_reason(manifest_body: dict[str, Any],
                                                      says: str) -> None:
    with pytest.raises(ListingError, match=says):
        Listing.of(manifest_body)


def test_a_v1_manifest_has_no_part_manifests_even_if_it_names_some() -> None:
    listing = Listing.of({"format": FORMAT_V1, "files": [_line("c/l/p.csv")],
                          "manifests": [_line("c/l/p.manifest.json")]})
    assert list(listing.files) == ["c/l/p.csv"] and listing.manifests == {}


def test_a_static_copy_links_what_generations_share(origin: tuple[Published, Night],
                                                    tmp_path: Path) -> None:
    archive = origin[0].archive
    site = tmp_path / "site"
    (site / ELECTION / "results" / "g" / ".2.partial").mkdir(parents=True)  # a cut copy
    assert archive.copy_to(site) == [ELECTION]
    # Every file at the path it is served at (generation 1 in the old layout here,
    # generation 2 from objects): the same bytes as the node serves.
    for n in (1, 2):
        folder = generation_dir(Archive(site), n)
        files = {p.relative_to(folder).as_posix(): p.read_bytes()
                 for p in folder.rglob("*") if p.is_file() and p.name != "manifest.jws"}
        assert files == on_disk(archive, n)
        assert (folder / "manifest.jws").read_bytes() == \
            archive.read(ELECTION, f"g/{n}/manifest.jws")
    one, two = everything(archive, 1), everything(archive, 2)
    shared = [p for p, line in two.items() if one.get(p) == line]
    assert len(shared) > len(two) / 2
    there = generation_dir(Archive(site), 1)
    for path in shared:  # what generations share is one file on the site too
        assert (there / path).samefile(generation_dir(Archive(site), 2) / path)
    assert not (site / ELECTION / "results" / "g" / ".2.partial").exists()


def test_a_part_manifest_that_trickles_times_out_and_the_last_generation_stays(
        origin: tuple[Published, Night], tmp_path: Path) -> None:
    published = origin[0]
    fake = FakeOrigin(published, pointer=1)
    assert poll(mirror_of(tmp_path, fake)) == "generation 1"
    part = manifest(published.archive, 2)["manifests"][0]["path"]  # generation 1 had none
    fake.pointer, fake.slow_paths = 2, {f"g/2/{part}"}
    outcome = poll(mirror_of(tmp_path, fake, timeout=0.5))
    assert outcome.startswith("unreachable") and "within 0.5 s" in outcome
    mirror = mirror_of(tmp_path, fake)
    served = mirror.archive.pointer(ELECTION)
    assert served is not None and served.generation == 1
    assert not (mirror.archive.results_dir(ELECTION) / "g" / "2").exists()
    fake.slow_paths = set()  # the origin recovers: the mirror catches up
    assert poll(mirror_of(tmp_path, fake)) == "generation 2"



def test_a_small_election_lists_every_file_in_its_manifest(tmp_path: Path) -> None:
    night = Night(BASE)
    night.report(0, range(STATIONS), 12)
    archive = Archive(tmp_path / "publication")
    publisher = Publisher(night, archive, Keyring.open(tmp_path, production=False), base=BASE, interval=0,
                          part_units=1000)  # 24 stations: no level is split
    publisher.publish_once(force=True)
    top = manifest(archive, 1)
    assert top["format"] == FORMAT and top["manifests"] == []
    assert {f["path"] for f in top["files"]} == set(on_disk(archive, 1))


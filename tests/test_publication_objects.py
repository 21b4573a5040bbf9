"""Generation files stored once by content (issue 15): ``results/objects/{h[:2]}/{h}``.

A generation's folder holds its signed manifest only; every file is the object of its
SHA-256, written once: a generation writes the objects of what changed and nothing for
the rest. What is served (the shelf, as the results routes serve it) is the bytes of the
manifest's hash; generations written before objects (every file in ``g/{n}/``) are still
served and continued from; a publisher killed with SIGKILL while it writes leaves the
generation the pointer names whole, and a new one continues the chain from it.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ddsnode.publication.archive import Archive
from ddsnode.publication.generation import build
from ddsnode.publication.keyring import Keyring
from ddsnode.publication.listing import Listing, expand, manifest_payload
from ddsnode.publication.publisher import Publisher, manifest_hash
from ddsnode.publication.shelf import Shelf
from tests.support.node import REPO
from tests.test_publication import ELECTION
from tests.test_publication_parts import (
    STATIONS,
    generation_dir,
    listed_of,
    objects_of,
    only_manifest,
    publish,
)

BASE = "http://127.0.0.1:9/"


def served_everything(archive: Archive, n: int) -> int:
    """Serve every file generation ``n`` lists through a fresh shelf; check each body and
    its gzip twin against the manifest's hash and size. Returns the files served."""
    shelf = Shelf(archive, 1 << 20)
    listed = listed_of(archive, n)
    for path, line in listed.items():
        served = shelf.file(ELECTION, f"g/{n}/{path}")
        assert served is not None, path
        assert served.etag == f'"{line.sha256}"' and len(served.body) == line.size
        assert hashlib.sha256(served.body).hexdigest() == line.sha256, path
        if path + ".gz" in listed:
            assert served.gz is not None and \
                hashlib.sha256(served.gz).hexdigest() == listed[path + ".gz"].sha256
    return len(listed)


def test_a_generation_writes_the_objects_of_what_changed_and_nothing_else(
        tmp_path: Path) -> None:
    night, publisher = publish(tmp_path)
    for contest in (0, 1):
        night.report(contest, range(STATIONS), 40)
    publisher.publish_once(force=True)
    archive = publisher.archive
    first = objects_of(archive)
    one = listed_of(archive, 1)
    assert first == {line.sha256 for line in one.values()}  # each distinct file once
    stamps = {h: os.stat(archive.objects(ELECTION).path(h)).st_mtime_ns for h in first}
    night.report(1, range(7, 8), 41)  # one station of contest 1 corrects
    [second] = publisher.publish_once(force=True)
    two = listed_of(archive, 2)
    new = objects_of(archive) - first
    changed = {p for p, line in two.items() if one.get(p) != line}
    # The new objects are exactly the changed files' (the station's part, the contest's
    # total, the snapshot, the diff, their twins and the part manifest), a few of many.
    assert new == {two[p].sha256 for p in changed}
    assert 0 < len(new) < len(two) / 5
    # The others were neither written again nor touched, and the generation's folder
    # holds its manifest only.
    for h in first & {line.sha256 for line in two.values()}:
        assert os.stat(archive.objects(ELECTION).path(h)).st_mtime_ns == stamps[h]
    assert only_manifest(archive, 1) and only_manifest(archive, 2)
    assert not [p for p in (archive.results_dir(ELECTION) / "objects").rglob(".*")]
    # What is served is what the manifest says, for both generations.
    assert served_everything(archive, 1) == len(one)
    assert served_everything(archive, 2) == len(two)
    assert second.number == 2


def test_writing_the_same_generation_again_writes_no_object(tmp_path: Path) -> None:
    keyring = Keyring.open(tmp_path, production=False)
    records = {(f"{BASE}elections/c0", f"{BASE}places/s{n}"): {
        "contest": f"{BASE}elections/c0", "unit": f"{BASE}places/s{n}",
        "level": "polling-place", "counts": [[f"{BASE}elections/c0#a", n]],
        "ballotsCast": n, "blank": 0, "invalid": 0, "registered": 100,
        "stationsReported": 1, "stationsTotal": 1, "status": "unofficialPartial",
        "asOf": "2026-06-07T20:00:00Z"} for n in range(30)}
    made = build(BASE + ELECTION, 1, None, {}, records, key=keyring.node_key,
                 generated="2026-06-07T20:00:01Z", part_units=8)
    archive = Archive(tmp_path / "publication")
    written = archive.write_generation(ELECTION, 1, made.files, made.jws, None)
    distinct = {hashlib.sha256(b).hexdigest() for b in made.files.values()}
    assert written.files == len(made.files) and written.objects == len(distinct)
    assert written.bytes == sum(len(b) for b in {hashlib.sha256(b).hexdigest(): b
                                                 for b in made.files.values()}.values())
    # Generation 2 with the same files (a fresh archive: nothing known in memory, every
    # object looked up on disk): not one object written.
    again = Archive(tmp_path / "publication").write_generation(ELECTION, 2, made.files,
                                                               made.jws, None)
    assert again.objects == 0 and again.bytes == 0 and again.files == len(made.files)
    # And by their hashes only (what the publisher passes for unchanged files).
    listing = made.listing or {}
    third = archive.write_generation(ELECTION, 3, {}, made.jws, None,
                                     unchanged={p: listing[p][0] for p in made.files})
    assert third.objects == 0 and third.files == len(made.files)


def test_a_corrupted_object_is_not_served(tmp_path: Path) -> None:
    night, publisher = publish(tmp_path)
    night.report(0, range(STATIONS), 40)
    publisher.publish_once(force=True)
    archive = publisher.archive
    line = listed_of(archive, 1)["results.json"]
    Path(archive.objects(ELECTION).path(line.sha256)).write_bytes(b'{"forged":1}\n')
    assert Shelf(archive, 1 << 20).file(ELECTION, "g/1/results.json") is None
    assert Shelf(archive, 1 << 20).file(ELECTION, "g/1/diff.json") is not None


def to_old_layout(archive: Archive, n: int) -> dict[str, bytes]:
    """Generation ``n`` (the only one) as releases before objects stored it: every file
    in ``g/{n}/``, no objects. Returns the files."""
    files = {p: archive.read(ELECTION, f"g/{n}/{p}") for p in listed_of(archive, n)}
    for path, body in files.items():
        (generation_dir(archive, n) / path).parent.mkdir(parents=True, exist_ok=True)
        (generation_dir(archive, n) / path).write_bytes(body)
    for folder in sorted((archive.results_dir(ELECTION) / "objects").rglob("*"),
                         reverse=True):
        folder.unlink() if folder.is_file() else folder.rmdir()
    return files


def test_a_generation_written_before_objects_is_served_and_continued(
        tmp_path: Path) -> None:
    night, publisher = publish(tmp_path)
    for contest in (0, 1):
        night.report(contest, range(STATIONS), 40)
    publisher.publish_once(force=True)
    files = to_old_layout(publisher.archive, 1)
    assert objects_of(publisher.archive) == set()
    # A new process (a fresh archive): generation 1 is read from its folder.
    archive = Archive(publisher.archive.root)
    assert served_everything(archive, 1) == len(files)
    assert {p: archive.read(ELECTION, f"g/1/{p}") for p in files} == files
    # A restarted publisher continues the chain; generation 2's unchanged files become
    # objects by hard links to generation 1's (nothing copied), its new files are written.
    again = Publisher(night, archive, publisher.keyring, base=BASE, interval=0, part_units=8)
    night.report(0, range(2, 3), 44)
    [second] = again.publish_once(force=True)
    top = manifest_payload(archive.read(ELECTION, "g/2/manifest.jws"))
    assert top["previous"] == manifest_hash(archive.read(ELECTION, "g/1/manifest.jws"))
    two = listed_of(archive, 2)
    kept = [p for p, line in two.items() if p in files and
            hashlib.sha256(files[p]).hexdigest() == line.sha256]
    assert len(kept) > len(two) / 2
    for path in kept:
        assert Path(archive.objects(ELECTION).path(two[path].sha256)).samefile(
            generation_dir(archive, 1) / path)
    assert only_manifest(archive, 2) and second.number == 2
    assert served_everything(archive, 2) == len(two)
    assert served_everything(archive, 1) == len(files)  # still served, as it was


def test_a_generation_never_switched_to_is_not_served_and_is_written_again(
        tmp_path: Path) -> None:
    night, publisher = publish(tmp_path)
    night.report(0, range(STATIONS), 40)
    publisher.publish_once(force=True)
    archive = publisher.archive
    # What a crash leaves: generation 2's folder without the pointer's switch, a half
    # written temporary object, and a folder being written.
    jws = archive.read(ELECTION, "g/1/manifest.jws")
    (generation_dir(archive, 2)).mkdir()
    (generation_dir(archive, 2) / "manifest.jws").write_bytes(jws)
    stray = archive.results_dir(ELECTION) / "objects" / "ab" / (".ab" + "0" * 62 + ".tmp")
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"half")
    (archive.results_dir(ELECTION) / "g" / ".3.partial").mkdir()
    shelf = Shelf(archive, 1 << 20)
    assert shelf.file(ELECTION, "g/2/manifest.jws") is None
    assert shelf.file(ELECTION, "g/2/results.json") is None
    night.report(0, range(1, 2), 41)
    [second] = Publisher(night, Archive(archive.root), publisher.keyring, base=BASE,
                         interval=0, part_units=8).publish_once(force=True)
    assert second.number == 2
    assert archive.read(ELECTION, "g/2/manifest.jws") == second.jws
    assert served_everything(Archive(archive.root), 2) == len(listed_of(archive, 2))


CHILD = """
import sys
from pathlib import Path
sys.path.insert(0, {repo!r})
from tests.test_publication_parts import STATIONS, publish
night, publisher = publish(Path({root!r}), {base!r})
n = 0
while True:
    night.report(n % 2, range(STATIONS), 40 + n)
    for g in publisher.publish_once(force=True):
        print(g.number, flush=True)
    n += 1
"""


@pytest.mark.slow
def test_sigkill_while_writing_leaves_the_current_generation_whole(tmp_path: Path) -> None:
    root = tmp_path / "node"
    root.mkdir()
    seen: list[int] = []
    for round_ in range(4):
        with subprocess.Popen(
                [sys.executable, "-c", CHILD.format(repo=str(REPO), root=str(root),
                                                    base=BASE)],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                cwd=REPO) as child:
            assert child.stdout is not None
            numbers = [int(child.stdout.readline()) for _ in range(2 + round_)]
            time.sleep(0.003 * (1 + round_))  # somewhere inside a later generation
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
        archive = Archive(root / "publication")
        pointer = archive.pointer(ELECTION)
        assert pointer is not None and pointer.generation >= numbers[-1]
        assert not seen or pointer.generation > seen[-1]
        seen.append(pointer.generation)
        # The generation the pointer names is whole: its manifest is the one the pointer
        # hashes, and every file it lists is served with the listed bytes.
        jws = archive.read(ELECTION, pointer.manifest)
        assert hashlib.sha256(jws).hexdigest() == pointer.manifest_sha256
        assert served_everything(archive, pointer.generation) > STATIONS
        number = pointer.generation
        listing = expand(Listing.of(manifest_payload(jws)),
                         lambda p: archive.read(ELECTION, f"g/{number}/{p}"))
        diff = json.loads(archive.read(ELECTION, f"g/{number}/diff.json"))
        assert diff["generation"] == number and "results.json" in listing
    # The chain holds across the kills: each manifest names the one before it.
    archive = Archive(root / "publication")
    for n in range(2, seen[-1] + 1):
        top = manifest_payload(archive.read(ELECTION, f"g/{n}/manifest.jws"))
        assert top["previous"] == manifest_hash(archive.read(ELECTION,
                                                             f"g/{n - 1}/manifest.jws"))

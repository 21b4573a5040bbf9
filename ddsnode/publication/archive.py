"""Generations on disk, served by path, with the pointer switched last.

Under the node directory's ``publication/`` (``paths.PUBLICATION_DIR``) each election has
``{election}/results/current`` (the pointer), ``{election}/results/g/{n}/manifest.jws``
(each generation's signed manifest) and ``{election}/results/objects/`` (every file of
every generation, stored once by its SHA-256: :mod:`ddsnode.publication.objects`),
``{election}`` being the election's path on the node. A file ``g/{n}/{path}`` is found
through generation n's manifest (and, format v2, the part manifest that lists it) to its
object. Generations written before objects hold their files in ``g/{n}/`` themselves (as
served, hard-linked from one generation to the next); they are read as they are.

Writing a generation: its new objects (written, made durable, then named), then its
manifest in a hidden folder, all made durable, the folder renamed to ``g/{n}`` (atomic),
and only then is the pointer replaced (temporary file + ``os.replace``, POSIX rename(2)
is atomic): a reader following the pointer never finds a file missing or from another
generation. ``ddsnode publish --static`` writes the files out as served (:meth:`copy_to`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ddsnode import paths
from ddsnode.files import fsync_path, replace_durably
from ddsnode.lru import LRU
from ddsnode.publication.listing import (
    FILE_PATH,
    MANIFEST,
    Line,
    Listing,
    manifest_payload,
    parse_part,
    part_manifest_for,
)
from ddsnode.publication.objects import OBJECTS, Objects

POINTER = "current"
RESULTS = "results"
#: An election path as the node serves it: segments of safe characters, no dot segment.
ELECTION_PATH = re.compile(r"^(?!.*(?:^|/)\.)[A-Za-z0-9._~-]+(?:/[A-Za-z0-9._~-]+)*$")
#: Parsed manifest lines kept to resolve paths (of manifests and of part manifests,
#: each), as :data:`ddsnode.publication.shelf.MAX_LINES`.
MAX_LINES = 100_000
__all__ = ["ELECTION_PATH", "FILE_PATH", "POINTER", "RESULTS", "Archive", "ArchiveError",
           "Pointer", "Written", "pointer_bytes"]


class ArchiveError(ValueError):
    """A path that is not an election's, or a pointer that cannot be read."""


@dataclass(frozen=True)
class Written:
    """What writing a generation cost: of the files it lists, how many objects were
    written (and their bytes), and how many files of a generation written before
    objects were taken as objects (once, after an upgrade); the rest were stored."""

    files: int
    objects: int
    bytes: int
    adopted: int


@dataclass(frozen=True)
class Pointer:
    """``{election}/results/current``: the generation a reader should fetch now."""

    election: str  # the election IRI
    generation: int
    manifest: str  # relative to the pointer's URL: ``g/{n}/manifest.jws``
    manifest_sha256: str
    generated: str
    raw: bytes

    @classmethod
    def parse(cls, raw: bytes) -> Pointer:
        """A pointer from its bytes; ArchiveError when malformed."""
        try:
            data = json.loads(raw)
            pointer = cls(str(data["election"]), int(data["generation"]),
                          str(data["manifest"]), str(data["manifestSha256"]),
                          str(data["generatedAt"]), raw)
        except (ValueError, KeyError, TypeError):
            raise ArchiveError("the pointer is not a results pointer (JSON with election, "
                               "generation, manifest, manifestSha256, generatedAt)") from None
        if pointer.generation < 1 or pointer.manifest != f"g/{pointer.generation}/manifest.jws":
            raise ArchiveError("the pointer's generation and manifest do not agree")
        return pointer


def pointer_bytes(election: str, generation: int, manifest_sha256: str, generated: str) -> bytes:
    """The pointer file's bytes."""
    body: dict[str, Any] = {"election": election, "generation": generation,
                            "manifest": f"g/{generation}/manifest.jws",
                            "manifestSha256": manifest_sha256, "generatedAt": generated}
    return json.dumps(body, indent=1, sort_keys=True).encode("utf-8") + b"\n"


class Archive:
    """The ``publication/`` tree of one node directory (or of a static site)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # Listings of generations and part manifests, to resolve a path to its object.
        self._listings: LRU[Listing] = LRU(MAX_LINES, lambda ln: len(ln.files) +
                                           len(ln.manifests) + 1)
        self._parts: LRU[dict[str, Line]] = LRU(MAX_LINES, lambda p: len(p) + 1)
        # election path -> SHA-256s known stored (the last generations written here):
        # an unchanged file is then not even looked up on disk.
        self._stored: dict[str, frozenset[str]] = {}

    @classmethod
    def of(cls, node_dir: Path) -> Archive:
        """The archive of a node directory."""
        return cls(node_dir / paths.PUBLICATION_DIR)

    def results_dir(self, election_path: str) -> Path:
        """``{root}/{election}/results``; ArchiveError for a path that is not clean."""
        if not ELECTION_PATH.match(election_path) or len(election_path) > 512:
            raise ArchiveError(f"{election_path[:100]!r} is not an election path")
        return self.root / election_path / RESULTS

    def pointer(self, election_path: str) -> Pointer | None:
        """The current pointer, or None before the first generation."""
        try:
            raw = (self.results_dir(election_path) / POINTER).read_bytes()
        except FileNotFoundError:
            return None
        return Pointer.parse(raw)

    def objects(self, election_path: str) -> Objects:
        """The objects of ``election_path``'s generations."""
        return Objects(self.results_dir(election_path) / OBJECTS)

    def read(self, election_path: str, relative: str) -> bytes:
        """A file under ``{election}/results/`` (``g/3/diff.json``), in either layout;
        FileNotFoundError when the generation does not hold it here."""
        prefix, _, rest = relative.partition("/")
        number, _, path = rest.partition("/")
        if prefix != "g" or not number.isdigit() or len(number) > 12 or \
                not (FILE_PATH.match(path) or path == MANIFEST):
            raise FileNotFoundError(relative)
        folder = f"{os.fspath(self.results_dir(election_path))}/g/{int(number)}"
        if path == MANIFEST:
            return Path(f"{folder}/{MANIFEST}").read_bytes()
        line = self.line(election_path, int(number), path)
        if line is None:
            raise FileNotFoundError(relative)
        return self.fetch(election_path, int(number), path, line.sha256)

    def fetch(self, election_path: str, number: int, path: str, digest: str) -> bytes:
        """The bytes of ``path`` of generation ``number``, listed with ``digest``: its
        object, or its file in the generation's folder (written before objects)."""
        try:
            return self.objects(election_path).read(digest)
        except FileNotFoundError:
            pass
        folder = self.results_dir(election_path) / "g" / str(number)
        try:
            return (folder / path).read_bytes()
        except (IsADirectoryError, NotADirectoryError):
            raise FileNotFoundError(path) from None

    def line(self, election_path: str, number: int, path: str) -> Line | None:
        """Generation ``number``'s line for ``path`` (its manifest's, or its part
        manifest's), or None when it lists no such file. FileNotFoundError when the
        generation (or the part manifest) is not here; ListingError when malformed."""
        manifest = self.results_dir(election_path) / "g" / str(number) / MANIFEST
        # Keyed by the manifest file too: a generation written but never switched to may
        # be written again (a publisher or mirror that stopped before the pointer).
        seen = os.stat(manifest)

        def listed() -> Listing:
            return Listing.of(manifest_payload(manifest.read_bytes()))
        listing = self._listings.get_or_make(
            (election_path, number, seen.st_ino, seen.st_mtime_ns, seen.st_size), listed)
        found = listing.files.get(path) or listing.manifests.get(path)
        if found is not None:
            return found
        part = part_manifest_for(path)
        head = listing.manifests.get(part) if part else None
        if part is None or head is None:
            return None
        part_path = part

        def lines() -> dict[str, Line]:
            raw = self.fetch(election_path, number, part_path, head.sha256)
            return parse_part(part_path, raw, head)
        return self._parts.get_or_make(head.info, lines).get(path)

    def write_generation(self, election_path: str, number: int, files: Mapping[str, bytes],
                         manifest_jws: bytes, pointer: bytes | None, *,
                         link_from: int | None = None,
                         unchanged: Mapping[str, str] | None = None) -> Written:
        """Write generation ``number`` (the objects of ``files``, then its manifest), then
        switch the pointer (``None``: leave it, for a generation a mirror keeps only the
        diff of). ``unchanged`` (path -> SHA-256) are files of the generation whose bytes
        are stored already: nothing is written for them, unless generation ``link_from``
        was written before objects, whose file then becomes the object (a hard link)."""
        results = self.results_dir(election_path)
        generations = results / "g"
        generations.mkdir(parents=True, exist_ok=True)
        final = generations / str(number)
        temp = generations / f".{number}.partial"
        shutil.rmtree(temp, ignore_errors=True)
        batch = self.objects(election_path).batch()
        for path in sorted(files):
            if not FILE_PATH.match(path):
                raise ArchiveError(f"{path[:100]!r} is not a generation file path")
            batch.add(files[path])
        stored = self._stored.get(election_path, frozenset())
        adopted = 0
        for path, digest in sorted((unchanged or {}).items()):
            if path in files or digest in stored or digest in batch.digests:
                continue
            if not FILE_PATH.match(path):
                raise ArchiveError(f"{path[:100]!r} is not a generation file path")
            if batch.objects.has(digest):
                batch.digests.add(digest)
                continue
            if link_from is None:
                raise ArchiveError(f"{path[:100]!r}: no bytes and nothing to link from")
            batch.adopt(f"{os.fspath(generations)}/{link_from}/{path}", digest)
            adopted += 1
        batch.commit()  # the objects are durable before their names exist
        temp.mkdir(parents=True)
        Path(f"{os.fspath(temp)}/{MANIFEST}").write_bytes(manifest_jws)
        # The objects' names and the manifest durable before the rename and the pointer
        # (which refer to them): their folders and the manifest fsynced, not a second
        # syncfs, which would also flush whatever else the node (the store, the intake's
        # log) and the machine wrote meanwhile.
        batch.sync_names()
        fsync_path(f"{os.fspath(temp)}/{MANIFEST}")
        fsync_path(temp)
        if final.exists():
            # Written by a run that stopped before switching the pointer: never served.
            shutil.rmtree(final)
        os.replace(temp, final)
        fsync_path(generations)
        # Bounded by one generation's files: the next one shares most of them.
        self._stored[election_path] = frozenset(batch.digests |
                                                set((unchanged or {}).values()))
        if pointer is not None:
            self.switch(election_path, pointer)
        return Written(len(files.keys() | (unchanged or {}).keys()), batch.written,
                       batch.written_bytes, adopted)

    def switch(self, election_path: str, pointer: bytes) -> None:
        """Replace the pointer atomically (the last step of a generation)."""
        replace_durably(self.results_dir(election_path) / POINTER, pointer)

    def elections(self) -> list[str]:
        """The election paths that have a pointer."""
        if not self.root.is_dir():
            return []
        out = []
        for folder, subdirs, _ in os.walk(self.root):
            here = Path(folder)
            if here.name == RESULTS and (here / POINTER).is_file():
                subdirs.clear()  # the generations below are no elections
                election_path = here.parent.relative_to(self.root).as_posix()
                if ELECTION_PATH.match(election_path):
                    out.append(election_path)
                continue
            subdirs[:] = [d for d in subdirs if not d.startswith(".")]
        return sorted(out)

    def copy_to(self, target: Path) -> list[str]:
        """Write every election's generations and pointer under ``target`` (a static
        site), each file at the path it is served at: generations first, pointers last,
        like a publication. Returns the election paths.

        A generation is copied into a hidden folder and renamed whole (a copy cut short
        is done again at the next run, never left half there); a file with the same
        bytes as in the previous generation there is a hard link to it, so the site
        grows by what changed. A file this node does not hold (a mirror keeps only the
        diffs of the generations it walked over) is not written."""
        done = self.elections()
        for election_path in done:
            source = self.results_dir(election_path) / "g"
            dest = target / election_path / RESULTS / "g"
            dest.mkdir(parents=True, exist_ok=True)
            previous: int | None = None
            listed: dict[str, Line] | None = None  # previous's files, when read
            for number in sorted(int(g.name) for g in source.iterdir() if g.name.isdigit()):
                if (dest / str(number)).exists():
                    listed = None  # copied by an earlier run: read if the next needs it
                else:
                    before = None
                    if previous is not None:
                        before = (previous, listed if listed is not None else
                                  self.listed(election_path, previous))
                    listed = self.listed(election_path, number)
                    self._copy_generation(election_path, dest, number, listed, before)
                previous = number
        for election_path in done:
            raw = (self.results_dir(election_path) / POINTER).read_bytes()
            Archive(target).switch(election_path, raw)
        return done

    def listed(self, election_path: str, number: int) -> dict[str, Line]:
        """path -> line of every file generation ``number`` lists (part manifests
        included), but those of part manifests this node does not hold."""
        listing = Listing.of(manifest_payload(
            self.read(election_path, f"g/{number}/{MANIFEST}")))
        out = {**listing.files, **listing.manifests}
        for path, head in listing.manifests.items():
            try:
                out.update(parse_part(path, self.fetch(election_path, number, path,
                                                       head.sha256), head))
            except FileNotFoundError:
                continue
        return out

    def _copy_generation(self, election_path: str, dest: Path, number: int,
                         listed: dict[str, Line],
                         before: tuple[int, dict[str, Line]] | None) -> None:
        temp = dest / f".{number}.partial"
        shutil.rmtree(temp, ignore_errors=True)
        temp.mkdir(parents=True)
        (temp / MANIFEST).write_bytes(self.read(election_path, f"g/{number}/{MANIFEST}"))
        objects = self.objects(election_path)
        here = self.results_dir(election_path) / "g" / str(number)
        made: set[str] = set()
        for path, line in sorted(listed.items()):
            folder = path.rpartition("/")[0]
            if folder not in made:
                (temp / folder).mkdir(parents=True, exist_ok=True)
                made.add(folder)
            out = temp / path
            if before is not None and before[1].get(path) == line:
                try:
                    os.link(dest / str(before[0]) / path, out)
                    continue
                except OSError:
                    pass  # not there, or no hard links on the target: a copy
            source = objects.path(line.sha256)
            if not os.path.exists(source):
                source = os.fspath(here / path)  # written before objects
            try:
                shutil.copyfile(source, out)
            except FileNotFoundError:
                continue  # not held here (a generation a mirror walked over)
        os.replace(temp, dest / str(number))

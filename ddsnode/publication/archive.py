"""Generations on disk, laid out as they are served, with the pointer switched last.

Under the node directory's ``publication/`` (``paths.PUBLICATION_DIR``) each election has
``{election}/results/current`` (the pointer) and ``{election}/results/g/{n}/…`` (the
files), ``{election}`` being the election's path on the node: the tree is the static
site ``ddsnode publish --static`` copies. A generation is written into a hidden
directory, every file and the directory fsynced, renamed to ``g/{n}`` (atomic), and only
then is the pointer replaced (temporary file + ``os.replace``, POSIX rename(2) is atomic):
a reader following the pointer never finds a file missing or from another generation.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ddsnode import paths
from ddsnode.files import fsync_dir, replace_durably

POINTER = "current"
RESULTS = "results"
#: An election path as the node serves it: segments of safe characters, no dot segment.
ELECTION_PATH = re.compile(r"^(?!.*(?:^|/)\.)[A-Za-z0-9._~-]+(?:/[A-Za-z0-9._~-]+)*$")
#: At most three segments: ``{contest}/{level}/{part}.csv`` (docs/election-night.md, Parts).
FILE_PATH = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*){0,2}$")


class ArchiveError(ValueError):
    """A path that is not an election's, or a pointer that cannot be read."""


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


def _write(path: Path, data: bytes, *, sync: bool = True) -> None:
    with path.open("wb") as f:
        f.write(data)
        if sync:
            f.flush()
            os.fsync(f.fileno())


@functools.cache
def _libc_syncfs() -> Any:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").syncfs
    except (OSError, AttributeError):
        return None


def _syncfs(folder: Path) -> bool:
    """syncfs(2) on ``folder``'s file system: one call makes every file written there
    durable, where an fsync per file cost about 4 ms each on the shared machine (38 s
    for the 10,000 files of a 2,000-station × 5-contest generation). False when the C
    library has none (then each file is fsynced)."""
    syncfs = _libc_syncfs()
    if syncfs is None:
        return False
    fd = os.open(folder, os.O_RDONLY)
    try:
        return bool(syncfs(fd) == 0)
    finally:
        os.close(fd)


def _copy_generation(source: Path, dest: Path, number: int, before: int | None) -> None:
    """Copy ``source/{number}`` to ``dest/{number}``, linking what it shares with
    ``before`` (the same inode in ``source``) to ``dest/{before}``'s copy."""
    temp = dest / f".{number}.partial"
    shutil.rmtree(temp, ignore_errors=True)
    here = source / str(number)
    for folder, _, names in os.walk(here):
        relative = Path(folder).relative_to(here)
        (temp / relative).mkdir(parents=True, exist_ok=True)
        for name in names:
            src = Path(folder) / name
            out = temp / relative / name
            if before is not None:
                old = source / str(before) / relative / name
                copied = dest / str(before) / relative / name
                try:
                    if os.path.samefile(src, old):
                        os.link(copied, out)
                        continue
                except OSError:
                    pass  # not there, or no hard links on the target: a copy
            shutil.copyfile(src, out)
    os.replace(temp, dest / str(number))


class Archive:
    """The ``publication/`` tree of one node directory (or of a static site)."""

    def __init__(self, root: Path) -> None:
        self.root = root

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

    def read(self, election_path: str, relative: str) -> bytes:
        """A file under ``{election}/results/`` (``g/3/diff.json``); FileNotFoundError."""
        prefix, _, rest = relative.partition("/")
        number, _, rest = rest.partition("/")
        if prefix != "g" or not number.isdigit() or len(number) > 12 or \
                not (FILE_PATH.match(rest) or rest == "manifest.jws"):
            raise FileNotFoundError(relative)
        return (self.results_dir(election_path) / "g" / str(int(number)) / rest).read_bytes()

    def write_generation(self, election_path: str, number: int, files: dict[str, bytes],
                         manifest_jws: bytes, pointer: bytes | None, *,
                         link_from: int | None = None,
                         unchanged: frozenset[str] = frozenset()) -> None:
        """Write generation ``number`` (files, then its manifest), then switch the pointer
        (``None``: leave it, for a generation a mirror keeps only the diff of). Files in
        ``unchanged`` are hard links to generation ``link_from``'s (same bytes, no space;
        a generation's files are never modified in place, so sharing an inode is safe);
        their bytes may be left out of ``files``: without hard links they are copied."""
        results = self.results_dir(election_path)
        generations = results / "g"
        generations.mkdir(parents=True, exist_ok=True)
        final = generations / str(number)
        temp = generations / f".{number}.partial"
        shutil.rmtree(temp, ignore_errors=True)
        everything = {**files, "manifest.jws": manifest_jws}
        # Plain strings, not Path objects, in this loop: a generation of 20,000 stations
        # x 10 contests links about 22,600 unchanged files, and pathlib's joins and
        # parents cost 0.6 s of a 1.5 s generation (profiled). FILE_PATH admits only
        # relative paths of safe segments, so joining with "/" is exact.
        root = os.fspath(temp)
        source_root = os.fspath(generations / str(link_from)) if link_from is not None else ""
        made: set[str] = set()  # folders made, relative to temp ("" is temp itself)
        written: list[str] = []
        for relative in sorted(everything.keys() | unchanged):
            if not FILE_PATH.match(relative):
                raise ArchiveError(f"{relative[:100]!r} is not a generation file path")
            folder = relative.rpartition("/")[0]
            if folder not in made:
                os.makedirs(f"{root}/{folder}" if folder else root, exist_ok=True)
                made.add(folder)
            target = f"{root}/{relative}"
            if link_from is not None and relative in unchanged:
                source = f"{source_root}/{relative}"
                try:
                    os.link(source, target)
                    continue
                except OSError:
                    if relative not in everything:  # no hard links here: a copy
                        shutil.copyfile(source, target)
                        continue
            elif relative not in everything:
                raise ArchiveError(f"{relative[:100]!r}: no bytes and nothing to link from")
            _write(Path(target), everything[relative], sync=False)
            written.append(target)
        # Durable before the rename and the pointer: one syncfs, or an fsync per file.
        if written and not _syncfs(temp):
            for target in written:
                fd = os.open(target, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        for folder in made | {""}:
            fsync_dir(Path(f"{root}/{folder}" if folder else root))
        if final.exists():
            # Written by a run that stopped before switching the pointer: never served.
            shutil.rmtree(final)
        os.replace(temp, final)
        fsync_dir(generations)
        if pointer is not None:
            self.switch(election_path, pointer)

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
        """Copy every election's generations and pointer under ``target`` (a static site):
        generations first, pointers last, like a publication. Returns the election paths.

        A generation is copied into a hidden folder and renamed whole (a copy cut short
        is done again at the next run, never left half there); a file that is a hard
        link to the previous generation's here (unchanged: most files of a large
        election) is a hard link there too, so the site grows by what changed."""
        done = self.elections()
        for election_path in done:
            source = self.results_dir(election_path) / "g"
            dest = target / election_path / RESULTS / "g"
            dest.mkdir(parents=True, exist_ok=True)
            before: int | None = None
            for number in sorted(int(g.name) for g in source.iterdir() if g.name.isdigit()):
                if not (dest / str(number)).exists():
                    _copy_generation(source, dest, number, before)
                before = number
        for election_path in done:
            raw = (self.results_dir(election_path) / POINTER).read_bytes()
            Archive(target).switch(election_path, raw)
        return done

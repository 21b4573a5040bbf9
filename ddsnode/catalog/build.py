"""One build of the open-data files, switched in atomically, never seen half-written.

A build writes every file into a fresh hidden folder (``<node>/catalog/.tmp-…``),
fsyncs each, hashes each (SHA-256, for ``spdx:checksum`` and the ETag), writes its
``manifest.json``, renames the folder into place, and only then replaces the pointer
``catalog/current.json`` (write to a temporary file, fsync, ``os.replace``: POSIX
rename is atomic, so a reader sees the old pointer or the new one). A reader resolves
the pointer once and then reads that build's files only: during a rebuild it keeps
getting the previous complete build. The build before the current one is kept, so a
reader that resolved the pointer just before a switch still finds its files; older
builds are removed (a download already open keeps reading: POSIX keeps an unlinked
file's data until the last descriptor closes).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ddsnode import clock
from ddsnode.catalog import csvw
from ddsnode.catalog.dump import Slice, write_dumps
from ddsnode.catalog.elections import Election, write_elections
from ddsnode.catalog.terms import CSV, CSVW_METADATA, format_of
from ddsnode.files import fsync_path, replace_durably
from ddsnode.ldp.node import Node

FOLDER = "catalog"  # under the node directory
POINTER = "current.json"
MANIFEST = "manifest.json"
CHUNK = 1024 * 1024
STALE_TMP_SECONDS = 24 * 3600  # a build folder this old was abandoned


@dataclass(frozen=True)
class FileEntry:
    """One file of a build: its name, size and SHA-256 (hex)."""

    name: str
    size: int
    sha256: str

    @property
    def content_type(self) -> str:
        """The Content-Type it is served with."""
        return format_of(self.name).content_type


@dataclass(frozen=True)
class Build:
    """A complete build: where its files are, what they hold, up to which change."""

    id: str
    folder: Path
    seq: int  # the last change of the store's change log the build includes
    built: str  # when (clock.TIMESTAMP form)
    files: dict[str, FileEntry]
    slices: list[Slice]
    elections: list[Election]

    def path(self, name: str) -> Path | None:
        """The file called ``name`` of this build, or None (never a path outside it)."""
        return self.folder / name if name in self.files else None


def root_of(node_dir: Path) -> Path:
    """The folder of the builds of the node at ``node_dir``."""
    return node_dir / FOLDER


def latest_seq(node: Node, after: int = 0) -> int:
    """The sequence number of the store's latest change (``after`` if none is newer)."""
    while True:
        changes = node.store.changes(after=after, limit=1000)
        if not changes:
            return after
        after = changes[-1].seq


def _digest(path: Path) -> FileEntry:
    sha = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            sha.update(chunk)
        os.fsync(f.fileno())
    return FileEntry(path.name, path.stat().st_size, sha.hexdigest())


def build(node: Node, node_dir: Path, *, max_processes: int, issuer: str) -> Build:
    """Write a new build of ``node``'s files and make it the current one."""
    root = root_of(node_dir)
    root.mkdir(parents=True, exist_ok=True)
    seq = latest_seq(node)
    now = clock.now()
    build_id = now.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    tmp = root / f".tmp-{build_id}"
    tmp.mkdir()
    try:
        slices = _non_empty(tmp, write_dumps(node, tmp, max_processes=max_processes))
        for piece in slices:
            if piece.kind == "process":
                process = node.store.get(piece.subject)
                piece.title = process.index.title if process is not None else ""
        elections = write_elections(node, tmp, issuer=issuer)
        _write_dictionaries(node, tmp, slices, elections)
        files = {p.name: _digest(p) for p in sorted(tmp.iterdir())}
        manifest = {"id": build_id, "seq": seq, "built": clock.stamp(now),
                    "files": [asdict(f) for f in files.values()],
                    "slices": [asdict(s) for s in slices],
                    "elections": [asdict(e) for e in elections]}
        replace_durably(tmp / MANIFEST, json.dumps(manifest, ensure_ascii=False).encode())
        fsync_path(tmp)
        os.replace(tmp, root / build_id)
        fsync_path(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    previous = current_id(node_dir)
    replace_durably(root / POINTER, json.dumps({"build": build_id}).encode())
    _prune(root, keep={build_id, previous})
    loaded = load(node_dir)
    assert loaded is not None
    return loaded


def _non_empty(folder: Path, slices: list[Slice]) -> list[Slice]:
    """The slices with data (the whole node's always): an empty container is no dataset."""
    kept = []
    for piece in slices:
        if piece.count or piece.kind == "node":
            kept.append(piece)
        else:
            for name in piece.files:
                (folder / name).unlink()
    return kept


def _write_dictionaries(node: Node, folder: Path, slices: list[Slice],
                        elections: list[Election]) -> None:
    for piece in slices:
        name = f"{piece.key}.{CSV.key}"
        dictionary = f"{piece.key}.{CSVW_METADATA.key}"
        (folder / dictionary).write_bytes(csvw.resources_dictionary(
            download_url(node.base, name), f"{piece.title or piece.key} (CSV)"))
        piece.files.append(dictionary)
    for election in elections:
        name = f"{election.key}.{CSV.key}"
        if name in election.files:
            dictionary = f"{election.key}.{CSVW_METADATA.key}"
            title = next(iter(election.title.values()), election.key)
            (folder / dictionary).write_bytes(csvw.election_dictionary(
                download_url(node.base, name), title, election.csv_columns))
            election.files.append(dictionary)


def download_url(base: str, name: str) -> str:
    """The URL a file of the current build is downloaded from."""
    return f"{base}catalog/files?name={name}"


def _prune(root: Path, keep: set[str | None]) -> None:
    stale = time.time() - STALE_TMP_SECONDS
    for entry in root.iterdir():
        if not entry.is_dir():
            continue
        if entry.name.startswith(".tmp-"):
            # Left by a build that was killed; a build in progress elsewhere is younger.
            if entry.stat().st_mtime < stale:
                shutil.rmtree(entry, ignore_errors=True)
        elif entry.name not in keep:
            shutil.rmtree(entry, ignore_errors=True)


def current_id(node_dir: Path) -> str | None:
    """The id of the current build, or None before the first."""
    try:
        data: Any = json.loads((root_of(node_dir) / POINTER).read_text(encoding="utf-8"))
        return str(data["build"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load(node_dir: Path, build_id: str | None = None) -> Build | None:
    """The current build (or ``build_id``) as its manifest says, or None if there is none."""
    build_id = build_id or current_id(node_dir)
    if build_id is None:
        return None
    folder = root_of(node_dir) / build_id
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = {f["name"]: FileEntry(**f) for f in data["files"]}
    return Build(data["id"], folder, int(data["seq"]), data["built"], files,
                 [Slice(**s) for s in data["slices"]],
                 [Election(**e) for e in data["elections"]])

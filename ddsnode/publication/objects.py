"""Generation files stored once, by content: ``{election}/results/objects/{h[:2]}/{h}``.

``h`` is the SHA-256 (hex) of the file's bytes, the same hash the manifest lists. A file
that did not change from one generation to the next is the same object: nothing is
written, linked or copied for it, so the cost of a generation follows what changed, not
the size of the election (docs/election-night.md, "Objects"). A generation's folder
``g/{n}/`` holds only its signed manifest; its paths are resolved through the manifest
(:meth:`ddsnode.publication.archive.Archive.read`).

Durability, in a :class:`Batch`: new objects are written to temporary names
(``.{h}.tmp`` beside where they go), made durable together (one ``syncfs(2)``, or an
fsync each where the C library has none), and only then renamed to their hashes. An
object under its name is therefore whole after any crash; a temporary left by a crash is
never read, and is overwritten by the next batch that writes the same bytes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

from ddsnode.files import fsync_path

OBJECTS = "objects"


@functools.cache
def _libc_syncfs() -> Any:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").syncfs
    except (OSError, AttributeError):
        return None


def syncfs(folder: Path | str) -> bool:
    """syncfs(2) on ``folder``'s file system: one call makes every file written there
    durable, where an fsync per file cost about 4 ms each on the shared machine (38 s
    for the 10,000 files of a 2,000-station × 5-contest generation). False when the C
    library has none (then each file is fsynced)."""
    call = _libc_syncfs()
    if call is None:
        return False
    fd = os.open(folder, os.O_RDONLY)
    try:
        return bool(call(fd) == 0)
    finally:
        os.close(fd)



class Objects:
    """The objects of one election's results (``{election}/results/objects``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> str:
        """Where the object of ``digest`` is (whether or not it is there)."""
        return f"{os.fspath(self.root)}/{digest[:2]}/{digest}"

    def has(self, digest: str, size: int | None = None) -> bool:
        """Whether the object is stored (with ``size`` bytes, when given)."""
        try:
            found = os.stat(self.path(digest)).st_size
        except OSError:
            return False
        return size is None or found == size

    def read(self, digest: str) -> bytes:
        """The object's bytes; FileNotFoundError when it is not stored."""
        with open(self.path(digest), "rb") as f:
            return f.read()

    def batch(self) -> Batch:
        """A set of objects to write together (one generation's new files)."""
        return Batch(self)


class Batch:
    """New objects written to temporary names, made durable, then renamed (commit)."""

    def __init__(self, objects: Objects) -> None:
        self.objects = objects
        self.digests: set[str] = set()  # every object this batch holds, new or not
        self._staged: list[tuple[str, str]] = []  # (temporary, final)
        self._folders: set[str] = set()
        self._made = False  # a folder was created (its name too must be made durable)
        self.written = 0  # objects written (new bytes)
        self.written_bytes = 0
        self.linked = 0  # objects taken from a file of the layout before objects

    def _folder(self, digest: str) -> str:
        folder = f"{os.fspath(self.objects.root)}/{digest[:2]}"
        if folder not in self._folders:
            if not os.path.isdir(folder):
                os.makedirs(folder, exist_ok=True)
                self._made = True
            self._folders.add(folder)
        return folder

    def add(self, data: bytes) -> str:
        """Store ``data`` (unless it is stored already); returns its SHA-256."""
        digest = hashlib.sha256(data).hexdigest()
        if digest in self.digests:
            return digest
        self.digests.add(digest)
        if self.objects.has(digest, len(data)):
            return digest  # the same bytes as before: nothing to write
        temp = f"{self._folder(digest)}/.{digest}.tmp"
        with open(temp, "wb") as f:
            f.write(data)
        self._staged.append((temp, self.objects.path(digest)))
        self.written += 1
        self.written_bytes += len(data)
        return digest

    def adopt(self, source: str, digest: str) -> None:
        """Store, as the object ``digest``, the file ``source`` of a generation written
        before objects (same bytes, durable since that generation was written): a hard
        link when the file system allows it, else a copy made durable with the batch."""
        if digest in self.digests:
            return
        self.digests.add(digest)
        if self.objects.has(digest):
            return
        final = self.objects.path(digest)
        self._folder(digest)
        try:
            os.link(source, final)
            self.linked += 1
            return
        except FileExistsError:
            return
        except OSError:
            pass  # no hard links here (or across file systems): a copy
        temp = f"{self._folder(digest)}/.{digest}.tmp"
        shutil.copyfile(source, temp)
        self._staged.append((temp, final))
        self.written += 1

    def commit(self) -> None:
        """Make the new objects durable, then give them their names (made durable by
        :meth:`sync_names`, before anything that refers to them is switched)."""
        if not self._staged:
            return
        if not syncfs(self.objects.root):
            for temp, _ in self._staged:
                fsync_path(temp)
        for temp, final in self._staged:
            os.replace(temp, final)
        self._staged.clear()

    def sync_names(self) -> None:
        """Make the names :meth:`commit` gave durable: each folder written to fsynced
        (and, when folders were created, the folders that hold them)."""
        for folder in self._folders:
            fsync_path(folder)
        if self._made:
            fsync_path(os.fspath(self.objects.root))
            fsync_path(os.fspath(self.objects.root.parent))

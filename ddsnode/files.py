"""Files the node writes whole: never seen half-written, still there after a crash.

A reader opens either the old file or the new one: the bytes go to a temporary file in
the same folder, are flushed to disk (``fsync``), and take the file's name in one
``os.replace`` (rename(2) is atomic within a file system, POSIX.1-2017); the folder is
then flushed too, so the rename itself survives a power cut.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

__all__ = ["fsync_path", "replace_durably"]


def fsync_path(path: str | os.PathLike[str]) -> None:
    """Flush one file's bytes, or one folder's entries (the renames and creations made
    in it), to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_durably(path: Path, data: bytes, *, mode: int = 0o666) -> None:
    """Make ``data`` the content of ``path`` in one step, durably. ``mode`` is applied
    when the temporary file is created (0o600: the bytes are never on disk readable by
    others), before the umask."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_path(path.parent)

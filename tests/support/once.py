"""Install something into a shared cache once, even with several test processes at once.

pytest-xdist runs the suite in several worker processes (``scripts/test -n auto``); two of
them may both find ``~/.cache/ddsnode-judges/parsers`` missing and run ``npm install``
into it together, which leaves a broken ``node_modules``. :func:`installed_once` holds an
exclusive ``flock`` on ``<folder>.lock`` while it checks the ``.ok`` marker and installs,
so the second process waits and then finds the marker.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable
from pathlib import Path


def installed_once(folder: Path, install: Callable[[Path], None]) -> Path:
    """Run ``install(folder)`` unless ``folder/.ok`` exists, one process at a time."""
    if (folder / ".ok").is_file():  # the common case: no lock needed
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f"{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (folder / ".ok").is_file():
            folder.mkdir(parents=True, exist_ok=True)
            install(folder)
            (folder / ".ok").touch()
    return folder

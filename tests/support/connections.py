"""Every outbound ``socket.connect`` a block of code makes, seen by one audit hook.

An audit hook (PEP 578) cannot be removed once added, so the process gets one, added the
first time this module is imported, whichever test modules use it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_seen: list[Any] = []
_watching: list[bool] = [False]


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "socket.connect" and _watching[0]:
        _seen.append(args[1])


sys.addaudithook(_audit)


@contextmanager
def connections() -> Iterator[list[Any]]:
    """The addresses connected to while the block runs (filled as it runs)."""
    found: list[Any] = []
    _seen.clear()
    _watching[0] = True
    try:
        yield found
    finally:
        _watching[0] = False
        found.extend(_seen)
        _seen.clear()

"""Schema migrations, the same steps for every SQL backend (SQLite, PostgreSQL).

A store records its schema version; opening it runs the statements of every step after
that version, in one transaction the caller holds, then the (idempotent) DDL. A store
written by a newer ddsnode is refused rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["migrate", "statements"]


def statements(script: str) -> list[str]:
    """The statements of an SQL script, comments dropped, one by one (SQLite's
    executescript() would COMMIT the caller's transaction)."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def migrate(execute: Callable[[str], Any], version: int, target: int,
            steps: Mapping[int, Sequence[str]], ddl: str) -> None:
    """Bring a schema at ``version`` to ``target``: each step's statements, then ``ddl``;
    RuntimeError for a schema newer than this ddsnode knows."""
    if version > target:
        raise RuntimeError(f"store schema {version} is newer than this ddsnode "
                           f"({target}); upgrade ddsnode")
    for step in range(version + 1, target + 1):
        for statement in steps[step]:
            execute(statement)
    for statement in statements(ddl):
        execute(statement)

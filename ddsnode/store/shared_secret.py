"""A secret every machine of a node must share, kept in the node state on PostgreSQL.

Some secrets of a node directory must be the same on every machine serving the node,
or two machines give different answers: the Decidim pseudonymisation key, for one (the
same person would get two pseudonyms, ``ddsnode/decidim/pseudonym.py``). On ``store =
"postgresql"`` :func:`shared_secret` keeps such a secret in the node state
(``state.py``): the first machine stores its directory's file if it has one (a node
moved onto PostgreSQL keeps its pseudonyms), else new random bytes; every other machine
reads that one. On the other stores it answers None and the caller keeps its file.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from ddsnode.settings import Settings

__all__ = ["shared_secret"]


def shared_secret(node_dir: Path, name: str, local: Path, size: int) -> bytes | None:
    """The secret ``name`` of the node at ``node_dir`` (at least ``size`` bytes) when it
    is shared through PostgreSQL; None on a store where the directory's file is it."""
    settings = Settings.load(node_dir)
    if settings.store != "postgresql":
        return None
    from ddsnode.store import open_state
    state = open_state(settings)
    try:
        found = state.get(name)
        if found is not None and len(found) >= size:
            return found
        mine = local.read_bytes() if local.is_file() else b""
        if len(mine) < size:
            mine = secrets.token_bytes(size)
        return state.add(name, mine)  # first writer wins: one secret for every machine
    finally:
        state.close()

"""Pseudonyms for imported authors: a stable keyed hash per platform, never a name.

The key is a secret of the node (``DIR/pseudonym.key``, 32 random bytes, mode 0600,
made on first use). A participant's pseudonym is ``HMAC-SHA256(key, platform host + NUL +
Decidim user id)``: the same person on the same platform keeps the same pseudonym across
imports, the same id on two platforms gives two pseudonyms, and without the key nobody
can test a guessed id against a pseudonym (a plain hash of a small integer could be
reversed by trying them all). Losing the key changes every pseudonym on the next import.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from ddsnode.store.shared_secret import shared_secret

KEY_FILE = "pseudonym.key"
KEY_BYTES = 32
HEX_CHARS = 16  # 64 bits: collisions are negligible for any platform's user count


def load_key(node_dir: Path) -> bytes:
    """The node's pseudonymisation key, created (0600) the first time it is needed."""
    path = node_dir / KEY_FILE
    # On PostgreSQL, one key for every machine of the node (docs/storage.md).
    shared = shared_secret(node_dir, "decidim/pseudonym-key", path, KEY_BYTES)
    if shared is not None:
        return shared
    try:
        key = path.read_bytes()
        if len(key) >= KEY_BYTES:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(KEY_BYTES)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:  # another import made it meanwhile (or it was short): reread
        existing = path.read_bytes()
        if len(existing) >= KEY_BYTES:
            return existing
        raise ValueError(f"{path} is shorter than {KEY_BYTES} bytes; remove it to make a new "
                         "key (every pseudonym will change)") from None
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


class Pseudonymiser:
    """Maps a platform's user ids to stable pseudonyms."""

    def __init__(self, key: bytes, platform: str) -> None:
        self._key = key
        self._platform = platform.encode("utf-8")

    def digest(self, user_id: str) -> str:
        """The pseudonym of ``user_id``: hex, :data:`HEX_CHARS` characters."""
        mac = hmac.new(self._key, self._platform + b"\x00" + user_id.encode("utf-8"),
                       hashlib.sha256)
        return mac.hexdigest()[:HEX_CHARS]

    @staticmethod
    def nickname(digest: str) -> str:
        """The public nickname of a pseudonym (derived from the hash, never from the name)."""
        return f"participant-{digest[:8]}"

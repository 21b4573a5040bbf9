"""The published results generations of an election, as datasets of its series.

Election night's publication (``ddsnode.publication``, docs/election-night.md) writes
each generation under ``<node>/publication/{election}/results/g/{n}/`` with a signed
manifest (a compact JWS whose payload lists every file with its SHA-256 and size) and
serves it at ``{election}/results/g/{n}/…``. The catalogue lists, as datasets of the
election's series, every generation whose results status is ``certified`` (the final
word of the results-status scheme) and the current generation (the latest figures,
whatever their status): their distributions are the generation's files as the manifest
states them (the gzip twins are left out: the same bytes, compressed), plus the signed
manifest itself, which a client verifies against the node's JWKS.

The manifest is read, not verified, here: the catalogue points at it; checking the
signature is the reader's (``ddsnode verify``) and the publisher's business.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ddsnode.publication.archive import Archive, ArchiveError
from ddsnode.publication.jws import JwsError, b64url_decode
from ddsnode.publication.listing import FORMAT, FORMAT_V1

log = logging.getLogger(__name__)
FINAL = "certified"
MAX_MANIFEST_BYTES = 16 * 1024 * 1024


@dataclass
class Generation:
    """One published generation the catalogue lists."""

    number: int
    status: str
    generated: str
    rehearsal: bool
    url: str  # the generation's folder URL, ending with "/"
    files: list[dict[str, Any]]  # path, sha256, size, type (from the manifest)
    current: bool = False
    format: str = FORMAT_V1  # the manifest's format (v2: with part manifests)


def _manifest(jws: bytes) -> dict[str, Any]:
    parts = jws.decode("ascii").strip().split(".")
    if len(parts) != 3:
        raise JwsError("not a compact JWS")
    payload: dict[str, Any] = json.loads(b64url_decode(parts[1]))
    return payload


def generations_of(node_dir: Path, base: str, election: str) -> list[Generation]:
    """The generations of ``election`` (an IRI of the node at ``base``) the catalogue lists."""
    if not election.startswith(base):
        return []
    path = election[len(base):]
    archive = Archive.of(node_dir)
    try:
        pointer = archive.pointer(path)
        folder = archive.results_dir(path) / "g"
    except ArchiveError as e:
        log.warning("%s: its published generations are not listed: %s", election, e)
        return []
    if pointer is None or not folder.is_dir():
        return []
    out = []
    numbers = sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit())
    for number in numbers:
        jws_path = folder / str(number) / "manifest.jws"
        try:
            raw = jws_path.read_bytes()[:MAX_MANIFEST_BYTES]
            manifest = _manifest(raw)
        except (OSError, ValueError, UnicodeDecodeError) as e:
            log.warning("%s generation %d: manifest unreadable: %s", election, number, e)
            continue
        current = number == pointer.generation
        if manifest.get("status") != FINAL and not current:
            continue
        files = [f for f in manifest.get("files", []) if isinstance(f, dict)
                 and not str(f.get("path", "")).endswith(".gz")]
        files.append({"path": "manifest.jws", "sha256": hashlib.sha256(raw).hexdigest(),
                      "size": len(raw), "type": "application/jose"})
        # A split election's parts are listed by its part manifests (format v2), not
        # here: thousands of per-station files are no catalogue distributions; a
        # client reaches them, hash-checked, through the signed manifest.
        form = FORMAT if manifest.get("format") == FORMAT else FORMAT_V1
        out.append(Generation(number, str(manifest.get("status", "")),
                              str(manifest.get("generatedAt", "")),
                              bool(manifest.get("rehearsal", False)),
                              f"{election}/results/g/{number}/", files, current, form))
    return out

"""``ddsnode verify URL`` of a published election: signatures, chain, hashes, diffs, totals.

Given an election's URL on a publishing node or on any mirror, it reads the pointer,
then every manifest from generation 1 to the current one, and checks that each is a
compact JWS signed by a key of the **publisher's** JWKS (fetched from the origin of the
election IRI the manifests name, so that a mirror cannot vouch for itself, or given as
a file), names its own number and election, and chains to the previous one; then every
file of the current generation against its size and SHA-256 (with a two-level manifest,
format v2, every part manifest against the manifest, then every file against its part
manifest; a flat v1 manifest lists every file itself: both are read); that the diffs replayed
from generation 1 give the current snapshot byte for byte; and, per contest, that the
widest unit's counts equal the sum of its polling stations' when all have reported.
Each problem is a finding; none is a verdict on the election.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ddsnode.outbound.client import OutboundClient
from ddsnode.outbound.errors import OutboundRefused, PeerError
from ddsnode.publication import documents as docs
from ddsnode.publication.archive import ArchiveError, Pointer
from ddsnode.publication.jws import JwsError, b64url_decode, header_of, verify
from ddsnode.publication.keyring import keys_of
from ddsnode.publication.listing import FORMAT_V1, Line, Listing, ListingError
from ddsnode.publication.parts import read_snapshot, snapshot_files

MAX_BYTES = 256 * 1024 * 1024  # one file of a generation, as verify reads it
STATIONS = ("polling-place", "precinct")


@dataclass
class PublicationCheck:
    """What the check found and how much it looked at."""

    url: str
    generation: int = 0
    manifests: int = 0
    files: int = 0
    totals: int = 0
    findings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        """A plain-text report."""
        lines = [f"{self.url}: generation {self.generation}, {self.manifests} manifests "
                 f"verified back to generation 1, {self.files} files checked against their "
                 f"hashes, {self.totals} totals re-added from stations, "
                 f"{len(self.findings)} findings"]
        lines += [f"error: {f}" for f in self.findings[:50]]
        lines += [f"note: {n}" for n in self.notes[:20]]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """As ``--json`` prints it."""
        return {"url": self.url, "generation": self.generation, "manifests": self.manifests,
                "files": self.files, "totals": self.totals, "findings": self.findings,
                "notes": self.notes}


class _Reader:
    def __init__(self, client: OutboundClient) -> None:
        self.client = client

    async def get(self, url: str, accept: str = "*/*") -> bytes | None:
        try:
            result = await self.client.fetch(url, accept=(accept,), sign=False)
        except PeerError as exc:
            if exc.upstream_status == 404:
                return None
            raise
        return result.body


async def check(url: str, jwks_file: Path | None = None, *, production: bool = False,
                transport: Any = None) -> PublicationCheck | None:
    """Check the election published at ``url``; None when nothing is published there.
    ``transport``: an httpx transport for the outbound client (tests fake the network
    there, never inside this module)."""
    url = url.rstrip("/")
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    origins = {origin}
    async with OutboundClient(allowed_origins=lambda: origins, max_bytes=MAX_BYTES,
                              user_agent="ddsnode-verify", total_timeout=120,
                              transport=transport) as client:
        reader = _Reader(client)
        raw = await reader.get(f"{url}/results/current")
        if raw is None:
            return None
        out = PublicationCheck(url)
        try:
            pointer = Pointer.parse(raw)
        except ArchiveError as exc:
            out.findings.append(str(exc))
            return out
        out.generation = pointer.generation
        publisher = "{0.scheme}://{0.netloc}".format(urlsplit(pointer.election))
        origins.add(publisher)
        if jwks_file is not None:
            jwks_raw: bytes | None = jwks_file.read_bytes()
        else:
            jwks_raw = await reader.get(f"{publisher}/.well-known/jwks.json")
        try:
            keys = keys_of(json.loads(jwks_raw or b"null"), production=production)
        except ValueError as exc:
            out.findings.append(f"the publisher's JWKS: {exc}")
            return out
        manifest = await _chain(reader, url, pointer, keys, out)
        if manifest is None:
            return out
        files = await _files(reader, url, pointer.generation, manifest, out)
        await _replay(reader, url, pointer, files, out)
        if "results.json" in files:
            try:
                records = read_snapshot(lambda p: files[p])
            except (KeyError, ValueError):
                out.notes.append("a snapshot part did not verify: totals not re-added")
            else:
                _totals(records, out)
        return out


async def _chain(reader: _Reader, url: str, pointer: Pointer, keys: dict[str, Any],
                 out: PublicationCheck) -> dict[str, Any] | None:
    previous: str | None = None
    manifest: dict[str, Any] | None = None
    flat: list[int] = []
    for number in range(1, pointer.generation + 1):
        jws = await reader.get(f"{url}/results/g/{number}/manifest.jws")
        if jws is None:
            out.findings.append(f"generation {number}: no manifest")
            return None
        try:
            payload = verify(jws.decode("ascii"), keys)
        except (JwsError, UnicodeDecodeError) as exc:
            out.findings.append(f"generation {number}: {exc}")
            return None
        manifest = json.loads(payload)
        kid = header_of(jws.decode("ascii")).get("kid")
        if manifest.get("generation") != number:
            out.findings.append(f"manifest {number} says generation {manifest.get('generation')}")
        if manifest.get("election") != pointer.election:
            out.findings.append(f"manifest {number} is for {manifest.get('election')}")
        if manifest.get("previous") != previous:
            out.findings.append(f"generation {number} does not chain to generation {number - 1}")
        if bool(manifest.get("rehearsal")) != (keys.get(str(kid), {}).get("rehearsal") is True):
            out.findings.append(f"generation {number}: rehearsal flag and key disagree")
        if manifest.get("rehearsal") and number == pointer.generation:
            out.notes.append("this is a rehearsal: its results are test data")
        previous = hashlib.sha256(payload).hexdigest()
        out.manifests += 1
        if manifest.get("format") == FORMAT_V1:
            flat.append(number)
        if number == pointer.generation and hashlib.sha256(jws).hexdigest() != \
                pointer.manifest_sha256:
            out.findings.append("the pointer names another manifest than the one served")
    if flat:  # read as well as v2; said so that a reader knows which it checked
        out.notes.append(f"flat manifests (format v1): {len(flat)} of {out.manifests} "
                         f"generations, {flat[0]} to {flat[-1]}")
    return manifest


async def _files(reader: _Reader, url: str, generation: int, manifest: dict[str, Any],
                 out: PublicationCheck) -> dict[str, bytes]:
    try:
        listing = Listing.of(manifest, f"manifest {generation}")
    except ListingError as exc:
        out.findings.append(str(exc))
        return {}
    files: dict[str, bytes] = {}

    async def fetch(line: Line, where: str) -> bytes | None:
        body = await reader.get(f"{url}/results/g/{generation}/{line.path}")
        if body is None:
            out.findings.append(f"{line.path}: listed in {where}, not served")
        elif len(body) != line.size or hashlib.sha256(body).hexdigest() != line.sha256:
            out.findings.append(f"{line.path}: does not match its hash in {where}")
        else:
            files[line.path] = body
            out.files += 1
            return body
        return None

    for line in listing.files.values():
        await fetch(line, "the manifest")
    for path, line in sorted(listing.manifests.items()):
        raw = await fetch(line, "the manifest")
        if raw is None:
            continue
        try:
            lines = listing.part(path, raw)
        except ListingError as exc:
            out.findings.append(str(exc))
            continue
        for listed in lines.values():
            if listed.path in files:
                out.findings.append(f"{listed.path}: listed twice")
                continue
            await fetch(listed, path)
    return files


async def _replay(reader: _Reader, url: str, pointer: Pointer, files: dict[str, bytes],
                  out: PublicationCheck) -> None:
    records: dict[docs.Key, docs.Json] = {}
    for number in range(1, pointer.generation + 1):
        diff = await reader.get(f"{url}/results/g/{number}/diff.json")
        if diff is None:
            out.notes.append(f"generation {number}'s diff is not served here: diffs not "
                             "replayed")
            return
        docs.apply_diff(records, json.loads(diff))
    if "results.json" not in files:
        return
    # Split as the published snapshot says (parts listed in results.json): each part and
    # results.json itself must be the replayed records, byte for byte.
    parts = json.loads(files["results.json"]).get("parts", [])
    if not isinstance(parts, list):
        out.findings.append("results.json: parts is not a list")
        return
    expected = snapshot_files(pointer.election, records, [str(p) for p in parts])
    if any(files.get(p) != b for p, b in expected.items()):
        out.findings.append("the diffs replayed from generation 1 do not give the snapshot")


def _totals(records: list[dict[str, Any]], out: PublicationCheck) -> None:
    by_contest: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        by_contest[rec["contest"]].append(rec)
    for contest, recs in sorted(by_contest.items()):
        top = max(recs, key=lambda r: (r["stationsTotal"], r["unit"]))
        stations = [r for r in recs if r["level"] in STATIONS and r is not top]
        if len(stations) != top["stationsTotal"] or top["stationsTotal"] < 2:
            out.notes.append(f"{contest}: {len(stations)} of {top['stationsTotal']} stations "
                             "published their own results; the total is not re-added")
            continue
        sums: dict[str, int] = defaultdict(int)
        for r in stations:
            for selection, votes in r["counts"]:
                sums[selection] += votes
        out.totals += 1
        if dict(sums) != {s: n for s, n in top["counts"]}:
            out.findings.append(f"{contest}: {top['unit']} publishes {top['counts']}; its "
                                f"{len(stations)} stations add up to {sorted(sums.items())}")


def verify_published(url: str, jwks_file: Path | None = None) -> PublicationCheck | None:
    """:func:`check`, for the command line; PeerError when the node cannot be read."""
    try:
        return asyncio.run(check(url, jwks_file))
    except OutboundRefused:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        found = PublicationCheck(url)
        found.findings.append(f"malformed publication: {type(exc).__name__}: {exc}")
        return found


def payload_of(jws: bytes) -> bytes:
    """The payload bytes of a compact JWS."""
    return b64url_decode(jws.split(b".")[1].decode("ascii"))

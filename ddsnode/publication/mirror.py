"""A mirror: follow a publishing node's elections, verify everything, re-serve the same bytes.

An origin crosses a trust boundary: what it sends is checked before anything is written
(docs/security.md, Election night). Each poll reads the origin's pointer, then every
manifest from the last generation verified here up to the pointer's, and checks that
each is signed (EdDSA JWS) by a key of the origin's JWKS (pinned on first use, or
configured), names this election and its own number, chains to the previous one
(``previous`` = SHA-256 of the previous manifest), and is no rehearsal when this node is
in production; then it fetches the newest generation's files and checks each size and
SHA-256: with a two-level manifest (format v2, :mod:`.listing`), only the part manifests
whose hash differs from the generation served here, and of their files only those whose
hash differs. Only then are the files written, and the pointer switched last (the origin's
own pointer bytes). Anything else is refused, logged, and the last verified generation
stays served; an origin that is down is retried at the next poll.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ddsnode.outbound.client import OutboundClient
from ddsnode.outbound.errors import OutboundRefused, PeerError
from ddsnode.publication.archive import Archive, ArchiveError, Pointer
from ddsnode.publication.generation import DIFF, MANIFEST
from ddsnode.publication.jws import JwsError, b64url_decode, verify
from ddsnode.publication.keyring import keys_of
from ddsnode.publication.listing import Held, Line, Listing, ListingError
from ddsnode.settings import Settings

log = logging.getLogger("ddsnode.publication.mirror")
PIN_DIR = ".mirror-keys"  # under publication/: the JWKS pinned per origin
#: Answers that are refusals, not outages: too big, of another type or encoding, bounced.
REFUSED_ANSWERS = frozenset({"too-large", "media-type", "encoding", "redirects"})


class Refused(ValueError):
    """An origin sent something this mirror will not serve (the reason says what)."""


@dataclass(frozen=True)
class Origin:
    """One followed election: its URL, its origin and its path (the same here)."""

    url: str
    origin: str
    election_path: str

    @classmethod
    def parse(cls, url: str) -> Origin:
        """An election URL (``https://results.example/elections/x``); ValueError if not."""
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query \
                or parts.fragment or not parts.path.strip("/"):
            raise ValueError(f"publication_follow: {url[:200]!r} is not an election URL")
        return cls(url.strip().rstrip("/"), f"{parts.scheme}://{parts.netloc}",
                   parts.path.strip("/"))

    def results(self, relative: str) -> str:
        """The URL of ``{election}/results/{relative}`` at the origin."""
        return f"{self.url}/results/{relative}"


def sha256(data: bytes) -> str:
    """Lower-case hex SHA-256."""
    return hashlib.sha256(data).hexdigest()


class Mirror:
    """Follows origins' elections into an Archive, verifying before writing."""

    def __init__(self, origins: list[Origin], archive: Archive, client: OutboundClient, *,
                 production: bool, poll_seconds: float, max_manifest_bytes: int,
                 max_file_bytes: int, max_generation_bytes: int, max_catchup: int,
                 jwks_file: Path | None = None,
                 on_verified: Callable[[str, Pointer], None] | None = None) -> None:
        self.origins = origins
        self.archive = archive
        self.client = client
        self.production = production
        self.poll_seconds = poll_seconds
        self.max_manifest_bytes = max_manifest_bytes
        self.max_file_bytes = max_file_bytes
        self.max_generation_bytes = max_generation_bytes
        self.max_catchup = max_catchup
        self.jwks_file = jwks_file
        self.on_verified = on_verified
        self.refusals: deque[str] = deque(maxlen=100)  # the latest, for status and tests

    @classmethod
    def from_settings(cls, s: Settings, archive: Archive,
                      on_verified: Callable[[str, Pointer], None] | None = None,
                      client: OutboundClient | None = None) -> Mirror:
        """A mirror of ``publication_follow`` with the limits of ``s``."""
        origins = [Origin.parse(u) for u in s.publication_follow.split(",") if u.strip()]
        client = client or OutboundClient(
            allowed_origins={o.origin for o in origins}, user_agent="ddsnode-mirror",
            max_bytes=int(s.publication_mirror_max_file_bytes),
            total_timeout=float(s.publication_mirror_timeout_seconds))
        jwks = Path(s.publication_follow_jwks) if s.publication_follow_jwks else None
        return cls(origins, archive, client, production=bool(s.publication_production),
                   poll_seconds=float(s.publication_mirror_poll_seconds),
                   max_manifest_bytes=int(s.publication_mirror_max_manifest_bytes),
                   max_file_bytes=int(s.publication_mirror_max_file_bytes),
                   max_generation_bytes=int(s.publication_mirror_max_generation_bytes),
                   max_catchup=int(s.publication_mirror_max_catchup), jwks_file=jwks,
                   on_verified=on_verified)

    async def aclose(self) -> None:
        """Close the outbound client."""
        await self.client.aclose()

    async def run(self) -> None:
        """Poll every origin forever (until cancelled)."""
        while True:
            await self.poll_once()
            await asyncio.sleep(self.poll_seconds)

    async def poll_once(self) -> dict[str, str]:
        """One poll of every origin: URL -> what happened (for logs, the CLI and tests)."""
        out = {}
        for origin in self.origins:
            try:
                out[origin.url] = await self.follow(origin)
            except Refused as refused:
                out[origin.url] = self._refuse(origin, str(refused))
            except PeerError as exc:
                if exc.reason in REFUSED_ANSWERS:  # the origin answered, but not acceptably
                    out[origin.url] = self._refuse(origin, str(exc))
                    continue
                log.warning("%s: origin unreachable, serving the last verified generation: %s",
                            origin.url, exc)
                out[origin.url] = f"unreachable: {exc}"
            except OutboundRefused as exc:
                log.warning("%s: origin unreachable, serving the last verified generation: %s",
                            origin.url, exc)
                out[origin.url] = f"unreachable: {exc}"
        return out

    def _refuse(self, origin: Origin, reason: str) -> str:
        message = f"{origin.url}: refused: {reason}"
        log.error("%s", message)
        self.refusals.append(message)
        return f"refused: {reason}"

    async def _get(self, url: str, accept: str, limit: int) -> bytes:
        # Any media type: a static host or CDN labels .jws and the pointer as it likes;
        # what is read is checked by signature and hash, never by its label.
        result = await self.client.fetch(url, accept=(accept,), max_bytes=limit, sign=False)
        if result.status != 200:
            raise PeerError(url, "status", f"answered {result.status}", status=result.status)
        return result.body

    async def keys(self, origin: Origin) -> dict[str, dict[str, Any]]:
        """kid -> JWK the origin signs with: configured, pinned, or fetched and pinned."""
        if self.jwks_file is not None:
            raw = self.jwks_file.read_bytes()
        else:
            pin = self.archive.root / PIN_DIR / (urlsplit(origin.origin).netloc.replace(":", "_")
                                                 + ".jwks.json")
            if pin.exists():
                raw = pin.read_bytes()
            else:
                raw = await self._get(origin.origin + "/.well-known/jwks.json",
                                      "*/*", self.max_manifest_bytes)
                keys_of(_json(raw, "the JWKS"), production=self.production)  # valid first
                pin.parent.mkdir(parents=True, exist_ok=True)
                pin.write_bytes(raw)
                log.info("%s: pinned its keys (trust on first use)", origin.origin)
        try:
            return keys_of(_json(raw, "the JWKS"), production=self.production)
        except ValueError as exc:
            raise Refused(str(exc)) from None

    async def follow(self, origin: Origin) -> str:
        """Bring ``origin``'s election up to date here; Refused, or PeerError when down."""
        raw_pointer = await self._get(origin.results("current"), "*/*",
                                      self.max_manifest_bytes)
        try:
            pointer = Pointer.parse(raw_pointer)
        except ArchiveError as exc:
            raise Refused(str(exc)) from None
        if pointer.election != origin.url:
            raise Refused(f"the pointer names another election ({pointer.election[:200]})")
        local = self.archive.pointer(origin.election_path)
        have = local.generation if local else 0
        if pointer.generation < have:
            raise Refused(f"generation went backwards: {pointer.generation} after {have}")
        if local is not None and pointer.generation == have:
            if pointer.manifest_sha256 != local.manifest_sha256:
                raise Refused(f"generation {have} changed at the origin (another manifest)")
            return f"up to date (generation {have})"
        if pointer.generation - have > self.max_catchup:
            raise Refused(f"{pointer.generation - have} generations behind, more than "
                          f"publication_mirror_max_catchup ({self.max_catchup})")
        keys = await self.keys(origin)
        previous = None
        held: Held | None = None  # the served generation's listing, verified when fetched
        if local is not None:
            served = manifest_bytes(self.archive.read(origin.election_path, local.manifest))
            previous = sha256(served)
            try:
                prefix = f"g/{local.generation}/"
                held = Held(lambda p: self.archive.read(origin.election_path, prefix + p),
                            local.generation, Listing.of(json.loads(served)))
            except ListingError:
                held = None  # unreadable here: fetch everything again
        for number in range(have + 1, pointer.generation + 1):
            jws = await self._get(origin.results(f"g/{number}/{MANIFEST}"), "*/*",
                                  self.max_manifest_bytes)
            newest = number == pointer.generation
            manifest = self.check_manifest(origin, keys, jws, number, previous,
                                           newest=newest)
            if newest and sha256(jws) != pointer.manifest_sha256:
                raise Refused(f"the manifest of generation {number} is not the one the "
                              "pointer names")
            listing = _listing(manifest, number)
            if newest:
                files, same = await self.fetch_generation(origin, listing, number, held)
            else:  # walked over while catching up: its diff only
                files, same = await self.fetch_diff(origin, listing, number), {}
            self.archive.write_generation(origin.election_path, number, files, jws,
                                          raw_pointer if newest else None,
                                          link_from=have if same else None, unchanged=same)
            previous = sha256(manifest_bytes(jws))
        if self.on_verified is not None:
            self.on_verified(origin.election_path, pointer)
        log.info("%s: generation %d verified and served", origin.url, pointer.generation)
        return f"generation {pointer.generation}"

    def check_manifest(self, origin: Origin, keys: dict[str, dict[str, Any]], jws: bytes,
                       number: int, previous: str | None, *,
                       newest: bool = True) -> dict[str, Any]:
        """The verified manifest of generation ``number``; Refused otherwise. A retired
        key verifies the generations walked over, never the newest (the one served)."""
        try:
            payload = verify(jws.decode("ascii"), keys)
        except (JwsError, UnicodeDecodeError) as exc:
            raise Refused(f"generation {number}: {exc}") from None
        manifest = _json(payload, f"the manifest of generation {number}")
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
            raise Refused(f"generation {number}: the manifest has no files list")
        kid = json.loads(manifest_bytes_header(jws)).get("kid")
        rehearsal_key = keys.get(str(kid), {}).get("rehearsal") is True
        if newest and keys.get(str(kid), {}).get("retired") is True:
            raise Refused(f"generation {number} is signed by a retired key")
        if manifest.get("generation") != number:
            raise Refused(f"manifest {number} says generation {manifest.get('generation')}")
        if manifest.get("election") != origin.url:
            raise Refused(f"manifest {number} is for another election")
        if manifest.get("previous") != previous:
            raise Refused(f"generation {number} does not chain to the previous manifest "
                          "(previous hash differs)")
        if bool(manifest.get("rehearsal")) != rehearsal_key:
            raise Refused(f"generation {number}: rehearsal flag and signing key disagree")
        if self.production and manifest.get("rehearsal"):
            raise Refused(f"generation {number} is a rehearsal; this node is in production")
        return manifest

    async def fetch_diff(self, origin: Origin, listing: Listing,
                         number: int) -> dict[str, bytes]:
        """The diff (and its twin) of a generation walked over, each checked."""
        budget = _Budget(self.max_generation_bytes, number)
        return {path: await self._fetch(origin, number, line, budget, self.max_file_bytes)
                for path, line in listing.files.items() if path in (DIFF, DIFF + ".gz")}

    async def fetch_generation(self, origin: Origin, listing: Listing, number: int,
                               held: Held | None) -> tuple[dict[str, bytes], dict[str, str]]:
        """Every file of generation ``number``, each checked against its line, and the
        paths not fetched because the generation served here ``held`` the same bytes,
        with their SHA-256 (stored already: they were checked against that same hash
        when fetched).
        A part manifest with the hash of the one served here is not fetched, nor is any
        file it lists: that is what makes following a large election cost what changed."""
        budget = _Budget(self.max_generation_bytes, number)
        files: dict[str, bytes] = {}
        same: dict[str, str] = {}
        for path, line in listing.files.items():
            if held is not None and held.same(path, line):
                same[path] = line.sha256
            else:
                files[path] = await self._fetch(origin, number, line, budget,
                                                self.max_file_bytes)
        for path, line in sorted(listing.manifests.items()):
            kept = held.part(path, line) if held is not None else None
            if kept is not None:  # the same part manifest: the same files
                same[path] = line.sha256
                lines = kept
            else:
                raw = await self._fetch(origin, number, line, budget,
                                        self.max_manifest_bytes)
                try:
                    lines = listing.part(path, raw)
                except ListingError as exc:
                    raise Refused(f"generation {number}: {exc}") from None
                files[path] = raw
            for listed, entry in lines.items():
                if listed in files or listed in same:
                    raise Refused(f"generation {number}: {listed} is listed twice")
                if kept is not None or (held is not None and held.same(listed, entry)):
                    same[listed] = entry.sha256
                else:
                    files[listed] = await self._fetch(origin, number, entry, budget,
                                                      self.max_file_bytes)
        return files, same

    async def _fetch(self, origin: Origin, number: int, line: Line, budget: _Budget,
                     limit: int) -> bytes:
        """One listed file, its size within ``limit`` and the generation's budget, its
        bytes checked against the line before anything is kept."""
        if line.size > limit:
            raise Refused(f"generation {number}: {line.path} has size {line.size} (most "
                          f"{limit})")
        budget.spend(line.size)
        body = await self._get(origin.results(f"g/{number}/{line.path}"), "*/*", line.size)
        if len(body) != line.size or sha256(body) != line.sha256:
            raise Refused(f"generation {number}: {line.path} does not match its hash in "
                          "the manifest")
        return body


class _Budget:
    """The bytes one generation may fetch (``publication_mirror_max_generation_bytes``)."""

    def __init__(self, limit: int, number: int) -> None:
        self.left = limit
        self.limit = limit
        self.number = number

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise Refused(f"generation {self.number}: files add up to more than "
                          f"{self.limit} bytes")


def _listing(manifest: dict[str, Any], number: int) -> Listing:
    try:
        return Listing.of(manifest, f"generation {number}")
    except ListingError as exc:
        raise Refused(str(exc)) from None


def _json(raw: bytes, what: str) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise Refused(f"{what} is not JSON") from None


def manifest_bytes(jws: bytes) -> bytes:
    """The payload (manifest JSON bytes) of a compact JWS."""
    return b64url_decode(jws.split(b".")[1].decode("ascii"))


def manifest_bytes_header(jws: bytes) -> bytes:
    """The protected header bytes of a compact JWS."""
    return b64url_decode(jws.split(b".")[0].decode("ascii"))

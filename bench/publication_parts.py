"""CPU seconds of one generation's build at election-night scale, in memory, and a
digest of every file it made (to show that a change to the build keeps the bytes).

    .venv/bin/python bench/publication_parts.py [--stations 100000] [--contests 10]
                                                [--tallies 100] [--generations 5]
                                                [--profile] [--digest]

Records shaped like the intake bench's (bench/intake_latency.py): stations in districts of
100 under one city, every contest voted at every station, four selections. A first
generation holds every station (off the clock); each timed generation then takes
``--tallies`` new station tallies (each also changes its district's and the city's
totals, as the intake's totals do) and is built with :func:`build_next` — what the
publisher does between the feed and the archive, without the writes. Prints the CPU
seconds (process time) of each build, the load average beside them, and with
``--digest`` one SHA-256 over every generation's listing (path, hash, size), its
manifest payload and its files, which must not change when only speed changes.
``--profile`` prints the top of cProfile for the timed builds. A script, never a test.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import os
import pstats
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ddsnode.publication.documents import ElectionFacts, Json, Key  # noqa: E402
from ddsnode.publication.generation import build_next  # noqa: E402
from ddsnode.publication.keyring import SigningKey  # noqa: E402
from ddsnode.publication.parts import Tables  # noqa: E402

BASE = "http://127.0.0.1:8000/"
ELECTION = BASE + "elections/municipal-2026"
SELECTIONS = ["a", "b", "c", "d"]


def _key() -> SigningKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    seed = hashlib.sha256(b"bench/publication_parts").digest()
    return SigningKey(Ed25519PrivateKey.from_private_bytes(seed), "bench", False)


def _station(contest: str, n: int, votes: list[int], as_of: str) -> Json:
    return {"contest": contest, "unit": f"{BASE}places/station-{n}", "level": "polling-place",
            "counts": [[f"{contest}/{s}", v] for s, v in zip(SELECTIONS, votes)],
            "ballotsCast": sum(votes) + 3, "blank": 2, "invalid": 1, "registered": 900,
            "stationsReported": 1, "stationsTotal": 1, "status": "unofficialComplete",
            "asOf": as_of}


def _sum(contest: str, unit: str, level: str, members: list[Json], total: int) -> Json:
    votes = [sum(m["counts"][i][1] for m in members) for i in range(len(SELECTIONS))]
    return {"contest": contest, "unit": unit, "level": level,
            "counts": [[f"{contest}/{s}", v] for s, v in zip(SELECTIONS, votes)],
            "ballotsCast": sum(m["ballotsCast"] for m in members), "blank": 2 * len(members),
            "invalid": len(members), "registered": 900 * total,
            "stationsReported": len(members), "stationsTotal": total,
            "status": "unofficialComplete" if len(members) == total else "unofficialPartial",
            "asOf": max(m["asOf"] for m in members)}


class Night:
    """Every record of the election, changed a few tallies at a time."""

    def __init__(self, stations: int, contests: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.stations = stations
        self.contests = [f"{ELECTION}/contest-{c}" for c in range(contests)]
        self.by_station: dict[Key, Json] = {}
        for contest in self.contests:
            for n in range(stations):
                rec = _station(contest, n, self._votes(), "2026-03-15T20:00:00Z")
                self.by_station[(contest, rec["unit"])] = rec

    def _votes(self) -> list[int]:
        return [self.rng.randrange(0, 300) for _ in SELECTIONS]

    def _district(self, n: int) -> str:
        return f"{BASE}places/district-{n // 100}"

    def sums(self, contest: str, districts: set[int] | None) -> dict[Key, Json]:
        """The district (those in ``districts``, all when None) and city records."""
        out: dict[Key, Json] = {}
        wanted = range((self.stations + 99) // 100) if districts is None else sorted(districts)
        for d in wanted:
            members = [self.by_station[(contest, f"{BASE}places/station-{n}")]
                       for n in range(d * 100, min(self.stations, d * 100 + 100))]
            unit = self._district(d * 100)
            out[(contest, unit)] = _sum(contest, unit, "district", members, len(members))
        every = [r for (c, _), r in self.by_station.items() if c == contest] \
            if districts is None else self._city_members(contest)
        out[(contest, f"{BASE}places/city")] = _sum(contest, f"{BASE}places/city", "city",
                                                    every, self.stations)
        return out

    def _city_members(self, contest: str) -> list[Json]:
        return [self.by_station[(contest, f"{BASE}places/station-{n}")]
                for n in range(self.stations)]

    def everything(self) -> dict[Key, Json | None]:
        out: dict[Key, Json | None] = dict(self.by_station)
        for contest in self.contests:
            out.update(self.sums(contest, None))
        return out

    def tallies(self, count: int, as_of: str) -> dict[Key, Json | None]:
        """``count`` station tallies changed, with their districts' and city's totals."""
        out: dict[Key, Json | None] = {}
        touched: dict[str, set[int]] = {}
        for _ in range(count):
            contest = self.rng.choice(self.contests)
            n = self.rng.randrange(self.stations)
            rec = _station(contest, n, self._votes(), as_of)
            self.by_station[(contest, rec["unit"])] = rec
            out[(contest, rec["unit"])] = rec
            touched.setdefault(contest, set()).add(n // 100)
        for contest, districts in touched.items():
            out.update(self.sums(contest, districts))
        return out


def main() -> None:
    """Build generations, print CPU seconds per build (and a digest of their bytes)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stations", type=int, default=100_000)
    ap.add_argument("--contests", type=int, default=10)
    ap.add_argument("--tallies", type=int, default=100, help="per generation (50/s × P=2)")
    ap.add_argument("--generations", type=int, default=5)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--digest", action="store_true")
    args = ap.parse_args()
    night = Night(args.stations, args.contests)
    key = _key()
    facts = ElectionFacts("Municipal 2026", "2026-03-15", "2026-03-15")
    tables = Tables(ELECTION)
    digest = hashlib.sha256()
    t0 = time.process_time()
    g = build_next(tables, 1, None, night.everything(), key=key,
                   generated="2026-03-15T20:00:00Z", facts=facts)
    print(f"first generation (every file): {time.process_time() - t0:.2f} CPU s, "
          f"{len(g.listing or {})} files listed; load {os.getloadavg()[0]:.2f}")
    previous, last = g.manifest_hash, dict(g.listing or {})

    def feed(gen: object) -> None:
        digest.update(getattr(gen, "manifest"))
        for path in sorted(getattr(gen, "files")):
            digest.update(path.encode() + b"\0" + getattr(gen, "files")[path])

    feed(g)
    cpu: list[float] = []
    profile = cProfile.Profile() if args.profile else None
    for number in range(2, args.generations + 2):
        as_of = f"2026-03-15T20:{number:02d}:00Z"
        changes = night.tallies(args.tallies, as_of)
        start = time.process_time()
        if profile:
            profile.enable()
        g = build_next(tables, number, previous, changes, key=key, generated=as_of,
                       facts=facts, last=last)
        if profile:
            profile.disable()
        cpu.append(time.process_time() - start)
        previous, last = g.manifest_hash, dict(g.listing or {})
        feed(g)
        print(f"  generation {number}: {cpu[-1]:.3f} CPU s, {len(g.files)} files made new; "
              f"load {os.getloadavg()[0]:.2f}", flush=True)
    print(f"build CPU s per generation: median {statistics.median(cpu):.3f}, "
          f"max {max(cpu):.3f} ({args.tallies} tallies each, {args.stations} stations × "
          f"{args.contests} contests); load {os.getloadavg()}")
    if args.digest:
        print(f"digest of every generation's manifest and files: {digest.hexdigest()}")
    if profile:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(30)
        print(out.getvalue())


if __name__ == "__main__":
    main()

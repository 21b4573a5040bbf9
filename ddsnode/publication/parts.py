"""The files of an election's generations, kept up to date one changed result at a time.

A generation used to be rebuilt from every unit result (about 0.1–0.2 ms each: minutes for
100,000 stations × 10 contests). :class:`Tables` keeps the records grouped as their files
are, and a generation rebuilds only the groups whose records changed; every other file
keeps its bytes and hash: the same object, nothing written for it.

Groups: one per contest and reporting level, its views ``{contest}/{level}.jsonld``,
``.csv`` and ``.nist.json``. A station level (``polling-place``, ``precinct``) with more
than ``part_units`` units is split into **parts** by the first hex digits of the
SHA-256 of the unit IRI (16, 256 or 4,096 parts, by size: :func:`digits_for`; stable
whatever the order stations report in): ``{contest}/{level}/{part}.jsonld`` (and ``.csv``, ``.nist.json``), plus the part's
share of the snapshot, ``{contest}/{level}/{part}.results.json``. ``results.json`` then
holds every other record and lists the parts (``"parts"``, sorted paths); an election
with no split level has the ``results.json`` it always had, byte for byte
(docs/election-night.md, "Parts"). Each part's files are listed in its part manifest,
``{contest}/{level}/{part}.manifest.json`` (:mod:`ddsnode.publication.listing`), made
when the part is rebuilt and otherwise kept, like its files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from ddsnode.publication import documents as docs
from ddsnode.publication.documents import ElectionFacts, Json, Key
from ddsnode.publication.listing import PART_MANIFEST
from ddsnode.publication.nist import UnitIds, nist_bytes

SNAPSHOT = "results.json"
PART_SUFFIX = ".results.json"
STATIONS = ("polling-place", "precinct")
PART_UNITS = 1000  # default of setting publication_part_units
GroupKey = tuple[str, str, str]  # (contest, level, part); part "" = the level whole
FileInfo = tuple[str, int]  # (sha256, size)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def part_of(unit: str, digits: int) -> str:
    """The part of a station unit: the first ``digits`` hex digits of the SHA-256 of its
    IRI (16 parts for one digit, 256 for two, 4,096 for three)."""
    return hashlib.sha256(unit.encode("utf-8")).hexdigest()[:digits]


def digits_for(level: str, units: int, part_units: int) -> int:
    """How many hex digits name the parts of a level of ``units`` units: 0 (not split)
    up to ``part_units``, then the fewest (1 to 3) that keep a part near ``part_units`` /
    16 units or more, so that a part stays small without making thousands of files."""
    if level not in STATIONS or units <= part_units:
        return 0
    digits = 1
    while digits < 3 and units > part_units * 16 ** digits:
        digits += 1
    return digits


def stem(contest: str, level: str, part: str) -> str:
    """The path stem of a group's files."""
    head = f"{docs.slug(contest)}/{docs.level_segment(level)}"
    return f"{head}/{part}" if part else head




def part_bytes(election: str, records: Iterable[Json]) -> bytes:
    """A snapshot part: canonical JSON like ``results.json``, records sorted by key."""
    return docs.canonical({"election": election,
                           "results": sorted(records, key=docs.key_of)}) + b"\n"


def index_bytes(election: str, records: Iterable[Json], parts: list[str]) -> bytes:
    """``results.json``: the records in no part, and the parts' paths when there are any
    (without parts, exactly :func:`documents.snapshot_bytes`)."""
    body: Json = {"election": election, "results": sorted(records, key=docs.key_of)}
    if parts:
        body["parts"] = sorted(parts)
    return docs.canonical(body) + b"\n"


def snapshot_files(election: str, records: Mapping[Key, Json],
                   parts: Iterable[str]) -> dict[str, bytes]:
    """The snapshot files of ``records`` split as ``parts`` (the paths ``results.json``
    lists): what a reader who replayed the diffs compares with what is published."""
    listed = set(parts)
    digits = {p.rsplit("/", 1)[0]: len(p.rsplit("/", 1)[1].removesuffix(PART_SUFFIX))
              for p in listed if "/" in p}  # {contest}/{level} -> digits of its parts
    grouped: dict[str, list[Json]] = {p: [] for p in listed}
    rest: list[Json] = []
    for rec in records.values():
        head = stem(rec["contest"], rec["level"], "")
        path = f"{head}/{part_of(rec['unit'], digits[head])}{PART_SUFFIX}" \
            if rec["level"] in STATIONS and head in digits else ""
        if path in listed:
            grouped[path].append(rec)
        else:
            rest.append(rec)
    out = {p: part_bytes(election, recs) for p, recs in grouped.items()}
    out[SNAPSHOT] = index_bytes(election, rest, sorted(listed))
    return out


def read_snapshot(read: Callable[[str], bytes]) -> list[Json]:
    """Every record of a published snapshot, ``read`` giving a file of the generation."""
    index = json.loads(read(SNAPSHOT))
    parts = index.get("parts", [])
    if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
        raise ValueError("results.json: parts is a list of paths")
    records: list[Json] = list(index["results"])
    for path in parts:
        records.extend(json.loads(read(path))["results"])
    return records


@dataclass(frozen=True)
class _Pieces:
    """One record's share of its group's files, serialised once: a part is rebuilt by
    joining these (the same bytes as serialising the whole list), so a changed station
    costs its own serialisation, not its part's."""

    record: Json
    snapshot: bytes  # canonical JSON of the record
    jsonld: bytes  # canonical JSON of its ContestResult node
    csv: bytes  # its CSV rows


_CSV_HEAD = len(docs.csv_view([]))


def _pieces(rec: Json) -> _Pieces:
    return _Pieces(rec, docs.canonical(rec), docs.canonical(docs.jsonld_node(rec)),
                   docs.csv_view([rec])[_CSV_HEAD:])


def _array(items: Iterable[bytes]) -> bytes:
    return b"[" + b",".join(items) + b"]"


def _joined(election: str, pieces: list[_Pieces]) -> tuple[bytes, bytes, bytes]:
    """The snapshot part, JSON-LD and CSV of ``pieces`` (sorted): byte for byte
    :func:`part_bytes`, :func:`documents.jsonld_view` and :func:`documents.csv_view`
    (canonical JSON has sorted keys and no spaces, so an object is its members joined)."""
    snapshot = b'{"election":' + docs.canonical(election) + b',"results":' + \
        _array(p.snapshot for p in pieces) + b"}\n"
    jsonld = b'{"@context":' + docs.canonical(docs.CONTEXT) + b',"@graph":' + \
        _array(p.jsonld for p in pieces) + b"}\n"
    return snapshot, jsonld, docs.csv_view([])[:_CSV_HEAD] + b"".join(p.csv for p in pieces)


@dataclass
class _Group:
    records: dict[str, Json] = field(default_factory=dict)  # unit -> record
    files: dict[str, FileInfo] = field(default_factory=dict)  # as last built
    manifest: dict[str, FileInfo] = field(default_factory=dict)  # a part's part manifest
    top: Json | None = None
    status: str = "preElection"
    cutoff: str = ""


@dataclass
class Built:
    """What :meth:`Tables.build` made: new bytes, and the files unchanged since the last."""

    files: dict[str, bytes]
    listing: dict[str, FileInfo]  # every file of the generation but the diff
    manifests: dict[str, FileInfo]  # the part manifests (also in listing)
    indexed: set[str]  # the files a part manifest lists
    contests: list[Json]
    status: str
    cutoff: str
    widest: Json | None


class Tables:
    """One election's records, grouped as its files are, and those files' hashes."""

    def __init__(self, election: str, part_units: int = PART_UNITS) -> None:
        self.election = election
        self.part_units = part_units
        self.records: dict[Key, Json] = {}
        self._where: dict[Key, GroupKey] = {}
        self._groups: dict[GroupKey, _Group] = {}
        self._units: dict[tuple[str, str], int] = {}  # (contest, level) -> units
        self._split: dict[tuple[str, str], int] = {}  # split levels: digits of parts
        self._dirty: set[GroupKey] = set()
        self._pieces: dict[Key, _Pieces] = {}
        self._ids = UnitIds()  # NIST GpUnit ids, one per unit
        self._stems: dict[GroupKey, str] = {}

    def _stem(self, where: GroupKey) -> str:
        found = self._stems.get(where)
        if found is None:
            found = self._stems[where] = stem(*where)
        return found

    def _group_key(self, rec: Json) -> GroupKey:
        contest, level = rec["contest"], rec["level"]
        digits = self._split.get((contest, level), 0)
        return (contest, level, part_of(rec["unit"], digits) if digits else "")

    def _put(self, key: Key, rec: Json | None) -> None:
        old = self._where.pop(key, None)
        if old is not None:
            self._groups[old].records.pop(key[1], None)
            if rec is None:
                self._pieces.pop(key, None)
            self._dirty.add(old)
            self._units[old[:2]] -= 1
            del self.records[key]
        if rec is not None:
            self.records[key] = rec
            self._units[(rec["contest"], rec["level"])] = \
                self._units.get((rec["contest"], rec["level"]), 0) + 1
            where = self._group_key(rec)
            self._where[key] = where
            self._groups.setdefault(where, _Group()).records[key[1]] = rec
            self._dirty.add(where)

    def apply(self, changes: Mapping[Key, Json | None]) -> tuple[list[Json], list[Key]]:
        """Apply ``changes`` (None: the result went away); the records that changed or
        appeared and the keys removed, as the diff lists them (sorted)."""
        changed, removed = [], []
        for key in sorted(changes):
            rec, had = changes[key], self.records.get(key)
            if rec == had:
                continue
            if rec is None:
                removed.append(key)
            else:
                changed.append(rec)
            self._put(key, rec)
        self._resplit({(c, lv) for c, lv, _ in self._dirty})
        return changed, removed

    def _resplit(self, levels: set[tuple[str, str]]) -> None:
        """Split a station level that grew past ``part_units`` (join one that shrank, or
        split it finer or coarser): its records move groups once, its files are rebuilt
        once."""
        for contest, level in levels:
            want = digits_for(level, self._units.get((contest, level), 0), self.part_units)
            if want == self._split.get((contest, level), 0):
                continue
            moving = [(k, r) for k, r in self.records.items()
                      if self._where[k][:2] == (contest, level)]
            for key, _ in moving:
                self._put(key, None)
            if want:
                self._split[(contest, level)] = want
            else:
                self._split.pop((contest, level), None)
            for key, rec in moving:
                self._put(key, rec)

    def changed_since_build(self) -> bool:
        """Whether a group changed since the last build."""
        return bool(self._dirty)

    def build(self, facts: ElectionFacts | None, generated: str,
              gzipped: Callable[[bytes], bytes],
              index: Callable[[dict[str, FileInfo]], bytes] | None = None) -> Built:
        """The files of the groups that changed (and ``results.json``), and the listing
        of every file with its hash; ``index`` makes a part's part manifest from its files'
        hashes (None: no part manifests, every file listed flat)."""
        new: dict[str, bytes] = {}
        for where in sorted(self._dirty):
            group = self._groups[where]
            if not group.records:
                del self._groups[where]
                continue
            recs = [group.records[u] for u in sorted(group.records)]
            contest, level, part = where
            base = self._stem(where)
            pieces = []
            for rec in recs:
                key = (contest, rec["unit"])
                cached = self._pieces.get(key)
                if cached is None or cached.record is not rec:
                    cached = self._pieces[key] = _pieces(rec)
                pieces.append(cached)
            snapshot, jsonld, table = _joined(self.election, pieces)
            group.status = docs.least_final(r["status"] for r in recs)
            views = {f"{base}.jsonld": jsonld, f"{base}.csv": table,
                     f"{base}.nist.json": nist_bytes(self.election, facts, contest, level,
                                                     recs, generated, group.status,
                                                     self._ids)}
            if part:
                views[base + PART_SUFFIX] = snapshot
            made = {**views, **{p + ".gz": gzipped(b) for p, b in views.items()}}
            group.files = {p: (_sha(b), len(b)) for p, b in made.items()}
            new.update(made)
            if part and index is not None:
                listed = index(group.files)
                new[base + PART_MANIFEST] = listed
                group.manifest = {base + PART_MANIFEST: (_sha(listed), len(listed))}
            group.top = max(recs, key=lambda r: (r["stationsTotal"], r["unit"]))
            group.cutoff = max(r["asOf"] for r in recs)
        self._dirty.clear()
        listing: dict[str, FileInfo] = {}
        manifests: dict[str, FileInfo] = {}
        indexed: set[str] = set()
        rest: list[Json] = []
        parts: list[str] = []
        for (contest, level, part), group in self._groups.items():
            listing.update(group.files)
            if group.manifest:
                manifests.update(group.manifest)
                indexed.update(group.files)
            if part:
                parts.append(self._stem((contest, level, part)) + PART_SUFFIX)
            else:
                rest.extend(group.records.values())
        listing.update(manifests)
        snapshot = self._index(rest, parts)
        new[SNAPSHOT], new[SNAPSHOT + ".gz"] = snapshot, gzipped(snapshot)
        for path in (SNAPSHOT, SNAPSHOT + ".gz"):
            listing[path] = (_sha(new[path]), len(new[path]))
        return Built(new, listing, manifests, indexed, *self._summary())

    def _index(self, records: list[Json], parts: list[str]) -> bytes:
        """:func:`index_bytes` joined from the records' pieces (each serialised when its
        group was built): at 100,000 stations × 10 contests ``results.json`` holds the
        10,000 district results, serialised again at every generation before."""
        items = []
        for rec in sorted(records, key=docs.key_of):
            cached = self._pieces.get(docs.key_of(rec))
            items.append(cached.snapshot if cached is not None and cached.record is rec
                         else docs.canonical(rec))
        listed = b',"parts":' + docs.canonical(sorted(parts)) if parts else b""
        return b'{"election":' + docs.canonical(self.election) + listed + b',"results":' + \
            _array(items) + b"}\n"

    def _summary(self) -> tuple[list[Json], str, str, Json | None]:
        contests: dict[str, Json] = {}
        statuses: dict[str, list[str]] = {}
        for (contest, level, _), group in sorted(self._groups.items()):
            entry = contests.setdefault(contest, {"contest": contest, "levels": [],
                                                  "stationsReported": 0, "stationsTotal": 0,
                                                  "status": "preElection",
                                                  "path": docs.slug(contest)})
            if level not in entry["levels"]:
                entry["levels"].append(level)
            top = group.top
            if top is not None and (top["stationsTotal"], top["stationsReported"]) > \
                    (entry["stationsTotal"], entry["stationsReported"]):
                entry["stationsReported"] = top["stationsReported"]
                entry["stationsTotal"] = top["stationsTotal"]
            statuses.setdefault(contest, []).append(group.status)
        for contest, entry in contests.items():
            entry["status"] = docs.least_final(statuses[contest])
        listed = [contests[c] for c in sorted(contests)]
        widest = max(listed, key=lambda c: (c["stationsTotal"], c["contest"]), default=None)
        status = docs.least_final(s for ss in statuses.values() for s in ss)
        cutoff = max((g.cutoff for g in self._groups.values()), default="")
        return listed, status, cutoff, widest


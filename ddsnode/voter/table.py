"""The lookup table: SQLite under the node directory, computed ahead of time.

As Democracy Club's WhereDoIVote does it, every answer is prepared when the data changes,
so that a request is a few indexed lookups and no geometry: the table maps

- address ranges (VIP street segments: street, house numbers, odd/even, postcode) to
  the precinct they lie in (``segments``);
- postcodes to the units whose voters live there, each with a label for the picker
  (``postcodes``): one unit, one answer; several, an address picker;
- each unit to the unit whose stations serve it (``units.served_by``: itself, or the
  nearest unit above it that has stations, e.g. a county of vote centres);
- each cell of a grid (``voter_grid_degrees``) to the unit enclosing it, when units have
  outlines, and the stations that may be nearest to any point of the cell among those
  serving that unit (``grid``, :mod:`.grid`);
- each unit to the contests on its voters' ballot (``ballots``), and each contest to
  its candidates and parties (``contests``, JSON).

The table records the stamp of what it was built from (the containers' change stamps and
the segment files); :func:`ensure` rebuilds it when that changes. A rebuild writes a new
file beside the old one and renames it over (POSIX rename is atomic): readers see the
old table or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ddsnode import paths
from ddsnode.elections.model import ElectionModel
from ddsnode.files import fsync_path
from ddsnode.ldp.access import PUBLIC, ReadRule
from ddsnode.ldp.node import Node
from ddsnode.settings import Settings
from ddsnode.voter import grid
from ddsnode.voter.address import postcode_key, street_key
from ddsnode.voter.places import Places, Station, read_places

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE units (iri TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL,
                    parent TEXT, served_by TEXT);
CREATE TABLE stations (id INTEGER PRIMARY KEY, iri TEXT NOT NULL UNIQUE,
                       postcode TEXT NOT NULL, lat REAL, long REAL, rank INTEGER NOT NULL,
                       data TEXT NOT NULL);
CREATE TABLE serves (unit TEXT NOT NULL, station INTEGER NOT NULL, PRIMARY KEY (unit, station));
CREATE TABLE segments (street TEXT NOT NULL, postcode TEXT NOT NULL, lo INTEGER NOT NULL,
                       hi INTEGER NOT NULL, parity TEXT NOT NULL, unit TEXT NOT NULL,
                       label TEXT NOT NULL);
CREATE INDEX segments_street ON segments (street, lo);
CREATE TABLE postcodes (postcode TEXT NOT NULL, unit TEXT NOT NULL, label TEXT NOT NULL,
                        PRIMARY KEY (postcode, unit, label));
CREATE TABLE grid (cell INTEGER PRIMARY KEY, unit TEXT, stations TEXT NOT NULL);
CREATE TABLE ballots (unit TEXT NOT NULL, contest TEXT NOT NULL, position INTEGER NOT NULL,
                      PRIMARY KEY (unit, contest));
CREATE TABLE contests (iri TEXT PRIMARY KEY, data TEXT NOT NULL);
"""


@dataclass(frozen=True)
class BuildSummary:
    """What a rebuild put in the table."""

    path: Path
    stations: int
    units: int
    segments: int
    postcodes: int
    cells: int
    contests: int

    def summary(self) -> str:
        """One line for the CLI."""
        return (f"voter lookup: {self.stations:,} stations, {self.units:,} units, "
                f"{self.segments:,} address ranges, {self.postcodes:,} postcodes, "
                f"{self.cells:,} grid cells, {self.contests:,} contests ({self.path.name})")


def node_dir(settings: Settings) -> Path:
    """The node directory (the table lives there; a node without one has no table)."""
    if settings.node_dir is None:
        raise ValueError("the voter lookup needs a node directory")
    return Path(settings.node_dir)


def table_path(settings: Settings) -> Path:
    """The table's file in the node directory."""
    return node_dir(settings) / paths.VOTER_TABLE


def containers(settings: Settings) -> list[str]:
    """The containers the table is computed from (``voter_containers``)."""
    return [c.strip().strip("/") + "/" for c in str(settings.voter_containers).split()
            if c.strip("/ ")]


def stamp(node: Node) -> str:
    """What the table depends on, as one string: it changes when any input changes."""
    parts = [f"{c}={node.store.container_stamp(node.base + c)}"
             for c in containers(node.settings)]
    folder = node_dir(node.settings) / paths.VOTER_SEGMENTS_DIR
    if folder.is_dir():
        for f in sorted(folder.glob("*.json")):
            info = f.stat()
            parts.append(f"{f.name}={info.st_mtime_ns}:{info.st_size}")
    return " ".join(parts)


def _segments(directory: Path) -> list[dict[str, Any]]:
    folder = directory / paths.VOTER_SEGMENTS_DIR
    out: list[dict[str, Any]] = []
    for f in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        out += json.loads(f.read_text(encoding="utf-8")).get("segments", [])
    return out


def _served_by(places: Places, with_stations: set[str]) -> dict[str, str | None]:
    """unit -> the unit whose stations serve its voters: itself or the nearest above."""
    out: dict[str, str | None] = {}
    for iri in places.units:
        cursor: str | None = iri
        seen: set[str] = set()
        while cursor is not None and cursor not in with_stations and cursor not in seen:
            seen.add(cursor)
            parent = places.units.get(cursor)
            cursor = parent.parent if parent else None
        out[iri] = cursor if cursor in with_stations else None
    return out


def _ballots(places: Places, unit: str) -> set[str]:
    """The units whose contests a voter of ``unit`` gets: it, those above, their districts."""
    chain: set[str] = set()
    cursor: str | None = unit
    while cursor is not None and cursor not in chain:
        chain.add(cursor)
        chain |= places.districts_of.get(cursor, set())
        parent = places.units.get(cursor)
        cursor = parent.parent if parent else None
    return chain


def _contest_rows(model: ElectionModel) -> list[tuple[str, str, str | None]]:
    """(contest IRI, JSON, district) of each contest of ``model``."""
    rows = []
    for c in model.contests:
        selections = []
        for sel in c.selections:
            people = [{"iri": cand, "name": model.candidates[cand].names
                       if cand in model.candidates else {},
                       "party": model.candidates[cand].party
                       if cand in model.candidates else None}
                      for cand in sel.candidates]
            parties = sorted({p for p in sel.parties} |
                             {str(x["party"]) for x in people if x["party"]})
            selections.append({"iri": sel.iri, "kind": sel.kind, "text": sel.text,
                               "candidates": people,
                               "parties": [{"iri": p, "name": model.parties[p][1]
                                            if p in model.parties else p,
                                            "abbreviation": model.parties[p][2]
                                            if p in model.parties else None}
                                           for p in parties]})
        data = {"iri": c.iri, "kind": c.kind, "title": c.title or {"und": c.name or c.ident},
                "fullText": c.full_text, "election": model.iri, "electionTitle": model.title,
                "date": model.start, "district": c.district, "numberElected": c.number_elected,
                "selections": selections}
        rows.append((c.iri, json.dumps(data, ensure_ascii=False), c.district))
    return rows


def _station_data(s: Station) -> str:
    return json.dumps({"iri": s.iri, "name": s.name, "address": s.address, "city": s.city,
                       "postcode": s.postcode, "lat": s.lat, "long": s.long, "hours": s.hours,
                       "dropBox": s.drop_box, "earlyVoting": s.early_voting,
                       "wheelchairAccessible": s.wheelchair, "directions": s.directions},
                      ensure_ascii=False)


def build(node: Node) -> BuildSummary:
    """Compute the table from ``node`` and put it in place; what it holds."""
    settings = node.settings
    rule = ReadRule(node.base, node.containers)
    mark = stamp(node)
    places = read_places(node.store, node.base, containers(settings),
                         lambda iri: rule.may_read(iri, PUBLIC))
    target = table_path(settings)
    # One part file per process and thread: two workers rebuilding at once each rename a
    # whole table over (the last one wins), never write into the same file.
    part = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.part")
    part.unlink(missing_ok=True)
    db = sqlite3.connect(part)
    try:
        db.executescript(SCHEMA)
        numbered = list(enumerate(places.stations, start=1))
        serves = sorted({(unit, number) for number, st in numbered
                         for unit in st.serves or [st.iri]})
        served = _served_by(places, {unit for unit, _ in serves})
        db.executemany("INSERT INTO units VALUES (?, ?, ?, ?, ?)",
                       [(u.iri, u.name, u.kind, u.parent, served.get(u.iri))
                        for u in places.units.values()])
        # rank: polling day first, then early voting, then drop boxes (they take no voter)
        db.executemany("INSERT INTO stations VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [(number, st.iri, postcode_key(st.postcode), st.lat, st.long,
                         2 if st.drop_box else 1 if st.early_voting else 0,
                         _station_data(st)) for number, st in numbered])
        db.executemany("INSERT INTO serves VALUES (?, ?)", serves)
        segments = _segments(node_dir(settings))
        db.executemany("INSERT INTO segments VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [(street_key(g["street"]), postcode_key(g["zip"]), g["start"],
                         g["end"], g["parity"], g["precinct"], _segment_label(g))
                        for g in segments])
        pairs = {(postcode_key(g["zip"]), g["precinct"], _segment_label(g))
                 for g in segments if g["zip"]}
        by_number = dict(numbered)
        covered = {p for p, _, _ in pairs}  # a postcode with address ranges uses them
        for unit, number in serves:
            st = by_number[number]
            if st.postcode and postcode_key(st.postcode) not in covered:
                name = places.units[unit].name if unit in places.units else st.name
                pairs.add((postcode_key(st.postcode), unit, name))
        db.executemany("INSERT INTO postcodes VALUES (?, ?, ?)", sorted(pairs))
        coords = [(number, st.lat, st.long) for number, st in numbered
                  if st.lat is not None and st.long is not None]
        serving: dict[str, set[int]] = {}
        for unit in places.geometry:
            holder = served.get(unit)
            serving[unit] = {number for u, number in serves if u == holder}
        shape, cells = grid.cells(coords, float(settings.voter_grid_degrees),
                                  int(settings.voter_max_grid_cells),
                                  grid.outlines(places.geometry), serving)
        db.executemany("INSERT INTO grid VALUES (?, ?, ?)",
                       [(k, unit, json.dumps(ids)) for k, (unit, ids) in cells.items()])
        contests = 0
        by_district: dict[str, list[str]] = {}
        for model in places.elections:
            for iri, data, district in _contest_rows(model):
                db.execute("INSERT OR REPLACE INTO contests VALUES (?, ?)", (iri, data))
                contests += 1
                if district:
                    by_district.setdefault(district, []).append(iri)
        rows = []
        for unit in places.units:
            position = 0
            for holder in sorted(_ballots(places, unit)):
                for contest in by_district.get(holder, []):
                    rows.append((unit, contest, position))
                    position += 1
        db.executemany("INSERT OR IGNORE INTO ballots VALUES (?, ?, ?)", rows)
        db.executemany("INSERT INTO meta VALUES (?, ?)", [("stamp", mark)] + (
            [("grid", json.dumps(asdict(shape)))] if shape is not None else []))
        db.commit()
    finally:
        db.close()
    os.replace(part, target)  # SQLite flushed the file at COMMIT; the rename is flushed next
    fsync_path(target.parent)
    return BuildSummary(target, len(places.stations), len(places.units), len(segments),
                        len({p for p, _, _ in pairs}), len(cells), contests)


def _segment_label(g: dict[str, Any]) -> str:
    """How the picker names an address range: ``N 32ND ST 19000–19098 (even), PHOENIX``."""
    every = g["start"] == 0 and g["end"] >= 2**31 - 1
    numbers = "" if every else f" {g['start']}–{g['end']}"
    parity = "" if g["parity"] == "both" else f" ({g['parity']})"
    return f"{g['street']}{numbers}{parity}, {g['city']}".strip(", ")


def built_stamp(settings: Settings) -> str | None:
    """The stamp the table on disk was built from, or None when there is none."""
    path = table_path(settings)
    if not path.is_file():
        return None
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'stamp'").fetchone()
        return str(row[0]) if row else None
    except sqlite3.DatabaseError:
        return None
    finally:
        db.close()


def ensure(node: Node) -> bool:
    """Rebuild the table when what it was computed from changed; whether it did."""
    if built_stamp(node.settings) == stamp(node):
        return False
    build(node)
    return True


def rebuild(settings: Settings) -> BuildSummary:
    """Open the node of ``settings``, rebuild its table (the CLI after an import)."""
    node = Node.open(settings)
    try:
        return build(node)
    finally:
        node.close()

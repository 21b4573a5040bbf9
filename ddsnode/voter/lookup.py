"""Answering a voter: a few indexed reads of the table, no geometry beyond a handful of
distances (docs/voter.md).

A query is an address (house number, street, postcode), a postcode alone, a point, or a
unit chosen from a picker. An :class:`Answer` is either the voter's unit with its
stations and ballots, or a picker (the postcode is split between units: choose your
address), or nothing (:class:`NotFound`, which carries its HTTP status, 404).
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ddsnode.problem import BadRequest, NotFound
from ddsnode.voter.address import Address, parse, postcode_key
from ddsnode.voter.grid import Shape, distance

__all__ = ["Answer", "Choice", "Lookup"]

ANSWERS_CACHED = 16_384  # unit answers kept per table (a few KiB each)


@dataclass(frozen=True)
class Choice:
    """One line of an address picker: what the voter recognises, and the unit it is in."""

    label: str
    unit: str


@dataclass
class Answer:
    """Where a voter votes, or the picker to choose from."""

    unit: str | None = None
    unit_name: str = ""
    stations: list[dict[str, Any]] = field(default_factory=list)
    ballots: list[dict[str, Any]] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)
    more_choices: bool = False
    levels: list[tuple[str, str, str]] = field(default_factory=list)  # (iri, name, kind) up
    _encoded: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def is_picker(self) -> bool:
        """Whether the voter must pick an address first."""
        return self.unit is None and bool(self.choices)

    def encoded(self) -> bytes:
        """:meth:`to_json` as compact UTF-8 JSON, made once per answer (answers of a unit
        are cached by :class:`Lookup`, and many addresses share one)."""
        if self._encoded is None:
            self._encoded = json.dumps(self.to_json(), ensure_ascii=False,
                                       separators=(",", ":")).encode("utf-8")
        return self._encoded

    def to_json(self) -> dict[str, Any]:
        """The answer as JSON (the ``.json`` form of the pages)."""
        if self.is_picker:
            return {"picker": [{"label": c.label, "unit": c.unit} for c in self.choices],
                    "truncated": self.more_choices}
        return {"unit": {"id": self.unit, "name": self.unit_name},
                "levels": [{"id": i, "name": n, "gpUnitType": k} for i, n, k in self.levels],
                "stations": self.stations, "ballots": self.ballots}


class Lookup:
    """Queries over one table file; safe to share between threads (a connection each)."""

    def __init__(self, path: Path, *, max_stations: int = 20, max_choices: int = 100,
                 max_query_chars: int = 200) -> None:
        self.path = path
        self.max_stations = max_stations
        self.max_choices = max_choices
        self.max_query_chars = max_query_chars
        self._local = threading.local()
        self._grid: Shape | None = None
        # A unit's answer, once read: a table has a few thousand units and a million
        # addresses, so most lookups end on an answer already made. One Lookup serves one
        # table file (a rebuild makes a new Lookup), so the cache never outlives its data.
        self._answers: dict[tuple[str, str, int], Answer] = {}

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            if not self.path.is_file():
                raise NotFound("This node has no polling stations to look up yet")
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                 check_same_thread=False)
            self._local.db = db
        return db

    def close(self) -> None:
        """Close this thread's connection (the table is about to be replaced)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # -- queries -------------------------------------------------------------------

    def ask(self, q: str = "", postcode: str = "", lat: str = "", long: str = "",
            unit: str = "") -> Answer:
        """The answer to a form's fields (one of them set); BadRequest when none is."""
        for value in (q, postcode, lat, long, unit):
            if len(value) > self.max_query_chars:
                raise BadRequest(f"a query of {len(value):,} characters; at most "
                                 f"{self.max_query_chars:,} (voter_max_query_chars)")
        if unit:
            return self.by_unit(unit)
        if lat or long:
            return self.by_point(_coordinate(lat, 90, "lat"), _coordinate(long, 180, "long"))
        if q.strip():  # the form's two fields both filled: the postcode completes the address
            return self.by_address(f"{q} {postcode}" if postcode.strip() else q)
        if postcode:
            return self.by_postcode(postcode)
        raise BadRequest("give an address (q), a postcode, a point (lat, long) or a unit")

    def by_address(self, text: str) -> Answer:
        """The answer for a typed address: a range on its street, else its postcode."""
        address = parse(text[: self.max_query_chars])
        if address.number is not None and address.street:
            unit = self._segment_unit(address)
            if unit is not None:
                return self.by_unit(unit)
        if address.postcode:
            return self.by_postcode(address.postcode)
        raise NotFound("No polling station found for this address: add its postcode, "
                       "or check the street name and house number")

    def _segment_unit(self, address: Address) -> str | None:
        number = address.number or 0
        parity = "even" if number % 2 == 0 else "odd"
        for street in address.street_prefixes():
            rows = self._db().execute(
                "SELECT unit, postcode FROM segments WHERE street = ? AND lo <= ? AND hi >= ?"
                " AND parity IN ('both', ?) LIMIT 50", (street, number, number, parity)
            ).fetchall()
            if address.postcode:
                rows = [r for r in rows if r[1] in ("", address.postcode)] or \
                    ([] if any(r[1] for r in rows) else rows)
            units: set[str] = {r[0] for r in rows}  # sqlite3 rows are Any; unit is TEXT
            if len(units) == 1:
                return units.pop()
            if units:
                return None  # the same range in two places: let the postcode decide
        return None

    def by_postcode(self, text: str) -> Answer:
        """One unit: its answer; several: an address picker."""
        key = postcode_key(text)[:16]
        cached = self._answers.get(("postcode:" + key, "", 0))
        if cached is not None:
            return cached
        answer = self._postcode_answer(key)
        if len(self._answers) >= ANSWERS_CACHED:
            self._answers.clear()
        self._answers[("postcode:" + key, "", 0)] = answer
        return answer

    def _postcode_answer(self, key: str) -> Answer:
        rows = self._db().execute(
            "SELECT label, unit FROM postcodes WHERE postcode = ? ORDER BY label, unit "
            "LIMIT ?", (key, self.max_choices + 1)).fetchall()
        if not rows:
            raise NotFound("No polling station is known for this postcode")
        units = {r[1] for r in rows}
        if len(units) == 1:
            return self.by_unit(rows[0][1], postcode=key)
        return Answer(choices=[Choice(label, unit) for label, unit in rows[: self.max_choices]],
                      more_choices=len(rows) > self.max_choices)

    def by_point(self, lat: float, long: float) -> Answer:
        """The unit enclosing (lat, long) when outlines say (else the one served by the
        nearest station), with the nearest of its stations first."""
        shape = self._grid_shape()
        if shape is None:
            raise NotFound("This node's stations have no coordinates to search by point")
        r = int((lat - shape.south) / shape.size)
        c = int((long - shape.west) / shape.size)
        if not (0 <= r < shape.rows and 0 <= c < shape.cols):
            raise NotFound("This point is outside the area of this node's polling stations")
        db = self._db()
        row = db.execute("SELECT unit, stations FROM grid WHERE cell = ?",
                         (r * shape.cols + c,)).fetchone()
        candidates = json.loads(row[1]) if row else []
        found = db.execute(
            f"SELECT id, lat, long FROM stations WHERE id IN "
            f"({','.join('?' * len(candidates))})", candidates).fetchall() if candidates \
            else []
        if not found:
            raise NotFound("No polling station near this point")
        nearest = min(found, key=lambda s: distance(lat, long, s[1], s[2]))
        unit = row[0] if row and row[0] else db.execute(
            "SELECT unit FROM serves WHERE station = ? ORDER BY unit LIMIT 1",
            (nearest[0],)).fetchone()[0]
        return self.by_unit(unit, first=int(nearest[0]))

    def by_unit(self, unit: str, *, postcode: str = "", first: int = 0) -> Answer:
        """The stations and ballots of the voters of ``unit``: station ``first`` first,
        then those in ``postcode``, then polling day before early voting before drop
        boxes. Answers are shared: callers must not change them."""
        key = (unit, postcode, first)
        cached = self._answers.get(key)
        if cached is None:
            cached = self._unit_answer(unit, postcode, first)
            if len(self._answers) >= ANSWERS_CACHED:
                self._answers.clear()
            self._answers[key] = cached
        return cached

    def _unit_answer(self, unit: str, postcode: str, first: int) -> Answer:
        db = self._db()
        row = db.execute("SELECT name, served_by FROM units WHERE iri = ?",
                         (unit,)).fetchone()
        if row is None:
            raise NotFound("No such unit in this node's polling places")
        name, served_by = row
        stations = [json.loads(r[0]) for r in db.execute(
            "SELECT s.data FROM serves v JOIN stations s ON s.id = v.station "
            "WHERE v.unit = ? ORDER BY s.id = ? DESC, s.postcode = ? DESC, s.rank, s.id "
            "LIMIT ?", (served_by or unit, first, postcode, self.max_stations))]
        ballots = [json.loads(r[0]) for r in db.execute(
            "SELECT c.data FROM ballots b JOIN contests c ON c.iri = b.contest "
            "WHERE b.unit = ? ORDER BY b.position", (unit,))]
        return Answer(unit, name, stations, ballots, levels=self.levels(unit))

    def levels(self, unit: str) -> list[tuple[str, str, str]]:
        """``unit`` and every unit above it: (iri, name, gpUnitType), lowest first."""
        out: list[tuple[str, str, str]] = []
        cursor: str | None = unit
        while cursor is not None and len(out) < 16 and cursor not in {o[0] for o in out}:
            row = self._db().execute("SELECT name, kind, parent FROM units WHERE iri = ?",
                                     (cursor,)).fetchone()
            if row is None:
                break
            out.append((cursor, row[0], row[1]))
            cursor = row[2]
        return out

    def contest(self, iri: str) -> dict[str, Any]:
        """One contest with its selections, candidates and parties."""
        row = self._db().execute("SELECT data FROM contests WHERE iri = ?", (iri,)).fetchone()
        if row is None:
            raise NotFound("No such contest on this node's ballots")
        return dict(json.loads(row[0]))

    def _grid_shape(self) -> Shape | None:
        if self._grid is None:
            row = self._db().execute("SELECT value FROM meta WHERE key = 'grid'").fetchone()
            if row is None:
                return None
            self._grid = Shape(**json.loads(row[0]))
        return self._grid


def _coordinate(text: str, bound: float, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BadRequest(f"{name} must be a number of degrees") from None
    if not math.isfinite(value) or abs(value) > bound:
        raise BadRequest(f"{name} must be between -{bound:g} and {bound:g}")
    return value

"""``ddsnode import openelections`` / ``export csv``: real precinct files and variants.

The files are ``../shared/data/elections/openelections/`` (New Hampshire general 2018,
flat; Georgia primary runoff 2020, with vote-type columns). Variants are derived here
from their first lines: renamed headers, a missing column, votes that are not integers,
vote types that do not add up, broken lines, duplicates, an unknown office. Each case
checks the exit status, what was written and what the report says.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ddsnode.cli import main
from ddsnode.commands.node import init_node
from ddsnode.elections.loading import _members
from ddsnode.ldp.node import Node
from ddsnode.settings import Settings

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "elections" / "openelections"
NH = SHARED / "20181106__nh__general__precinct.csv"
GA = SHARED / "20200811__ga__primary__general__runoff.csv"
BASE = "http://127.0.0.1:8000/"
CONTAINERS = ("elections/", "places/", "organisations/", "results/")


def lines(path: Path, count: int) -> list[str]:
    """The header and the first ``count`` data lines of a shared file."""
    with path.open(encoding="utf-8") as f:
        return [next(f) for _ in range(count + 1)]


def spread(path: Path, count: int) -> list[str]:
    """The header and ``count`` data lines taken at an even step through a shared file:
    many contests, candidates and counties in few rows. Rows without an office or a count
    are left out: they belong to no contest or give no number (the NH file's "Scattering"
    lines of some districts, its empty votes cells)."""
    with path.open(encoding="utf-8") as f:
        header, *data = f.readlines()
    names = next(csv.reader([header]))
    office, counts = names.index("office"), names.index("candidate") + 1

    def readable(cells: list[str]) -> bool:
        return bool(cells[office]) and all(c.strip().isdigit() for c in cells[counts:])

    data = [line for line in data if readable(next(csv.reader([line])))]
    return [header, *data[::len(data) // count][:count]]


def write(tmp: Path, name: str, rows: list[str]) -> Path:
    """A CSV under its OpenElections name."""
    path = tmp / name
    path.write_text("".join(rows), encoding="utf-8")
    return path


def import_csv(node_dir: Path, path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    """Run the import; (exit status, the report or {})."""
    out = node_dir.parent / "report.json"
    out.unlink(missing_ok=True)
    status = main(["import", "openelections", str(node_dir), str(path), "--report", str(out),
                   *extra])
    return status, json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}


def stored_count(node_dir: Path) -> int:
    """How many resources the election containers hold."""
    node = Node.open(Settings.load(node_dir))
    try:
        return sum(len(_members(node, c)) for c in CONTAINERS)
    finally:
        node.close()


def source_totals(rows: list[str]) -> Counter[tuple[str, str, str]]:
    """(office, district, candidate) -> votes in a CSV (the parts' sum without ``votes``)."""
    out: Counter[tuple[str, str, str]] = Counter()
    for row in csv.DictReader(io.StringIO("".join(rows))):
        parts = [v for k, v in row.items() if k not in
                 ("county", "precinct", "office", "district", "party", "candidate")]
        votes = int(row["votes"]) if "votes" in row else sum(int(v) for v in parts)
        out[(row["office"], row["district"], row["candidate"])] += votes
    return out


def exported_totals(text: str) -> Counter[tuple[str, str, str]]:
    """The same sums over an ``export csv`` (office is the contest's title there)."""
    out: Counter[tuple[str, str, str]] = Counter()
    for row in csv.DictReader(io.StringIO(text)):
        office = row["office"]
        district = row["district"].removeprefix(office.split(" ")[0]).strip()
        out[(row["office"].rsplit(" ", 1)[0] if district else office,
             row["district"].rsplit(" ", 1)[-1] if district else "", row["candidate"])] += \
            int(row["votes"])
    return out


def export_csv(node_dir: Path, date: str, slug: str) -> str:
    """``export csv`` of the file's election."""
    out = node_dir.parent / "export.csv"
    assert main(["export", "csv", str(node_dir), f"elections/{slug}-election-{date}",
                 "-o", str(out)]) == 0
    return out.read_text(encoding="utf-8")


@pytest.mark.parametrize(("source", "count", "date"), [(NH, 50, "2018-11-06"),
                                                       (GA, 50, "2020-08-11")])
def test_per_candidate_totals_equal_the_source(tmp_path: Path, source: Path, count: int,
                                               date: str) -> None:
    node_dir = tmp_path / "node"
    init_node(node_dir, base_url=BASE)
    rows = spread(source, count)
    # rows from across the file: several contests and candidates, not one's first precincts
    assert len(set(source_totals(rows))) > 10
    path = write(tmp_path, source.name, rows)
    status, report = import_csv(node_dir, path, "--slug", "oe")
    assert status == 0 and report["totals"]["rejected"] == 0, report["rejected"]
    exported = export_csv(node_dir, date, "oe")
    got = Counter({(o, d, c): n for (o, d, c), n in exported_totals(exported).items()})
    assert sum(got.values()) == sum(source_totals(rows).values())
    assert sorted(got.values()) == sorted(source_totals(rows).values())
    again = import_csv(node_dir, path, "--slug", "oe")[1]
    assert again["totals"]["created"] == again["totals"]["updated"] == 0


def test_vote_type_columns_are_exported(tmp_path: Path) -> None:
    node_dir = tmp_path / "node"
    init_node(node_dir, base_url=BASE)
    import_csv(node_dir, write(tmp_path, GA.name, lines(GA, 20)), "--slug", "oe")
    text = export_csv(node_dir, "2020-08-11", "oe")
    header = text.splitlines()[0].split(",")
    assert header[:7] == ["county", "precinct", "office", "district", "party", "candidate",
                          "votes"]
    assert set(header[7:]) == {"election_day", "early", "absentee_by_mail", "provisional"}
    first = next(csv.DictReader(io.StringIO(text)))
    parts = sum(int(first[c]) for c in header[7:])
    assert parts == int(first["votes"])


@dataclass(frozen=True)
class Variant:
    """A file derived from the NH or GA sample, and what the import must do with it."""

    name: str
    base: Path
    change: Callable[[list[str]], list[str]]
    status: int  # exit status
    findings: tuple[str, ...] = ()  # finding codes that must be reported
    rejected: int = 0  # results refused
    file_name: str | None = None


def _replace_header(old: str, new: str) -> Callable[[list[str]], list[str]]:
    return lambda rows: [rows[0].replace(old, new), *rows[1:]]


def _cell(line: int, column: int, value: str) -> Callable[[list[str]], list[str]]:
    def change(rows: list[str]) -> list[str]:
        cells = rows[line].rstrip("\n").split(",")
        cells[column] = value
        return [*rows[:line], ",".join(cells) + "\n", *rows[line + 1:]]
    return change


#: Data lines of a variant's file: each variant changes one line or the header, and the
#: changes name lines up to the sixth.
VARIANT_LINES = 8

VARIANTS = [
    Variant("as published", NH, lambda r: r, 0),
    Variant("headers renamed and capitalised", NH,
            _replace_header("county,precinct,office,district,party,candidate,votes",
                            "County,Precinct,Office,District,Party,Candidate,Total Votes"), 0),
    Variant("vote-type headers renamed", GA,
            _replace_header("election_day_votes,advanced_votes", "Election Day,Early Voting"), 0),
    Variant("candidate column missing", NH, _replace_header("candidate", "name"), 2),
    Variant("no votes column at all", NH, _replace_header(",votes", ",score"), 2),
    Variant("votes not an integer", NH, _cell(3, 6, "97a"), 0, ("result-refused",), 1),
    Variant("votes empty", NH, _cell(3, 6, ""), 0, ("result-refused",), 1),
    Variant("negative votes", NH, _cell(3, 6, "-5"), 0, ("result-refused",), 1),
    Variant("vote types do not add up to votes", GA,
            lambda r: [r[0].rstrip("\n") + ",votes\n",
                       *[x.rstrip("\n") + ",1\n" for x in r[1:]]], 0, ("result-refused",),
            VARIANT_LINES),
    Variant("a broken line", NH, lambda r: [*r[:4], "Belknap,Alton,U.S. House\n", *r[4:]], 0,
            ("broken-line",)),
    Variant("a duplicate row", NH, lambda r: [*r, r[5]], 0, ("duplicate-row",)),
    Variant("one candidate, two different counts", NH,
            lambda r: [*r, r[5].replace(r[5].rstrip("\n").rsplit(",", 1)[1] + "\n", "1\n")], 0,
            ("result-refused",), 1),
    Variant("an office OpenElections does not know", NH, _cell(2, 2, "Dog Catcher"), 0,
            ("unknown-office",)),
    Variant("a formula in a candidate's name", NH, _cell(2, 5, "=HYPERLINK(\"x\")"), 0),
    Variant("not named like an OpenElections file", NH, lambda r: r, 2,
            file_name="results.csv"),
    Variant("empty file", NH, lambda r: [], 2),
]


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_variant(tmp_path: Path, variant: Variant) -> None:
    node_dir = tmp_path / "node"
    init_node(node_dir, base_url=BASE)
    rows = variant.change(lines(variant.base, VARIANT_LINES))
    path = write(tmp_path, variant.file_name or variant.base.name, rows)
    status, report = import_csv(node_dir, path, "--slug", "oe")
    assert status == variant.status
    if status == 2:
        assert report == {} and stored_count(node_dir) == 0  # nothing half-imported
        return
    codes = {f["code"] for f in report["findings"]}
    assert set(variant.findings) <= codes, report["findings"]
    assert report["counts"].get("result", {}).get("rejected", 0) == variant.rejected
    for reject in report["rejected"]:
        assert reject["file"] == path.name and reject["line"] > 1
    assert stored_count(node_dir) == report["totals"]["created"]


def test_formula_cells_are_escaped_on_export(tmp_path: Path) -> None:
    node_dir = tmp_path / "node"
    init_node(node_dir, base_url=BASE)
    rows = _cell(2, 5, "=HYPERLINK(\"http://x.example\")")(lines(NH, 3))
    import_csv(node_dir, write(tmp_path, NH.name, rows), "--slug", "oe")
    text = export_csv(node_dir, "2018-11-06", "oe")
    names = [row["candidate"] for row in csv.DictReader(io.StringIO(text))]
    assert "'=HYPERLINK(\"http://x.example\")" in names
    assert not any(n.startswith(("=", "+", "-", "@")) for n in names)


def test_checks_on_the_whole_new_hampshire_file(tmp_path: Path) -> None:
    """OpenElections' checks on the real file: what fails, by line (not slow: 4,752 rows
    are mapped, not written)."""
    from ddsnode.elections.documents import Naming
    from ddsnode.elections.openelections import Mapper, read_sheet
    from ddsnode.elections.sources import read_source
    sheet = read_sheet(read_source(NH, 1 << 30), max_rows=10**6)
    mapper = Mapper(Naming(BASE, "oe"), "sha256:" + "0" * 64, NH.name, "en", "certified")
    mapper.documents(sheet)
    codes = Counter(f.code for f in sheet.findings)
    assert codes["duplicate-row"] > 0  # "Scattering, 0" rows repeated in multi-seat districts
    assert codes["result-refused"] > 0  # empty votes cells (Rockingham, State Senate 23)
    no_office = [r for kind, r in mapper.rejects if "no office" in r.reason]
    assert len(no_office) == 301

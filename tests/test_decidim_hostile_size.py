"""Hostile import files: bigger than anything HTTP accepts (issue 9, item 10).

An export comes from someone else's server. Each case below writes a small real export
(four proposals of the nightly export) with one hostile thing added — a huge cell, a
line with no end, a quote that never closes, a zip bomb, a ZIP whose header lies — and
imports it into an in-process node whose limits are set low (so the cases stay small):
one node for the module, the good proposals deleted before each case (which imports them
again, ``--restore-deleted``), so a case pays for its import and not a node's start and
its /sparql worker (6.9 -> 4.2 s of CPU for the module). Each asserts the report (file, row, reason), that the good rows were imported and the
hostile one was not, and that the node still answers a read and a ``/sparql`` query.
Memory is measured in ``bench/import_decidim.py --hostile`` (tracemalloc), not here.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ddsnode.cli import main
from tests.support import decidim_variants as variants
from tests.support.inprocess import LocalNode, local_node

SLUG = "nightly-decidim-org"
LIMITS = {"max_body_bytes": 64 * 1024, "max_literal_bytes": 32 * 1024,
          "import_max_unzipped_bytes": 8 * 1024 * 1024, "import_max_zip_ratio": 100}
BODY, LITERAL = LIMITS["max_body_bytes"], LIMITS["max_literal_bytes"]
GOOD = ("3", "4", "5", "6")  # the nightly export's first four proposals
HOSTILE_ID = "990001"


@dataclass(frozen=True)
class Case:
    """One hostile export: how to make it, and what the report must say."""

    name: str
    make: Callable[[Path], Path]  # export folder -> SOURCE to import (folder or ZIP)
    expect: str  # a phrase of the reason reported
    where: str  # "malformed" (a file's damaged record), "rejected" (a row), "refused" (a file)
    good: tuple[str, ...] = GOOD


def _export(folder: Path) -> tuple[list[str], list[dict[str, str]]]:
    variants.copy_export(folder, ["proposals"], max_rows=len(GOOD))
    return variants.read(folder, "proposals")


def _proposals_file(folder: Path) -> Path:
    return folder / variants.file_name("proposals")


def _row(header: list[str], rows: list[dict[str, str]], **cells: str) -> dict[str, str]:
    row = {**rows[0], "id": HOSTILE_ID, "reference": f"X-{HOSTILE_ID}",
           "url": rows[0]["url"].rsplit("/", 1)[0] + f"/{HOSTILE_ID}"}
    row.update(cells)
    return row


def _append_row(**cells: str) -> Callable[[Path], Path]:
    """A proposal row with some cells replaced, added after the good rows."""
    def make(folder: Path) -> Path:
        header, rows = _export(folder)
        variants.write(folder, "proposals", header, [*rows, _row(header, rows, **cells)])
        return folder
    return make


def _append_bytes(data: bytes, *, middle: bool = False) -> Callable[[Path], Path]:
    """Raw bytes added to the proposals file: at its end, or after its second row."""
    def make(folder: Path) -> Path:
        header, rows = _export(folder)
        path = _proposals_file(folder)
        if middle:
            variants.write(folder, "proposals", header, rows[:2])
            head = path.read_bytes()
            variants.write(folder, "proposals", header, rows[2:])
            tail = path.read_bytes().split(b"\n", 1)[1]  # without its header
            path.write_bytes(head + data + tail)
        else:
            path.write_bytes(path.read_bytes() + data)
        return folder
    return make


def _zipped(member: str, write: Callable[[zipfile.ZipFile], None]) -> Callable[[Path], Path]:
    """The export as a ZIP, with a hostile ``member`` file written by ``write``."""
    def make(folder: Path) -> Path:
        _export(folder)
        target = folder.parent / "export.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(_proposals_file(folder), variants.file_name("proposals"))
            write(archive)
        return target
    return make


def _zeros(name: str, size: int) -> Callable[[zipfile.ZipFile], None]:
    """A member inflating to ``size`` zero bytes, streamed (never ``size`` in memory)."""
    def write(archive: zipfile.ZipFile) -> None:
        with archive.open(variants.file_name(name), "w", force_zip64=True) as f:
            block = b"\0" * (1 << 20)
            for _ in range(size >> 20):
                f.write(block)
    return write


def _lying_header(folder: Path) -> Path:
    """A ZIP whose proposals member says it inflates to fewer bytes than it does: the
    reader stops at the declared size and the CRC fails; the rows before stand."""
    header, rows = _export(folder)
    extra = [_row(header, rows, id=str(900000 + i), reference=f"L-{i}") for i in range(40)]
    variants.write(folder, "proposals", header, [*rows, *extra])
    data = _proposals_file(folder).read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(variants.file_name("proposals"), data)
    raw = bytearray(buf.getvalue())
    declared = len(data.split(b"\n" + HOSTILE_ID.encode())[0]) + len(data) // 2
    declared = min(declared, len(data) - 100)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = raw.find(signature)
        struct.pack_into("<I", raw, at + offset, declared)  # uncompressed size
    target = folder.parent / "lying.zip"
    target.write_bytes(bytes(raw))
    return target


CASES = [
    Case("huge cell, one line", _append_row(**{"body/en": "x" * (3 * BODY)}),
         "longer than 65,536 bytes (max_body_bytes)", "malformed"),
    Case("huge quoted cell over many lines", _append_row(**{"body/en": "line\n" * BODY}),
         "longer than 65,536 bytes", "malformed"),
    Case("huge cell in the middle of the file",
         _append_bytes(HOSTILE_ID.encode() + b";" + b"y" * (2 * BODY) + b"\n", middle=True),
         "longer than 65,536 bytes", "malformed"),
    Case("a line with no end", _append_bytes(HOSTILE_ID.encode() + b";" + b"z" * (4 * BODY)),
         "longer than 65,536 bytes", "malformed"),
    Case("a quote that never closes, and a long rest",
         _append_bytes(HOSTILE_ID.encode() + b';"open' + (b"\n" + b"m" * 999) * 200),
         "never closed, so the file's rest is too", "malformed"),
    Case("nested quotes", _append_bytes(HOSTILE_ID.encode() + b';"say "hi" there";x\n',
                                        middle=True),
         "", "malformed"),
    Case("a value over max_literal_bytes", _append_row(**{"body/en": "w " * (LITERAL // 2 + 1000)}),
         "past max_literal_bytes (32,768)", "rejected"),
    Case("a resource over max_body_bytes, each value under",
         _append_row(**{"title/en": "\\" * 28_000, "body/en": "\\" * 28_000}),
         "past max_body_bytes (65,536)", "rejected"),
    Case("thousands of damaged lines", _append_bytes(b"1;2\n" * 5000, middle=True),
         "... and 3000 more", "malformed"),
    Case("zip bomb past import_max_unzipped_bytes",
         _zipped("debates", _zeros("debates", 16 << 20)), "import_max_unzipped_bytes",
         "refused"),
    Case("zip bomb past import_max_zip_ratio", _zipped("meetings", _zeros("meetings", 4 << 20)),
         "import_max_zip_ratio = 100", "refused"),
    Case("a ZIP member whose header lies about its size", _lying_header,
         "cannot be read past this record", "malformed"),
]


def run_import(node: LocalNode, source: Path) -> dict[str, Any]:
    """The command, in this process, against the node's directory; its JSON report."""
    report = source.parent / "report.json"  # the case's own folder: the node is shared
    # --restore-deleted: the cases share a node, and each deletes the good proposals
    # before it imports them again (the ``node`` fixture)
    assert main(["import", "decidim", str(node.dir), str(source), "--quiet",
                 "--restore-deleted", "--report", str(report)]) == 0
    data: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    return data


def proposals_report(report: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = next(f for f in report["files"] if f["entity"] == "proposals")
    return found


@pytest.fixture(scope="module")
def shared_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    """One node for the cases (its start and its /sparql worker are most of a case)."""
    with local_node(tmp_path_factory.mktemp("hostile-size"), settings=LIMITS) as node:
        yield node


@pytest.fixture
def node(shared_node: LocalNode) -> Iterator[LocalNode]:
    """The shared node without the good proposals, before and after: each case imports
    them itself, so "the good rows were imported" is this case's doing."""
    def clear() -> None:
        with shared_node.client() as http:
            for ident in GOOD:
                r = http.delete(f"proposals/{SLUG}-{ident}", headers=shared_node.auth())
                assert r.status_code in (204, 404, 410), r.text  # 410: deleted before
                assert http.get(f"proposals/{SLUG}-{ident}").status_code in (404, 410)
    clear()
    yield shared_node
    clear()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_export_is_reported_and_the_rest_imported(tmp_path: Path, node: LocalNode,
                                                          case: Case) -> None:
    source = case.make(tmp_path / "export")
    with node.client() as http:
        report = run_import(node, source)
        if case.where == "malformed":
            reasons = [m["reason"] for m in proposals_report(report)["malformed"]]
            assert reasons and any(case.expect in r for r in reasons), reasons
        elif case.where == "rejected":
            rejected = [r for r in report["rejected"] if r["id"] == HOSTILE_ID]
            assert rejected and case.expect in rejected[0]["reason"], report["rejected"]
            assert rejected[0]["file"] == variants.file_name("proposals")
            assert rejected[0]["row"] > 1
        else:
            refused = [f for f in report["files"] if not f["imported"]
                       and f["reason"].startswith("refused")]
            assert refused and case.expect in refused[0]["reason"], report["files"]
        # the good rows were imported, the hostile one was not
        for ident in case.good:
            assert http.get(f"proposals/{SLUG}-{ident}").status_code == 200, ident
        assert http.get(f"proposals/{SLUG}-{HOSTILE_ID}").status_code == 404
        # the node still answers: a read, and a query over everything stored
        assert http.get("proposals/", headers={"Accept": "text/turtle"}).status_code == 200
        answer = http.get("sparql", params={"query": "SELECT (COUNT(*) AS ?n) "
                                            "WHERE { ?s ?p ?o }"},
                          headers={"Accept": "application/sparql-results+json"})
        assert answer.status_code == 200, answer.text
        largest = http.get("sparql", params={"query": "SELECT (MAX(STRLEN(STR(?o))) AS ?n) "
                                             "WHERE { ?s ?p ?o FILTER(isLiteral(?o)) }"},
                           headers={"Accept": "application/sparql-results+json"})
        assert largest.status_code == 200
        longest = int(largest.json()["results"]["bindings"][0]["n"]["value"])
        assert longest <= LITERAL  # nothing bigger than a value HTTP would take got in


@pytest.mark.slow  # a fake Decidim on a real socket
def test_api_answers_meet_the_same_limits(tmp_path: Path) -> None:
    """The GraphQL API is another way in: its rows meet the same per-value limit."""
    from tests.support.fake_decidim import Running

    folder = variants.small_export(tmp_path / "export")
    for entity in ("results", "meetings", "debates", "debate_comments", "projects"):
        (folder / variants.file_name(entity)).unlink()
    header, rows = variants.read(folder, "proposals")
    hostile = _row(header, rows, **{"title/en": "t " * (LITERAL // 2 + 1000)})
    variants.write(folder, "proposals", header, [*rows, hostile])
    with local_node(tmp_path, settings=LIMITS) as node, node.client() as http, \
            Running(folder) as fake:
        report_file = node.dir.parent / "api-report.json"
        assert main(["import", "decidim", str(node.dir), fake.url, "--via", "api", "--quiet",
                     "--report", str(report_file)]) == 0
        report = json.loads(report_file.read_text(encoding="utf-8"))
        rejected = [r for r in report["rejected"] if r["id"] == HOSTILE_ID]
        assert rejected and "past max_literal_bytes" in rejected[0]["reason"], report["rejected"]
        assert report["counts"]["proposals"]["created"] > 0  # the rest of its component
        slug = f"127-0-0-1-{fake.port}"
        assert http.get(f"proposals/{slug}-{HOSTILE_ID}").status_code == 404
        assert http.get(f"proposals/{slug}-{rows[0]['id']}").status_code == 200
        assert http.get("sparql", params={"query": "ASK { ?s ?p ?o }"},
                        headers={"Accept": "application/sparql-results+json"}).status_code == 200

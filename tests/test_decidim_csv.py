"""The tolerant CSV reader: damaged records are reported and skipped, never fatal."""

from __future__ import annotations

from ddsnode.decidim.columns import missing_columns, pattern, unknown_columns
from ddsnode.decidim.csvrows import CsvFile, open_lines, restore_formula


def read(data: bytes) -> tuple[list[dict[str, str]], CsvFile]:
    reader = CsvFile("test.csv", open_lines(data))
    return [r.cells for r in reader.records()], reader


def test_rows_by_header_name_with_multiline_cells() -> None:
    rows, reader = read(b'id;title/en;body/en\n1;One;"two\nlines"\n2;Two;"say ""hi"""\n')
    assert rows == [{"id": "1", "title/en": "One", "body/en": "two\nlines"},
                    {"id": "2", "title/en": "Two", "body/en": 'say "hi"'}]
    assert reader.issues == []


def test_formula_prefix_is_removed() -> None:
    assert restore_formula("'=SUM(A1)") == "=SUM(A1)"
    assert restore_formula("'-PROJ-1") == "-PROJ-1"
    assert restore_formula("'@nick") == "@nick"
    assert restore_formula("'quoted'") == "'quoted'"
    rows, _ = read(b"id;title/en\n1;'+33 1 23\n")
    assert rows[0]["title/en"] == "+33 1 23"


def test_damaged_records_are_reported_and_skipped() -> None:
    data = (b"id;title/en;body/en\n"
            b"1;One;ok\n"
            b"2;too;many;fields\n"
            b"3;nul\x00;here\n"
            b"4;\xff\xfe;bad utf-8\n"
            b'5;"never closed;x\n'
            b"6;Six;ok\n"
            b'7;Seven;"multi\nline"\n')
    rows, reader = read(data)
    assert [r["id"] for r in rows] == ["1", "6", "7"]
    lines = {i.line: i.reason for i in reader.issues}
    assert set(lines) == {3, 4, 5, 6}
    assert "4 fields" in lines[3] and "NUL" in lines[4] and "UTF-8" in lines[5]
    assert "never closed" in lines[6]


def test_unclosed_quote_at_the_end_costs_one_record() -> None:
    rows, reader = read(b'id;title/en\n1;One\n2;"open\n3;Three\n')
    assert [r["id"] for r in rows] == ["1", "3"]
    assert [i.line for i in reader.issues] == [3]


def test_header_order_does_not_matter_and_bom_is_dropped() -> None:
    rows, _ = read("\ufefftitle/en;id\nOne;1\n".encode("utf-8"))
    assert rows == [{"id": "1", "title/en": "One"}]


def test_column_patterns_across_versions() -> None:
    assert pattern("title/machine_translations/es") == "title/*"
    assert pattern("taxonomies/32/en") == "taxonomies/#/*"
    assert pattern("author/id") == "author/id"
    header = ["id", "title/en", "endorsements", "category/id", "shiny_new"]
    assert unknown_columns("proposals", header) == ["shiny_new"]
    assert "body/*" in missing_columns("proposals", header)
    assert unknown_columns("meeting_comments", ["id", "body", "alignment"]) == []


def test_report_shape_is_stable() -> None:
    from ddsnode.decidim.report import FileReport, ImportReport, Reject
    report = ImportReport("https://node.example/processes/p", "https://p.example/open-data/download",
                          "2026-01-01T00:00:00Z")
    report.count("proposals", "created")
    report.reject(Reject("x.csv", 3, "7", "A title is required"), "proposals")
    report.files.append(FileReport("x.csv", "proposals", rows=2))
    data = report.to_json()
    assert set(data) == {"platform", "source", "started", "finished", "totals", "counts",
                         "rejected", "rejectedCount", "files", "tombstonesSkipped",
                         "repeatedRows"}
    assert data["totals"] == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 1,
                              "tombstoned": 0, "withheld": 0}
    assert data["rejected"] == [{"file": "x.csv", "row": 3, "id": "7",
                                 "reason": "A title is required"}]
    assert set(data["files"][0]) == {"name", "entity", "rows", "imported", "reason",
                                     "unknownColumns", "missingColumns", "malformed", "notes",
                                     "noteCount"}
    assert "proposals" in report.summary_table() and "total" in report.summary_table()


def test_progress_bar_only_on_a_terminal() -> None:
    import io

    from ddsnode.commands.imports import ProgressBar

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    bar = ProgressBar(screen, True)
    bar(50, 100, "proposals")
    bar(100, 100, "results")
    bar.close()
    assert "\r[###############...............]  50% proposals" in screen.getvalue()
    assert "100% results" in screen.getvalue()
    piped = io.StringIO()
    ProgressBar(piped, True)(50, 100, "proposals")
    assert piped.getvalue() == ""


def bounded(data: bytes, limit: int) -> tuple[list[str], CsvFile]:
    reader = CsvFile("test.csv", open_lines(data), max_record_bytes=limit)
    return [r.cells["id"] for r in reader.records()], reader


def test_records_longer_than_the_limit_are_skipped_whole() -> None:
    header = b"id;title/en;body/en\n"
    cases = {  # hostile record -> the ids read around it (1 before, 9 after)
        "one long line": b"5;x;" + b"y" * 5000 + b"\n",
        "a long quoted cell over many short lines": b'5;x;"' + b"line\n" * 2000 + b'"\n',
        "a long quoted cell with fake records in it": b'5;x;"' + b"7;fake;row\n" * 600 + b'"\n',
        "a long line with quotes in it": b'5;"a""b' + b'"' * 3000 + b"c" * 5000 + b'";z\n',
    }
    for name, hostile in cases.items():
        ids, reader = bounded(header + b"1;a;b\n" + hostile + b"9;c;d\n", 4096)
        assert ids == ["1", "9"], name
        assert [i.line for i in reader.issues] == [3], (name, reader.issues)
        assert "longer than 4,096 bytes" in reader.issues[0].reason


def test_a_line_with_no_end_costs_one_record() -> None:
    ids, reader = bounded(b"id;t\n1;a\n2;" + b"z" * 100_000, 4096)
    assert ids == ["1"] and reader.issue_count == 1


def test_an_unclosed_quote_past_the_limit_skips_the_rest_and_says_so() -> None:
    ids, reader = bounded(b'id;t\n1;a\n2;"open\n' + b"3;b\n" * 2000, 4096)
    assert ids == ["1"]
    assert "the file's rest is too" in reader.issues[0].reason


def test_cells_up_to_the_record_limit_are_read_whatever_csv_module_default() -> None:
    import csv
    previous = csv.field_size_limit(128 * 1024)  # the csv module's default
    try:
        ids, reader = bounded(b"id;t\n1;" + b"w" * 300_000 + b"\n", 1 << 20)
        assert ids == ["1"] and reader.issues == []
    finally:
        csv.field_size_limit(max(previous, csv.field_size_limit()))


def test_issues_listed_are_capped_and_counted() -> None:
    from ddsnode.decidim.csvrows import MAX_ISSUES
    ids, reader = bounded(b"id;t\n" + b"1\n" * (MAX_ISSUES + 500) + b"2;b\n", 4096)
    assert ids == ["2"]
    assert len(reader.issues) == MAX_ISSUES and reader.issue_count == MAX_ISSUES + 500

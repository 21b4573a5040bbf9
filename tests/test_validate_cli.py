"""``ddsnode validate``: formats in, text or a SHACL report out, exit status 0/1/2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import rdflib

from ddsnode.cli import main
from ddsnode.rdf.vocab import SH

FIXTURES = Path(__file__).parent / "fixtures" / "authoring"
SHAPES = FIXTURES / "good" / "shapes"
VALID = FIXTURES / "good" / "examples" / "proposal.jsonld"
NO_TITLE = FIXTURES / "good" / "examples" / "invalid" / "proposal-without-title.jsonld"
OTHER = FIXTURES / "validate"


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    status = main(["validate", "--shapes", str(SHAPES), *map(str, args)])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("engine", ["pyshacl", "fast"])
def test_valid_file_is_ok(capsys: pytest.CaptureFixture[str], engine: str) -> None:
    status, out, _ = run(capsys, "--engine", engine, VALID)
    assert status == 0
    assert out.strip() == f"{VALID}: OK"


@pytest.mark.parametrize("engine", ["pyshacl", "fast"])
def test_violation_lists_focus_path_and_message(capsys: pytest.CaptureFixture[str],
                                                engine: str) -> None:
    status, out, _ = run(capsys, "--engine", engine, "--lang", "en", NO_TITLE)
    assert status == 1
    # The message names the constraint that fired, then quotes the shape's sh:message.
    assert ("  [Violation] <https://example.org/proposals/2> <http://purl.org/dc/terms/title>: "
            "`title` is missing (required: at least 1). In JSON-LD: \"title\": {\"en\": \"…\"}. "
            "A proposal needs a title.") in out.splitlines()


def test_message_in_the_requested_language(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "--lang", "fr", NO_TITLE)
    assert "Une proposition doit avoir un titre." in out


def test_language_defaults_from_lang(capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    _, out, _ = run(capsys, NO_TITLE)
    assert "Une proposition doit avoir un titre." in out
    monkeypatch.setenv("LANG", "C")
    _, out, _ = run(capsys, NO_TITLE)
    assert "A proposal needs a title." in out


def test_warnings_alone_exit_zero(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--lang", "en", OTHER / "warning-only.jsonld")
    assert status == 0
    assert "  [Warning] <https://example.org/proposals/4> <http://purl.org/dc/terms/created>: " \
           "A proposal should say when it was created." in out


def test_turtle_and_ntriples_by_extension(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, OTHER / "invalid-proposal.ttl", OTHER / "proposal.nt")
    assert status == 1
    assert "<https://w3id.org/dds/ns#supportCount>" in out
    assert f"{OTHER / 'proposal.nt'}: OK" in out


def test_input_format_overrides_extension(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, OTHER / "proposal-triples.txt")
    assert status == 2 and "--input-format" in err
    status, out, _ = run(capsys, "--input-format", "nt", OTHER / "proposal-triples.txt")
    assert status == 0 and out.strip().endswith(": OK")


# rdflib 7.6's own JSON-LD parser uses its deprecated ConjunctiveGraph internally.
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_json_ld_report(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--format", "json-ld", VALID, NO_TITLE)
    assert status == 1
    report = rdflib.Graph().parse(data=out, format="json-ld")
    conforms = {str(s): bool(c.toPython()) for s, c in (
        (report.value(r, rdflib.URIRef("http://purl.org/dc/terms/source")), c)
        for r, c in report.subject_objects(SH.conforms))}
    assert conforms == {VALID.resolve().as_uri(): True, NO_TITLE.resolve().as_uri(): False}
    result = report.value(None, SH.focusNode, rdflib.URIRef("https://example.org/proposals/2"))
    assert result is not None
    assert report.value(result, SH.sourceConstraintComponent) == SH.MinCountConstraintComponent
    assert {m.language for m in report.objects(result, SH.resultMessage)} == {"en", "fr"}


@pytest.mark.parametrize("name, says", [
    ("missing.jsonld", "No such file"),
    ("broken.jsonld", "not valid JSON"),
    ("broken.ttl", "invalid turtle"),
    ("remote-context.jsonld", "never fetches contexts"),
])
def test_unreadable_input_exits_two_with_one_line(capsys: pytest.CaptureFixture[str],
                                                  name: str, says: str) -> None:
    status, out, err = run(capsys, VALID, OTHER / name)
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and says.lower() in err.lower() and str(OTHER / name) in err
    assert f"{VALID}: OK" in out


@pytest.mark.slow  # the console script as typed (tests/support/fastloop.py)
def test_console_script_prints_no_traceback() -> None:
    """The real entry point (``python -m ddsnode``), unreadable and invalid input together."""
    proc = subprocess.run(
        [sys.executable, "-m", "ddsnode", "validate", "--shapes", str(SHAPES),
         str(OTHER / "broken.ttl"), str(NO_TITLE), str(OTHER / "missing.jsonld")],
        check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 2
    assert "[Violation]" in proc.stdout


def test_bad_shapes_folder_is_a_usage_error(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    (tmp_path / "bad.ttl").write_text("@prefix sh: <http://www.w3.org/ns/shacl#> .\n[ sh:path",
                                      encoding="utf-8")
    status = main(["validate", "--shapes", str(tmp_path), str(VALID)])
    assert status == 2 and "not valid Turtle" in capsys.readouterr().err
    status = main(["validate", "--shapes", str(tmp_path / "nowhere"), str(VALID)])
    assert status == 2 and "not a folder" in capsys.readouterr().err


def test_bundled_examples_validate_with_bundled_shapes(capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    """The command with its defaults, on the real examples."""
    examples = sorted((Path(__file__).parents[1] / "examples").glob("*.jsonld"))
    if not examples:
        pytest.skip("no examples yet")
    status = main(["validate", "--engine", "pyshacl", *map(str, examples)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert json.dumps(out)  # printable

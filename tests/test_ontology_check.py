"""``ddsnode ontology check``: a clean fixture tree passes; each deliberate defect is found."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import rdflib

from ddsnode.authoring.manifest import expand, render_path
from ddsnode.cli import main
from ddsnode.rdf.vocab import SH
from ddsnode.validation.shapes import owning_node_shapes

GOOD = Path(__file__).parent / "fixtures" / "authoring" / "good"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A writable copy of the clean fixture tree."""
    root = tmp_path / "tree"
    shutil.copytree(GOOD, root)
    return root


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that opens a socket: the check must work offline."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args!r}")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def check(capsys: pytest.CaptureFixture[str], root: Path) -> tuple[int, list[str]]:
    status = main(["ontology", "check", "--root", str(root)])
    return status, capsys.readouterr().out.splitlines()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture changed: {old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_clean_tree_passes(capsys: pytest.CaptureFixture[str]) -> None:
    status, lines = check(capsys, GOOD)
    assert status == 0, lines
    assert lines == [("ontology check: OK (4 ontology files, 1 shape files, 1 examples, "
                      "2 invalid examples)")]


def _missing_fr_label(root: Path) -> None:
    edit(root / "ontology/core.ttl", '"Proposal"@en, "Proposition"@fr', '"Proposal"@en')


def _missing_fr_comment(root: Path) -> None:
    edit(root / "ontology/core.ttl", '"Où en est la réponse à une proposition."@fr ;', "")
    edit(root / "ontology/core.ttl", '"Where a proposal stands in its answer process."@en,',
         '"Where a proposal stands in its answer process."@en ;')


def _concept_without_fr(root: Path) -> None:
    edit(root / "ontology/schemes/state.ttl", '"rejected"@en, "rejetée"@fr', '"rejected"@en')


def _undeclared_term_in_shape(root: Path) -> None:
    edit(root / "shapes/proposal.ttl", "sh:path dds:supportCount", "sh:path dds:supportTotal")


def _undeclared_external_in_shape(root: Path) -> None:
    edit(root / "shapes/proposal.ttl", "sh:path dct:created", "sh:path dct:dateAccepted")


def _undeclared_class_in_shape(root: Path) -> None:
    edit(root / "shapes/proposal.ttl", "sh:targetClass dds:Proposal",
         "sh:targetClass dds:Proposal, dds:Petition")


def _context_term_to_unknown_iri(root: Path) -> None:
    path = root / "ontology/context.jsonld"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["@context"]["budget"] = {"@id": "dds:budget", "@type": "xsd:decimal"}
    path.write_text(json.dumps(doc), encoding="utf-8")


def _fails_for_another_reason(root: Path) -> None:
    edit(root / "examples/invalid/manifest.json", "#MinCountConstraintComponent",
         "#MaxCountConstraintComponent")


def _fails_on_another_path(root: Path) -> None:
    edit(root / "examples/invalid/proposal-bad-state.jsonld", '"title": {"en": "Fewer cars"},',
         "")


def _valid_example_does_not_conform(root: Path) -> None:
    edit(root / "examples/proposal.jsonld", '"supportCount": 12,', '"supportCount": -1,')


def _invalid_example_without_entry(root: Path) -> None:
    shutil.copyfile(root / "examples/proposal.jsonld", root / "examples/invalid/stray.jsonld")


def _invalid_example_that_conforms(root: Path) -> None:
    shutil.copyfile(root / "examples/proposal.jsonld",
                    root / "examples/invalid/proposal-without-title.jsonld")


def _manifest_names_missing_file(root: Path) -> None:
    (root / "examples/invalid/proposal-bad-state.jsonld").unlink()


def _example_key_not_in_context(root: Path) -> None:
    edit(root / "examples/proposal.jsonld", '"supportCount"', '"supportCounts"')


def _bad_turtle(root: Path) -> None:
    edit(root / "ontology/core.ttl", "dds:Contribution a owl:Class ;", "dds:Contribution a ;")


def _remote_context_in_example(root: Path) -> None:
    edit(root / "examples/proposal.jsonld", '"https://w3id.org/dds/context/v1"',
         '"https://example.org/elsewhere/context.jsonld"')


DEFECTS: dict[str, tuple[Callable[[Path], None], str, str]] = {
    # name: (how to break the tree, the check that must report it, text in the finding)
    "missing fr label": (_missing_fr_label, "labels", "dds:Proposal: no rdfs:label in 'fr'"),
    "missing fr comment": (_missing_fr_comment, "labels", "dds:state: no rdfs:comment in 'fr'"),
    "concept without fr": (_concept_without_fr, "labels",
                           "ddsstate:rejected: no skos:prefLabel in 'fr'"),
    "undeclared term in shape": (_undeclared_term_in_shape, "declared", "dds:supportTotal"),
    "undeclared external term in shape": (_undeclared_external_in_shape, "declared",
                                          "dct:dateAccepted"),
    "undeclared class in shape": (_undeclared_class_in_shape, "declared", "dds:Petition"),
    "context term to unknown IRI": (_context_term_to_unknown_iri, "declared",
                                    ("budget: context term expands to "
                                     "<https://w3id.org/dds/ns#budget>")),
    "invalid example fails for another reason": (
        _fails_for_another_reason, "examples",
        ("expected a violation with focus <https://example.org/proposals/2> path "
         "http://purl.org/dc/terms/title component MaxCountConstraintComponent")),
    "invalid example fails on another path too": (_fails_on_another_path, "examples",
                                                   "unexpected violation"),
    "valid example does not conform": (_valid_example_does_not_conform, "examples",
                                       "does not conform"),
    "invalid example without manifest entry": (_invalid_example_without_entry, "examples",
                                               "without a manifest entry"),
    "invalid example that conforms": (_invalid_example_that_conforms, "examples",
                                      "conforms, but the manifest says it fails"),
    "manifest names a missing file": (_manifest_names_missing_file, "examples",
                                      "does not exist"),
    "example key not in context": (_example_key_not_in_context, "declared",
                                   "supportCounts: not a term of the context"),
    "bad Turtle": (_bad_turtle, "parse", "not valid Turtle"),
    "remote context in example": (_remote_context_in_example, "parse", "Invalid JSON-LD"),
}


@pytest.mark.parametrize("name", DEFECTS)
def test_defect_is_reported(capsys: pytest.CaptureFixture[str], tree: Path, name: str) -> None:
    breaks, check_name, text = DEFECTS[name]
    breaks(tree)
    status, lines = check(capsys, tree)
    assert status == 1
    findings = [line for line in lines if f"[{check_name}]" in line]
    assert any(text in line for line in findings), "\n".join(lines)
    assert lines[-1].startswith("ontology check: ") and "finding(s)" in lines[-1]


@pytest.mark.slow  # the console script as typed (tests/support/fastloop.py)
def test_console_script() -> None:
    """The real entry point (`python -m ddsnode ontology check`): exit 0, nothing on stderr."""
    proc = subprocess.run([sys.executable, "-m", "ddsnode", "ontology", "check", "--root",
                           str(GOOD)], check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr == ""


def test_bundled_tree_passes(capsys: pytest.CaptureFixture[str]) -> None:
    """The real ontology, context, shapes and examples, offline."""
    status = main(["ontology", "check"])
    out = capsys.readouterr().out
    assert status == 0, out


NESTED = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <https://example.org/> .
ex:Outer a sh:NodeShape ; sh:targetClass ex:Thing ;
    sh:property [ sh:path ex:p ; sh:node ex:Inner ] ;
    sh:or ( [ sh:property ex:inOr ] [ sh:path ex:q ] ) .
ex:Inner a sh:NodeShape ; sh:property [ sh:path [ sh:inversePath ex:r ] ; sh:minCount 1 ] .
ex:inOr a sh:PropertyShape ; sh:path ( ex:a ex:b ) .
"""


def test_owning_node_shapes_walks_property_node_and_lists() -> None:
    g = rdflib.Graph().parse(data=NESTED, format="turtle")
    ex = rdflib.Namespace("https://example.org/")
    inverse_shape = next(s for s, p in g.subject_objects(SH.path) if isinstance(p, rdflib.BNode)
                         and g.value(p, SH.inversePath) is not None)
    assert owning_node_shapes(g, inverse_shape) == {ex.Inner, ex.Outer}
    assert render_path(g, g.value(inverse_shape, SH.path)) == "^https://example.org/r"
    assert owning_node_shapes(g, ex.inOr) == {ex.inOr, ex.Outer}
    assert render_path(g, g.value(ex.inOr, SH.path)) == f"{ex.a}/{ex.b}"
    assert owning_node_shapes(g, ex.Outer) == {ex.Outer}


def test_manifest_iris_may_be_compact() -> None:
    prefixes = {"dds": "https://w3id.org/dds/ns#", "sh": "http://www.w3.org/ns/shacl#"}
    assert expand("dds:state", prefixes) == "https://w3id.org/dds/ns#state"
    assert expand("^dds:state", prefixes) == "^https://w3id.org/dds/ns#state"
    assert expand("MinCountConstraintComponent", prefixes) == (
        "http://www.w3.org/ns/shacl#MinCountConstraintComponent")
    assert expand("https://example.org/x", prefixes) == "https://example.org/x"


def test_manifest_entry_without_component_is_a_finding(capsys: pytest.CaptureFixture[str],
                                                       tree: Path) -> None:
    edit(tree / "examples/invalid/manifest.json",
         '"component": "sh:InConstraintComponent"', '"comment": "forgot the component"')
    status, lines = check(capsys, tree)
    assert status == 1
    assert any("[examples] manifest entry" in line and "needs file, component and shape" in line
               for line in lines), lines

"""``ddsnode ontology check``: what a standards author must fix before publishing.

Each check takes a :class:`Sources` tree and returns a list of :class:`Finding`; an
empty list means it passed. Nothing is fetched from the network: the context is read
from the tree and examples resolve the shared context IRI to it (see ``sources.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rdflib
from pyld import jsonld

from ddsnode.authoring import manifest
from ddsnode.authoring.sources import Sources
from ddsnode.authoring.terms import (
    compact,
    context_datatypes,
    context_terms,
    declared_terms,
    iris_in,
    is_known,
    is_prefix,
    our_classes,
    our_concepts,
    our_properties,
)
from ddsnode.problem import Problem
from ddsnode.validation.reference import validate_pyshacl
from ddsnode.validation.shapes import parse_turtle
from ddsnode.vocab import DDS_NS, RDF, RDFS, SH, SKOS

LANGUAGES = ("en", "fr")


@dataclass(frozen=True)
class Finding:
    """One thing to fix: which check, in which file, about which term, and why."""

    check: str
    file: str
    term: str
    message: str

    def __str__(self) -> str:
        term = f"{self.term}: " if self.term else ""
        return f"{self.file}: [{self.check}] {term}{self.message}"


def check_parse(src: Sources) -> list[Finding]:
    """Every ontology and shapes file parses; the context and every example are JSON-LD."""
    findings = []
    for path in src.ontology_files() + src.shape_files():
        try:
            parse_turtle(path)
        except ValueError as e:
            findings.append(Finding("parse", src.relative(path), "",
                                    str(e).removeprefix(f"{path}: ")))
    context_file = src.relative(src.context_path)
    try:
        jsonld.expand({"@context": src.context, "@id": "urn:x"}, {"documentLoader":
                                                                  src.document_loader})
    except (OSError, ValueError, jsonld.JsonLdError) as e:
        return findings + [Finding("parse", context_file, "", f"not a valid JSON-LD context: "
                                   f"{str(e)[:300]}")]
    for path in src.example_files() + src.invalid_example_files():
        try:
            src.parse_example(path)
        except Problem as e:
            findings.append(Finding("parse", src.relative(path), "", str(e)))
    try:
        src.manifest()
    except ValueError as e:
        findings.append(Finding("parse", src.relative(src.manifest_path), "", str(e)))
    return findings


def _per_file(files: list[Path]) -> dict[Path, rdflib.Graph]:
    return {path: parse_turtle(path) for path in files}


def _home(graphs: dict[Path, rdflib.Graph], term: rdflib.URIRef) -> Path | None:
    """The file that types ``term`` (where it is declared), else the first that describes it."""
    return next((p for p, g in graphs.items() if (term, RDF.type, None) in g),
                next((p for p, g in graphs.items() if (term, None, None) in g), None))


def check_labels(src: Sources) -> list[Finding]:
    """Our classes/properties have rdfs:label+comment, our concepts skos:prefLabel, en and fr."""
    findings = []
    graphs = _per_file(src.ontology_files())
    onto = src.ontology
    wanted: list[tuple[rdflib.URIRef, tuple[rdflib.URIRef, ...]]] = [
        (t, (RDFS.label, RDFS.comment)) for t in our_classes(onto) + our_properties(onto)]
    wanted += [(t, (SKOS.prefLabel,)) for t in our_concepts(onto)]
    for term, predicates in wanted:
        home = _home(graphs, term)
        file = src.relative(home) if home else src.relative(src.ontology_dir)
        for predicate in predicates:
            have = {o.language for o in onto.objects(term, predicate)
                    if isinstance(o, rdflib.Literal)}
            for lang in LANGUAGES:
                if lang not in have:
                    findings.append(Finding("labels", file, _curie(term, src),
                                            f"no {_curie(predicate, src)} in {lang!r}"))
    return findings


def _path_iris(shapes: rdflib.Graph, path: rdflib.term.Node) -> Iterator[rdflib.URIRef]:
    """The predicate IRIs inside a SHACL path (inverse, sequence, alternative, ...)."""
    if isinstance(path, rdflib.URIRef):
        yield path
        return
    for _, _, inner in shapes.triples((path, None, None)):
        yield from _path_iris(shapes, inner)


def _shape_terms(shapes: rdflib.Graph) -> set[rdflib.URIRef]:
    """Classes, properties and datatypes the shapes rely on."""
    used: set[rdflib.URIRef] = set()
    for predicate in (SH.targetClass, SH["class"], SH.datatype):
        used.update(o for o in shapes.objects(None, predicate) if isinstance(o, rdflib.URIRef))
    for path in shapes.objects(None, SH.path):
        used.update(_path_iris(shapes, path))
    return used


def check_declared(src: Sources) -> list[Finding]:
    """Every term the shapes, context and examples use is declared in the ontology."""
    declared = declared_terms(src.ontology)
    findings = []

    def need(iri: rdflib.URIRef, file: Path, term: str, role: str, note: str = "") -> None:
        """Record a finding unless ``iri`` is declared (or built in)."""
        if not is_known(iri, declared):
            findings.append(Finding("declared", src.relative(file), term,
                                    f"{role} <{iri}>, which neither the ontology nor "
                                    f"ontology/external.ttl declares{note}"))

    for path, graph in _per_file(src.shape_files()).items():
        for iri in sorted(_shape_terms(graph) | iris_in(graph, DDS_NS)):
            need(iri, path, _curie(iri, src), "a shape uses")
    for term, expanded in context_terms(src.context).items():
        need(rdflib.URIRef(expanded), src.context_path, term, "context term expands to")
    for term, expanded in context_datatypes(src.context).items():
        need(rdflib.URIRef(expanded), src.context_path, term, "context term has the datatype")
    for path, graph in _per_file(src.ontology_files()).items():
        for iri in sorted(iris_in(graph, DDS_NS)):
            need(iri, path, _curie(iri, src), "the ontology mentions")
    # Valid examples only: an invalid one may misuse a term on purpose, and its manifest
    # entry already pins down how it must fail.
    users: dict[rdflib.URIRef, list[Path]] = {}
    for path in src.example_files():
        for iri in iris_in(src.parse_example(path), DDS_NS):
            users.setdefault(iri, []).append(path)
    for iri, paths in sorted(users.items()):
        others = f" (also used by {len(paths) - 1} more examples)" if len(paths) > 1 else ""
        need(iri, paths[0], _curie(iri, src), "this example uses", others)
    for path in src.example_files():
        findings.extend(Finding("declared", src.relative(path), key, message)
                        for key, message in _unknown_keys(src, _load(path)))
    return findings


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _known_word(word: str, src: Sources) -> bool:
    """A context term, a compact IRI with a known prefix, or an absolute IRI."""
    prefix, sep, rest = word.partition(":")
    return word in src.context or (bool(sep) and (rest.startswith("//")
                                                   or is_prefix(src.context.get(prefix))))


def _unknown_keys(src: Sources, node: Any) -> Iterator[tuple[str, str]]:
    """Keys and vocabulary values JSON-LD would silently drop or misread."""
    if isinstance(node, list):
        for item in node:
            yield from _unknown_keys(src, item)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "@context":
            continue
        definition = src.context.get(key)
        if not key.startswith("@") and not _known_word(key, src):
            yield key, "not a term of the context: JSON-LD drops it silently"
            continue
        if isinstance(definition, dict) and definition.get("@container") == "@language":
            continue
        vocab = isinstance(definition, dict) and definition.get("@type") == "@vocab"
        if key in ("@type", "type") or vocab:
            for word in value if isinstance(value, list) else [value]:
                if isinstance(word, str) and not _known_word(word, src):
                    yield key, f"value {word!r} is not a term of the context"
            continue
        yield from _unknown_keys(src, value)


def check_examples(src: Sources) -> list[Finding]:
    """Every example conforms; every invalid example fails exactly as its manifest says."""
    findings = []
    for path in src.example_files():
        report = validate_pyshacl(src.parse_example(path), shapes=src.shapes)
        for result in report.violations:
            findings.append(Finding("examples", src.relative(path), "", "does not conform: "
                                    f"{manifest.describe(result, src.shapes)}: "
                                    f"{result.message('en')}"))
    try:
        expected = manifest.expectations(src.manifest(), manifest.prefixes_of(src.context))
    except ValueError as e:
        return findings + [Finding("examples", src.relative(src.manifest_path), "", str(e))]
    invalid_dir = src.examples_dir / "invalid"
    for path in src.invalid_example_files():
        if path.name not in expected:
            findings.append(Finding("examples", src.relative(path), "",
                                    "invalid example without a manifest entry"))
    for name, wanted in sorted(expected.items()):
        path = invalid_dir / name
        if not path.exists():
            findings.append(Finding("examples", src.relative(src.manifest_path), name,
                                    "manifest names a file that does not exist"))
            continue
        report = validate_pyshacl(src.parse_example(path), shapes=src.shapes)
        for problem in manifest.mismatches(wanted, report, src.shapes):
            findings.append(Finding("examples", src.relative(path), "", problem))
    return findings


CHECKS: tuple[tuple[str, Callable[[Sources], list[Finding]]], ...] = (
    ("parse", check_parse),
    ("labels", check_labels),
    ("declared", check_declared),
    ("examples", check_examples),
)


def run_checks(src: Sources) -> list[Finding]:
    """Every check in order; after a parse failure the others are not run."""
    findings = check_parse(src)
    if findings:
        return findings
    for _, check in CHECKS[1:]:
        findings.extend(check(src))
    return findings


def _curie(iri: rdflib.term.Node, src: Sources) -> str:
    return compact(iri, manifest.prefixes_of(src.context))

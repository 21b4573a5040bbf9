"""``ddsnode ontology check``: what a standards author must fix before publishing.

Each check takes a :class:`Sources` tree and returns a list of :class:`Finding`; an
empty list means it passed. Nothing is fetched from the network: the context is read
from the tree and examples resolve the shared context IRI to it (see ``sources.py``).
"""

from __future__ import annotations

import difflib
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
from ddsnode.rdf.vocab import DDS_NS, RDF, RDFS, SCHEMA, SH, SKOS
from ddsnode.validation.reference import validate_pyshacl

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
            src.file_graph(path)
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
    for path in [src.context_path] + src.example_files() + src.invalid_example_files():
        findings.extend(Finding("parse", src.relative(path), key,
                                "given twice in one object: JSON keeps only the last value")
                        for key in _duplicate_keys(path))
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


def _duplicate_keys(path: Path) -> list[str]:
    """Keys that a JSON object of the file gives twice (the parser silently keeps the last)."""
    twice: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen and key not in twice:
                twice.append(key)
            seen.add(key)
        return dict(items)

    try:
        json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=pairs)
    except (OSError, ValueError):
        return []  # reported by the parse of the file itself
    return twice


def _per_file(src: Sources, files: list[Path]) -> dict[Path, rdflib.Graph]:
    return {path: src.file_graph(path) for path in files}


def _home(graphs: dict[Path, rdflib.Graph], term: rdflib.URIRef) -> Path | None:
    """The file that types ``term`` (where it is declared), else the first that describes it."""
    return next((p for p, g in graphs.items() if (term, RDF.type, None) in g),
                next((p for p, g in graphs.items() if (term, None, None) in g), None))


def check_labels(src: Sources) -> list[Finding]:
    """Labels, comments, prefLabels and shape messages exist in en and fr.

    Our classes and properties need rdfs:label and rdfs:comment, our concepts
    skos:prefLabel, and the property shapes of targeted node shapes sh:message.
    """
    findings = []
    graphs = _per_file(src, src.ontology_files())
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
                                            f"no {_curie(predicate, src)} in {lang!r}: add "
                                            f"{_curie(predicate, src)} \"…\"@{lang}"))
    return findings + check_messages(src)


def check_messages(src: Sources) -> list[Finding]:
    """Every property shape a node shape with a target lists has sh:message in en and fr.

    These are the shapes whose results reach a client (in a 422 or ``ddsnode validate``);
    shapes used only inside ``sh:or`` and the like report through the shape that holds them.
    """
    findings = []
    shapes = src.shapes
    homes = {s: path for path, graph in _per_file(src, src.shape_files()).items()
             for s in graph.subjects(SH.path, None)}
    listed = {ps for node_shape in set(shapes.subjects(SH.targetClass, None))
              for ps in shapes.objects(node_shape, SH.property)}
    for shape in sorted(listed, key=str):
        have = {o.language for o in shapes.objects(shape, SH.message)
                if isinstance(o, rdflib.Literal)}
        home = homes.get(shape)
        file = src.relative(home) if home else src.relative(src.shapes_dir)
        path = shapes.value(shape, SH.path)
        name = _curie(shape, src) if isinstance(shape, rdflib.URIRef) else (
            f"the shape of {_curie(path, src) if path is not None else 'a blank node'}")
        for lang in LANGUAGES:
            if lang not in have:
                findings.append(Finding("labels", file, name,
                                        f"no sh:message in {lang!r}: add sh:message \"…\"@{lang}"))
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
                                    f"ontology/external.ttl declares{note}"
                                    f"{_did_you_mean(iri, declared, src)}"))

    for path, graph in _per_file(src, src.shape_files()).items():
        for iri in sorted(_shape_terms(graph) | iris_in(graph, DDS_NS)):
            need(iri, path, _curie(iri, src), "a shape uses")
    for term, expanded in context_terms(src.context).items():
        need(rdflib.URIRef(expanded), src.context_path, term, "context term expands to")
    for term, expanded in context_datatypes(src.context).items():
        need(rdflib.URIRef(expanded), src.context_path, term, "context term has the datatype")
    for path, graph in _per_file(src, src.ontology_files()).items():
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


def _did_you_mean(iri: rdflib.URIRef, declared: set[rdflib.URIRef], src: Sources) -> str:
    """A hint naming the declared term of the same namespace closest to a misspelt one."""
    text = str(iri)
    cut = max(text.rfind("#"), text.rfind("/")) + 1
    namespace, local = text[:cut], text[cut:]
    candidates = {str(d)[cut:]: d for d in declared if str(d).startswith(namespace)
                  and "/" not in str(d)[cut:] and "#" not in str(d)[cut:]}
    close = difflib.get_close_matches(local, list(candidates), n=1, cutoff=0.75)
    if close:
        return f" (did you mean {_curie(candidates[close[0]], src)}?)"
    return (": declare it in its ontology module (ontology/*.ttl), or in "
            "ontology/external.ttl when it belongs to another vocabulary")


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
            yield key, ("not a term of the context: JSON-LD drops it silently; "
                        + _closest_term(key, src, "add it to ontology/context.jsonld"))
            continue
        if isinstance(definition, dict) and definition.get("@container") == "@language":
            continue
        vocab = isinstance(definition, dict) and definition.get("@type") == "@vocab"
        if key in ("@type", "type") or vocab:
            for word in value if isinstance(value, list) else [value]:
                if isinstance(word, str) and not _known_word(word, src):
                    yield key, (f"value {word!r} is not a term of the context; "
                                + _closest_term(word, src, "use a term, a compact IRI "
                                                "or an IRI"))
            continue
        yield from _unknown_keys(src, value)


def _closest_term(word: str, src: Sources, otherwise: str) -> str:
    """``did you mean "x"?`` for a near-miss of a context term, else ``otherwise``."""
    terms = [t for t, d in src.context.items() if not t.startswith("@") and not is_prefix(d)]
    close = difflib.get_close_matches(word, terms, n=1, cutoff=0.75)
    return f"did you mean {close[0]!r}?" if close else otherwise


def _node_shape_files(src: Sources) -> dict[rdflib.URIRef, Path]:
    """Node shape -> the shapes file that gives it a target."""
    return {s: path for path, graph in _per_file(src, src.shape_files()).items()
            for s in graph.subjects(SH.targetClass, None) if isinstance(s, rdflib.URIRef)}


def check_shapes(src: Sources) -> list[Finding]:
    """Every property of ours is constrained by the node shapes of its domain classes.

    A property whose ``rdfs:domain`` or ``schema:domainIncludes`` names a class with a node
    shape must have a property shape there: shapes are open, so an unconstrained property
    accepts any value (a bare string where language-tagged text is meant, a negative
    count). Only the classes named are looked at, not their subclasses.
    """
    findings = []
    onto, shapes = src.ontology, src.shapes
    homes = _node_shape_files(src)
    for prop in our_properties(onto):
        domains = {d for p in (RDFS.domain, SCHEMA.domainIncludes) for d in onto.objects(prop, p)}
        for cls in sorted(domains, key=str):
            for node_shape in sorted(shapes.subjects(SH.targetClass, cls), key=str):
                paths = {shapes.value(ps, SH.path) for ps in shapes.objects(node_shape,
                                                                            SH.property)}
                if prop in paths:
                    continue
                home = homes.get(node_shape) if isinstance(node_shape, rdflib.URIRef) else None
                findings.append(Finding(
                    "shapes", src.relative(home) if home else src.relative(src.shapes_dir),
                    _curie(prop, src),
                    f"its domain {_curie(cls, src)} has the node shape "
                    f"{_curie(node_shape, src)}, which does not constrain it: add a property "
                    f"shape with sh:path {_curie(prop, src)} to that node shape's sh:property "
                    "(an unconstrained property accepts any value)"))
    return findings


def check_examples(src: Sources) -> list[Finding]:
    """Every example conforms; every invalid example fails exactly as its manifest says."""
    findings = []
    prefixes = manifest.prefixes_of(src.context)
    for path in src.example_files():
        data = src.parse_example(path)
        report = validate_pyshacl(data, shapes=src.shapes)
        for result in report.violations:
            findings.append(Finding("examples", src.relative(path), "", "does not conform: "
                                    f"{manifest.describe(result, src.shapes, data, prefixes)}: "
                                    f"{result.message('en')}"))
    try:
        expected = manifest.expectations(src.manifest(), prefixes)
    except ValueError as e:
        return findings + [Finding("examples", src.relative(src.manifest_path), "", str(e))]
    invalid_dir = src.examples_dir / "invalid"
    for path in src.invalid_example_files():
        if path.name not in expected:
            findings.extend(_without_entry(src, path, prefixes))
    for name, wanted in sorted(expected.items()):
        path = invalid_dir / name
        if not path.exists():
            findings.append(Finding("examples", src.relative(src.manifest_path), name,
                                    "manifest names a file that does not exist"))
            continue
        data = src.parse_example(path)
        report = validate_pyshacl(data, shapes=src.shapes)
        for problem in manifest.mismatches(wanted, report, src.shapes, data, prefixes):
            findings.append(Finding("examples", src.relative(path), "", problem))
    return findings


def _without_entry(src: Sources, path: Path, prefixes: dict[str, str]) -> list[Finding]:
    """An invalid example the manifest does not list, with the entries it would need."""
    data = src.parse_example(path)
    violations = validate_pyshacl(data, shapes=src.shapes).violations
    file = src.relative(path)
    if not violations:
        return [Finding("examples", file, "", "invalid example without a manifest entry; it "
                        "conforms, so make it break one rule first")]
    note = "" if len(violations) == 1 else (
        f" (it has {len(violations)} violations: an invalid example should break one rule)")
    return [Finding("examples", file, "", "invalid example without a manifest entry"
                    f"{note}; for what it reports now, add to "
                    f"{src.relative(src.manifest_path)}: "
                    f"{manifest.entry_for(path.name, r, src.shapes, data, prefixes)}")
            for r in violations]


CHECKS: tuple[tuple[str, Callable[[Sources], list[Finding]]], ...] = (
    ("parse", check_parse),
    ("labels", check_labels),
    ("declared", check_declared),
    ("shapes", check_shapes),
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

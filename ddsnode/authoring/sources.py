"""A tree of standards files: ontology modules, context, shapes, examples and manifest.

The bundled tree is the one the node runs with; ``--root DIR`` points the authoring tools
at another (a working copy, or a test fixture). Examples name the shared context by its
IRI; here that IRI resolves to *this tree's* ``context.jsonld``, never to the network.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pyoxigraph
import rdflib

from ddsnode import resources
from ddsnode.problem import BadRequest
from ddsnode.rdf.jsonld import RemoteContextRefused, jsonld_to_graph
from ddsnode.validation.shapes import parse_turtle


def turtle_error(path: Path, error: ValueError) -> ValueError:
    """A Turtle syntax error with a line and column the author can go to.

    rdflib's messages give a line that drifts after multi-line strings and quote the text
    as Python bytes; Oxigraph's parser (already a dependency, for the embedded store)
    names the exact line and columns. Its message is used when it also rejects the file.
    """
    try:
        for _ in pyoxigraph.parse(path.read_bytes(), format=pyoxigraph.RdfFormat.TURTLE,
                                  base_iri=path.resolve().as_uri()):
            pass
    except SyntaxError as e:
        return ValueError(f"{path}: not valid Turtle: {' '.join(str(e).split())}")
    except (OSError, ValueError):
        pass
    return error


def parse_turtle_file(path: Path, graph: rdflib.Graph | None = None) -> rdflib.Graph:
    """:func:`parse_turtle`, with the precise syntax error of :func:`turtle_error`."""
    try:
        return parse_turtle(path, graph)
    except ValueError as e:
        raise turtle_error(path, e) from None


@dataclass(frozen=True)
class Sources:
    """Where one tree keeps its ontology, shapes and examples."""

    ontology_dir: Path
    shapes_dir: Path
    examples_dir: Path

    @classmethod
    def bundled(cls) -> Sources:
        """The tree ddsnode ships with."""
        return cls(resources.ontology_dir(), resources.shapes_dir(), resources.examples_dir())

    @classmethod
    def at(cls, root: Path) -> Sources:
        """The tree of a checkout at ``root`` (``ontology/``, ``shapes/``, ``examples/``)."""
        return cls(root / "ontology", root / "shapes", root / "examples")

    @property
    def context_path(self) -> Path:
        """The JSON-LD context file."""
        return self.ontology_dir / "context.jsonld"

    @property
    def manifest_path(self) -> Path:
        """The manifest of invalid examples."""
        return self.examples_dir / "invalid" / "manifest.json"

    def ontology_files(self) -> list[Path]:
        """Every Turtle file of the ontology (modules, schemes, alignment, external), sorted."""
        return sorted(self.ontology_dir.rglob("*.ttl"))

    def shape_files(self) -> list[Path]:
        """Every Turtle file of the shapes, sorted."""
        return sorted(self.shapes_dir.rglob("*.ttl"))

    def example_files(self) -> list[Path]:
        """The valid examples (``examples/*.jsonld``), sorted."""
        return sorted(self.examples_dir.glob("*.jsonld"))

    def invalid_example_files(self) -> list[Path]:
        """The invalid examples (``examples/invalid/*.jsonld``), sorted."""
        return sorted((self.examples_dir / "invalid").glob("*.jsonld"))

    def relative(self, path: Path) -> str:
        """``path`` relative to the tree's root, for messages."""
        root = self.ontology_dir.parent
        try:
            return str(path.relative_to(root))
        except ValueError:
            return str(path)

    @cached_property
    def context(self) -> dict[str, Any]:
        """The ``@context`` object of the context file."""
        with self.context_path.open(encoding="utf-8") as f:
            doc = json.load(f)
        ctx = doc.get("@context") if isinstance(doc, dict) else None
        if not isinstance(ctx, dict):
            raise ValueError(f"{self.context_path}: no \"@context\" object")  # noqa: TRY004
        return ctx

    @cached_property
    def _parsed(self) -> dict[Path, rdflib.Graph]:
        return {}

    def file_graph(self, path: Path) -> rdflib.Graph:
        """One Turtle file of this tree, parsed once for the life of this object (the checks
        ask for each file three or four times: parsing was a third of ``ontology check``);
        ValueError names the file and the precise syntax error. Callers must not change it."""
        graph = self._parsed.get(path)
        if graph is None:
            graph = self._parsed[path] = parse_turtle_file(path)
        return graph

    def _merged(self, paths: list[Path]) -> rdflib.Graph:
        graph = rdflib.Graph()
        for path in paths:
            graph += self.file_graph(path)  # blank nodes stay apart, as in separate parses
        return graph

    @cached_property
    def ontology(self) -> rdflib.Graph:
        """Every ontology file parsed into one graph."""
        return self._merged(self.ontology_files())

    @cached_property
    def shapes(self) -> rdflib.Graph:
        """Every shapes file parsed into one graph."""
        return self._merged(self.shape_files())

    def document_loader(self, url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        """pyld loader: the shared context IRI gives this tree's context; nothing is fetched."""
        if url.rstrip("/").removesuffix(".jsonld") != resources.CONTEXT_IRI:
            raise RemoteContextRefused(f"The context {url[:200]!r} is not the shared context; "
                                       "contexts are never fetched from the network.")
        return {"contextUrl": None, "documentUrl": url, "document": {"@context": self.context}}

    def parse_jsonld(self, document: Any, base: str | None = None) -> rdflib.Graph:
        """A JSON-LD document (parsed JSON) as a graph, with this tree's context."""
        try:
            return jsonld_to_graph(document, base, loader=self.document_loader)
        except RemoteContextRefused as e:
            raise BadRequest(f"Invalid JSON-LD: {e.detail}") from None

    def parse_example(self, path: Path) -> rdflib.Graph:
        """An example file as a graph; BadRequest when it is not JSON or not JSON-LD."""
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as e:  # bad JSON, or not UTF-8
            raise BadRequest(f"not valid JSON: {e}") from None
        # The file is the base: a relative IRI (a word no scheme knows) stays an IRI that
        # the shapes can refuse, rather than being dropped as JSON-LD drops relative IRIs.
        return self.parse_jsonld(document, path.resolve().as_uri())

    def manifest(self) -> list[dict[str, Any]]:
        """The entries of ``examples/invalid/manifest.json`` (empty when there is none)."""
        if not self.manifest_path.exists():
            return []
        entries = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise ValueError(f"{self.manifest_path}: expected a list of objects")
        return entries

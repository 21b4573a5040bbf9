"""Where the bundled ontology, shapes, context and examples live.

From a checkout (or an editable install) they are the repository's own folders; from a
wheel they are copied into ``ddsnode/_bundled/`` (see ``pyproject.toml``).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent
_BUNDLED = _PACKAGE / "_bundled"
_CHECKOUT = _PACKAGE.parent

CONTEXT_IRI = "https://w3id.org/dds/context/v1"
ONTOLOGY_IRI = "https://w3id.org/dds/ns"
SHAPES_IRI = "https://w3id.org/dds/shapes"


def _root(name: str) -> Path:
    bundled = _BUNDLED / name
    return bundled if bundled.is_dir() else _CHECKOUT / name


def ontology_dir() -> Path:
    """The folder of the ontology modules, schemes, alignment and context."""
    return _root("ontology")


def shapes_dir() -> Path:
    """The folder of the SHACL shapes."""
    return _root("shapes")


def examples_dir() -> Path:
    """The folder of the example documents (valid ones; ``invalid/`` beneath)."""
    return _root("examples")


def context_path() -> Path:
    """The shared JSON-LD context file."""
    return ontology_dir() / "context.jsonld"


@cache
def context_document() -> dict[str, Any]:
    """The shared JSON-LD context, as a parsed document ``{"@context": {...}}``."""
    with context_path().open(encoding="utf-8") as f:
        doc: dict[str, Any] = json.load(f)
    return doc


def ontology_files() -> list[Path]:
    """Every Turtle file of the ontology (modules, schemes, alignment), sorted."""
    return sorted(ontology_dir().rglob("*.ttl"))


def shape_files() -> list[Path]:
    """Every Turtle file of the shapes, sorted."""
    return sorted(shapes_dir().rglob("*.ttl"))

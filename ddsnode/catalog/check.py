"""``ddsnode catalog check``: the catalogue against the official DCAT-AP 3.0.1 SHACL shapes.

The shapes are SEMIC's release files, bundled unchanged in ``ddsnode/catalog/shapes/``
(SEMICeu/DCAT-AP @0761792, ``releases/3.0.1/shacl/``, CC-BY 4.0; a test keeps them
identical to the copy in ``../shared/data/dcat-ap/``): ``dcat-ap-SHACL.ttl`` (the
classes' properties and cardinalities) and ``ranges.ttl`` (the class of each property's
values; it names property shapes the first file defines). Both are read into one shapes
graph and applied by pySHACL, without inference: the catalogue states every class the
ranges ask for.

The 3.0.1 files together still name five property shapes with ``sh:property`` that
neither defines (SEMICeu/DCAT-AP issue 448, "Missing propertyShape": Jena refuses the
file, pySHACL stops with "not a well-formed SHACL PropertyShape"). A shape that is not
defined constrains nothing, so those dangling references are dropped from the graph in
memory before validating (:func:`dangling`); the files stay as released and every
defined shape applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import rdflib

SHAPES_DIR = Path(__file__).resolve().parent / "shapes"
SHAPE_FILES = ("dcat-ap-SHACL.ttl", "ranges.ttl")
VERSION = "DCAT-AP 3.0.1"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


@dataclass(frozen=True)
class Finding:
    """One result of the validation report."""

    severity: str  # Violation, Warning or Info
    focus: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.focus} {self.path}: {self.message}"


@cache
def dcat_ap_shapes(folder: Path = SHAPES_DIR) -> rdflib.Graph:
    """The DCAT-AP 3.0.1 shapes and ranges in ``folder``, as one shapes graph."""
    graph = rdflib.Graph()
    for name in SHAPE_FILES:
        graph.parse(folder / name, format="turtle")
    for shape, ref in dangling(graph):
        graph.remove((shape, SH.property, ref))
    return graph


def dangling(shapes: rdflib.Graph) -> list[tuple[rdflib.term.Node, rdflib.term.Node]]:
    """(node shape, property shape) pairs where the property shape has no ``sh:path``."""
    return [(s, o) for s, o in shapes.subject_objects(SH.property)
            if shapes.value(o, SH.path) is None]


def check(data: rdflib.Graph, folder: Path = SHAPES_DIR) -> list[Finding]:
    """Every result of validating ``data`` against the DCAT-AP shapes (empty: conforms)."""
    out = _findings(data, dcat_ap_shapes(folder))
    return sorted(set(out), key=lambda f: (f.severity, f.focus, f.path, f.message))


def _findings(data: rdflib.Graph, shapes: rdflib.Graph) -> list[Finding]:
    import pyshacl

    # Loaded for its side effect: it stops pyshacl from switching rdflib's literal
    # normalisation on for the whole process after validating (validation/reference.py).
    import ddsnode.validation.reference  # noqa: F401

    _, report, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none",
                                    advanced=False, allow_warnings=True)
    out = []
    for result in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        severity = report.value(result, SH.resultSeverity)
        out.append(Finding(str(severity).rsplit("#", 1)[-1], str(report.value(result, SH.focusNode)),
                           str(report.value(result, SH.resultPath) or ""),
                           str(report.value(result, SH.resultMessage) or "")))
    return out

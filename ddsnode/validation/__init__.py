"""Validation of data against the shapes in ``shapes/``.

``validate(graph)`` returns a :class:`ShapeReport`. Two engines give the same results:
``pyshacl`` (the reference) and ``fast`` (shapes compiled once to Python checks, for the
write path). ``tests/test_validation_differential.py`` holds them to each other.
"""

from __future__ import annotations

import rdflib

from ddsnode.validation.report import ShapeReport, ShapeResult

__all__ = ["ShapeReport", "ShapeResult", "validate"]


def validate(graph: rdflib.Graph, *, engine: str = "fast") -> ShapeReport:
    """Validate ``graph`` (an rdflib.Graph) against the bundled shapes.

    Each result's message names the constraint that fired (``validation.explanation``).
    """
    from ddsnode.validation.explanation import explain
    if engine == "pyshacl":
        from ddsnode.validation.reference import validate_pyshacl
        return explain(validate_pyshacl(graph), graph)
    if engine == "fast":
        from ddsnode.validation.fast import validate_fast
        return explain(validate_fast(graph), graph)
    raise ValueError(f"unknown validation engine {engine!r} (fast or pyshacl)")

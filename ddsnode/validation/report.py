"""What validation returns: a ShapeReport of ShapeResults, convertible to a sh:ValidationReport."""

from __future__ import annotations

from dataclasses import dataclass, field

import rdflib
from rdflib.term import Node

from ddsnode.vocab import RDF, SH


@dataclass(frozen=True)
class ShapeResult:
    """One validation result (SHACL 3.6.2)."""

    focus: Node
    path: Node | None
    value: Node | None
    severity: rdflib.URIRef
    source_shape: Node
    constraint: rdflib.URIRef
    messages: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def message(self, lang: str = "en") -> str:
        """The message in ``lang``, else English, else any, else a generic one."""
        for key in (lang, lang.split("-")[0], "en", ""):
            if key in self.messages:
                return self.messages[key]
        if self.messages:
            return next(iter(self.messages.values()))
        return f"{self.constraint.split('#')[-1]} not satisfied"

    def key(self) -> tuple[str, str, str, str, str]:
        """What two engines must agree on (blank nodes compared as '_')."""
        def s(n: Node | None) -> str:
            return "_" if isinstance(n, rdflib.BNode) else ("" if n is None else str(n))
        return (s(self.focus), s(self.path), s(self.constraint), s(self.source_shape),
                str(self.severity))


@dataclass
class ShapeReport:
    """The outcome of validating one graph."""

    results: list[ShapeResult]

    @property
    def conforms(self) -> bool:
        """True when no result has severity sh:Violation (warnings and infos allowed)."""
        return not any(r.severity == SH.Violation for r in self.results)

    @property
    def violations(self) -> list[ShapeResult]:
        """Results of severity sh:Violation."""
        return [r for r in self.results if r.severity == SH.Violation]

    def to_graph(self) -> rdflib.Graph:
        """The report as a SHACL sh:ValidationReport graph (SHACL 3.6)."""
        g = rdflib.Graph()
        g.bind("sh", SH)
        report = rdflib.BNode()
        g.add((report, RDF.type, SH.ValidationReport))
        g.add((report, SH.conforms, rdflib.Literal(self.conforms)))
        for r in self.results:
            node = rdflib.BNode()
            g.add((report, SH.result, node))
            g.add((node, RDF.type, SH.ValidationResult))
            g.add((node, SH.focusNode, r.focus))
            if r.path is not None:
                g.add((node, SH.resultPath, r.path))
            if r.value is not None:
                g.add((node, SH.value, r.value))
            g.add((node, SH.resultSeverity, r.severity))
            g.add((node, SH.sourceShape, r.source_shape))
            g.add((node, SH.sourceConstraintComponent, r.constraint))
            for lang, text in r.messages.items():
                g.add((node, SH.resultMessage, rdflib.Literal(text, lang=lang or None)))
        return g

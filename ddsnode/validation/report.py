"""What validation returns: a ShapeReport of ShapeResults, convertible to a sh:ValidationReport."""

from __future__ import annotations

from dataclasses import dataclass, field

import rdflib
from rdflib.term import Node

from ddsnode.rdf.vocab import RDF, SH


@dataclass(frozen=True)
class ShapeResult:
    """One validation result (SHACL 3.6.2)."""

    focus: Node
    path: Node | None
    value: Node | None
    severity: rdflib.URIRef
    source_shape: Node
    constraint: rdflib.URIRef
    # The shape's sh:message (shared by all its constraints; SHACL 2.1.5).
    messages: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    # Written from the constraint that fired (validation.explanation); may be empty.
    explanation: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def message(self, lang: str = "en") -> str:
        """What is wrong, in ``lang``: the constraint's explanation, else the shape's rule."""
        return _pick(self.explanation, lang) or self.rule(lang)

    def rule(self, lang: str = "en") -> str:
        """The shape's sh:message in ``lang``, else English, else any, else a generic one."""
        return _pick(self.messages, lang) or f"{self.constraint.split('#')[-1]} not satisfied"

    def key(self) -> tuple[str, str, str, str, str]:
        """What two engines must agree on (blank nodes compared as '_')."""
        def s(n: Node | None) -> str:
            return "_" if isinstance(n, rdflib.BNode) else ("" if n is None else str(n))
        return (s(self.focus), s(self.path), s(self.constraint), s(self.source_shape),
                str(self.severity))


def _pick(messages: dict[str, str], lang: str) -> str:
    """The text in ``lang``, its primary language, English, untagged, else any ('' if none)."""
    for key in (lang, lang.split("-")[0], "en", ""):
        if key in messages:
            return messages[key]
    return next(iter(messages.values()), "")


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

"""``ddsnode validate FILE…``: check documents against the shapes, as the node will.

Exit status: 0 when every file conforms (warnings allowed), 1 when one does not, 2 when
one cannot be read (missing, not JSON, bad Turtle, a remote ``@context``).
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rdflib
from rdflib.term import Node

from ddsnode.problem import Problem
from ddsnode.rdf.jsonld import parse_rdf
from ddsnode.rdf.vocab import DCTERMS, SH, XSD
from ddsnode.validation import ShapeReport, validate
from ddsnode.validation.shapes import load_shapes

FORMATS_BY_SUFFIX = {".jsonld": "json-ld", ".json": "json-ld", ".ttl": "turtle", ".nt": "nt"}
SEVERITY_ORDER = {SH.Violation: 0, SH.Warning: 1, SH.Info: 2}


@dataclass
class Outcome:
    """What validating one file gave: a report, or why it could not be read."""

    file: str
    report: ShapeReport | None = None
    error: str | None = None


def default_language() -> str:
    """The user's language from ``LANG`` (``fr_FR.UTF-8`` -> ``fr``), else ``en``."""
    lang = os.environ.get("LANG", "").split(".")[0].split("_")[0].lower()
    return lang if lang.isalpha() and lang not in ("c", "posix") else "en"


def default_engine() -> str:
    """``fast`` once ``ddsnode.validation.fast`` exists, ``pyshacl`` until then."""
    return "fast" if importlib.util.find_spec("ddsnode.validation.fast") else "pyshacl"


def input_format(path: Path, forced: str | None) -> str:
    """The RDF syntax of ``path``: forced, or from its extension."""
    if forced:
        return forced
    fmt = FORMATS_BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: cannot tell the format from the extension; "
                         "use --input-format json-ld|turtle|nt")
    return fmt


def read_graph(path: Path, forced_format: str | None) -> rdflib.Graph:
    """Parse one file; Problem/OSError/ValueError when it cannot be read."""
    fmt = input_format(path, forced_format)
    data = path.read_bytes()
    with warnings.catch_warnings():
        # rdflib 7.6's N-Quads parser warns about its own use of Dataset.default_context.
        warnings.simplefilter("ignore", DeprecationWarning)
        return parse_rdf(data, fmt, base=path.resolve().as_uri())


def _validate_with(graph: rdflib.Graph, shapes: rdflib.Graph, engine: str) -> ShapeReport:
    from ddsnode.validation.explanation import explain  # messages from the constraint
    if engine == "fast":
        from ddsnode.validation.fast import validate_fast
        return explain(validate_fast(graph, shapes), graph, shapes)
    # pyshacl is imported here, not with the module: every ddsnode command (the CLI
    # registers them all) would otherwise pay for it at start.
    from ddsnode.validation.reference import validate_pyshacl
    return explain(validate_pyshacl(graph, shapes=shapes), graph, shapes)


def validate_file(path: Path, args: argparse.Namespace,
                  shapes: rdflib.Graph | None = None) -> Outcome:
    """Read and validate one file, catching every user-fixable error."""
    try:
        graph = read_graph(path, args.input_format)
    except (Problem, OSError, ValueError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        return Outcome(str(path), error=" ".join(reason.split()))  # one line
    if shapes is not None:
        return Outcome(str(path), report=_validate_with(graph, shapes, args.engine))
    return Outcome(str(path), report=validate(graph, engine=args.engine))


def _node(node: Node | None) -> str:
    if node is None:
        return "-"
    if isinstance(node, rdflib.URIRef):
        return f"<{node}>"
    if isinstance(node, rdflib.BNode):
        return f"_:{node}"
    return repr(str(node))


def format_text(outcome: Outcome, lang: str) -> list[str]:
    """Lines for one file: ``FILE: OK`` or a count and one line per result."""
    if outcome.error is not None:
        return []
    assert outcome.report is not None
    results = sorted(outcome.report.results,
                     key=lambda r: (SEVERITY_ORDER.get(r.severity, 3), r.key()))
    if not results:
        return [f"{outcome.file}: OK"]
    violations = len(outcome.report.violations)
    head = "OK" if violations == 0 else f"{violations} violation(s)"
    others = len(results) - violations
    lines = [f"{outcome.file}: {head}" + (f", {others} warning(s)/info(s)" if others else "")]
    for r in results:
        severity = str(r.severity).rsplit("#", 1)[-1]
        lines.append(f"  [{severity}] {_node(r.focus)} {_node(r.path)}: {r.message(lang)}")
    return lines


def report_graph(outcomes: list[Outcome]) -> rdflib.Graph:
    """One graph holding a sh:ValidationReport per readable file (dct:source = the file)."""
    graph = rdflib.Graph()
    graph.bind("sh", SH)
    graph.bind("dct", DCTERMS)
    for outcome in outcomes:
        if outcome.report is None:
            continue
        part = outcome.report.to_graph()
        for report in part.subjects(rdflib.RDF.type, SH.ValidationReport):
            part.add((report, DCTERMS.source, rdflib.URIRef(Path(outcome.file).resolve()
                                                            .as_uri())))
        graph += part
    return graph


def run(args: argparse.Namespace) -> int:
    """Validate every FILE; print a report; exit 0, 1 or 2."""
    # rdflib logs a traceback for every ill-typed literal ("2026-13-45"^^xsd:date); the
    # shapes report those as sh:datatype violations, which is what the user should read.
    logging.getLogger("rdflib.term").setLevel(logging.ERROR)
    args.engine = args.engine or default_engine()
    shapes = None
    if args.shapes:
        if not Path(args.shapes).is_dir():
            raise ValueError(f"--shapes {args.shapes}: not a folder")
        shapes = load_shapes(sorted(Path(args.shapes).rglob("*.ttl")))
    lang = args.lang or default_language()
    outcomes = [validate_file(Path(f), args, shapes) for f in args.files]
    for outcome in outcomes:
        if outcome.error is not None:
            print(f"ddsnode validate: {outcome.file}: cannot read: {outcome.error}",
                  file=sys.stderr)
    if args.format == "json-ld":
        context = {"sh": str(SH), "dct": str(DCTERMS), "xsd": str(XSD)}
        print(report_graph(outcomes).serialize(format="json-ld", context=context, indent=2))
    else:
        for outcome in outcomes:
            for line in format_text(outcome, lang):
                print(line)
    if any(o.error is not None for o in outcomes):
        return 2
    return 0 if all(o.report is not None and o.report.conforms for o in outcomes) else 1


def add_parser(subparsers: Any) -> None:
    """Register ``validate``."""
    parser = subparsers.add_parser("validate", help="validate JSON-LD or Turtle files "
                                   "against the shapes")
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--input-format", choices=("json-ld", "turtle", "nt"),
                        help="the syntax of every FILE (default: from the extension)")
    parser.add_argument("--format", choices=("text", "json-ld"), default="text",
                        help="text (default) or a sh:ValidationReport as JSON-LD")
    parser.add_argument("--lang", help="language of the messages (default: from LANG, else en)")
    parser.add_argument("--engine", choices=("fast", "pyshacl"), default=None,
                        help="validation engine (default: fast when available, else pyshacl)")
    parser.add_argument("--shapes", metavar="DIR",
                        help="validate against the shapes in DIR instead of the bundled ones")
    parser.set_defaults(func=run)

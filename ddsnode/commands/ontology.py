"""``ddsnode ontology check`` and ``ddsnode ontology docs``: the standards authors' tools."""

from __future__ import annotations

import argparse
import logging
from collections import Counter
from pathlib import Path
from typing import Any

from ddsnode.authoring.sources import Sources


def _sources(args: argparse.Namespace) -> Sources:
    return Sources.at(Path(args.root)) if args.root else Sources.bundled()


def run_check(args: argparse.Namespace) -> int:
    """Run every check; print the findings and a summary; 1 when anything is found."""
    from ddsnode.authoring.check import run_checks

    # rdflib logs a traceback for every ill-typed literal ("2026-13-45"^^xsd:date); the
    # shapes report those as sh:datatype violations, which is what the user should read.
    logging.getLogger("rdflib.term").setLevel(logging.ERROR)
    src = _sources(args)
    findings = run_checks(src)
    for finding in findings:
        print(finding)
    counts = Counter(f.check for f in findings)
    checked = (f"{len(src.ontology_files())} ontology files, {len(src.shape_files())} shape "
               f"files, {len(src.example_files())} examples, "
               f"{len(src.invalid_example_files())} invalid examples")
    if not findings:
        print(f"ontology check: OK ({checked})")
        return 0
    by_check = ", ".join(f"{name} {n}" for name, n in sorted(counts.items()))
    print(f"ontology check: {len(findings)} finding(s) ({by_check}); checked {checked}")
    return 1


def run_docs(args: argparse.Namespace) -> int:
    """Write the HTML documentation into OUTDIR."""
    from ddsnode.authoring.docs import write_site

    # rdflib logs a traceback for every ill-typed literal ("2026-13-45"^^xsd:date); the
    # shapes report those as sh:datatype violations, which is what the user should read.
    logging.getLogger("rdflib.term").setLevel(logging.ERROR)
    languages = [lang.strip() for lang in args.lang.split(",") if lang.strip()]
    pages = write_site(_sources(args), Path(args.outdir), languages)
    print(f"ontology docs: wrote {pages} pages to {args.outdir} ({', '.join(languages)})")
    return 0


def add_parser(subparsers: Any) -> None:
    """Register ``ontology check`` and ``ontology docs``."""
    parser = subparsers.add_parser("ontology", help="check the ontology, shapes and examples, "
                                   "or write their HTML documentation")
    sub = parser.add_subparsers(dest="ontology_command", metavar="SUBCOMMAND", required=True)
    check = sub.add_parser("check", help="check ontology, context, shapes and examples "
                           "together (nothing is fetched)")
    check.add_argument("--root", help="a checkout holding ontology/, shapes/, examples/ "
                       "(default: the bundled files)")
    check.set_defaults(func=run_check)
    docs = sub.add_parser("docs", help="write static HTML documentation (en and fr)")
    docs.add_argument("outdir", metavar="OUTDIR", help="folder to write the site into")
    docs.add_argument("--lang", default="en,fr", help="comma-separated languages (default en,fr)")
    docs.add_argument("--root", help="a checkout holding ontology/, shapes/, examples/")
    docs.set_defaults(func=run_docs)

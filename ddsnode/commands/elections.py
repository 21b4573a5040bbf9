"""Election commands: ``import nist|openelections|eml``, ``export nist|csv``, ``verify``.

``ddsnode import nist DIR SOURCE`` and ``ddsnode import openelections DIR SOURCE`` join
the ``import`` group (:mod:`ddsnode.commands.imports`, registered before this module);
``export`` and ``verify`` are this module's own groups. The node need not be stopped:
the commands open DIR's store themselves, and a running server sees the writes.

Exit status: import and export 0 when they ran (an import with rejected documents
included), 1 when ``import eml`` refuses the file's signature (or its lack of one), 2 when
SOURCE or DIR cannot be read; verify 0 when nothing disagrees, 1 when
something does, 2 when SOURCE cannot be read (like ``ddsnode validate``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ddsnode.commands.imports import ProgressBar
from ddsnode.settings import Settings, require_node_dir


def _subparsers(parser: argparse.ArgumentParser) -> Any:
    """The sub-command action of ``parser`` (argparse keeps one per parser)."""
    for action in parser._actions:  # argparse has no public accessor for it
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(dest="platform", metavar="FORMAT")


def add_parser(sub: Any) -> None:
    """Register the election subcommands of ``import``, and ``export`` and ``verify``."""
    group = sub.choices.get("import") or sub.add_parser("import", help="import data")
    formats = _subparsers(group)
    n = formats.add_parser("nist", help="import a NIST SP 1500-100 v2 election report "
                                        "(JSON or XML)")
    o = formats.add_parser("openelections", help="import an OpenElections precinct CSV "
                                                 "(YYYYMMDD__state__type__level.csv)")
    m = formats.add_parser("eml", help="import an OASIS EML 510 count, 230 candidate list "
                                      "or 110a election definition (Dutch profile)")
    v_ = formats.add_parser("vip", help="import a VIP 6.0 feed (polling places, precincts, "
                                         "street segments) and rebuild the voter lookup")
    pp = formats.add_parser("popolo", help="import Popolo persons, organizations and "
                                           "memberships (JSON)")
    for p in (n, o, m, v_, pp):
        p.add_argument("dir", type=Path, help="node directory")
        p.add_argument("source", type=Path, help="the file to import")
        p.add_argument("--slug", help="name for the file's resources (default: from the "
                                      "file name); the same slug names the same resources")
        p.add_argument("--language", default="en",
                       help="language of texts that carry none (default: en)")
        p.add_argument("--report", type=Path, metavar="FILE",
                       help="write the full report (JSON) to FILE")
        p.add_argument("--quiet", action="store_true", help="no progress bar")
        p.add_argument("--sha256", metavar="HEX",
                       help="refuse the file unless its SHA-256 is HEX (the hash its "
                            "authority publishes)")
        p.add_argument("--keep-missing", action="store_true",
                       help="do not tombstone what an earlier import of the same slug wrote "
                            "and this file no longer has")
    m.add_argument("--signature", type=Path, metavar="SIG",
                   help="detached signature of the file (default: FILE.sig or FILE.p7s next "
                        "to it); verified before anything is imported")
    m.add_argument("--certificate", type=Path, metavar="CERT",
                   help="X.509 certificate of the signing key, PEM or DER (default: "
                        "FILE.pem or FILE.crt next to the file)")
    m.add_argument("--trust", type=Path, metavar="CA.pem",
                   help="PEM bundle of trusted authorities: the certificate must be issued "
                        "by one (default: setting elections_trusted_certificates)")
    m.add_argument("--require-signature", action="store_true",
                   help="refuse the file unless it comes with a signature")
    for p in (o, m):
        p.add_argument("--status", default="unofficialComplete",
                       choices=("unofficialPartial", "unofficialComplete", "certified",
                                "recount", "correction"),
                       help="results status of the file's counts (the file does not say)")
    n.set_defaults(func=_import_nist)
    o.set_defaults(func=_import_openelections)
    m.set_defaults(func=_import_eml)
    v_.set_defaults(func=_import_vip)
    pp.set_defaults(func=_import_popolo)

    e = sub.add_parser("export", help="export an election as NIST CDF JSON or CSV")
    kinds = e.add_subparsers(dest="export_format", metavar="FORMAT")
    for name, helptext in (("nist", "NIST SP 1500-100 v2 JSON, checked against NIST's schema"),
                           ("csv", "OpenElections-style CSV with vote-type columns")):
        x = kinds.add_parser(name, help=helptext)
        x.add_argument("dir", type=Path, help="node directory")
        x.add_argument("election", help="the election's IRI, or its path on the node")
        x.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
        x.set_defaults(func=_export, export_format=name)
    e.set_defaults(func=lambda args: (e.print_help(), 2)[1])

    v = sub.add_parser("verify", help="re-add published election results from the lowest "
                                      "units and report what does not add up")
    v.add_argument("source", help="a node directory, an export file (NIST JSON/XML), or a "
                                  "node URL")
    v.add_argument("--json", action="store_true", help="findings as JSON")
    v.set_defaults(func=_verify)


def _report_out(args: argparse.Namespace, report: Any) -> None:
    print(f"imported {args.source} into {args.dir} ({report.digest})")
    print(report.summary_table())
    problems = report.problems_text()
    if problems:
        print(problems, file=sys.stderr)
    if args.report:
        args.report.write_text(json.dumps(report.to_json(), indent=2, ensure_ascii=False),
                               encoding="utf-8")


def _run_import(args: argparse.Namespace, run: Callable[..., Any], **options: Any) -> int:
    """One import command: the node directory, a progress bar, the report (every format)."""
    node_dir = require_node_dir(args.dir)
    if args.sha256:
        from ddsnode.elections.sources import check_digest
        check_digest(args.source, args.sha256)
    bar = ProgressBar(sys.stderr, not args.quiet)
    try:
        report = run(Settings.load(node_dir), node_dir, args.source, slug=args.slug,
                     progress=bar, tombstones=not args.keep_missing, **options)
    finally:
        bar.close()
    _report_out(args, report)
    return 0


def _import_nist(args: argparse.Namespace) -> int:
    from ddsnode.elections.run import import_nist
    return _run_import(args, import_nist, language=args.language)


def _import_openelections(args: argparse.Namespace) -> int:
    from ddsnode.elections.run import import_openelections
    return _run_import(args, import_openelections, language=args.language, status=args.status)


def _import_eml(args: argparse.Namespace) -> int:
    from ddsnode.elections.run import import_eml
    from ddsnode.elections.signature import SignatureRefused
    try:
        return _run_import(args, import_eml, status=args.status, signature=args.signature,
                           certificate=args.certificate, trust=args.trust,
                           require_signature=args.require_signature)
    except SignatureRefused as e:  # exit 1: the file was read and refused, not unreadable
        print(f"ddsnode: {args.source}: refused, nothing imported: {e}", file=sys.stderr)
        return 1


def _import_vip(args: argparse.Namespace) -> int:
    from ddsnode.elections.run import import_vip
    from ddsnode.voter.table import rebuild
    code = _run_import(args, import_vip)
    print(rebuild(Settings.load(require_node_dir(args.dir))).summary())
    return code


def _import_popolo(args: argparse.Namespace) -> int:
    from ddsnode.elections.run import import_popolo
    return _run_import(args, import_popolo)


def _export(args: argparse.Namespace) -> int:
    from ddsnode.elections.run import export_election
    node_dir = require_node_dir(args.dir)
    text = export_election(Settings.load(node_dir), args.election, args.export_format)
    if args.output:
        args.output.write_text(text, encoding="utf-8", newline="")
    else:
        sys.stdout.write(text)
    return 0


def _verify(args: argparse.Namespace) -> int:
    from ddsnode.publication.verification import verify_published
    if args.source.startswith(("http://", "https://")) and \
            args.source.split("://", 1)[1].strip("/").count("/") >= 1:
        # An election's URL: check its published results (issue 15) when it has some.
        published = verify_published(args.source)
        if published is not None:
            print(json.dumps(published.to_json(), indent=2) if args.json else published.text())
            return 1 if published.findings else 0
    from ddsnode.elections.run import verify_source
    result = verify_source(args.source)
    if args.json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        print(result.text())
    return 1 if result.findings else 0

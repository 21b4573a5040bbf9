"""``ddsnode import directory DIR FILE.csv``: organisations into the directory.

Joins the ``import`` group (:mod:`ddsnode.commands.imports`, registered before this
module). The node need not be stopped: the command opens DIR's store itself, and a
running server sees the writes. Exit status 0 when the import ran (even with rejected
rows, listed on stderr with their line), 2 when FILE or DIR cannot be read or FILE is
refused whole (too big, not UTF-8, a required column missing).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ddsnode.commands.elections import _subparsers
from ddsnode.settings import Settings, require_node_dir


def add_parser(sub: Any) -> None:
    """Register ``import directory``."""
    group = sub.choices.get("import") or sub.add_parser("import", help="import data")
    p = _subparsers(group).add_parser(
        "directory", help="import a directory of participatory digital governance (CSV)")
    p.add_argument("dir", type=Path, help="node directory")
    p.add_argument("source", type=Path, help="the spreadsheet, exported as CSV (UTF-8)")
    p.add_argument("--language", default="en",
                   help="language of the texts when the file has no language column "
                        "(default: en)")
    p.add_argument("--report", type=Path, metavar="FILE",
                   help="write the full report (JSON) to FILE")
    p.set_defaults(func=_import_directory)


def _import_directory(args: argparse.Namespace) -> int:
    from ddsnode.explorer.directory_import import import_directory
    from ddsnode.ldp.node import Node

    node_dir = require_node_dir(args.dir)
    if not args.source.is_file():
        raise ValueError(f"{args.source}: no such file")
    node = Node.open(Settings.load(node_dir))
    try:
        report = import_directory(node, args.source, lang=args.language)
    finally:
        node.close()
    print(f"imported {args.source} into {node_dir}: {report.summary()}")
    for r in report.rejected:
        print(f"  line {r.line}: {r.name or '(no name)'}: {r.reason}", file=sys.stderr)
    if report.ignored_headers:
        print(f"  columns not used: {', '.join(report.ignored_headers)}", file=sys.stderr)
    if args.report:
        args.report.write_text(json.dumps(report.to_json(), indent=2, ensure_ascii=False),
                               encoding="utf-8")
    return 0


def load_example_directory(settings: Settings) -> list[str]:
    """Import ``examples/directory/organisations.csv`` (``ddsnode demo``); the problems."""
    from ddsnode import resources
    from ddsnode.explorer.directory_import import import_directory
    from ddsnode.ldp.node import Node

    node = Node.open(settings)
    try:
        report = import_directory(node, resources.examples_dir() / "directory" /
                                  "organisations.csv")
    finally:
        node.close()
    print(f"loaded the example directory: {report.summary()}", file=sys.stderr)
    return [f"directory line {r.line}: {r.reason}" for r in report.rejected]

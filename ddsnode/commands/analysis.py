"""``ddsnode analyse DIR``: topics, duplicates, summaries and arguments (issue 13).

Works whether or not the node is being served (it opens DIR's store itself, like
``ddsnode import decidim``); a running server sees the outputs at once. By default it
opens no network connection; with ``analysis_llm_url`` set it asks that model, and only it.
Exit status 0 when the run was written, 2 when DIR is not a node directory, ``--since``
is not a date, or another run on DIR is going on.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from ddsnode.settings import Settings, require_node_dir


def add_parser(sub: Any) -> None:
    """Register ``analyse``."""
    p = sub.add_parser("analyse", aliases=["analyze"],
                       help="analyse contributions: topics, duplicates, summaries, arguments")
    p.add_argument("dir", type=Path, help="node directory")
    p.add_argument("--scope", choices=("local", "federation"), default="local",
                   help="local: this node's contributions (default); federation: with those "
                        "cached from followed peers")
    p.add_argument("--since", default="", metavar="DATE",
                   help="only contributions created on or after DATE (ISO 8601, e.g. 2026-01-01)")
    p.add_argument("--full", action="store_true",
                   help="refit the topic model and recompute everything")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_analyse)


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})?)?$")


def _analyse(args: argparse.Namespace) -> int:
    from ddsnode.analysis.progress import Progress
    from ddsnode.analysis.run import analyse
    if args.since and not _DATE.match(args.since):
        raise ValueError(f"--since {args.since[:40]!r} is not an ISO 8601 date (2026-01-01)")
    node_dir = require_node_dir(args.dir)
    progress = Progress(sys.stderr, enabled=not args.quiet)
    report = analyse(Settings.load(node_dir), node_dir, scope=args.scope, since=args.since,
                     full=args.full, progress=progress)
    print(report.text())
    return 0

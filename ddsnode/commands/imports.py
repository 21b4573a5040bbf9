"""``ddsnode import decidim DIR SOURCE``: take in a Decidim platform's data.

SOURCE is a folder of the export's CSV files, the export ZIP, or the platform's base URL
(the export is downloaded from ``/open-data/download``; ``--via api`` reads the GraphQL
API instead, ``--via both`` adds what only the API has, such as process steps). The node
need not be stopped: the import opens DIR's store itself, and a running server sees the
writes. Exit status 0 when the import ran (even with rejected rows), 2 when SOURCE or DIR
cannot be read.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from ddsnode.settings import Settings, require_node_dir


def add_parser(sub: Any) -> None:
    """Register ``import`` and its ``decidim`` subcommand."""
    p = sub.add_parser("import", help="import data from a participation platform")
    platforms = p.add_subparsers(dest="platform", metavar="PLATFORM")
    d = platforms.add_parser("decidim", help="import a Decidim export (folder, ZIP) or URL")
    d.add_argument("dir", type=Path, help="node directory")
    d.add_argument("source", help="export folder, export ZIP, or the platform's base URL")
    d.add_argument("--via", choices=("export", "api", "both"), default="export",
                   help="for a URL: download the export (default), read the GraphQL API, "
                        "or both (the export, plus process steps from the API)")
    d.add_argument("--no-tombstones", action="store_true",
                   help="keep resources whose rows disappeared (default: tombstone them)")
    d.add_argument("--restore-deleted", action="store_true",
                   help="re-create resources deleted on the node since they were imported "
                        "(default: keep them deleted, counted as 'withheld')")
    d.add_argument("--report", type=Path, metavar="FILE",
                   help="write the full report (JSON) to FILE")
    d.add_argument("--platform-host", metavar="HOST",
                   help="the platform's host when the file names do not say it")
    d.add_argument("--currency", metavar="CODE",
                   help="ISO 4217 currency of budget amounts (Decidim does not export it)")
    d.add_argument("--language", metavar="TAG",
                   help="language of texts that carry none (default: the export's first)")
    d.add_argument("--topic-map", type=Path, metavar="FILE",
                   help="JSON object mapping taxonomy ids or names to shared topics "
                        "(e.g. {\"Mobility\": \"mobility\"})")
    d.add_argument("--max-download-mb", type=int, default=512,
                   help="largest export or API answer to download (MB)")
    d.add_argument("--dry-run", action="store_true",
                   help="read, map and compare only: report what would be created or "
                        "updated, write nothing (documents are not validated)")
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    d.set_defaults(func=_import_decidim)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


class ProgressBar:
    """A plain-text progress bar on a terminal (``\\r`` updates), silent elsewhere."""

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled and stream.isatty()
        self._last = 0.0

    def __call__(self, done: int, total: int, label: str) -> None:
        """Redraw at most ten times a second."""
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and done < total:
            return
        self._last = now
        share = done / total if total else 1.0
        filled = int(share * 30)
        self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {share:4.0%} {label[:30]:30}")
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        if self.enabled:
            self.stream.write("\r" + " " * 72 + "\r")
            self.stream.flush()


def _import_decidim(args: argparse.Namespace) -> int:
    from ddsnode.assembly import assemble
    from ddsnode.decidim.graphql import read_api
    from ddsnode.decidim.importer import ApiData, Importer
    from ddsnode.decidim.source import ZipLimits, open_source

    node_dir = require_node_dir(args.dir)
    topic_map: dict[str, str] = {}
    if args.topic_map:
        try:
            topic_map = json.loads(args.topic_map.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ValueError(f"--topic-map {args.topic_map}: {e}") from None
        if not isinstance(topic_map, dict):
            raise ValueError(f"--topic-map {args.topic_map}: expected a JSON object")
        from ddsnode.decidim.context import shared_topics
        words = set(shared_topics().values())
        unknown = sorted(str(v) for v in topic_map.values() if v not in words)
        if unknown:
            raise ValueError(f"--topic-map {args.topic_map}: not shared topics: "
                             f"{', '.join(unknown[:5])} (known: {', '.join(sorted(words))})")
    if args.currency is not None and not re.fullmatch(r"[A-Z]{3}", args.currency):
        raise ValueError(f"--currency {args.currency!r}: expected an ISO 4217 code such as EUR")
    max_bytes = args.max_download_mb * 1024 * 1024
    settings = Settings.load(node_dir)
    limits = ZipLimits(settings.import_max_unzipped_bytes, settings.import_max_zip_ratio)
    export = open_source(args.source, host_hint=args.platform_host,
                         download=args.via != "api", api=args.via != "export",
                         max_bytes=max_bytes, limits=limits)
    api = ApiData()
    if export.api_url:
        api = read_api(export.api_url, steps_only=args.via == "both", max_bytes=max_bytes)
    bar = ProgressBar(sys.stderr, not args.quiet)
    # The assembled node: a platform's new totals meet the same count rule as any write
    # (federation.reactions.keep_counts: the baseline, with verified reactions on top).
    assembly = assemble(settings)
    node = assembly.node
    try:
        importer = Importer(node, node_dir, export, tombstones=not args.no_tombstones,
                            currency=args.currency, topic_map=topic_map,
                            default_lang=args.language, api=api, progress=bar,
                            dry_run=args.dry_run, restore_deleted=args.restore_deleted)
        report = importer.run()
    finally:
        bar.close()
        assembly.close()
    print(f"imported {export.source} into {node_dir} (platform {report.platform})")
    print(report.summary_table())
    problems = report.problems_text()
    if problems:
        print(problems, file=sys.stderr)
    if args.report:
        args.report.write_text(json.dumps(report.to_json(), indent=2, ensure_ascii=False),
                               encoding="utf-8")
    return 0

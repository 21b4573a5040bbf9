"""``ddsnode intake verify-log DIR``: walk the intake's hash-chained event log.

Reads ``DIR/intake.db`` read-only (works while the node runs), recomputes every event's
hash and checks that each names the hash of the one before (docs/election-night.md).
Exit status 0 when the chain holds, 1 when it breaks (each break printed), 2 when
there is no log to read.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    """Register ``intake``."""
    p = sub.add_parser("intake", help="election night's intake: check the event log")
    group = p.add_subparsers(dest="intake_command", metavar="COMMAND", required=True)
    verify = group.add_parser("verify-log", help="walk the hash chain of the event log")
    verify.add_argument("dir", type=Path, help="the node directory")
    verify.set_defaults(func=_verify_log)


def _verify_log(args: argparse.Namespace) -> int:
    from ddsnode.intake.log import verify
    from ddsnode.settings import require_node_dir

    try:
        count, faults = verify(require_node_dir(args.dir))
    except FileNotFoundError as e:
        print(f"ddsnode intake verify-log: {e}")
        return 2
    for fault in faults:
        print(f"event {fault.seq}: {fault.problem}")
    if faults:
        print(f"{count} events read; the chain is broken in {len(faults)} place(s)")
        return 1
    print(f"{count} events; every hash matches and each names the one before")
    return 0

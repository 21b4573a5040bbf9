"""``ddsnode token create|revoke|list DIR``: bearer tokens, usable while the node runs."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ddsnode.ldp.tokens import DEFAULT_SCOPES, SCOPES, TokenRegistry
from ddsnode.settings import require_node_dir


def add_parser(sub: Any) -> None:
    """Register the ``token`` commands."""
    p = sub.add_parser("token", help="create, revoke and list bearer tokens")
    tsub = p.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    c = tsub.add_parser("create", help="print a new token on stdout (only the token)")
    c.add_argument("dir", type=Path)
    c.add_argument("--scope", action="append", choices=SCOPES,
                   help=f"grant a scope (repeatable; default: {' '.join(DEFAULT_SCOPES)})")
    c.add_argument("--label", default="", help="a note to recognise the token by")
    c.set_defaults(func=_create)
    r = tsub.add_parser("revoke", help="revoke a token (give the token or its id)")
    r.add_argument("dir", type=Path)
    r.add_argument("token")
    r.set_defaults(func=_revoke)
    ls = tsub.add_parser("list", help="list tokens (ids, scopes, labels; never the tokens)")
    ls.add_argument("dir", type=Path)
    ls.set_defaults(func=_list)


def _create(args: argparse.Namespace) -> int:
    registry = TokenRegistry(require_node_dir(args.dir))
    print(registry.create(args.scope or DEFAULT_SCOPES, args.label))
    return 0


def _revoke(args: argparse.Namespace) -> int:
    if TokenRegistry(require_node_dir(args.dir)).revoke(args.token):
        print("revoked", file=sys.stderr)
        return 0
    print("ddsnode: no live token matches", file=sys.stderr)
    return 1


def _list(args: argparse.Namespace) -> int:
    for t in TokenRegistry(require_node_dir(args.dir)).list():
        when = datetime.fromtimestamp(t.created, timezone.utc).strftime("%Y-%m-%d %H:%M")
        state = "revoked" if t.revoked else "live"
        print(f"{t.id}\t{state}\t{' '.join(sorted(t.scopes))}\t{when}\t{t.label}")
    return 0

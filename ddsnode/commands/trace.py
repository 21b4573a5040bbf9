"""``ddsnode trace DIR IRI``: the traceability chain of a resource, across nodes."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    """Register ``trace``."""
    p = sub.add_parser("trace", help="walk trace links from a resource (local, cache, peers)")
    p.add_argument("dir", type=Path)
    p.add_argument("iri")
    p.add_argument("--json", action="store_true", help="print the chain as JSON-LD")
    p.set_defaults(func=_trace)


def _trace(args: argparse.Namespace) -> int:
    from ddsnode.commands.peer import open_federation
    from ddsnode.trace import Tracer
    node, fed = open_federation(args.dir)

    async def run() -> Any:
        try:
            return await Tracer(fed).walk(args.iri)
        finally:
            await fed.client.aclose()

    try:
        chain = asyncio.run(run())
    finally:
        node.close()
    if args.json:
        print(json.dumps(chain.as_jsonld(), indent=2, ensure_ascii=False))
        return 0
    for link in chain.links:
        source = link["source"]
        where = source["kind"] + (f" {source['origin']}" if "origin" in source else "") + (
            f" at {source['fetchedAt']}" if "fetchedAt" in source else "")
        relation = link["relation"].rsplit("#", 1)[-1]
        print(f"{link['subject']}\t{relation}\t{link['object']}\t[{where}]")
    if chain.truncated:
        print("(truncated: depth or size limit reached)")
    return 0

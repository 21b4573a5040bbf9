"""``ddsnode trace DIR IRI``: the traceability chain of a resource, across nodes.

It runs with the node directory, so it walks as the operator (private containers
included) and works while the node runs: the SPARQL index is then read as a snapshot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
from collections.abc import Callable
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
    from ddsnode.federation.hub import Federation
    from ddsnode.federation.trace import Tracer
    from ddsnode.ldp.node import Node
    from ddsnode.settings import Settings, require_node_dir
    from ddsnode.store import open_store

    # The SPARQL index runs in a worker process that takes a third of a second to start:
    # start it first, while this process parses the shapes and opens the federation.
    settings = Settings.load(require_node_dir(args.dir))
    store = open_store(settings)
    sync = getattr(store, "sync_index", None)
    if sync is not None:
        threading.Thread(target=_quietly, args=(sync,), daemon=True).start()
    node = Node(settings, store)
    node.ensure_containers()
    fed = Federation(node)

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
    for warning in chain.warnings:
        print(f"(incomplete: {warning})")
    return 0


def _quietly(start: Callable[[float], int]) -> None:
    """Start the index worker; a failure is the walk's to report (as a warning)."""
    try:
        start(30.0)
    except Exception:  # noqa: BLE001, S110 — the walk's own query says what went wrong
        pass

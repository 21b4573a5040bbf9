"""``ddsnode demo``: a node with the examples loaded, for a first look.

The examples describe several nodes (a city's Decidim platform, a neighbourhood platform,
an electoral authority, an organisation directory). The demo node plays all of them: each
example node's base is rebased under the demo node's base IRI, and every document is written
through the same validated path as a PUT.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ddsnode import resources
from ddsnode.commands.node import init_node, serve
from ddsnode.settings import SETTINGS_FILE, Settings

# The nodes of the example scenario. Other example hosts (the Decidim platform's pages,
# homepages, the video-call link) are not nodes and keep their IRIs.
EXAMPLE_BASES = ("https://participa.rivemont.example/", "https://voisins.rivemont.example/",
                 "https://elections.rivemont.example/", "https://annuaire.rivemont.example/")


def add_parser(sub: Any) -> None:
    """Register ``demo``."""
    p = sub.add_parser("demo", help="run a node with the examples loaded")
    p.add_argument("dir", type=Path, nargs="?", default=Path("node-demo"),
                   help="node directory (created and loaded on first run; default ./node-demo)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-serve", action="store_true", help="load the examples and exit")
    p.set_defaults(func=_demo)


def rebase(text: str, base: str) -> str:
    """Rewrite the example nodes' IRIs under ``base``."""
    for node in EXAMPLE_BASES:
        text = text.replace(node, base)
    return text


def load_examples(settings: Settings) -> tuple[int, list[str]]:
    """Write every valid example into the node; returns (count written, problems)."""
    from ddsnode.node import Node

    node = Node.open(settings)
    written, problems = 0, []
    try:
        for path in sorted(resources.examples_dir().glob("*.jsonld")):
            text = rebase(path.read_text(encoding="utf-8"), settings.base_url)
            iri = json.loads(text).get("id")
            if not isinstance(iri, str):
                problems.append(f"{path.name}: no top-level id")
                continue
            try:
                node.write_document(iri, text.encode("utf-8"), "application/ld+json")
                written += 1
            except Exception as e:  # report and go on: one bad example must not stop the demo
                problems.append(f"{path.name}: {e}")
    finally:
        node.close()
    return written, problems


def _demo(args: argparse.Namespace) -> int:
    base = f"http://{args.host}:{args.port}/"
    if not (args.dir / SETTINGS_FILE).is_file():
        settings = init_node(args.dir, base_url=base, name="Rivemont demo node",
                             extra={"operator": "Métropole de Rivemont (fictional)",
                                    "open_containers": "open/"})
        written, problems = load_examples(settings)
        print(f"loaded {written} example documents into {args.dir}", file=sys.stderr)
        for p in problems:
            print(f"  skipped {p}", file=sys.stderr)
    settings = Settings.load(args.dir, overrides={"host": args.host, "port": args.port})
    if args.no_serve:
        return 0
    print(f"serving {settings.base_url}  (try: curl -H 'Accept: text/turtle' "
          f"{settings.base_url}proposals/)", file=sys.stderr)
    serve(settings)
    return 0

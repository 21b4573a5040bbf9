"""``ddsnode demo``: a node with the examples loaded, for a first look.

The examples describe several nodes (a city's Decidim platform, a neighbourhood platform,
an electoral authority, an organisation directory). The demo node plays all of them: each
example node's base is rebased under the demo node's base IRI, and every document is written
through the same validated path as a PUT.

A demo directory is made for one address: its IRIs start with ``http://HOST:PORT/``. Run
again on another host or port, it is re-created for the new address (demo data is
disposable; a directory that is not a demo is never touched), so the printed address and
every link agree. The port is checked before anything else (``commands.port``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ddsnode import resources
from ddsnode.cli import UsageError, program
from ddsnode.commands.node import init_node, serve
from ddsnode.commands.port import ensure_free, free
from ddsnode.problem import Problem
from ddsnode.settings import SETTINGS_FILE, Settings

NAME = "Rivemont demo node"
MARKER = "demo.json"  # written in a demo directory: what it is, and for which base

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
    from ddsnode.ldp.node import Node

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
            except (Problem, ValueError) as e:  # report and go on: one bad example must not stop the demo
                problems.append(f"{path.name}: {e}")
    finally:
        node.close()
    return written, problems


def demo_base(host: str, port: int) -> str:
    """The base IRI of a demo served on ``host:port`` (an IPv6 address in brackets)."""
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def is_demo(path: Path) -> bool:
    """True when ``path`` is a directory ``ddsnode demo`` made (marker, or its node name)."""
    if (path / MARKER).is_file():
        return True
    return (path / SETTINGS_FILE).is_file() and Settings.load(path).name == NAME


def create(path: Path, base: str) -> None:
    """Create the demo node directory for ``base`` and load the examples into it."""
    settings = init_node(path, base_url=base, name=NAME,
                         extra={"operator": "Métropole de Rivemont (fictional)",
                                "open_containers": "open/"})
    (path / MARKER).write_text(json.dumps({"base_url": base}) + "\n", encoding="utf-8")
    written, problems = load_examples(settings)
    print(f"loaded {written} example documents into {path}", file=sys.stderr)
    from ddsnode.commands.directory import load_example_directory
    problems += load_example_directory(settings)  # the explorer's directory (docs/directory.md)
    for p in problems:
        print(f"  skipped {p}", file=sys.stderr)


def prepare(path: Path, base: str) -> None:
    """Make ``path`` a demo directory for ``base``: create it, or re-create it if it was
    made for another address; refuse a node directory that is not a demo."""
    if (path / SETTINGS_FILE).is_file():
        old = Settings.load(path).base_url
        if old == base:
            return
        if not is_demo(path):
            raise UsageError(f"{path} is a node for {old}, not a demo directory; run "
                             f"'ddsnode serve {path}', or give the demo another directory")
        address = urlsplit(old)
        if address.hostname and address.port and not free(address.hostname, address.port):
            # Likely the demo itself, still serving this directory: re-creating it would
            # delete the store under a running node.
            raise UsageError(f"{path} was made for {old}, and port {address.port} is in use "
                             "(is that demo still running?); stop it first, or give this "
                             "demo another directory")
        print(f"{path} was made for {old}; re-creating it for {base} "
              "(what was written in it since is dropped)", file=sys.stderr)
        shutil.rmtree(path)
    create(path, base)


def _demo(args: argparse.Namespace) -> int:
    base = demo_base(args.host, args.port)
    if not args.no_serve:
        ensure_free(args.host, args.port)  # first: a taken port must change nothing
    prepare(args.dir, base)
    settings = Settings.load(args.dir, overrides={"host": args.host, "port": args.port})
    if args.no_serve:
        return 0
    print(f"serving {settings.base_url}  (try: curl -H 'Accept: text/turtle' "
          f"{settings.base_url}proposals/)\n"
          f"explorer: open {settings.base_url} in a browser (search: "
          f"{settings.base_url}explore)\n"
          f"a write token for it: {program()} token create {args.dir}", file=sys.stderr)
    serve(settings)
    return 0

"""``ddsnode publish DIR --static SITE``: the node's published results as a static site.

Writes, under SITE, every election's generations (``{election}/results/g/{n}/…``), then
its pointer (``{election}/results/current``), then ``.well-known/jwks.json``: any static
host or CDN can serve the directory, and clients follow it exactly as they follow the
node. When the node publishes (``publication_elections``) and no running server holds
the publication lock, a generation is built first if results changed since the last.
Exit status 0, 2 when DIR is not a node directory.
"""

from __future__ import annotations

import argparse
import fcntl
import os
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    """Register ``publish``."""
    p = sub.add_parser("publish", help="write the published election results as a static "
                                       "site (generations, pointers, JWKS)")
    p.add_argument("dir", type=Path, help="node directory")
    p.add_argument("--static", type=Path, required=True, metavar="SITE",
                   help="directory to write (created if missing)")
    p.set_defaults(func=_publish)


def _publish(args: argparse.Namespace) -> int:
    from ddsnode import paths
    from ddsnode.ldp.node import Node
    from ddsnode.publication.archive import Archive
    from ddsnode.publication.keyring import Keyring
    from ddsnode.publication.publisher import Publisher
    from ddsnode.publication.stored import StoredResults
    from ddsnode.settings import Settings, require_node_dir

    node_dir = require_node_dir(args.dir)
    settings = Settings.load(node_dir)
    archive = Archive.of(node_dir)
    keyring = Keyring.open(node_dir, production=bool(settings.publication_production),
                           settings=settings)  # on PostgreSQL: the node state's keys
    if settings.publication_elections.strip():
        archive.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(archive.root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            node = Node.open(settings)
            try:
                publisher = Publisher(StoredResults(node, settings.publication_elections),
                                      archive, keyring, base=node.base, interval=0,
                                      rehearsal=settings.publication_rehearsal,
                                      part_units=int(settings.publication_part_units))
                publisher.publish_once(force=True)
            finally:
                node.close()
        except BlockingIOError:
            print("the node is running and publishes: copying what it published")
        finally:
            os.close(fd)
    site: Path = args.static
    site.mkdir(parents=True, exist_ok=True)
    done = archive.copy_to(site)
    jwks = site / paths.JWKS_PATH
    jwks.parent.mkdir(parents=True, exist_ok=True)
    jwks.write_bytes(keyring.jwks_bytes())
    for election_path in done:
        pointer = archive.pointer(election_path)
        generation = pointer.generation if pointer else 0
        print(f"{election_path}: generation {generation} -> "
              f"{site / election_path / 'results'}")
    if not done:
        print("nothing is published yet (set publication_elections, then write results)")
    print(f"keys: {jwks}")
    return 0

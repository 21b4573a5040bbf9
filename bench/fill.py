"""Fill a node's container fast, for the paging benchmarks.

One resource is written through the normal validated path (``Node.write_document``);
the rest are clones of its stored record with a new IRI (N-Triples, every
representation and its ETag rewritten), written with ``EmbeddedStore.put_many`` in
large transactions. The page reads measured afterwards do not depend on how the rows
got there; a validated write is measured separately (bench/run.py "POST validated").
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from ddsnode.ldp.node import Node
from ddsnode.ldp.representation import etag
from ddsnode.settings import Settings
from ddsnode.store.base import Representation, StoredResource
from ddsnode.store.embedded import EmbeddedStore

TEMPLATE = """@prefix dds: <https://w3id.org/dds/ns#> .
@prefix dct: <http://purl.org/dc/terms/> .
<{iri}> a dds:Proposal ;
  dct:title "Proposal number {n} about the river quays"@en, "Proposition numéro {n} sur les quais"@fr ;
  dds:state <https://w3id.org/dds/state/notAnswered> ;
  dct:subject <https://w3id.org/dds/topic/mobility> .
"""


def _clone(template: StoredResource, old: str, new: str) -> StoredResource:
    reps = {}
    for key, rep in template.representations.items():
        body = rep.body.replace(old.encode(), new.encode())
        reps[key] = Representation(rep.media_type, body, etag(body))
    return replace(template, iri=new, ntriples=template.ntriples.replace(old, new),
                   representations=reps, version=0, seq=0)


def fill_big_container(node_dir: Path, base: str, container: str, n: int,
                       batch: int = 5000) -> str:
    """Put ``n`` proposals in ``base + container`` (a registered container); returns its URL."""
    settings = Settings.load(node_dir)
    node = Node.open(settings)
    try:
        first = f"{base}{container}fill-{0:07d}"
        node.write_document(first, TEMPLATE.format(iri=first, n=0).encode(), "text/turtle")
        store = node.store
        assert isinstance(store, EmbeddedStore), "bench fill needs the embedded store"
        template = store.get(first)
        assert template is not None
        todo = [f"{base}{container}fill-{i:07d}" for i in range(1, n)]
        for start in range(0, len(todo), batch):
            store.put_many(_clone(template, first, iri) for iri in todo[start:start + batch])
    finally:
        node.close()
    return f"{base}{container}"


if __name__ == "__main__":
    print(fill_big_container(Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])))

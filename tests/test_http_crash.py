"""A served node killed with SIGKILL under write load loses no acknowledged write.

tests/test_store_crash.py kills a process writing to the store directly; this one kills
``ddsnode serve`` itself while clients POST and PUT over HTTP, so the whole write path
is under test: the writer thread's batches (ddsnode/ldp/writer.py), one transaction and one
fsync per batch, and a 201/204 sent only after that COMMIT. After the kill the node
directory is reopened: every write a client saw acknowledged is there, whole, and every
stored proposal is valid and complete.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
import rdflib

from ddsnode.ldp.node import Node
from ddsnode.settings import Settings
from tests.support.node import running_node

DCT_TITLE = rdflib.URIRef("http://purl.org/dc/terms/title")
DDS = "https://w3id.org/dds/ns#"

PROPOSAL = """@prefix dds: <https://w3id.org/dds/ns#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix schema: <https://schema.org/> .
<> a dds:Proposal ;
  dct:title "{title}"@en ;
  schema:text "{text}"@en ;
  dds:inSpace <{base}processes/p1> ;
  dct:subject <https://w3id.org/dds/topic/mobility> .
"""


# Durability under SIGKILL of a real server: a slow scenario (issue 11), run by CI.
@pytest.mark.slow
def test_sigkill_of_the_server_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    acknowledged: dict[str, str] = {}  # IRI -> the title of its last acknowledged write
    lock = threading.Lock()
    stop = threading.Event()
    with running_node(tmp_path) as node:

        def client(n: int) -> None:
            rng = random.Random(n)
            with httpx.Client(timeout=30, headers={**node.auth(),
                                                   "Content-Type": "text/turtle"}) as http:
                mine: list[str] = []
                i = 0
                while not stop.is_set():
                    i += 1
                    title = f"client {n} write {i}"
                    body = PROPOSAL.format(title=title, text="x" * rng.randint(10, 2000),
                                           base=node.base).encode()
                    try:
                        if mine and rng.random() < 0.3:  # replace one of ours
                            iri = rng.choice(mine)
                            r = http.put(iri, content=body)
                            assert r.status_code == 204, r.text
                        else:
                            r = http.post(node.url("proposals/"), content=body,
                                          headers={"Slug": f"c{n}-{i}"})
                            assert r.status_code == 201, r.text
                            iri = r.headers["location"]
                            mine.append(iri)
                    except httpx.TransportError:
                        return  # the server is gone: this write was never acknowledged
                    with lock:
                        acknowledged[iri] = title

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 150 and time.monotonic() < deadline:
            time.sleep(0.05)  # let some writes through, then kill mid-load
        os.kill(node.process.pid, signal.SIGKILL)
        node.process.wait()
        stop.set()
        for t in threads:
            t.join()
        node_dir = node.dir
    assert len(acknowledged) >= 150
    reopened = Node.open(Settings.load(node_dir))
    try:
        for iri, title in acknowledged.items():
            stored = reopened.store.get(iri)
            assert stored is not None and stored.kind == "rdf", iri
            graph = rdflib.Graph().parse(data=stored.ntriples, format="nt")
            titles = {str(t) for t in graph.objects(rdflib.URIRef(iri), DCT_TITLE)}
            # The last acknowledged write, or one after it that completed before the kill.
            assert len(titles) == 1, (iri, titles)
            (got,) = titles
            client, n = title.split(" write ")
            got_client, got_n = got.split(" write ")
            assert got_client == client and int(got_n) >= int(n), (iri, title, got)
        children, cursor = [], None
        while True:
            page = reopened.store.children(reopened.base + "proposals/", after=cursor,
                                           limit=200)
            children += page.items
            if page.next is None:
                break
            cursor = page.next
        for child in children:  # nothing torn: every stored proposal is whole
            stored = reopened.store.get(child.iri)
            assert stored is not None
            graph = rdflib.Graph().parse(data=stored.ntriples, format="nt")
            subject = rdflib.URIRef(child.iri)
            assert len(list(graph.objects(subject, DCT_TITLE))) == 1
            assert (subject, rdflib.RDF.type, rdflib.URIRef(DDS + "Proposal")) in graph
            assert reopened.renderings.get(stored, "text/turtle") is not None
        assert reopened.store.count_children(reopened.base + "proposals/") == len(children)
        assert set(acknowledged) <= {c.iri for c in children}
    finally:
        reopened.close()

"""``ddsnode trace`` while the node runs (issue 10, item 12): the whole chain, fast path.

The running node's SPARQL index worker holds the index; the command used to try to
start a worker of its own for every resource of the walk, fail each time, and print a
chain without any incoming link. It now reads the index as a snapshot. Real server
(the index lock is between processes), so slow.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.node import REPO, running_node

pytestmark = pytest.mark.slow


def test_the_command_lists_incoming_links_while_the_node_runs(tmp_path: Path) -> None:
    with running_node(tmp_path, settings={"private_containers": "private/"}) as node:
        proposal, body = node.example("a-proposal-protected-bike-lanes")
        amendment, amends = node.example("a-proposal-protected-bike-lanes-amendment-1")
        for iri, data in ((proposal, body), (amendment, amends)):
            r = httpx.put(iri, content=data, headers={"Content-Type": "application/ld+json",
                                                      **node.auth()})
            assert r.status_code == 201, r.text
        secret = node.url("private/draft")
        r = httpx.put(secret, content=(f'<{secret}> <https://w3id.org/dds/ns#amends> '
                                       f'<{proposal}> .').encode(),
                      headers={"Content-Type": "text/turtle", **node.auth()})
        assert r.status_code == 201, r.text
        # The node's own worker has the index open (and current) before the command runs.
        assert httpx.get(node.url("sparql"), params={"query": "ASK { ?s ?p ?o }"},
                         headers=node.auth(node.read_token)).status_code == 200
        out = subprocess.run([sys.executable, "-m", "ddsnode", "trace", str(node.dir),
                              proposal], cwd=REPO, capture_output=True, text=True,
                             check=True, timeout=120).stdout
        lines = out.splitlines()
        assert f"{amendment}\tamends\t{proposal}\t[local {node.base.rstrip('/')}]" in lines
        # The operator's command walks private containers too; the anonymous /trace not.
        assert any(line.startswith(f"{secret}\tamends\t") for line in lines), out
        assert "incomplete" not in out
        chain = httpx.get(node.url("trace"), params={"iri": proposal}).json()
        assert secret not in str(chain)
        assert amendment in {link["subject"] for link in chain["links"]}

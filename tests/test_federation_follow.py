"""A new follower gets pushes at once (issue 10, item 1), over two real nodes.

Right after ``ddsnode peer add`` on both sides, a proposal created on A reached B only at
B's next poll of A's feed (25.9 s): B's Follow had been refused while A did not know B
yet, and was waiting out its retry backoff when the proposal was pushed to nobody. Here
the poll interval is 600 s, so only a push (or the read of A's feed that follows an
accepted Follow) can bring the proposals to B within the wait below.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.support.cluster import Cluster, ClusterNode, cli, running_cluster, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with running_cluster(tmp_path_factory.mktemp("follow"), ("a", "b"),
                         settings={"peer_poll_seconds": 600.0}) as nodes:
        yield nodes


def _received(node: ClusterNode, iri: str) -> bool:
    """Whether ``node`` holds a valid copy of ``iri`` (read from its database: a read
    through /federation/resource must not be what fetches it)."""
    return bool(node.db("SELECT 1 FROM cache WHERE iri = ? AND status = 'valid'", (iri,)))


def _new_proposal(cluster: Cluster) -> str:
    a = cluster["a"]
    iri, body = a.example("a-proposal-school-streets")
    fresh = f"{iri}-{uuid.uuid4().hex[:8]}"
    a.put(fresh, body.replace(iri.encode(), fresh.encode()))
    return fresh


def test_a_proposal_reaches_a_new_follower_without_waiting_for_a_poll(pair: Cluster) -> None:
    a, b = pair["a"], pair["b"]
    # B asks first: its Follow is refused (401) until A has configured B too. A's operator
    # takes a while: B's Follow backs off after each refusal, and after five B's circuit
    # breaker holds every delivery to A for 10 s — well past the proposal below.
    cli("peer", "add", str(b.dir), a.base)
    wait_for(lambda: b.db("SELECT 1 FROM breakers WHERE failures >= 5"), timeout=60,
             what="b's Follow refused five times")
    cli("peer", "add", str(a.dir), b.base)
    first = _new_proposal(pair)
    wait_for(lambda: _received(b, first), timeout=20, what="b receiving the first proposal")
    wait_for(lambda: a.db("SELECT 1 FROM followers WHERE origin = ?", (b.base.rstrip("/"),)),
             what="a knowing b as a follower")
    second = _new_proposal(pair)
    wait_for(lambda: _received(b, second), timeout=20, what="b receiving the next proposal")
    listed = b.get_json(b.url("proposals/"), scope="federation")
    assert first in str(listed) and second in str(listed)


def test_the_other_order_of_peer_add_works_too(pair: Cluster) -> None:
    a, b = pair["a"], pair["b"]
    cli("peer", "add", str(a.dir), b.base)
    cli("peer", "add", str(b.dir), a.base)
    first = _new_proposal(pair)
    wait_for(lambda: _received(b, first), timeout=20, what="b receiving the first proposal")

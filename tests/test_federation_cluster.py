"""Federation between real nodes: three ``ddsnode serve`` processes on 127.0.0.1.

A publishes; B and C follow A (and A follows them back: mutual configuration is each
operator's permission to reach the other). Propagation is awaited with a deadline
(:func:`wait_for`), never asserted after a fixed sleep.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ddsnode.federation.signature import Signer
from ddsnode.keys import KEY_FILE, key_id, load_node_key, rotate_node_key
from tests.support.cluster import Cluster, ClusterNode, cli, running_cluster, wait_for
from tests.support.fake_peer import running_fake_peer
from tests.support.node import REPO

pytestmark = pytest.mark.slow
EXAMPLE = "https://participa.rivemont.example/"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with running_cluster(tmp_path_factory.mktemp("federation"), ("a", "b", "c")) as nodes:
        nodes.mesh([("b", "a"), ("c", "a")])
        yield nodes


def _count(doc: object, term: str = "supportCount") -> int | None:
    if not isinstance(doc, dict) or term not in doc:
        return None
    return int(doc[term])


def _title(doc: object) -> str:
    title = doc.get("title") if isinstance(doc, dict) else None
    if isinstance(title, dict):
        return str(title.get("en") or title.get("@none") or next(iter(title.values())))
    return str(title or "")


def _signed(node: ClusterNode, inbox: str, activity: dict[str, object], *,
            key: Ed25519PrivateKey | None = None, clock: object = None) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(activity).encode()
    headers = {"Content-Type": "application/ld+json"}
    signer = Signer(key or load_node_key(node.dir / KEY_FILE), key_id(node.base),
                    **({"clock": clock} if clock else {}))
    headers.update(signer("POST", inbox, headers, body))
    return body, headers


def _publish(node: ClusterNode, example: str, others: dict[str, str] | None = None,
             *, fresh: bool = False) -> str:
    """PUT an example on ``node``; ``fresh``: under a new IRI (a proposal with no reactions)."""
    iri, body = node.example(example, others)
    if fresh:
        new = f"{iri}-{uuid.uuid4().hex[:8]}"
        iri, body = new, body.replace(iri.encode(), new.encode())
    node.put(iri, body)
    return iri


def test_followers_see_a_publication_and_list_it(cluster: Cluster) -> None:
    a, b, c = cluster["a"], cluster["b"], cluster["c"]
    iri = _publish(a, "a-proposal-school-streets")
    for follower in (b, c):
        doc = wait_for(lambda node=follower: node.cached(iri),  # type: ignore[misc]
                       what=f"{follower.name} caching {iri}")
        assert "School streets" in _title(doc)
    listing = b.get_json(b.url("proposals/"), scope="federation")
    members = listing["contains"] if isinstance(listing["contains"], list) else [
        listing["contains"]]
    mine = [m for m in members if m["id"] == iri]
    assert mine and mine[0]["publisher"] == a.base and mine[0]["state"] == "evaluating"
    local = b.get_json(b.url("proposals/"))
    assert iri not in json.dumps(local)
    assert f'<{a.url("inbox")}>; rel="http://www.w3.org/ns/ldp#inbox"' in \
        a.http.get(iri).headers.get("link", "")


def test_reaction_is_counted_once_even_when_delivered_twice(cluster: Cluster) -> None:
    a, b, c = cluster["a"], cluster["b"], cluster["c"]
    proposal = _publish(a, "a-proposal-quai-bike-lane", fresh=True)
    wait_for(lambda: b.cached(proposal), what="b caching the proposal")
    # The example is imported data: its platform's count is the baseline A adds to.
    base = _count(a.get_json(proposal))
    reaction, body = b.example("b-reaction-s-77", {
        EXAMPLE + "proposals/protected-bike-lanes": proposal})
    b.put(reaction, body)
    wait_for(lambda: _count(a.get_json(proposal)) == base + 1, what="a counting b's support")
    # The same notification again (a fresh signature: a retry), and another activity
    # about the same reaction: both ignored or deduplicated.
    sent = b.db("SELECT body FROM outbox WHERE object = ? AND inbox = ?",
                (reaction, a.url("inbox")))
    assert sent
    activity = json.loads(sent[0][0])
    for again in (activity, {**activity, "id": activity["id"] + "-again"}):
        data, headers = _signed(b, a.url("inbox"), again)
        assert httpx.post(a.url("inbox"), content=data, headers=headers).status_code == 202
    wait_for(lambda: a.db("SELECT 1 FROM seen WHERE activity_id = ?", (activity["id"] + "-again",)))
    assert _count(a.get_json(proposal)) == base + 1
    assert a.db("SELECT count(*) FROM reactions WHERE target = ?", (proposal,)) == [(1,)]
    listed = a.get_json(a.url("federation/reactions"), iri=proposal)
    assert listed["supportCount"] == base + 1 and [r["id"] for r in listed["reactions"]] == [reaction]
    # One rule for counts (docs/federation.md, Counts): a stated total is the source's,
    # the baseline under the verified reactions — 999 stated, 999 + 1 served; the total
    # stated back restores the count.
    edited = a.get_json(proposal)
    edited["supportCount"] = 999
    a.put(proposal, json.dumps(edited).encode())
    assert _count(a.get_json(proposal)) == 1000
    edited["supportCount"] = base
    a.put(proposal, json.dumps(edited).encode())
    assert _count(a.get_json(proposal)) == base + 1
    # B and C show A's authoritative count, from their caches.
    for follower in (b, c):
        wait_for(lambda node=follower: _count(node.cached(proposal)) == base + 1,  # type: ignore[misc]
                 what=f"{follower.name} showing a's count")
    # Deleting the reaction on B decrements on A.
    b.delete(reaction)
    wait_for(lambda: _count(a.get_json(proposal)) == base, what="a decrementing")


def test_update_and_delete_propagate(cluster: Cluster) -> None:
    a, b = cluster["a"], cluster["b"]
    iri, body = a.example("b-proposal-tanneurs-school-crossing")
    a.put(iri, body)
    wait_for(lambda: b.cached(iri), what="b caching")
    doc = json.loads(body)
    doc["title"] = {"en": "Updated: a safe school crossing"}
    a.put(iri, json.dumps(doc).encode())
    wait_for(lambda: "Updated" in _title(b.cached(iri)), what="b showing the update")
    a.delete(iri)
    wait_for(lambda: not b.db("SELECT 1 FROM cache WHERE iri = ?", (iri,)), what="b dropping")
    assert b.cached(iri) is None
    listing = b.get_json(b.url("proposals/"), scope="federation")
    assert iri not in json.dumps(listing)


def test_unsigned_forged_tampered_stale_and_replayed_notifications_are_refused(
        cluster: Cluster) -> None:
    a, b = cluster["a"], cluster["b"]
    inbox = a.url("inbox")
    activity = {"id": f"{b.base}feed#test-{uuid.uuid4()}", "type": "Update", "actor": b.base,
                "object": {"id": b.url("proposals/none")}}
    seen_before = a.db("SELECT count(*) FROM seen")[0][0]
    body = json.dumps(activity).encode()
    unsigned = httpx.post(inbox, content=body, headers={"Content-Type": "application/ld+json"})
    assert unsigned.status_code == 401
    _, forged = _signed(b, inbox, activity, key=Ed25519PrivateKey.generate())
    assert httpx.post(inbox, content=body, headers=forged).status_code == 401
    data, headers = _signed(b, inbox, activity)
    tampered = data.replace(b"proposals/none", b"proposals/evil")
    assert httpx.post(inbox, content=tampered, headers=headers).status_code == 401
    _, stale = _signed(b, inbox, activity, clock=lambda: time.time() - 3600)
    assert httpx.post(inbox, content=data, headers=stale).status_code == 401
    assert a.db("SELECT count(*) FROM seen")[0][0] == seen_before  # nothing recorded
    assert httpx.post(inbox, content=data, headers=headers).status_code == 202
    replayed = httpx.post(inbox, content=data, headers=headers)
    assert replayed.status_code == 401 and "replayed" in replayed.text
    assert a.db("SELECT count(*) FROM seen")[0][0] == seen_before + 1
    # A notification naming an object elsewhere (here: the metadata service) is refused
    # before any connection: a node speaks only of its own resources.
    hostile = {**activity, "id": activity["id"] + "-x",
               "object": {"id": "http://169.254.169.254/latest/meta-data/"}}
    data, headers = _signed(b, inbox, hostile)
    assert httpx.post(inbox, content=data, headers=headers).status_code == 403


def test_peer_down_served_from_cache_then_caught_up(cluster: Cluster) -> None:
    a, b = cluster["a"], cluster["b"]
    iri, body = a.example("a-proposal-protected-bike-lanes", {
        EXAMPLE + p: a.url("elsewhere/") for p in ("decisions/", "projects/")})
    a.put(iri, body)
    wait_for(lambda: b.cached(iri), what="b caching")
    a.stop()
    try:
        def stale() -> httpx.Response | None:
            got = b.http.get(b.url("federation/resource"), params={"iri": iri},
                             headers={"Accept": "application/ld+json"})
            assert got.status_code == 200  # served from the cache while A is down
            return got if "stale-if-error" in got.headers["cache-status"] else None

        # Readers revalidate a copy at most once per peer_revalidate_seconds: the first
        # read past that finds A down and serves the copy stale-if-error.
        response = wait_for(stale, what="stale-if-error")
        assert int(response.headers["age"]) >= 0
        # While A is down its operator changes the data (another process, same store).
        doc = json.loads(body)
        doc["title"] = {"en": "Protected bike lanes, revised while offline"}
        offline = a.dir / "offline.jsonld"
        offline.write_text(json.dumps(doc), "utf-8")
        script = ("import sys; from pathlib import Path; from ddsnode.ldp.node import Node; "
                  "from ddsnode.settings import Settings; "
                  "n = Node.open(Settings.load(Path(sys.argv[1]))); "
                  "n.write_document(sys.argv[2], Path(sys.argv[3]).read_bytes(), "
                  "'application/ld+json'); n.close()")
        subprocess.run([sys.executable, "-c", script, str(a.dir), iri, str(offline)],
                       cwd=REPO, check=True, timeout=60)
    finally:
        a.start()
    wait_for(lambda: "offline" in _title(b.cached(iri)), what="b catching up", timeout=30)


def test_key_rotation_needs_one_refetch(cluster: Cluster) -> None:
    a, c = cluster["a"], cluster["c"]
    proposal = _publish(a, "a-proposal-school-streets", fresh=True)
    wait_for(lambda: c.cached(proposal), what="c caching")
    base = _count(a.get_json(proposal)) or 0  # the imported platform count
    c.stop()
    rotate_node_key(c.dir)
    c.start()
    reaction, body = c.example("b-reaction-s-77", {
        EXAMPLE + "proposals/protected-bike-lanes": proposal})
    c.put(reaction, body)
    # A holds c's old key: the first verification fails, A refetches c's description once.
    wait_for(lambda: _count(a.get_json(proposal)) == base + 1, what="a verifying c's new key")


def test_invalid_and_off_origin_peer_data_do_not_pollute_the_cache(cluster: Cluster) -> None:
    a, b = cluster["a"], cluster["b"]
    proposal = _publish(a, "a-proposal-school-streets")
    wait_for(lambda: b.cached(proposal), what="b caching a's proposal")
    a_count = _count(b.cached(proposal))
    with running_fake_peer() as fake:
        cli("peer", "add", str(b.dir), fake.base)
        ctx = "https://w3id.org/dds/context/v1"
        bad = fake.serve("/proposals/bad", json.dumps(
            {"@context": ctx, "id": fake.base + "proposals/bad", "type": "Proposal",
             "state": "no-such-state"}).encode())
        own = json.loads(b.example("a-proposal-school-streets", {EXAMPLE: fake.base})[1])
        own["id"] = fake.base + "proposals/claims"
        own.pop("@context")
        claims = fake.serve("/proposals/claims", json.dumps({"@context": ctx, "@graph": [
            own, {"id": proposal, "supportCount": 9999}]}).encode())
        moved = fake.serve("/proposals/moved", b"", status=302,
                           headers={"Location": proposal})
        inbox = b.url("inbox")
        for i, target in enumerate((bad, claims, moved)):
            activity = {"id": f"{fake.base}feed#change-{i}", "type": "Create",
                        "actor": fake.base, "object": {"id": target}}
            assert fake.notify(inbox, activity).status_code == 202
        wait_for(lambda: b.db("SELECT status FROM cache WHERE iri = ?", (bad,)) ==
                 [("quarantined",)], what="quarantine")
        wait_for(lambda: b.db("SELECT status FROM cache WHERE iri = ?", (claims,)),
                 what="claims cached")
        wait_for(lambda: ("GET", "/proposals/moved") in fake.requests, what="moved fetched")
        quarantined = b.http.get(b.url("federation/resource"), params={"iri": bad})
        assert quarantined.status_code == 502 and "quarantined" in quarantined.text
        stored = b.db("SELECT ntriples FROM cache WHERE iri = ?", (claims,))[0][0]
        assert stored and not any(line.startswith(f"<{proposal}>")
                                  for line in stored.splitlines())
        assert _count(b.cached(proposal)) == a_count  # the 9999 was not merged as a fact
        assert not b.db("SELECT 1 FROM cache WHERE iri = ?", (moved,))
        listing = json.dumps(b.get_json(b.url("proposals/"), scope="federation"))
        assert bad not in listing
        # A peer whose description puts its inbox on the metadata service: refused, and
        # that address is never contacted.
        fake.serve("/", fake.description(inbox="http://169.254.169.254/inbox"), "text/turtle")
        cli("peer", "remove", str(b.dir), fake.base)
        refused = cli("peer", "add", str(b.dir), fake.base, check=False)
        assert refused.returncode != 0 and "inbox" in refused.stderr
        assert fake.base.rstrip("/") not in cli("peer", "list", str(b.dir)).stdout


def test_trace_walks_across_nodes(cluster: Cluster) -> None:
    a, b = cluster["a"], cluster["b"]
    to_b = {EXAMPLE + p: b.url(p) for p in ("decisions/", "projects/", "results/")}
    for name in ("a-decision-council-2026-07-09-mobility-budget",
                 "a-project-protected-bike-lanes-tanneurs"):
        _publish(b, name, to_b)
    proposal = _publish(a, "a-proposal-protected-bike-lanes", to_b)
    amendment = _publish(a, "a-proposal-protected-bike-lanes-amendment-1", to_b)
    decision = b.url("decisions/council-2026-07-09-mobility-budget")
    wait_for(lambda: b.cached(amendment), what="b caching the amendment")
    wait_for(lambda: decision in json.dumps(b.cached(proposal)), what="b caching the proposal")
    chain = b.get_json(b.url("trace"), iri=proposal)
    relations = {(link["subject"], link["relation"].rsplit("#", 1)[-1], link["object"]):
                 link["source"] for link in chain["links"]}
    assert (proposal, "answeredBy", decision) in relations
    assert (amendment, "amends", proposal) in relations
    assert relations[(amendment, "amends", proposal)]["origin"] == a.base.rstrip("/")
    sources = {r["id"]: r["source"]["kind"] for r in chain["resources"]}
    assert sources[decision] == "local" and sources[proposal] in ("cache", "fetched")
    printed = cli("trace", str(b.dir), proposal).stdout
    assert "answeredBy" in printed and "amends" in printed


def test_federated_listing_pages_without_repeats(cluster: Cluster) -> None:
    a, b = cluster["a"], cluster["b"]
    _publish(b, "b-proposal-tanneurs-school-crossing")
    for _ in range(2):
        remote = _publish(a, "a-proposal-school-streets", fresh=True)
        wait_for(lambda iri=remote: b.cached(iri), what="b caching")  # type: ignore[misc]
    seen: list[str] = []
    url = b.url("proposals/") + "?scope=federation&limit=1"
    for _ in range(50):
        response = b.http.get(url, headers={"Accept": "application/ld+json"})
        assert response.status_code == 200
        contains = response.json().get("contains", [])
        seen += [m["id"] for m in (contains if isinstance(contains, list) else [contains])]
        nxt = response.links.get("next")
        if not nxt:
            break
        url = nxt["url"]
    assert len(seen) == len(set(seen)) and len(seen) >= 3
    typed = b.get_json(b.url("proposals/"), scope="federation", state="evaluating")
    members = typed.get("contains", [])
    for m in members if isinstance(members, list) else [members]:
        assert m.get("state") == "evaluating"

"""Election night's publication (issue 15): generations, signatures, serving, changes.

A real node in-process publishes the example election (``examples/e-*.jsonld``) from
its store (``StoredResults``); readers follow pointer -> manifest -> files over HTTP and
check what a client would: the JWS against the JWKS, every hash, the chain, the diffs.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import time
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from ddsnode.elections.export import schema_errors
from ddsnode.publication import documents as docs
from ddsnode.publication.jws import verify
from ddsnode.publication.keyring import keys_of
from tests.support.inprocess import LocalNode, local_node

ELECTION = "elections/municipal-2026"
SETUP = ("e-place-rivemont", "e-place-rivemont-secteur-1", "e-place-rivemont-secteur-2",
         "e-place-bureau-101", "e-place-bureau-104", "e-place-bureau-201",
         "e-organisation-party-rc", "e-organisation-party-ar", "e-organisation-party-res",
         "e-election-municipal-2026", "e-election-municipal-2026-council",
         "e-election-municipal-2026-referendum")
FIRST = ("e-result-municipal-2026-council-secteur-1-seq-1",
         "e-result-municipal-2026-referendum-rivemont-seq-1")
CORRECTION = "e-result-municipal-2026-council-secteur-1-seq-2"
SETTINGS = {"publication_elections": "*", "publication_interval_seconds": 0.2}


def reader(node: LocalNode) -> httpx.Client:
    """A client asking for identity bodies (httpx asks for gzip by default, and the
    in-process transport hands back decoded bytes with the gzip header)."""
    return node.client(headers={"Accept-Encoding": "identity"})


def put(node: LocalNode, http: httpx.Client, name: str) -> None:
    """Write ``examples/<name>.jsonld`` into the node."""
    iri, body = node.example(name)
    r = http.put(iri, content=body, headers={"Content-Type": "application/ld+json",
                                             **node.auth()})
    assert r.status_code in (201, 204), (name, r.text)


def wait_for(http: httpx.Client, generation: int, path: str = ELECTION) -> dict[str, Any]:
    """The pointer once it names ``generation`` or later (the publisher runs every 0.2 s)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r = http.get(f"/{path}/results/current")
        if r.status_code == 200 and r.json()["generation"] >= generation:
            pointer: dict[str, Any] = r.json()
            return pointer
        time.sleep(0.1)
    raise AssertionError(f"generation {generation} never appeared")


def wait_for_results(http: httpx.Client, count: int,
                     path: str = ELECTION) -> dict[str, Any]:
    """The pointer once its generation's snapshot holds ``count`` results."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pointer = wait_for(http, 1, path)
        snapshot = http.get(f"/{path}/results/g/{pointer['generation']}/results.json").json()
        if len(snapshot["results"]) >= count:
            return pointer
        time.sleep(0.1)
    raise AssertionError(f"no generation with {count} results")


def fetch_generation(http: httpx.Client, pointer: dict[str, Any],
                     path: str = ELECTION) -> tuple[dict[str, Any], dict[str, bytes]]:
    """(verified manifest, path -> bytes) of the pointer's generation, every hash checked."""
    jwks = keys_of(http.get("/.well-known/jwks.json").json(), production=False)
    r = http.get(f"/{path}/results/{pointer['manifest']}")
    assert hashlib.sha256(r.content).hexdigest() == pointer["manifestSha256"]
    manifest = json.loads(verify(r.text, jwks))
    files = {}
    for entry in manifest["files"]:
        body = http.get(f"/{path}/results/g/{pointer['generation']}/{entry['path']}",
                        headers={"Accept-Encoding": "identity"}).content
        assert hashlib.sha256(body).hexdigest() == entry["sha256"], entry["path"]
        assert len(body) == entry["size"]
        files[entry["path"]] = body
    return manifest, files


def raw_get(node: LocalNode, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str],
                                                                       bytes]:
    """GET through the ASGI app with the body as sent (httpx would decode a gzip body)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "server": ("127.0.0.1", 8000),
             "client": ("127.0.0.1", 50000),
             "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    async def call() -> None:
        await node.app(scope, receive, send)

    asyncio.run_coroutine_threadsafe(call(), node.loop).result(30)
    start = sent[0]
    out = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return start["status"], out, b"".join(m.get("body", b"") for m in sent[1:])


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    with local_node(tmp_path_factory.mktemp("publication"), settings=SETTINGS) as node:
        with reader(node) as http:
            for name in SETUP + FIRST:
                put(node, http, name)
            wait_for_results(http, 2)
        yield node


def _first_with_both_contests(http: httpx.Client) -> dict[str, Any]:
    """The first generation that holds the two first results (writes may straddle one)."""
    pointer = wait_for(http, 1)
    for n in range(1, pointer["generation"] + 1):
        snapshot = http.get(f"/{ELECTION}/results/g/{n}/results.json").json()
        if len(snapshot["results"]) == 2:
            return {"generation": n, "snapshot": snapshot}
    raise AssertionError("no generation holds both first results")


def test_a_generation_is_signed_and_every_file_matches_its_hash(published: LocalNode) -> None:
    with reader(published) as http:
        pointer = wait_for(http, 1)
        manifest, files = fetch_generation(http, pointer)
    assert manifest["generation"] == pointer["generation"]
    assert manifest["election"] == published.url(ELECTION)
    assert manifest["rehearsal"] is False
    assert {"results.json", "results.json.gz", "diff.json", "diff.json.gz"} <= set(files)
    kinds = {p.rsplit("/", 1)[-1].split(".", 1)[1] for p in files if "/" in p}
    assert kinds == {"jsonld", "jsonld.gz", "csv", "csv.gz", "nist.json", "nist.json.gz"}
    for path, body in files.items():
        if path.endswith(".gz"):
            assert gzip.decompress(body) == files[path[:-3]]
    assert manifest["stationsTotal"] >= manifest["stationsReported"] >= 1
    assert manifest["status"] in docs.STATUS_ORDER
    snapshot = json.loads(files["results.json"])
    assert manifest["cutoff"] == max(r["asOf"] for r in snapshot["results"])


def test_nist_files_validate_against_nists_schema(published: LocalNode) -> None:
    with reader(published) as http:
        _, files = fetch_generation(http, wait_for(http, 1))
    nist = [p for p in files if p.endswith(".nist.json")]
    assert nist
    for path in nist:
        assert schema_errors(json.loads(files[path])) == [], path


def test_jsonld_files_use_the_shared_context_and_parse(published: LocalNode) -> None:
    from ddsnode.rdf.jsonld import parse_rdf
    with reader(published) as http:
        _, files = fetch_generation(http, wait_for(http, 1))
    for path in (p for p in files if p.endswith(".jsonld")):
        doc = json.loads(files[path])
        assert doc["@context"] == docs.CONTEXT
        graph = parse_rdf(files[path].decode(), "json-ld", base=published.url(ELECTION))
        assert len(graph) > 0, path


def test_files_are_immutable_with_strong_etags_304_and_gzip(published: LocalNode) -> None:
    with reader(published) as http:
        pointer = wait_for(http, 1)
        jwks = keys_of(http.get("/.well-known/jwks.json").json(), production=False)
        jws = http.get(f"/{ELECTION}/results/{pointer['manifest']}").text
        entry = next(f for f in json.loads(verify(jws, jwks))["files"]
                     if f["path"].endswith(".jsonld"))
        gz = next(f for f in json.loads(verify(jws, jwks))["files"]
                  if f["path"] == entry["path"] + ".gz")
        url = f"/{ELECTION}/results/g/{pointer['generation']}/{entry['path']}"
        plain = http.get(url, headers={"Accept-Encoding": "identity"})
        assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert plain.headers["etag"] == f'"{entry["sha256"]}"'
        assert plain.headers["content-type"] == "application/ld+json"
        assert "accept-encoding" in plain.headers["vary"].lower()
        again = http.get(url, headers={"Accept-Encoding": "identity",
                                       "If-None-Match": plain.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        status, headers, body = raw_get(published, url, {"accept-encoding": "gzip, br"})
        assert status == 200 and headers["content-encoding"] == "gzip"
        assert headers["etag"] == f'"{gz["sha256"]}"'
        assert hashlib.sha256(body).hexdigest() == gz["sha256"]
        assert gzip.decompress(body) == plain.content
        refused = http.get(url, headers={"Accept-Encoding": "gzip;q=0"})
        assert "content-encoding" not in refused.headers
        current = http.get(f"/{ELECTION}/results/current")
        assert current.headers["cache-control"].startswith("public, max-age=2")
        assert "stale-if-error" in current.headers["cache-control"]
        assert http.head(url).headers["content-length"] == str(entry["size"])


def test_the_election_links_to_its_pointer(published: LocalNode) -> None:
    with reader(published) as http:
        r = http.get(f"/{ELECTION}", headers={"Accept": "application/ld+json"})
    assert r.status_code == 200
    assert (f'<{published.url(ELECTION)}/results/current>; '
            'rel="https://w3id.org/dds/ns#resultsPointer"') in r.headers["link"]


def test_a_correction_makes_a_chained_generation_and_diffs_replay(
        published: LocalNode) -> None:
    with reader(published) as http:
        before = wait_for(http, 1)
        put(published, http, CORRECTION)
        after = wait_for(http, before["generation"] + 1)
        jwks = keys_of(http.get("/.well-known/jwks.json").json(), production=False)
        manifests = {}
        for n in range(1, after["generation"] + 1):
            jws = http.get(f"/{ELECTION}/results/g/{n}/manifest.jws").text
            manifests[n] = verify(jws, jwks)
        for n in range(2, after["generation"] + 1):
            assert json.loads(manifests[n])["previous"] == \
                hashlib.sha256(manifests[n - 1]).hexdigest()
        assert json.loads(manifests[1])["previous"] is None
        # A client that applies every diff from generation 1 has the last snapshot's bytes.
        records: dict[docs.Key, docs.Json] = {}
        for n in range(1, after["generation"] + 1):
            docs.apply_diff(records, http.get(f"/{ELECTION}/results/g/{n}/diff.json").json())
        last = http.get(f"/{ELECTION}/results/g/{after['generation']}/results.json").content
        assert docs.snapshot_bytes(published.url(ELECTION), records) == last
        # The referendum did not change: its files are the same bytes, on disk one object.
        n = after["generation"]
        older = {f["path"]: f["sha256"] for f in json.loads(manifests[n - 1])["files"]}
        newer = {f["path"]: f["sha256"] for f in json.loads(manifests[n])["files"]}
        kept = [p for p in newer if "referendum" in p]
        assert kept and all(older[p] == newer[p] for p in kept)
        results = published.dir / "publication" / ELECTION / "results"
        assert [p.name for p in (results / "g" / str(n)).iterdir()] == ["manifest.jws"]
        for p in kept:
            assert (results / "objects" / newer[p][:2] / newer[p]).is_file()
        assert any(older.get(p) != h for p, h in newer.items() if "council" in p)
        corrected = [r for r in json.loads(last)["results"] if r["status"] == "correction"]
        assert len(corrected) == 1 and corrected[0]["unit"].endswith("rivemont-secteur-1")
        changes = http.get(f"/{ELECTION}/results/changes",
                           params={"since": str(after["generation"] - 1)}).json()
        assert changes["generation"] == after["generation"]
        assert changes["units"] == [published.url("places/rivemont-secteur-1")]
        assert changes["contests"] == [published.url("elections/municipal-2026-council")]
        everything = http.get(f"/{ELECTION}/results/changes", params={"since": "0"}).json()
        assert len(everything["diffs"]) == after["generation"]
        assert len(everything["units"]) == 2
        none = http.get(f"/{ELECTION}/results/changes",
                        params={"since": str(after["generation"])}).json()
        assert none["units"] == [] and none["diffs"] == []


@pytest.mark.parametrize("since", ["abc", "-1", "1.5", "99999", "1" * 20, "", " 1", "０"])
def test_changes_refuses_a_bad_since(published: LocalNode, since: str) -> None:
    with reader(published) as http:
        r = http.get(f"/{ELECTION}/results/changes", params={"since": since})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def test_changes_refuses_repeated_or_unknown_parameters(published: LocalNode) -> None:
    with reader(published) as http:
        twice = http.get(f"/{ELECTION}/results/changes?since=0&since=1")
        other = http.get(f"/{ELECTION}/results/changes?since=0&x=1")
        broken = http.get(f"/{ELECTION}/results/changes?since=%zz")
    assert (twice.status_code, other.status_code, broken.status_code) == (400, 400, 400)


def test_results_paths_are_read_only_and_unknown_files_are_404(published: LocalNode) -> None:
    with reader(published) as http:
        pointer = wait_for(http, 1)
        n = pointer["generation"]
        put_r = http.put(f"/{ELECTION}/results/current", content=b"{}", headers=published.auth())
        assert put_r.status_code == 405 and "GET" in put_r.headers["allow"]
        for path in (f"g/{n}/nothing.json", f"g/{n + 1}/results.json", "g/0/results.json",
                     f"g/0{n}/results.json", f"g/{n}/../current", f"g/{n}/%2e%2e/current",
                     "g/x/results.json", f"g/{n}", "g/" + "9" * 40 + "/results.json", ""):
            r = http.get(f"/{ELECTION}/results/{path}")
            assert r.status_code == 404, (path, r.status_code)
            assert r.headers["content-type"].startswith("application/problem+json")
        assert http.get("/elections/unknown/results/current").status_code == 404


def test_an_unchanged_store_makes_no_new_generation(published: LocalNode) -> None:
    with reader(published) as http:
        pointer = wait_for(http, 1)
        put(published, http, "e-place-rivemont")  # a write that changes no result
        time.sleep(1.0)  # five publisher rounds: none may publish
        assert wait_for(http, 1)["generation"] == pointer["generation"]


def test_jwks_lists_the_signing_key(published: LocalNode) -> None:
    with reader(published) as http:
        r = http.get("/.well-known/jwks.json")
        pointer = wait_for(http, 1)
        jws = http.get(f"/{ELECTION}/results/{pointer['manifest']}").text
    assert r.headers["content-type"] == "application/jwk-set+json"
    keys = r.json()["keys"]
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and k["kid"] for k in keys)
    manifest = json.loads(verify(jws, keys_of(r.json(), production=False)))
    signer = next(k for k in keys if k["kid"] == manifest["kid"])
    assert "rehearsal" not in signer


def test_restart_continues_numbering_without_republishing(tmp_path: Path) -> None:
    with local_node(tmp_path, settings=SETTINGS) as node:
        with reader(node) as http:
            for name in SETUP + FIRST:
                put(node, http, name)
            time.sleep(0.5)
            first = wait_for(http, 1)
    from ddsnode.http.app import create_app
    from ddsnode.settings import Settings
    again = create_app(Settings.load(tmp_path / "node"))
    publication = again.assembly.publication  # type: ignore[attr-defined]
    assert publication.publisher.publish_once(force=True) == []
    publication.publisher._thread.shutdown()
    again.assembly.close()  # type: ignore[attr-defined]
    pointer = json.loads((tmp_path / "node" / "publication" / ELECTION / "results" /
                          "current").read_bytes())
    assert pointer["generation"] == first["generation"]

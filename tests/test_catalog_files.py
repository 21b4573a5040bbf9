"""The open-data files under load and attack: ranges, tags, paging, rebuilds, hostile input.

A reader must never get a half-written file (the body always hashes to its strong ETag,
whatever rebuilds run meanwhile), the server rebuilds the files by itself after writes
(debounced), the catalogue pages as ckanext-dcat follows them (``hydra:nextPage``), and
every malformed, oversized or out-of-range request gets a problem document.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import rdflib

from ddsnode.catalog import build as builds
from ddsnode.catalog.check import check
from tests.support.inprocess import LocalNode, local_node
from tests.test_catalog import DCAT, HYDRA, SHARED_DCAT_AP, TURTLE, fill, portal_of


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    with local_node(tmp_path_factory.mktemp("catalog-files"),
                    settings={"catalog_rebuild_seconds": 0, "catalog_page_size": 3}) as running:
        fill(running)
        portal_of(running).rebuild()
        yield running


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest() + '"'


def test_range_requests(node: LocalNode) -> None:
    """One byte range: 206 with Content-Range; suffix ranges; 416 past the end."""
    with node.client() as http:
        whole = http.get("/catalog/files", params={"name": "node.jsonld"})
        size = len(whole.content)
        assert whole.headers["accept-ranges"] == "bytes"
        part = http.get("/catalog/files", params={"name": "node.jsonld"},
                        headers={"Range": "bytes=10-19"})
        assert part.status_code == 206 and part.content == whole.content[10:20]
        assert part.headers["content-range"] == f"bytes 10-19/{size}"
        tail = http.get("/catalog/files", params={"name": "node.jsonld"},
                        headers={"Range": "bytes=-5"})
        assert tail.status_code == 206 and tail.content == whole.content[-5:]
        open_end = http.get("/catalog/files", params={"name": "node.jsonld"},
                            headers={"Range": f"bytes={size - 3}-"})
        assert open_end.content == whole.content[-3:]
        past = http.get("/catalog/files", params={"name": "node.jsonld"},
                        headers={"Range": f"bytes={size}-"})
        assert past.status_code == 416
        assert past.headers["content-range"] == f"bytes */{size}"
        assert past.headers["content-type"] == "application/problem+json"
        # Several ranges, another unit, or a stale If-Range: the whole file (RFC 9110 14.2).
        for headers in ({"Range": "bytes=0-1,5-6"}, {"Range": "lines=1-2"},
                        {"Range": "bytes=0-1", "If-Range": '"stale"'},
                        {"Range": "bytes=9-3"}):
            full = http.get("/catalog/files", params={"name": "node.jsonld"}, headers=headers)
            assert full.status_code == 200 and full.content == whole.content, headers


def test_conditional_requests(node: LocalNode) -> None:
    """A strong ETag (the SHA-256): 304 on If-None-Match, for the files and the catalogue."""
    with node.client() as http:
        first = http.get("/catalog/files", params={"name": "node.csv"})
        assert first.headers["etag"] == _etag(first.content)
        again = http.get("/catalog/files", params={"name": "node.csv"},
                         headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        head = http.head("/catalog/files", params={"name": "node.csv"})
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) == len(first.content)
        page = http.get("/catalog", headers=TURTLE)
        cached = http.get("/catalog", headers={**TURTLE, "If-None-Match": page.headers["etag"]})
        assert cached.status_code == 304


def test_paging_as_ckan_follows_it(node: LocalNode) -> None:
    """hydra:PagedCollection with nextPage: following it lists every dataset once, and
    each page is a valid DCAT-AP catalogue on its own."""
    portal = portal_of(node)
    build = portal.current()
    assert build is not None
    pages = portal.pages(build)
    assert pages > 2  # 3 entries a page
    url: str | None = node.url("catalog")
    datasets: list[str] = []
    harvested: list[str] = []
    visited = 0
    with node.client() as http:
        while url:
            graph = rdflib.Graph().parse(data=http.get(url, headers=TURTLE).text,
                                         format="turtle")
            visited += 1
            catalog = rdflib.URIRef(node.url("catalog"))
            datasets += [str(d) for d in graph.objects(catalog, DCAT.dataset)]
            assert check(graph, SHARED_DCAT_AP) == []
            paged = next(graph.subjects(rdflib.RDF.type, HYDRA.PagedCollection))
            assert int(graph.value(paged, HYDRA.totalItems)) == len(build.slices) + \
                len(build.elections)
            # ckanext-dcat's RDFParser.next_page(): hydra:next, else hydra:nextPage, of the
            # hydra:PagedCollection; its datasets are every subject typed dcat:Dataset.
            following = graph.value(paged, HYDRA.next) or graph.value(paged, HYDRA.nextPage)
            assert following == graph.value(paged, HYDRA.nextPage)
            harvested += [str(d) for d in graph.subjects(rdflib.RDF.type, DCAT.Dataset)]
            url = str(following) if following is not None else None
    assert visited == pages
    assert len(datasets) == len(set(datasets))
    # Every participation dataset, and each election's series with its dataset.
    assert len(datasets) == len(build.slices) + 2 * len(build.elections)
    assert sorted(harvested) == sorted(datasets)


@pytest.mark.parametrize(("params", "status"), [
    ({"page": "0"}, 400), ({"page": "abc"}, 400), ({"page": "-1"}, 400),
    ({"page": "9" * 30}, 400), ({"page": "999"}, 404), ({"x": "y" * 2000}, 400)])
def test_bad_catalogue_pages(node: LocalNode, params: dict[str, str], status: int) -> None:
    """A malformed or out-of-range page is refused with a problem document."""
    with node.client() as http:
        r = http.get("/catalog", params=params, headers=TURTLE)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("name", [
    "", "manifest.json", "../current.json", "/etc/passwd", "node.nt.gz/..", "NODE.CSV",
    "node.csv\x00", "..%2fcurrent.json", "x" * 500])
def test_only_files_of_the_build(node: LocalNode, name: str) -> None:
    """Only a name the build lists is served: no manifest, no path outside the build."""
    with node.client() as http:
        r = http.get("/catalog/files", params={"name": name})
    assert r.status_code in (400, 404)
    assert r.headers["content-type"] == "application/problem+json"


def test_methods_and_media_types(node: LocalNode) -> None:
    """Read-only endpoints (405 with Allow); an Accept nothing matches gets 406."""
    with node.client() as http:
        for path in ("/catalog", "/catalog/files"):
            r = http.post(path, content=b"x", headers=node.auth())
            assert r.status_code == 405 and "GET" in r.headers["allow"]
        r = http.get("/catalog", headers={"Accept": "image/png"})
        assert r.status_code == 406


def test_a_reader_never_gets_a_half_written_file(tmp_path_factory: pytest.TempPathFactory
                                                 ) -> None:
    """Rebuilds with new data in between, while a reader downloads: every body is whole
    (its SHA-256 is its ETag, its length its Content-Length) and is one a build listed."""
    with local_node(tmp_path_factory.mktemp("catalog-race"),
                    settings={"catalog_rebuild_seconds": 0}) as running:
        fill(running)
        portal = portal_of(running)
        portal.rebuild()
        listed: set[str] = set()
        stop = threading.Event()
        errors: list[BaseException] = []
        core = running.app.node  # type: ignore[attr-defined]
        _, raw = running.example("a-proposal-school-streets")

        def rebuild() -> None:
            try:
                for n in range(6):
                    iri = running.url(f"proposals/race-{n}")
                    text = raw.decode().replace(running.url("proposals/school-streets"), iri)
                    core.write_document(iri, text.encode(), "application/ld+json")
                    made = portal.rebuild()
                    listed.add(made.files["node.nt.gz"].sha256)
            except BaseException as e:  # noqa: BLE001 — reported by the main thread
                errors.append(e)
            finally:
                stop.set()

        first = portal.current()
        assert first is not None
        listed.add(first.files["node.nt.gz"].sha256)
        worker = threading.Thread(target=rebuild)
        worker.start()
        seen: list[str] = []
        with running.client() as http:
            while not stop.is_set() or not seen:
                r = http.get("/catalog/files", params={"name": "node.nt.gz"})
                assert r.status_code == 200
                assert len(r.content) == int(r.headers["content-length"])
                assert r.headers["etag"] == _etag(r.content)
                seen.append(hashlib.sha256(r.content).hexdigest())
        worker.join()
        assert not errors, errors
        assert set(seen) <= listed
        # The builds before the previous one are gone; the previous one is kept.
        kept = [p for p in builds.root_of(running.dir).iterdir() if p.is_dir()]
        assert len(kept) == 2


def test_the_server_rebuilds_after_writes(tmp_path_factory: pytest.TempPathFactory) -> None:
    """With catalog_rebuild_seconds set, a write shows in the files without a command."""
    with local_node(tmp_path_factory.mktemp("catalog-loop"),
                    settings={"catalog_rebuild_seconds": 0.2}) as running:
        portal = portal_of(running)
        with running.client() as http:
            first = _wait_for(lambda: portal.current())
            iri, body = running.example("a-proposal-school-streets")
            r = http.put(iri, content=body, headers={"Content-Type": "application/ld+json",
                                                     **running.auth()})
            assert r.status_code in (201, 204), r.text

            def rebuilt() -> builds.Build | None:
                build = portal.current()
                return build if build is not None and build.id != first.id else None

            second = _wait_for(rebuilt)
            csv = http.get("/catalog/files", params={"name": "container-proposals.csv"}).text
        assert iri in csv
        assert second.seq > first.seq
        # The rebuilding process holds the node directory's build lock: another worker
        # process of the same node would wait for it instead of building too.
        fd = os.open(builds.root_of(running.dir) / ".lock", os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)


def _wait_for(probe: Callable[[], builds.Build | None]) -> builds.Build:
    """What ``probe()`` returns once it is not None (the loop runs in the app's thread);
    a generous deadline only turns a hang into a failure."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        time.sleep(0.05)
    raise AssertionError("the open-data files were not rebuilt")


def test_a_download_cut_short_leaves_nothing_open(tmp_path_factory: pytest.TempPathFactory
                                                  ) -> None:
    """A client that goes away in the middle of a file (the server's send fails, as
    uvicorn's does on a closed connection) leaves no file open, and the next download is
    whole."""
    import asyncio

    from bench.fill import fill_big_container
    with local_node(tmp_path_factory.mktemp("catalog-cut"),
                    settings={"catalog_rebuild_seconds": 0}) as running:
        fill_big_container(running.dir, running.base, "proposals/", 1000)
        made = portal_of(running).rebuild()
        assert made.files["node.jsonld"].size > 3 * 64 * 1024  # several chunks
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "GET", "scheme": "http", "path": "/catalog/files",
                 "raw_path": b"/catalog/files", "query_string": b"name=node.jsonld",
                 "root_path": "", "server": ("127.0.0.1", 8000),
                 "client": ("127.0.0.1", 50000), "headers": []}
        bodies: list[bytes] = []

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.body":
                bodies.append(message["body"])  # type: ignore[arg-type]
                if len(bodies) == 2:
                    raise OSError("connection reset by peer")

        def open_files() -> int:
            return sum(1 for fd in Path("/proc/self/fd").iterdir()
                       if str(fd.resolve()).startswith(str(made.folder)))

        before = open_files()
        with pytest.raises(OSError):
            asyncio.run_coroutine_threadsafe(
                running.app(scope, receive, send), running.loop).result(30)
        assert len(bodies) == 2 and open_files() == before
        with running.client() as http:
            r = http.get("/catalog/files", params={"name": "node.jsonld"})
        assert r.status_code == 200 and r.headers["etag"] == _etag(r.content)
        assert len(r.content) == made.files["node.jsonld"].size


def test_processes_past_the_limit_are_in_the_node_files_only(node: LocalNode) -> None:
    """catalog_max_processes bounds the open files of a build: past it, a process gets no
    dataset of its own, and its resources are still in the node's and containers' files."""
    core = node.app.node  # type: ignore[attr-defined]
    limited = builds.build(core, node.dir, max_processes=0, issuer="test")
    try:
        assert [s.kind for s in limited.slices].count("process") == 0
        whole = next(s for s in limited.slices if s.kind == "node")
        assert whole.count == sum(s.count for s in limited.slices if s.kind == "container")
    finally:
        portal_of(node).rebuild()
    assert [s.kind for s in portal_of(node).current().slices].count("process") == 1  # type: ignore[union-attr]

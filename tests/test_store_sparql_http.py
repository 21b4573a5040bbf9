"""The SPARQL backend over HTTP the way other servers speak it (issue 16, item 3).

A small proxy in front of a real ``oxigraph serve`` does what Virtuoso does by default and
Oxigraph does not: gzip-compressed answers, Digest authentication, and refusals whose
body quotes the request (the node's internal SPARQL). The store must decompress, take
its credentials from settings (never from the URL), and keep refusals' bodies out of
what the client sees.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from ddsnode.problem import PayloadTooLarge, Unavailable
from ddsnode.settings import Settings
from ddsnode.store import open_store
from ddsnode.store.sparql import SparqlStore
from tests.support.sparql_server import SparqlServer
from tests.test_store import BASE, PROPOSALS, resource

pytestmark = pytest.mark.slow  # a real oxigraph server (tests/support/fastloop.py)

REALM, NONCE, USER, PASSWORD = "dds", "5f3e1a", "node", "s3cret"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - RFC 2617 Digest is MD5


class Proxy:
    """Forwards to ``upstream``; ``gzip``, ``digest`` and ``refuse`` (a status) as asked."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.gzip = False
        self.digest = False
        self.refuse: int | None = None
        self.gzipped = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if proxy.digest and not proxy.authorised(self.headers.get("Authorization"),
                                                         self.path):
                    self.send_response(401)
                    self.send_header("WWW-Authenticate",
                                     f'Digest realm="{REALM}", nonce="{NONCE}"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if proxy.refuse is not None:  # as Virtuoso: the error quotes the request
                    echo = b"SQL error: cannot compile " + body[:4000]
                    self.send_response(proxy.refuse)
                    self.send_header("Content-Length", str(len(echo)))
                    self.end_headers()
                    self.wfile.write(echo)
                    return
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() in ("content-type", "accept")}
                r = httpx.post(proxy.upstream + self.path, content=body, headers=headers,
                               timeout=30)
                content = r.content
                self.send_response(r.status_code)
                self.send_header("Content-Type", r.headers.get("content-type", "text/plain"))
                if proxy.gzip and "gzip" in self.headers.get("Accept-Encoding", ""):
                    content = gzip.compress(content)
                    self.send_header("Content-Encoding", "gzip")
                    proxy.gzipped += 1
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def authorised(self, header: str | None, path: str) -> bool:
        """An RFC 2617 Digest answer for USER/PASSWORD (with or without qop)."""
        if not header or not header.startswith("Digest "):
            return False
        fields = dict(re.findall(r'(\w+)="?([^",]*)"?', header[7:]))
        ha1 = _md5(f"{USER}:{REALM}:{PASSWORD}")
        ha2 = _md5(f"POST:{fields.get('uri', path)}")
        if "qop" in fields:
            expected = _md5(f"{ha1}:{NONCE}:{fields['nc']}:{fields['cnonce']}:"
                            f"{fields['qop']}:{ha2}")
        else:
            expected = _md5(f"{ha1}:{NONCE}:{ha2}")
        return fields.get("username") == USER and fields.get("response") == expected

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    with SparqlServer(tmp_path_factory.mktemp("oxigraph"), timeout_s=10) as server:
        p = Proxy(server.base)
        yield p
        p.close()


@pytest.fixture
def store(proxy: Proxy) -> Iterator[SparqlStore]:
    proxy.gzip = proxy.digest = False
    proxy.refuse = None
    httpx.post(proxy.url + "/update", content=b"DROP ALL",
               headers={"Content-Type": "application/sparql-update"}).raise_for_status()
    s = SparqlStore(proxy.url + "/query", proxy.url + "/update", bucket_size=4)
    s.put(resource(BASE, None, kind="container"))
    s.put(resource(PROPOSALS, BASE, kind="container"))
    yield s
    s.close()


def test_gzip_answers_are_decompressed(proxy: Proxy, store: SparqlStore) -> None:
    store.put(resource(PROPOSALS + "z", title="Compressed"))
    proxy.gzip = True
    before = proxy.gzipped
    r = store.sparql('SELECT ?s { ?s <http://purl.org/dc/terms/title> "Compressed"@en }',
                     accept=["application/sparql-results+json"], timeout=10, limit=10)
    assert json.loads(r.body)["results"]["bindings"][0]["s"]["value"] == PROPOSALS + "z"
    g = store.sparql(f"CONSTRUCT WHERE {{ <{PROPOSALS}z> ?p ?o }}",
                     accept=["application/n-triples"], timeout=10, limit=10)
    assert b"Compressed" in g.body
    got = store.get(PROPOSALS + "z")
    assert got is not None and got.index.title == "Compressed"
    assert proxy.gzipped - before >= 3  # the answers really were compressed


def test_digest_credentials_come_from_settings_never_the_url(proxy: Proxy,
                                                            store: SparqlStore,
                                                            tmp_path: Path) -> None:
    proxy.digest = True
    with pytest.raises(Unavailable):  # no credentials: refused, and said so
        store.get(PROPOSALS)
    settings = Settings({}, node_dir=tmp_path).replace(
        store="sparql", sparql_query_url=proxy.url + "/query",
        sparql_update_url=proxy.url + "/update", sparql_user=USER, sparql_password=PASSWORD,
        sparql_auth="digest")
    authed = open_store(settings)
    try:
        authed.put(resource(PROPOSALS + "d", title="Behind digest"))
        got = authed.get(PROPOSALS + "d")
        assert got is not None and got.version == 1
    finally:
        authed.close()
    with pytest.raises(ValueError, match="credentials"):
        open_store(settings.replace(sparql_query_url=f"http://{USER}:{PASSWORD}@"
                                                     f"{proxy.url[7:]}/query"))


@pytest.mark.parametrize("status, problem", [(500, Unavailable), (413, PayloadTooLarge)])
def test_a_refusal_never_shows_the_internal_request(proxy: Proxy, store: SparqlStore,
                                                    status: int,
                                                    problem: type[Exception]) -> None:
    secret = "a title only the operator may see"
    proxy.refuse = status
    with pytest.raises(problem) as refused:
        store.put(resource(PROPOSALS + "big", title=secret))
    detail = str(refused.value)
    assert secret not in detail and "INSERT" not in detail and "urn:ddsnode" not in detail
    with pytest.raises((Unavailable, PayloadTooLarge)) as failed:
        store.sparql("SELECT * { ?s ?p ?o }", accept=["*/*"], timeout=5, limit=1)
    assert "SQL error" not in str(failed.value)

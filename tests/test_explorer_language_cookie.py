"""One reader of the language cookie (``explorer.i18n.cookie_language``): every kind of
page — the node's home, search, a resource, the directory, where do I vote, the clerk's
form — takes the same language from the same Cookie header, odd ones included (quoted
values, several cookies, several Cookie fields, garbage, a language the interface has
not)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import httpx
import pytest

from ddsnode import paths, resources
from ddsnode.explorer import i18n
from tests.support.inprocess import LocalNode, local_node, rebase

HTML = {"Accept": "text/html"}
LANG = re.compile(r'<html lang="([a-z]{2})"')

# Cookie header -> the language of the cookie (None: no cookie, Accept-Language decides)
HEADERS: dict[str, str | None] = {
    "ddsnode_lang=es": "es",
    'ddsnode_lang="ca"': "ca",
    "  ddsnode_lang = fr  ": "fr",
    "theme=dark; ddsnode_lang=ca; session=abc": "ca",
    "session=a=b=c; ddsnode_lang=es": "es",
    "ddsnode_lang=es; ddsnode_lang=ca": "es",  # the first (RFC 6265 5.4: longest path)
    "ddsnode_lang=xx; ddsnode_lang=ca": "ca",  # a value that is no language is no cookie
    "theme=dark, ddsnode_lang=fr": "fr",  # two Cookie fields, joined with ", "
    "x_ddsnode_lang=es; ddsnode_langs=ca": None,
    "ddsnode_lang=de": None,
    "ddsnode_lang=": None,
    "ddsnode_lang": None,
    'ddsnode_lang="es': None,
    "ddsnode_lang=ES": None,
    ";;;===;;": None,
    "\x7f\u00e9; ddsnode_lang=ca; \"=\"": "ca",
    "": None,
}


@pytest.mark.parametrize("header", sorted(HEADERS))
def test_the_cookie_reader(header: str) -> None:
    assert i18n.cookie_language(header) == HEADERS[header]
    assert i18n.request_language(None, {"cookie": header}) == (HEADERS[header] or "en")
    assert i18n.request_language("fr", {"cookie": header}) == "fr"  # ?lang= comes first


def test_no_cookie_header() -> None:
    assert i18n.cookie_language(None) is None
    assert i18n.request_language(None, {"accept-language": "ca"}) == "ca"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    with local_node(tmp_path_factory.mktemp("language-cookie"),
                    settings={"explorer_peer_sync_seconds": 0}) as running:
        core = running.app.node  # type: ignore[attr-defined]
        path = resources.examples_dir() / "a-proposal-school-streets.jsonld"
        text = rebase(path.read_text(encoding="utf-8"), running.base)
        core.write_document(json.loads(text)["id"], text.encode(), "application/ld+json")
        running.proposal = json.loads(text)["id"]  # type: ignore[attr-defined]
        yield running


def _pages(node: LocalNode) -> dict[str, str]:
    return {"home": node.url(""), "search": node.url("explore"),
            "resource": node.proposal,  # type: ignore[attr-defined]
            "directory": node.url("explore/directory"), "voter": node.url(paths.VOTE_PATH),
            "clerk": node.url("explore/intake")}


def _language(http: httpx.Client, url: str, headers: dict[str, str]) -> str:
    raw = [(k.encode(), v.encode("latin-1")) for k, v in {**HTML, **headers}.items()]
    for _ in range(100):  # the clerk's page answers 503 while the intake starts
        r = http.get(url, headers=raw)
        if r.status_code != 503:
            break
        time.sleep(0.05)
    assert r.status_code == 200, (url, r.status_code, r.text[:300])
    found = LANG.search(r.text)
    assert found is not None, url
    return found.group(1)


def test_every_page_kind_reads_the_cookie_alike(node: LocalNode) -> None:
    pages = _pages(node)
    with node.client() as http:
        for header, lang in HEADERS.items():
            headers = {"Accept-Language": "fr;q=0.1, en;q=0.5"}  # English, unless the cookie
            if header:
                headers["Cookie"] = header
            seen = {kind: _language(http, url, headers) for kind, url in pages.items()}
            assert set(seen.values()) == {lang or "en"}, (header, seen)


def test_a_language_given_in_the_query_wins_over_the_cookie_everywhere(
        node: LocalNode) -> None:
    with node.client() as http:
        for kind, url in _pages(node).items():
            assert _language(http, url + "?lang=es", {"Cookie": "ddsnode_lang=ca"}) == "es", kind

"""The explorer's pages through the node's ASGI app (in process): home, search with
facets (HTML and JSON-LD giving the same results), resource pages, languages, caching,
hostile data and hostile query strings.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import urlencode

import httpx
import pytest

from ddsnode import resources
from ddsnode.commands.demo import rebase
from ddsnode.federation.hub import Federation
from ddsnode.outbound.address import normalise_origin
from tests.support.inprocess import LocalNode, local_node

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSONLD = {"Accept": "application/ld+json"}
DDS = "https://w3id.org/dds/ns#"
HOSTILE = '<script>alert("x")</script></title><img src=x onerror=alert(1)>'
PEER = "https://peer.example/"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    with local_node(tmp_path_factory.mktemp("explorer-pages"),
                    settings={"name": "Rivemont participe", "operator": "Ville <de> Rivemont",
                              "operator_url": "javascript:alert(1)",
                              "open_containers": "open/", "explorer_peer_sync_seconds": 0,
                              "explorer_page_size": 5}) as running:
        core = running.app.node  # type: ignore[attr-defined]
        for path in sorted(resources.examples_dir().glob("*.jsonld")):
            text = rebase(path.read_text(encoding="utf-8"), running.base)
            core.write_document(json.loads(text)["id"], text.encode(), "application/ld+json")
        with running.client() as http:
            hostile = running.url("open/hostile")
            turtle = (f'<{hostile}> a <{DDS}Proposal> ; '
                      f'<http://purl.org/dc/terms/title> "{HOSTILE.replace(chr(34), "&quot;")}"@en ;'
                      f' <{DDS}originalUrl> <javascript:alert(2)> ;'
                      f' <{DDS}sourcePlatform> <javascript:alert(3)> ;'
                      f' <http://purl.org/dc/terms/relation> <javascript:alert(4)> .')
            r = http.put("/open/hostile", content=turtle.encode(),
                         headers={"Content-Type": "text/turtle"})
            assert r.status_code == 201, r.text
        # A peer's proposal, as the peer cache keeps it (parsed, checked, validated).
        cache = Federation.for_node(core).cache
        _, raw = running.example("a-proposal-school-streets")
        doc = json.loads(raw.decode().replace(running.base, PEER))
        doc["id"], doc["title"] = PEER + "proposals/cami", {"ca": "Camins escolars segurs"}
        doc["place"]["id"] = doc["id"] + "#place"
        cache._store(doc["id"], normalise_origin(PEER), doc["id"], json.dumps(doc).encode(),
                     "application/ld+json", None, None, 60.0, time.time())
        yield running


class Links(HTMLParser):
    """Every href, the data-iri of each result, and the text."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.results: list[str] = []
        self.rels: dict[str, str] = {}
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("href"):
            self.hrefs.append(str(a["href"]))
            if a.get("rel"):
                self.rels[str(a["rel"])] = str(a["href"])
        if tag == "li" and a.get("data-iri"):
            self.results.append(str(a["data-iri"]))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(response: httpx.Response) -> Links:
    links = Links()
    links.feed(response.text)
    return links


def test_home_for_browsers_description_for_machines(node: LocalNode) -> None:
    with node.client() as http:
        page = http.get("/", headers=HTML)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        links = parsed(page)
        text = " ".join(links.text)
        assert "Rivemont participe" in text and "Ville <de> Rivemont" in text
        assert "Ville &lt;de&gt; Rivemont" in page.text  # escaped
        assert 'action="/explore"' in page.text
        assert "/explore/directory" in links.hrefs
        assert any(h.startswith("/explore?kind=") for h in links.hrefs)  # counts per kind
        assert "Proposal" in text and "Latest contributions" in text
        assert not any(h.startswith("javascript:") for h in links.hrefs)  # operator_url
        assert "Nodes this node follows" in text
        turtle = http.get("/", headers={"Accept": "text/turtle"})
        assert turtle.headers["content-type"].startswith("text/turtle")
        assert "dcat" in turtle.text.lower()
        assert http.get("/", headers={"Accept": "*/*"}).headers["content-type"].startswith(
            "text/turtle")


@pytest.mark.parametrize("params", [
    {}, {"q": "bike"}, {"q": "velo"}, {"kind": DDS + "Proposal"},
    {"kind": DDS + "Comment", "language": "fr"}, {"topic": "https://w3id.org/dds/topic/mobility"},
    {"q": "nothing-matches-this"}, {"from": "2026-03-01", "to": "2026-03-31"},
])
def test_json_ld_gives_the_same_results_as_the_page(node: LocalNode,
                                                     params: dict[str, str]) -> None:
    with node.client() as http:
        page = http.get("/explore", params=params, headers=HTML)
        data = http.get("/explore", params=params, headers=JSONLD)
        assert page.status_code == data.status_code == 200
        assert data.headers["content-type"].startswith("application/ld+json")
        doc = data.json()
        assert doc["@type"] == "hydra:Collection"
        assert parsed(page).results == [m["id"] for m in doc["hydra:member"]]
        total = doc["hydra:totalItems"]
        assert f">{total} results<" in page.text.replace("\n", "")
        if params.get("kind"):
            assert all(m["type"] in ("Proposal", "Comment", "Amendment")
                       for m in doc["hydra:member"])


def test_facets_are_checkboxes_with_counts_in_a_get_form(node: LocalNode) -> None:
    with node.client() as http:
        page = http.get("/explore", params={"kind": DDS + "Proposal"}, headers=HTML)
        assert re.search(r'<form method="get" action="/explore"', page.text)
        checked = re.findall(r'name="kind" type="checkbox" value="([^"]+)" checked', page.text)
        assert checked == [DDS + "Proposal"]
        data = http.get("/explore", params={"kind": DDS + "Proposal"}, headers=JSONLD).json()
        counts = data["facetCounts"]["kind"]
        label = re.search(r'Proposal <span class="dds-count">\((\d+)\)</span>', page.text)
        assert label and int(label.group(1)) == counts[DDS + "Proposal"] == \
            data["hydra:totalItems"]


def test_next_and_previous_links_walk_every_result(node: LocalNode) -> None:
    with node.client() as http:
        total = http.get("/explore", headers=JSONLD).json()["hydra:totalItems"]
        assert total > 10  # pages of 5 (explorer_page_size)
        seen, pages, url = [], [], "/explore"
        while url:
            page = http.get(url, headers=HTML)
            links = parsed(page)
            pages.append((url, links.results))
            seen += links.results
            url = links.rels.get("next", "")
        assert len(seen) == len(set(seen)) == total
        # Back from the last page to the first with rel=prev, through the same pages.
        url, back = pages[-1][0], []
        while url:
            links = parsed(http.get(url, headers=HTML))
            back.append(links.results)
            url = links.rels.get("prev", "")
        assert back == [results for _, results in reversed(pages)]


def test_hostile_titles_and_javascript_iris_are_inert(node: LocalNode) -> None:
    with node.client() as http:
        for url in ("/open/hostile", "/explore?q=alert", "/explore?kind=" + DDS + "Proposal",
                    "/"):
            page = http.get(url, headers=HTML)
            assert page.status_code == 200, url
            assert "<script" not in page.text.lower(), url
            assert "<img" not in page.text.lower(), url
            assert not re.search(r'href="\s*javascript:', page.text, re.IGNORECASE), url
            assert 'onerror=' not in page.text.replace("onerror=alert(1)&gt;", ""), url
        page = http.get("/open/hostile", headers=HTML)
        assert "&lt;script&gt;" in page.text
        assert "javascript:alert(2)" not in parsed(page).hrefs
        assert "content-security-policy" in page.headers
        assert "script-src 'self'" in page.headers["content-security-policy"]


@pytest.mark.parametrize("query", [
    "q=" + "x" * 201, "q=" + "+".join(["w"] * 13), "from=2026-02-30", "to=soon",
    "from=2026-05-01&to=2026-04-01", "bbox=1,2,3", "bbox=a,b,c,d", "cursor=%00",
    "cursor=bm90LWEtY3Vyc29y", "size=0", "size=1000", "size=-1",
    "&".join(f"kind={i}" for i in range(11)), "kind=" + "k" * 3000, "q=%ZZ", "q=%FF%FE",
    "q=caf%C3", "q=a%01b", "x=" + "y" * 9000,
])
def test_hostile_query_strings_are_400_problems(node: LocalNode, query: str) -> None:
    with node.client() as http:
        for headers in (HTML, JSONLD):
            r = http.get("/explore?" + query, headers=headers)
            assert r.status_code == 400, (query, r.status_code, r.text[:300])
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["status"] == 400


@pytest.mark.parametrize(("iri", "status"), [
    ("javascript:alert(1)", 400), ("", 400), ("https://unknown.example/x", 404),
    ("https://peer.example/" + "x" * 3000, 400),
])
def test_peer_page_needs_a_held_http_iri(node: LocalNode, iri: str, status: int) -> None:
    with node.client() as http:
        r = http.get("/explore/resource", params={"iri": iri}, headers=HTML)
        assert r.status_code == status and r.headers["content-type"].startswith(
            "application/problem+json")


def test_languages_from_accept_language_param_and_cookie(node: LocalNode) -> None:
    with node.client() as http:
        for accept, lang, word in (("es-ES,es;q=0.9", "es", "Buscar"),
                                   ("ca", "ca", "Cerca"), ("de, fr;q=0.5", "fr", "Rechercher"),
                                   ("de", "en", "Search")):
            page = http.get("/explore", headers={**HTML, "Accept-Language": accept})
            assert f'<html lang="{lang}"' in page.text and word in page.text, accept
            assert "accept-language" in page.headers["vary"].lower()
        chosen = http.get("/explore?lang=ca", headers={**HTML, "Accept-Language": "fr"})
        assert '<html lang="ca"' in chosen.text
        assert "ddsnode_lang=ca" in chosen.headers["set-cookie"]
        links = parsed(chosen).hrefs
        assert "/explore?lang=ca" in links  # links keep the language
        switch = [h for h in links if h.endswith(("lang=fr", "lang=en", "lang=es", "lang=ca"))]
        assert {h[-2:] for h in switch} >= {"fr", "en", "es", "ca"}
    with node.client(cookies={"ddsnode_lang": "es"}) as http:
        page = http.get("/", headers={**HTML, "Accept-Language": "fr"})
        assert '<html lang="es"' in page.text and "Últimas contribuciones" in page.text


def test_dates_and_numbers_in_the_readers_locale(node: LocalNode) -> None:
    iri = node.url("proposals/protected-bike-lanes")
    with node.client() as http:
        expected = {"fr": ("4 mars 2026", "Créée le"), "en": ("March 4, 2026", "Created"),
                    "es": ("4 de marzo de 2026", "Creada el"),
                    "ca": ("4 de març del 2026", "Creada el")}
        for lang, (day, label) in expected.items():
            page = http.get(iri + "?lang=" + lang, headers=HTML)
            assert day in page.text and label in page.text, lang
        result = node.url("results/municipal-2026-referendum-rivemont-seq-1")
        fr = http.get(result + "?lang=fr", headers=HTML).text
        en = http.get(result + "?lang=en", headers=HTML).text
        assert "24\u202f315" in fr or "24 315" in fr or "24\xa0315" in fr
        assert "24,315" in en and "57.5%" in en and "42.5%" in en


def test_proposal_page_reads_like_a_page(node: LocalNode) -> None:
    with node.client() as http:
        page = http.get(node.url("proposals/protected-bike-lanes"), headers={
            **HTML, "Accept-Language": "en"})
        assert page.status_code == 200
        links = parsed(page)
        text = " ".join(links.text)
        assert "<h1" in page.text and "Protected bike lanes on the Quai des Tanneurs" in text
        assert 'class="govuk-breadcrumbs"' in page.text
        assert "Machine translation" in text  # the English text is machine-translated
        assert "Des pistes cyclables protégées" in text  # the original one click away
        # linked resources by title, participants by pseudonym, concepts by label
        assert "velo-bleu-42" in text and "mobility and transport" in text
        assert "Public debate" in text or "public debate" in text.lower()
        assert "https://decidim.rivemont.example/processes/mobilite-2026/f/41/proposals/1187" \
            in links.hrefs  # back to the original
        # comments as a thread, with stances; counts
        assert 'class="govuk-list dds-thread"' in page.text
        assert "in favour" in text.lower()
        assert re.search(r"Support count</dt><dd[^>]*>\d+</dd>", page.text)
        # the timeline: proposal -> meeting -> decision -> project -> result, linked
        timeline = page.text.split('dds-timeline">', 1)[1].split("</ol>", 1)[0]
        order = [k for k in ("Proposal", "Meeting", "Decision", "project", "Result")
                 if k.lower() in timeline.lower()]
        assert order[:4] == ["Proposal", "Meeting", "Decision", "project"], timeline
        assert "/decisions/council-2026-07-09-mobility-budget" in timeline


def test_result_page_shows_votes_shares_turnout(node: LocalNode) -> None:
    with node.client() as http:
        page = http.get(node.url("results/municipal-2026-referendum-rivemont-seq-1"),
                        headers={**HTML, "Accept-Language": "en"})
        text = " ".join(parsed(page).text)
        assert "57.5%" in text and "42.5%" in text  # 24,315 and 17,943 of 42,258 valid
        assert "52.3%" in text  # turnout 43,870 / 83,910
        assert "1,210" in text and "402" in text  # blank, invalid
        assert len(re.findall(r"<meter class=\"dds-bar\"", page.text)) == 2
        assert "unofficial complete" in text.lower()


def test_peer_resource_page_links_to_its_origin(node: LocalNode) -> None:
    iri = PEER + "proposals/cami"
    with node.client() as http:
        data = http.get("/explore", params={"q": "camins"}, headers=JSONLD).json()
        assert [m["id"] for m in data["hydra:member"]] == [iri]
        search = http.get("/explore", params={"q": "camins"}, headers=HTML)
        assert "/explore/resource?" + urlencode({"iri": iri}) in parsed(search).hrefs
        page = http.get("/explore/resource", params={"iri": iri, "lang": "ca"}, headers=HTML)
        assert page.status_code == 200 and "Camins escolars segurs" in page.text
        assert iri in parsed(page).hrefs and "peer.example" in page.text


def test_pages_are_revalidated_with_etags(node: LocalNode) -> None:
    with node.client() as http:
        for url in ("/", "/explore?q=bike", node.url("proposals/protected-bike-lanes")):
            first = http.get(url, headers=HTML)
            tag = first.headers["etag"]
            again = http.get(url, headers={**HTML, "If-None-Match": tag})
            assert again.status_code == 304 and again.content == b"", url
            other = http.get(url, headers={**HTML, "If-None-Match": tag,
                                           "Accept-Language": "fr"})
            assert other.status_code == 200 and other.headers["etag"] != tag, url


def test_a_new_write_shows_up_at_once(node: LocalNode) -> None:
    _, raw = node.example("a-proposal-school-streets")
    doc = json.loads(raw)
    doc["id"] = node.url("proposals/fresh-one")
    doc["title"] = {"fr": "Un abri vélo devant la médiathèque"}
    doc["place"]["id"] = doc["id"] + "#place"
    with node.client() as http:
        before = http.get("/", headers=HTML)
        r = http.put(doc["id"], content=json.dumps(doc).encode(),
                     headers={"Content-Type": "application/ld+json", **node.auth()})
        assert r.status_code == 201, r.text
        found = http.get("/explore", params={"q": "mediatheque"}, headers=JSONLD).json()
        assert [m["id"] for m in found["hydra:member"]] == [doc["id"]]
        after = http.get("/", headers={**HTML, "If-None-Match": before.headers["etag"]})
        assert after.status_code == 200  # the home page changed: the old tag is stale

"""The topics of a search (issue 13: "the explorer shows … the topics of a filter"), in
process.

A node holds the participation examples and the analysis examples (a run and a topic,
"cycling", whose members are two proposals and a comment). A search shows, beside its
results, the analysis topics its results belong to, with how many of the whole result set
(not the page) each holds, a link to the topic's page, a link narrowing the search to it
(``cluster=``), and how the run made it. Absent analysis, no panel; a new run's topic
moves the page and its tag; a topic indexed before its members still counts them.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from ddsnode import resources
from ddsnode.ldp.tokens import TokenRegistry
from tests.support.inprocess import LocalNode, local_node

TOPIC = "analysis/topic-cycling"
MEMBERS = {"proposals/protected-bike-lanes", "proposals/quai-bike-lane", "comments/c-101"}
HTML = {"Accept": "text/html", "Accept-Language": "en"}


def _load(node: LocalNode, pattern: str) -> None:
    core = node.app.node  # type: ignore[attr-defined]
    for path in sorted(resources.examples_dir().glob(pattern)):
        text = node.rebase(path.read_text(encoding="utf-8"))
        core.write_document(json.loads(text)["id"], text.encode(), "application/ld+json")


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    with local_node(tmp_path_factory.mktemp("explorer-topics"),
                    settings={"explorer_peer_sync_seconds": 0}) as running:
        _load(running, "a-*.jsonld")
        _load(running, "x-analysis-*.jsonld")
        yield running


def _get(node: LocalNode, params: dict[str, str], lang: str = "en") -> str:
    with node.client() as http:
        r = http.get("/explore", params={**params, "lang": lang}, headers=HTML)
    assert r.status_code == 200, r.text
    return r.text


def _panel(html: str) -> str | None:
    found = re.search(r'<section class="dds-topics".*?</section>', html, re.S)
    return found.group(0) if found else None


def _topics(panel: str) -> list[tuple[str, str, str, list[str]]]:
    """(topic IRI, label, count text, hrefs) of each topic listed."""
    out = []
    for iri, body in re.findall(r'<li class="dds-topic" data-topic="([^"]+)">(.*?)</li>',
                                panel, re.S):
        label = re.search(r"<strong>([^<]*)</strong>", body) or \
            re.search(r'class="govuk-link dds-topic-narrow"[^>]*>([^<]*)<', body)
        count = re.search(r'class="govuk-body-s dds-topic-count">([^<]*)<', body)
        assert label is not None and count is not None
        out.append((iri, unescape(label.group(1)), unescape(count.group(1)),
                    [unescape(h) for h in re.findall(r'href="([^"]+)"', body)]))
    return out


def _total(html: str) -> int:
    found = re.search(r'id="result-count"[^>]*>(\d+) result', html)
    assert found is not None
    return int(found.group(1))


def test_a_search_lists_the_topics_of_its_whole_result_set(node: LocalNode) -> None:
    """Two proposals of the topic among the proposals: counted over the result set, even
    on a page of one result."""
    html = _get(node, {"kind": "https://w3id.org/dds/ns#Proposal", "size": "1"})
    panel = _panel(html)
    assert panel is not None
    assert _total(html) == 3 and html.count('<li class="dds-result"') <= 1
    [(iri, label, count, hrefs)] = _topics(panel)
    assert iri == node.url(TOPIC)
    assert label == "lane, bike, quay" and count == "2 results"
    assert f"/{TOPIC}?lang=en" in hrefs  # the topic's own page
    narrow = [h for h in hrefs if h.startswith("/explore?")]
    assert len(narrow) == 1
    params = parse_qsl(urlsplit(narrow[0]).query)
    assert ("cluster", node.url(TOPIC)) in params
    assert ("kind", "https://w3id.org/dds/ns#Proposal") in params  # the filter is kept
    assert not any(k == "cursor" for k, _ in params)  # back to the first page
    # How this was made: the run, its methods, no model.
    assert "<a class=\"govuk-link\" href=\"/analysis/run-2026-11-23?lang=en\">" in panel
    assert "How this was made" in panel and "None: classical methods only" in panel


def test_narrowed_to_a_topic_the_results_are_its_members(node: LocalNode) -> None:
    with node.client() as http:
        r = http.get("/explore", params={"cluster": node.url(TOPIC)},
                     headers={"Accept": "application/ld+json"})
    assert r.status_code == 200
    found = r.json()
    assert {m["id"] for m in found["hydra:member"]} == {node.url(p) for p in MEMBERS}
    assert found["facetCounts"]["cluster"] == {node.url(TOPIC): 3}
    html = _get(node, {"cluster": node.url(TOPIC)})
    panel = _panel(html)
    assert panel is not None and _total(html) == 3
    [(_, label, count, hrefs)] = _topics(panel)
    assert count == "3 results" and "filter on" in panel
    remove = [h for h in hrefs if h.startswith("/explore")]
    assert remove == ["/explore?lang=en"]  # "Remove this filter": the search without it
    # The form keeps the topic when other filters are applied; it is not a checkbox
    # among the platform's own topics.
    assert f'<input type="hidden" name="cluster" value="{node.url(TOPIC)}">' in html
    assert 'name="cluster" type="checkbox"' not in html


def test_words_and_topic_together(node: LocalNode) -> None:
    html = _get(node, {"q": "quai", "cluster": node.url(TOPIC)})
    panel = _panel(html)
    assert panel is not None
    [(_, _, count, _)] = _topics(panel)
    assert count == f"{_total(html)} result" + ("s" if _total(html) != 1 else "")
    assert _total(html) >= 1


def test_a_topic_filter_finding_nothing_can_still_be_removed(node: LocalNode) -> None:
    html = _get(node, {"q": "delivery bays saturday market", "cluster": node.url(TOPIC)})
    panel = _panel(html)
    assert _total(html) == 0 and panel is not None
    [(_, label, count, hrefs)] = _topics(panel)
    assert (label, count) == ("lane, bike, quay", "0 results") and "filter on" in panel
    assert "/explore?q=delivery+bays+saturday+market&lang=en" in hrefs  # without it


def test_no_panel_when_no_result_is_in_a_topic(node: LocalNode) -> None:
    html = _get(node, {"q": "delivery bays saturday market"})
    assert _total(html) == 1 and _panel(html) is None
    assert _panel(_get(node, {"q": "zzzyxnothing"})) is None


def test_a_malformed_topic_filter_is_a_400_or_no_result(node: LocalNode) -> None:
    with node.client() as http:
        r = http.get("/explore", params={"cluster": "x" * 3000}, headers=HTML)
        assert r.status_code == 400
        assert r.headers["content-type"].startswith("application/problem+json")
        r = http.get("/explore", params={"cluster": "not an iri"}, headers=HTML)
        assert r.status_code == 200 and _panel(r.text) is None
        assert _total(r.text) == 0
        r = http.get("/explore", params={"cluster": "javascript:alert(1)"}, headers=HTML)
        assert r.status_code == 200 and _total(r.text) == 0
        assert 'href="javascript:' not in r.text  # the filter shown, never a live link
        r = http.get("/explore?cluster=%00", headers=HTML)  # raw on the wire
        assert r.status_code == 400
        assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(("lang", "heading", "label", "count"), [
    ("fr", "Thèmes de ces résultats", "piste, vélo, quai", "2 résultats"),
    ("ca", "Temes d&#39;aquests resultats", "piste, vélo, quai", "2 resultats"),
    ("es", "Temas de estos resultados", "piste, vélo, quai", "2 resultados"),
])
def test_the_panel_speaks_the_readers_language(node: LocalNode, lang: str, heading: str,
                                               label: str, count: str) -> None:
    """Catalogue text and plural forms; the topic's label in the reader's language when
    the topic has one (fr), else the nearest the explorer picks."""
    html = _get(node, {"kind": "https://w3id.org/dds/ns#Proposal"}, lang)
    panel = _panel(html)
    assert panel is not None and heading in panel
    [(_, shown, counted, _)] = _topics(panel)
    assert counted == count
    if lang == "fr":
        assert shown == label


def test_a_new_run_moves_the_page_and_its_tag(tmp_path: Path) -> None:
    """The page cache keys on the index generation: a new run's topic (new label, one
    member fewer, another run) shows at the next request with another ETag; the topic
    deleted, the panel goes and the filter finds nothing."""
    with local_node(tmp_path, settings={"explorer_peer_sync_seconds": 0}) as running:
        _load(running, "a-*.jsonld")
        _load(running, "x-analysis-*.jsonld")
        params = {"kind": "https://w3id.org/dds/ns#Proposal"}
        with running.client() as http:
            # Until the node is quiet (the catalogue's first build writes too): then the
            # page is a 304 for the tag it was sent with.
            for _ in range(20):
                first = http.get("/explore", params=params, headers=HTML)
                assert first.status_code == 200 and _panel(first.text) is not None
                again = http.get("/explore", params=params, headers={
                    **HTML, "If-None-Match": first.headers["etag"]})
                if again.status_code == 304:
                    break
                time.sleep(0.2)
            assert again.status_code == 304
            _, body = running.example("x-analysis-topic-cycling")
            topic = json.loads(body)
            run_iri, run_body = running.example("x-analysis-run-2026-11-23")
            run = json.loads(run_body)
            later = run_iri.replace("2026-11-23", "2026-11-24")
            review = running.auth(TokenRegistry(running.dir).create(["review"], "reviewer"))

            def put(iri: str, doc: dict[str, object]) -> None:
                r = http.put(iri, content=json.dumps(doc).encode(),
                             headers={"Content-Type": "application/ld+json", **review})
                assert r.status_code in (201, 204), r.text
            put(later, {**run, "id": later})
            topic.update(prefLabel={"en": "quay, lane"}, generatedBy=later,
                         member=[running.url("proposals/quai-bike-lane")])
            put(topic["id"], topic)
            moved = http.get("/explore", params=params, headers={
                **HTML, "If-None-Match": first.headers["etag"]})
            assert moved.status_code == 200 and moved.headers["etag"] != first.headers["etag"]
            panel = _panel(moved.text)
            assert panel is not None
            [(_, label, count, _)] = _topics(panel)
            assert (label, count) == ("quay, lane", "1 result")
            assert "/analysis/run-2026-11-24" in panel and "/analysis/run-2026-11-23" not in panel
            assert http.delete(topic["id"], headers=review).status_code == 204
            gone = http.get("/explore", params=params, headers=HTML)
            assert _panel(gone.text) is None
            narrowed = http.get("/explore", params={"cluster": topic["id"]}, headers=HTML)
            assert _total(narrowed.text) == 0


def test_a_topic_indexed_before_its_members_counts_them(tmp_path: Path) -> None:
    """The members' facet rows are derived whichever side the index meets first: the
    topic and run, then the contributions it names."""
    with local_node(tmp_path, settings={"explorer_peer_sync_seconds": 0}) as running:
        _load(running, "x-analysis-*.jsonld")
        with running.client() as http:
            assert http.get("/explore", headers=HTML).status_code == 200  # indexed now
        _load(running, "a-*.jsonld")
        html = _get(running, {"cluster": running.url(TOPIC)})
        assert _total(html) == 3
        panel = _panel(html)
        assert panel is not None and _topics(panel)[0][2] == "3 results"


def test_no_panel_on_a_node_without_analysis(tmp_path: Path) -> None:
    with local_node(tmp_path, settings={"explorer_peer_sync_seconds": 0}) as running:
        _load(running, "a-*.jsonld")
        html = _get(running, {"kind": "https://w3id.org/dds/ns#Proposal"})
        assert _total(html) == 3 and _panel(html) is None
        assert "Topics of these results" not in html


def test_tagged_members_are_counted_once_and_untagged_gone() -> None:
    """The postings of a topic's members (FacetTable.tag, folded into the array at once)
    count as the rows would, through a rewrite (untag then tag) and a removal."""
    import sqlite3

    import numpy as np

    from ddsnode.explorer.facet_counts import FacetTable
    from ddsnode.explorer.search import DDL

    conn = sqlite3.connect(":memory:")
    conn.executescript(DDL)
    conn.executemany("INSERT INTO docs (id, iri, node, kind, titles, summaries, sortkey) "
                     "VALUES (?, ?, '', '', '{}', '{}', ?)",
                     [(i, f"d{i}", f"{i:04}") for i in range(1, 11)])
    conn.executemany("INSERT INTO facets VALUES ('kind', 'k', ?)", [(i,) for i in range(1, 11)])
    table = FacetTable()
    table.load(conn, "e")
    pair = ("cluster", "t")
    table.tag(pair, [2, 3, 5])
    mask = np.zeros(11, dtype=np.bool_)
    mask[[3, 5, 7]] = True
    assert table.counts(["cluster"], mask) == {"cluster": [("t", 2)]}
    assert table.counts(["cluster"], None) == {"cluster": [("t", 3)]}
    assert table.union("cluster", ["t"], 11).nonzero()[0].tolist() == [2, 3, 5]
    table.untag(pair, [2, 3, 5])
    table.tag(pair, [3, 7])  # a new run's members
    assert table.counts(["cluster"], mask) == {"cluster": [("t", 2)]}
    assert table.counts(["cluster"], None) == {"cluster": [("t", 2)]}
    table.untag(pair, [3, 7])
    assert table.counts(["cluster"], None) == {"cluster": []}


def test_a_peers_topic_labels_only_that_peers_contributions() -> None:
    """Incoming federated data crosses a trust boundary: a peer's topic naming this node's
    contribution (or a third node's) does not label it; it labels the peer's own, and
    this node's topics label members on any node."""
    import sqlite3

    from ddsnode.explorer import clusters
    from ddsnode.explorer.facet_counts import FacetTable
    from ddsnode.explorer.search import DDL

    here, peer, third = "https://here.example/", "https://peer.example/", "https://third.example/"
    conn = sqlite3.connect(":memory:")
    conn.executescript(DDL)
    docs = [(1, here + "p/1", here), (2, peer + "p/2", peer), (3, third + "p/3", third)]
    conn.executemany("INSERT INTO docs (id, iri, node, kind, titles, summaries, sortkey) "
                     "VALUES (?, ?, ?, '', '{}', '{}', '0')", docs)
    table = FacetTable()
    table.load(conn, "e")
    iris = [iri for _, iri, _ in docs]
    assert clusters.tag_members(conn, peer + "analysis/topic-1", peer, iris, table,
                                anywhere=False) == 1
    assert clusters.tag_members(conn, here + "analysis/topic-1", here, iris, table,
                                anywhere=True) == 3
    tagged = conn.execute("SELECT value, doc FROM facets WHERE facet = 'cluster' "
                          "ORDER BY value, doc").fetchall()
    assert tagged == [(here + "analysis/topic-1", 1), (here + "analysis/topic-1", 2),
                      (here + "analysis/topic-1", 3), (peer + "analysis/topic-1", 2)]
    # A member indexed after its topics: the same rule.
    for doc, iri, topic_node in ((10, here + "analysis/topic-1", here),
                                 (11, peer + "analysis/topic-1", peer)):
        conn.execute("INSERT INTO docs (id, iri, node, kind, titles, summaries, sortkey) "
                     "VALUES (?, ?, ?, ?, '{}', '{}', '0')", (doc, iri, topic_node,
                                                              clusters.kind()))
        conn.execute("INSERT INTO links VALUES (?, ?, ?)", (here + "p/9", clusters.member(),
                                                            doc))
        conn.execute("INSERT INTO links VALUES (?, ?, ?)", (peer + "p/9", clusters.member(),
                                                            doc))
    assert clusters.naming(conn, here + "p/9", here, here) == [
        ("cluster", here + "analysis/topic-1")]
    assert sorted(clusters.naming(conn, peer + "p/9", peer, here)) == [
        ("cluster", here + "analysis/topic-1"), ("cluster", peer + "analysis/topic-1")]


def test_after_ddsnode_analyse_a_search_shows_its_topics(tmp_path: Path) -> None:
    """The real run on the example contributions: its topics hold the results, each
    narrowing link finds as many results as it said, and the run is linked."""
    from ddsnode.analysis.run import analyse
    from ddsnode.settings import Settings

    with local_node(tmp_path, settings={"explorer_peer_sync_seconds": 0}) as running:
        _load(running, "[ab]-*.jsonld")
        assert analyse(Settings.load(running.dir), running.dir) is not None
        html = _get(running, {})
        panel = _panel(html)
        assert panel is not None
        topics = _topics(panel)
        assert topics and all(iri.startswith(running.url("analysis/topic-"))
                              for iri, _, _, _ in topics)
        assert re.search(r'href="/analysis/run-[^"?]+\?lang=en"', panel)
        for _, _, count, hrefs in topics:
            narrow = next(h for h in hrefs if h.startswith("/explore?"))
            with running.client() as http:
                found = http.get(narrow, headers=HTML).text
            assert count == f"{_total(found)} result" + ("s" if _total(found) != 1 else "")

"""The analysis panels of a contribution's page (issue 13, "explorer panels"), in process.

Analysis outputs are written through the node's write path with a token of scope
``review`` (as a reviewer or a run writes them), then the proposal's and the comment's
pages are read: "possibly the same as" with the other contribution linked and its review
status, a rejected candidate not shown as a duplicate, the thread's summary with each
statement linked to the comments it rests on, the run that made them, and no panel at all
where there is no analysis. Also: ``ddsnode analyse`` on the example data, then the page.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
import rdflib

from ddsnode import resources
from ddsnode.analysis import panels
from ddsnode.analysis.run import analyse
from ddsnode.ldp.tokens import TokenRegistry
from ddsnode.settings import Settings
from tests.support.inprocess import LocalNode, local_node

HTML = {"Accept": "text/html", "Accept-Language": "en"}
PEER = "https://peer.example/"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    with local_node(tmp_path_factory.mktemp("analysis-panels"),
                    settings={"explorer_peer_sync_seconds": 0}) as running:
        core = running.app.node  # type: ignore[attr-defined]
        for path in sorted(resources.examples_dir().glob("a-*.jsonld")):
            text = running.rebase(path.read_text(encoding="utf-8"))
            core.write_document(json.loads(text)["id"], text.encode(), "application/ld+json")
        review = TokenRegistry(running.dir).create(["review"], "reviewer")
        with running.client() as http:
            for name in ("x-analysis-run-2026-11-23", "x-analysis-duplicate-quai-bike-lane",
                         "x-analysis-summary-protected-bike-lanes"):
                iri, body = running.example(name)
                _put(http, running, review, iri, json.loads(body))
            _, body = running.example("x-analysis-duplicate-quai-bike-lane")
            link = json.loads(body)
            # A candidate a reviewer rejected: same topic, another idea.
            _put(http, running, review, running.url("analysis/duplicate-rejected"), {
                **link, "id": running.url("analysis/duplicate-rejected"),
                "contributions": [running.url("proposals/protected-bike-lanes"),
                                  running.url("proposals/school-streets")],
                "similarityScore": 0.64, "reviewStatus": "ddsreview:rejected"})
            # A candidate across nodes: the other contribution is on a peer, in Catalan.
            _put(http, running, review, running.url("analysis/duplicate-peer"), {
                **link, "id": running.url("analysis/duplicate-peer"),
                "contributions": [running.url("proposals/protected-bike-lanes"),
                                  PEER + "proposals/carril-bici"],
                "similarityScore": 0.62, "comparedLanguage": "ca",
                "viaMachineTranslation": True, "reviewStatus": "ddsreview:candidate"})
            # A model's draft is not shown until a reviewer publishes it; hostile text in it.
            _, body = running.example("x-analysis-summary-protected-bike-lanes")
            draft = json.loads(body)
            draft_iri = running.url("analysis/draft-quai")
            draft.update(id=draft_iri, summarises=running.url("proposals/quai-bike-lane"),
                         reviewStatus="ddsreview:draft")
            for i, statement in enumerate(draft["statements"]):
                statement["id"] = f"{draft_iri}#s{i}"
                statement["text"] = {"fr": HOSTILE}
                statement.pop("quotedSpan", None)
            _put(http, running, review, draft_iri, draft)
        yield running


def _put(http: object, node: LocalNode, token: str, iri: str, doc: dict[str, object]) -> None:
    r = http.put(iri, content=json.dumps(doc).encode(),  # type: ignore[attr-defined]
                 headers={"Content-Type": "application/ld+json", **node.auth(token)})
    assert r.status_code in (201, 204), r.text


class Page(HTMLParser):
    """The analysis section of a page: its links by list, and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = 0
        self.list: str | None = None
        self.links: dict[str, list[str]] = {}
        self.text: list[str] = []
        self.statuses: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "section" and "dds-analysis" in (a.get("class") or ""):
            self.inside = 1
        elif self.inside and tag == "section":
            self.inside += 1
        if not self.inside:
            return
        if tag == "ul":
            self.list = (a.get("class") or "").split()[-1]
        if tag == "li" and a.get("data-status"):
            self.statuses.append(str(a["data-status"]))
        if tag == "a" and a.get("href"):
            self.links.setdefault(self.list or "", []).append(str(a["href"]))

    def handle_endtag(self, tag: str) -> None:
        if self.inside and tag == "section":
            self.inside -= 1
        if tag == "ul":
            self.list = None

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.text.append(data)


def page(node: LocalNode, path: str) -> tuple[str, Page]:
    with node.client() as http:
        r = http.get(node.url(path), headers=HTML)
    assert r.status_code == 200, r.text
    parsed = Page()
    parsed.feed(r.text)
    return r.text, parsed


def test_possibly_the_same_as_links_the_other_contribution(node: LocalNode) -> None:
    _, p = page(node, "proposals/protected-bike-lanes")
    text = " ".join(" ".join(p.text).split())
    assert "Possibly the same as" in text
    duplicates = p.links["dds-duplicates"]
    assert "/proposals/quai-bike-lane" in duplicates  # linked to its page, by its title
    assert "Une piste cyclable sur le quai" in text or "quai" in text.lower()
    assert "Confirmed by a reviewer" in text and "/participants/p-7f3a" in duplicates
    # across nodes: the peer's contribution, its node, compared through a translation
    assert "/explore/resource?iri=https%3A%2F%2Fpeer.example%2Fproposals%2Fcarril-bici" \
        in duplicates
    assert "peer.example" in text and "machine translation" in text
    assert p.statuses == ["confirmed", "candidate"]  # confirmed first; the rejected not here
    # the rejected candidate is not a duplicate: no link to it, only a count
    assert "/proposals/school-streets" not in duplicates
    assert "One possible duplicate was rejected by a reviewer." in text


def test_the_link_is_seen_from_both_sides(node: LocalNode) -> None:
    _, p = page(node, "proposals/quai-bike-lane")
    assert "/proposals/protected-bike-lanes" in p.links["dds-duplicates"]
    assert p.statuses == ["confirmed"]


def test_summary_statements_link_their_sources(node: LocalNode) -> None:
    _, p = page(node, "proposals/protected-bike-lanes")
    text = " ".join(" ".join(p.text).split())
    assert "Summary of the thread" in text
    sources = p.links["dds-statements"]
    assert sources == ["/comments/c-101", "/comments/c-102"]
    assert "le quai est le seul passage sans côte" in text  # the quoted span
    assert "For" in text and "Against" in text
    assert "312 supports" in text and "support, not consensus" in text  # the note
    assert "consensus" not in text.replace("not consensus", "")


def test_how_this_was_made_links_the_run(node: LocalNode) -> None:
    html, p = page(node, "proposals/protected-bike-lanes")
    text = " ".join(" ".join(p.text).split())
    assert "How this was made" in text
    assert "/analysis/run-2026-11-23" in p.links[""]
    assert 'href="#analysis-run-1"' in html  # each block points at its run
    assert "tfidf-cosine" in text and "extractive-centrality" in text
    assert "None: classical methods only" in text  # no model in this run
    assert "5f1c0c3e4b0a6d2e" in text and "Statements dropped by the verifier" in text
    assert "scikit-learn 1.9.1" in text


def test_a_comment_page_shows_the_statements_that_cite_it(node: LocalNode) -> None:
    _, p = page(node, "comments/c-102")
    text = " ".join(" ".join(p.text).split())
    assert "Cited in the summary of" in text
    assert "/proposals/protected-bike-lanes" in p.links[""]
    assert p.links["dds-statements"] == ["/comments/c-102"]  # not the statement on c-101
    assert "déchargeront sur la piste" in text and "seul passage" not in text


def test_a_draft_is_not_shown_and_data_is_inert(node: LocalNode) -> None:
    html, p = page(node, "proposals/quai-bike-lane")
    assert "Summary of the thread" not in " ".join(p.text)
    assert "<script>alert" not in html and "onerror=alert" not in html.replace("&", "")


def test_no_panel_without_analysis(node: LocalNode) -> None:
    html, p = page(node, "proposals/protected-bike-lanes-amendment-1")
    assert 'class="dds-analysis"' not in html and not p.text


def _graph(iri: str, kind: str, members: list[str], score: float | None = None
           ) -> rdflib.Graph:
    """An output's graph as the store gives it (triples), without a JSON-LD round trip."""
    graph, s = rdflib.Graph(), rdflib.URIRef(iri)
    graph.add((s, rdflib.RDF.type, rdflib.URIRef(panels.term(kind))))
    for m in members:
        graph.add((s, rdflib.URIRef(panels.term("contributions")), rdflib.URIRef(m)))
    if score is not None:
        graph.add((s, rdflib.URIRef(panels.term("similarityScore")), rdflib.Literal(score)))
    return graph


def test_a_page_reads_a_bounded_number_of_outputs() -> None:
    """A contribution named by thousands of links costs MAX_DUPLICATES reads, no more."""
    target = "https://n.example/proposals/p"
    links = {f"https://n.example/analysis/d{i:04}": _graph(
        f"https://n.example/analysis/d{i:04}", "DuplicateLink",
        [target, f"https://n.example/proposals/q{i}"], i / 10000) for i in range(1000)}
    reads: list[str] = []

    def incoming(obj: str, predicate: str, limit: int) -> list[str]:
        hits = sorted(links) if obj == target and predicate == panels.term(
            "contributions") else []
        return hits[:limit]

    def graph_of(iri: str) -> rdflib.Graph | None:
        reads.append(iri)
        return links.get(iri)

    found = panels.panels(target, incoming, graph_of)
    assert len(found.duplicates) == panels.MAX_DUPLICATES
    assert len(reads) == 2 * panels.MAX_DUPLICATES  # each link and its other contribution
    scores = [d.score or 0.0 for d in found.duplicates]
    assert scores == sorted(scores, reverse=True)


def test_malformed_links_are_left_out() -> None:
    target = "https://n.example/proposals/p"
    odd = {  # not about the target, three members, or not a link at all
        "https://n.example/analysis/a": _graph("https://n.example/analysis/a", "DuplicateLink",
                                               ["https://n.example/x", "https://n.example/y"]),
        "https://n.example/analysis/b": _graph("https://n.example/analysis/b", "DuplicateLink",
                                               [target, "https://n.example/x",
                                                "https://n.example/y"]),
        "https://n.example/analysis/c": _graph("https://n.example/analysis/c", "Summary",
                                               [target]),
    }
    found = panels.panels(target, lambda o, p, n: sorted(odd)[:n], odd.get)
    assert found.empty


def test_after_ddsnode_analyse_the_page_shows_its_outputs(tmp_path: object) -> None:
    from pathlib import Path
    with local_node(Path(str(tmp_path)), settings={"explorer_peer_sync_seconds": 0}) as running:
        core = running.app.node  # type: ignore[attr-defined]
        for path in sorted(resources.examples_dir().glob("[ab]-*.jsonld")):
            text = running.rebase(path.read_text(encoding="utf-8"))
            core.write_document(json.loads(text)["id"], text.encode(), "application/ld+json")
        report = analyse(Settings.load(running.dir), running.dir)
        assert report is not None
        html, p = page(running, "proposals/protected-bike-lanes")
        text = " ".join(" ".join(p.text).split())
        assert "How this was made" in text and "Summary of the thread" in text
        assert all(h.startswith("/comments/") for h in p.links["dds-statements"])
        runs = [h for h in p.links[""] if h.startswith("/analysis/run-")]
        assert runs  # the run's provenance is a page of its own
        with running.client() as http:
            assert http.get(running.url(runs[0]), headers=HTML).status_code == 200

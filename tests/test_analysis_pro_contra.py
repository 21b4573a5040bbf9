"""Pro and contra of a proposal as its own panel (issue 13: "the explorer shows … pro and
contra"), in process.

A node holds the participation examples, the analysis examples (a run and the summary of
the bike lanes' thread: one statement for, from c-101, one against, from c-102) and, for
these tests, more comments (neutral, in favour, none), a language model's summary a
reviewer published, a model's draft nobody published (with hostile text), and a proposal
with votes for and against. The panel lists the arguments of each side linked to their
comments, counts the comments of each side, says "support" where the platform records
supports only (never "consensus"), gives an agreement share only where votes for and
against exist, marks the model's arguments, and is absent where nothing was analysed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape

import pytest

from ddsnode import resources
from ddsnode.analysis import arguments, panels
from ddsnode.ldp.tokens import TokenRegistry
from tests.support.inprocess import LocalNode, local_node

PROPOSAL = "proposals/protected-bike-lanes"
HOSTILE = '<script>alert("x")</script>'


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    with local_node(tmp_path_factory.mktemp("pro-contra"),
                    settings={"explorer_peer_sync_seconds": 0}) as running:
        core = running.app.node  # type: ignore[attr-defined]
        for pattern in ("a-*.jsonld", "x-analysis-*.jsonld"):
            for path in sorted(resources.examples_dir().glob(pattern)):
                text = running.rebase(path.read_text(encoding="utf-8"))
                core.write_document(json.loads(text)["id"], text.encode(),
                                    "application/ld+json")
        review = TokenRegistry(running.dir).create(["review"], "reviewer")
        _, body = running.example("a-comment-c-101")
        comment = json.loads(body)
        _, body = running.example("x-analysis-summary-protected-bike-lanes")
        summary = json.loads(body)
        with running.client() as http:
            for name, stance in (("c-103", "neutral"), ("c-104", "inFavour"),
                                 ("c-105", None)):
                doc = {**comment, "id": running.url(f"comments/{name}"),
                       "body": {"fr": f"Commentaire {name}."}}
                doc.pop("machineTranslated", None)
                doc.pop("stance")
                if stance:
                    doc["stance"] = stance
                running.put(http, doc["id"], json.dumps(doc).encode())
            # A model's summary a reviewer published: one argument for, marked as such.
            model = running.url("analysis/draft-published")
            _put(http, running, review, model, {
                **summary, "id": model, "method": "llm-abstractive",
                "reviewStatus": "ddsreview:published", "statements": [{
                    "id": model + "#s1", "type": "Statement", "stance": "inFavour",
                    "text": {"en": "Parents say the quay is the only flat way to school."},
                    "supportedBy": running.url("comments/c-101")}]})
            # A model's draft nobody published: never shown, hostile text and all.
            draft = running.url("analysis/draft-unpublished")
            _put(http, running, review, draft, {
                **summary, "id": draft, "method": "llm-abstractive",
                "reviewStatus": "ddsreview:draft", "statements": [{
                    "id": draft + "#s1", "type": "Statement", "stance": "against",
                    "text": {"en": HOSTILE + " unpublished"},
                    "supportedBy": running.url("comments/c-102")}]})
            # A proposal with votes for and against, and an argument against it.
            _, body = running.example("a-proposal-school-streets")
            streets = json.loads(body)
            streets.update(votesInFavour=120, votesAgainst=40)
            streets.pop("supportCount", None)
            running.put(http, streets["id"], json.dumps(streets).encode())
            other = running.url("analysis/summary-school-streets")
            _put(http, running, review, other, {
                **summary, "id": other, "summarises": streets["id"], "statements": [{
                    "id": other + "#s1", "type": "Statement", "stance": "against",
                    "text": {"fr": "Les livraisons du matin passent par cette rue."},
                    "supportedBy": running.url("comments/c-102")}]})
        yield running


def _put(http: object, node: LocalNode, token: str, iri: str, doc: dict[str, object]) -> None:
    r = http.put(iri, content=json.dumps(doc).encode(),  # type: ignore[attr-defined]
                 headers={"Content-Type": "application/ld+json", **node.auth(token)})
    assert r.status_code in (201, 204), r.text


def _page(node: LocalNode, path: str, lang: str = "en") -> str:
    with node.client() as http:
        r = http.get(node.url(path), params={"lang": lang}, headers={"Accept": "text/html"})
    assert r.status_code == 200, r.text
    return r.text


def _panel(html: str) -> str | None:
    found = re.search(r'<section class="dds-pro-contra".*?</section>', html, re.S)
    return found.group(0) if found else None


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _side(panel: str, stance: str) -> list[tuple[str, list[str], bool]]:
    """(text, source hrefs, by a model) of each argument of one side."""
    out = []
    for attrs, body in re.findall(
            rf'<li class="dds-argument" data-stance="{stance}"([^>]*)>(.*?)</li>', panel, re.S):
        text = re.search(r'<span lang="[^"]*">([^<]*)</span>', body)
        assert text is not None
        sources = re.findall(r'class="govuk-link dds-argument-source" href="([^"]+)"', body)
        out.append((unescape(text.group(1)), sources, 'data-model="true"' in attrs))
    return out


def test_each_side_lists_its_arguments_linked_to_their_comments(node: LocalNode) -> None:
    panel = _panel(_page(node, PROPOSAL))
    assert panel is not None
    pro = _side(panel, "inFavour")
    assert pro[0] == ("Je fais ce trajet tous les jours avec les enfants, et le quai est le "
                      "seul passage sans côte.", ["/comments/c-101?lang=en"], False)
    contra = _side(panel, "against")
    assert contra == [("Sans aires de livraison, les commerçants du marché déchargeront sur "
                       "la piste.", ["/comments/c-102?lang=en"], False)]
    text = _text(panel)
    assert "For and against" in text and "Arguments for" in text and "Arguments against" in text
    assert 'aria-labelledby="analysis-side-inFavour"' in panel  # each list names its side
    assert 'href="#analysis-run-1"' in panel  # how this was made: the run's disclosure


def test_comments_are_counted_per_side(node: LocalNode) -> None:
    """c-101 and c-104 in favour, c-102 (a reply) against, c-103 neutral, c-105 none."""
    text = _text(_panel(_page(node, PROPOSAL)) or "")
    assert "2 comments in favour · 1 comment against · 1 neutral comment" in text
    assert "counted in the" not in text  # the whole thread was read


def test_supports_only_say_support_never_consensus(node: LocalNode) -> None:
    text = _text(_panel(_page(node, PROPOSAL)) or "")
    assert "313 supports." in text and "this measures support, not consensus" in text
    assert "consensus" not in text.replace("not consensus", "")
    assert "Votes:" not in text and "%" not in text


def test_votes_for_and_against_give_an_agreement_share(node: LocalNode) -> None:
    text = _text(_panel(_page(node, "proposals/school-streets")) or "")
    assert "Votes: 120 in favour, 40 against (75.0% in favour)." in text
    assert "supports" not in text and "consensus" not in text
    assert "The analysis found no argument on this side." in text  # no argument for
    fr = _text(_panel(_page(node, "proposals/school-streets", "fr")) or "")
    assert "Votes : 120 pour, 40 contre (75,0" in fr.replace("\u00a0", " ") \
        .replace("\u202f", " ")


def test_a_models_arguments_only_published_and_marked(node: LocalNode) -> None:
    html = _page(node, PROPOSAL)
    panel = _panel(html)
    assert panel is not None
    pro = _side(panel, "inFavour")
    assert pro[-1] == ("Parents say the quay is the only flat way to school.",
                       ["/comments/c-101?lang=en"], True)  # after the comments' own words
    assert [by_model for _, _, by_model in pro] == [False, True]
    assert "Written by a language model, published by a reviewer" in _text(panel)
    assert "unpublished" not in html and "<script>alert" not in html
    assert len(_side(panel, "against")) == 1
    # The model's published summary is marked in "Summary of the thread" too.
    summaries = html.split('<section class="dds-pro-contra"')[1].split("</section>", 1)[1]
    assert summaries.count("Written by a language model, published by a reviewer") == 1


def test_a_thread_read_in_part_says_so(tmp_path: object) -> None:
    """Past ``explorer_max_comments`` the counts say how many comments they come from."""
    from pathlib import Path

    with local_node(Path(str(tmp_path)), settings={"explorer_peer_sync_seconds": 0,
                                                   "explorer_max_comments": 1}) as running:
        core = running.app.node  # type: ignore[attr-defined]
        for pattern in ("a-*.jsonld", "x-analysis-*.jsonld"):
            for path in sorted(resources.examples_dir().glob(pattern)):
                text = running.rebase(path.read_text(encoding="utf-8"))
                core.write_document(json.loads(text)["id"], text.encode(),
                                    "application/ld+json")
        text = _text(_panel(_page(running, PROPOSAL)) or "")
        assert "1 comment in favour · 0 comments against · 0 neutral comments " \
            "(counted in the 1 comment shown)" in text
        fr = _text(_panel(_page(running, PROPOSAL, "fr")) or "")
        assert "(comptés dans le 1 commentaire affiché)" in fr


@pytest.mark.parametrize(("lang", "words"), [
    ("fr", ["Pour et contre", "Arguments pour", "Arguments contre",
            "2 commentaires pour · 1 commentaire contre · 1 commentaire neutre",
            "313 soutiens.", "pas un consensus", "Rédigé par un modèle de langage"]),
    ("ca", ["A favor i en contra", "Arguments a favor", "2 comentaris a favor",
            "1 comentari en contra", "313 suports.", "no un consens"]),
    ("es", ["A favor y en contra", "Argumentos en contra", "2 comentarios a favor",
            "1 comentario neutral", "313 apoyos.", "no un consenso"]),
])
def test_the_panel_speaks_the_readers_language(node: LocalNode, lang: str,
                                               words: list[str]) -> None:
    text = _text(_panel(_page(node, PROPOSAL, lang)) or "")
    for word in words:
        assert word in text, (lang, word)


def test_no_panel_where_nothing_was_analysed(node: LocalNode) -> None:
    for path in ("proposals/quai-bike-lane", "proposals/protected-bike-lanes-amendment-1",
                 "comments/c-102"):  # a comment's page: cited in a summary, no sides
        html = _page(node, path)
        assert _panel(html) is None, path
        assert "For and against" not in html


def _summary(statements: list[tuple[str | None, str]], *, model: bool = False,
             status: str | None = "published") -> panels.Summary:
    return panels.Summary(
        iri="https://n.example/analysis/s", subject="https://n.example/proposals/p",
        methods=["llm-abstractive" if model else "extractive-centrality"], status=status,
        statements=[panels.Statement(iri=f"_:s{i}", text=text, lang="en",
                                     supported_by=[f"https://n.example/comments/{i}"],
                                     quoted=None, stance=stance)
                    for i, (stance, text) in enumerate(statements)],
        support_count=None, note={}, run=None)


def test_sides_are_made_from_stances_only() -> None:
    """Neutral and stance-less statements are no argument; a model's summary counts only
    when published; each side is bounded; no side at all means no panel."""
    subject = "https://n.example/proposals/p"
    found = arguments.pro_contra(subject, [
        _summary([("inFavour", "yes"), ("neutral", "why"), (None, "hm"), ("against", "no")]),
        _summary([("against", "model no")], model=True, status="draft"),
        _summary([("against", "model no")], model=True, status=None),
    ], ["inFavour", "against", "against", None, "neutral"], complete=False)
    assert found is not None and not found.complete and found.read == 5
    assert [(s.stance, [a.text for a in s.arguments], s.comments) for s in found.sides] == [
        ("inFavour", ["yes"], 1), ("against", ["no"], 2)]
    assert found.neutral == 1 and found.agreement is None
    many = arguments.pro_contra(subject, [_summary([("inFavour", str(i))
                                                   for i in range(50)])], [], complete=True)
    assert many is not None and len(many.sides[0].arguments) == arguments.MAX_ARGUMENTS
    assert arguments.pro_contra(subject, [_summary([("neutral", "n")])], ["inFavour"],
                                complete=True) is None
    assert arguments.pro_contra(subject, [], [], complete=True) is None


def test_an_agreement_share_needs_votes_on_both_sides() -> None:
    side = [arguments.Side("inFavour"), arguments.Side("against")]
    assert arguments.ProContra(side, 0, 0, True, 300, None, None).agreement is None
    assert arguments.ProContra(side, 0, 0, True, None, 10, None).agreement is None
    assert arguments.ProContra(side, 0, 0, True, None, 0, 0).agreement is None
    assert arguments.ProContra(side, 0, 0, True, None, 3, 1).agreement == 0.75


def test_after_ddsnode_analyse_the_proposal_has_its_pro_and_contra(tmp_path: object) -> None:
    """The real run on the example contributions: the bike lanes' thread gives arguments
    on each side (c-101 for, its reply c-102 against among them), each linked to its
    comment, and no more of a side than its comments."""
    from pathlib import Path

    from ddsnode.analysis.run import analyse
    from ddsnode.settings import Settings

    with local_node(Path(str(tmp_path)), settings={"explorer_peer_sync_seconds": 0}) as running:
        core = running.app.node  # type: ignore[attr-defined]
        for path in sorted(resources.examples_dir().glob("[ab]-*.jsonld")):
            text = running.rebase(path.read_text(encoding="utf-8"))
            core.write_document(json.loads(text)["id"], text.encode(), "application/ld+json")
        assert analyse(Settings.load(running.dir), running.dir) is not None
        panel = _panel(_page(running, PROPOSAL))
        assert panel is not None
        pro = [h for _, s, _ in _side(panel, "inFavour") for h in s]
        contra = [h for _, s, _ in _side(panel, "against") for h in s]
        assert "/comments/c-101?lang=en" in pro and "/comments/c-102?lang=en" in contra
        assert all(h.startswith("/comments/") for h in pro + contra)
        counts = re.search(r"(\d+) comments? in favour · (\d+) comments? against",
                           _text(panel))
        assert counts is not None
        assert int(counts.group(1)) >= len(pro) and int(counts.group(2)) >= len(contra)

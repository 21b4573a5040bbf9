"""Tier 3 of the analysis against a misbehaving OpenAI-compatible server (tests/support/fake_llm.py).

Tier 1 always runs: whatever the model does, the topics, duplicates and extractive
summaries are written. What the model says is stored only when the verifier lets it through,
as a draft, and the run records how many statements were dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph
import pytest

from ddsnode.analysis import llm
from ddsnode.analysis.run import analyse
from ddsnode.analysis.summaries import Statement
from ddsnode.analysis.verifier import reason
from ddsnode.ldp.node import Node
from ddsnode.settings import Settings
from tests.support.analysis_corpus import BASE, make_node
from tests.support.connections import connections
from tests.support.fake_llm import FakeLLM, fake_llm

DDS = "https://w3id.org/dds/ns#"
@pytest.fixture
def server() -> Iterator[FakeLLM]:
    with fake_llm() as s:
        yield s


def _node(tmp_path: Path, server: FakeLLM | None, **extra: Any) -> tuple[Settings, Path]:
    values: dict[str, Any] = {"analysis_llm_timeout_seconds": 2.0}
    if server is not None:
        values.update(analysis_llm_url=server.url, analysis_llm_model="fake-model",
                      analysis_llm_model_hash="sha256:0f0f")
    values.update(extra)
    make_node(tmp_path / "node", extra=values)
    return Settings.load(tmp_path / "node"), tmp_path / "node"


def _graph(node_dir: Path, iri: str) -> pyoxigraph.Store:
    node = Node.open(Settings.load(node_dir))
    try:
        resource = node.store.get(iri)
        assert resource is not None and resource.kind == "rdf", iri
        g = pyoxigraph.Store()
        g.load(resource.ntriples.encode(), pyoxigraph.RdfFormat.N_TRIPLES)
        return g
    finally:
        node.close()


def _analysis_iris(node_dir: Path) -> list[str]:
    node = Node.open(Settings.load(node_dir))
    try:
        return [c.iri for c in node.store.children(BASE + "analysis/", limit=500).items]
    finally:
        node.close()


def _run_value(node_dir: Path, run: str, name: str) -> str | None:
    rows = list(_graph(node_dir, run).query(f"SELECT ?v WHERE {{ <{run}> <{DDS}{name}> ?v }}"))
    return rows[0]["v"].value if rows else None


def test_no_connection_at_all_by_default(tmp_path: Path) -> None:
    settings, node_dir = _node(tmp_path, None)
    with connections() as connected:
        report = analyse(settings, node_dir)
    assert report.summaries and report.topics
    assert connected == []
    assert _run_value(node_dir, report.run, "modelName") is None


def test_a_good_model_gives_verified_drafts_and_provenance(tmp_path: Path,
                                                          server: FakeLLM) -> None:
    settings, node_dir = _node(tmp_path, server)
    with connections() as connected:
        report = analyse(settings, node_dir)
    # Only the configured model's address was connected to.
    assert connected and {tuple(a)[:2] for a in connected} == {("127.0.0.1",
                                                               server.server_address[1])}
    assert report.drafts >= 1
    drafts = [iri for iri in _analysis_iris(node_dir) if "/analysis/draft-" in iri]
    assert len(drafts) == report.drafts
    g = _graph(node_dir, drafts[0])
    assert bool(g.query(f"ASK {{ ?d <{DDS}reviewStatus> "
                        "<https://w3id.org/dds/review-status/draft> }"))
    assert _run_value(node_dir, report.run, "modelName") == "fake-model"
    assert _run_value(node_dir, report.run, "promptHash") == llm.PROMPT_HASH
    assert _run_value(node_dir, report.run, "temperature") is not None
    # The selection came from tier 1, under short ids, never whole IRIs or the consultation.
    sent = server.requests[0]["messages"][-1]["content"]
    assert '"c1"' in sent and BASE not in sent
    assert server.requests[0]["response_format"]["json_schema"]["schema"] == llm.ANSWER_SCHEMA


@pytest.mark.parametrize("mode, expect_note", [
    ("malformed", "refused: not JSON"),
    ("wrong_schema", "refused"),
    ("nested", "refused"),
    ("huge", "model unavailable"),
    ("status_429", "model unavailable"),
    ("slow", "model unavailable"),
])
def test_a_failing_model_never_breaks_tier_1(tmp_path: Path, server: FakeLLM, mode: str,
                                             expect_note: str) -> None:
    server.mode = mode
    server.delay = 5.0  # past analysis_llm_timeout_seconds (2 s)
    settings, node_dir = _node(tmp_path, server)  # analysis_llm_max_bytes: 256 KiB
    report = analyse(settings, node_dir)
    assert report.drafts == 0
    assert report.topics and report.summaries and report.duplicates
    assert any(expect_note in n for n in report.notes), report.notes
    assert not [iri for iri in _analysis_iris(node_dir) if "/analysis/draft-" in iri]


@pytest.mark.parametrize("mode", ["unknown_ids", "invented", "unsupported", "obey"])
def test_unverifiable_statements_are_dropped_and_counted(tmp_path: Path, server: FakeLLM,
                                                         mode: str) -> None:
    server.mode = mode
    settings, node_dir = _node(tmp_path, server)
    report = analyse(settings, node_dir)
    assert report.drafts == 0
    assert report.dropped > 0
    assert _run_value(node_dir, report.run, "droppedStatements") == str(report.dropped)
    assert report.summaries  # tier 1 stands


def test_verifier_rules() -> None:
    from ddsnode.analysis.corpus import Contribution
    c = Contribution(BASE + "comments/x", "Comment",
                     texts={"fr": "Le quai est le seul passage sans côte pour les vélos."})
    known = {c.iri: c}
    ok = Statement("Le quai est le seul passage sans côte", "fr", [c.iri],
                   quote="le  quai est le seul passage")
    assert reason(ok, known) is None
    assert "unknown" in (reason(Statement("Le quai", "fr", [BASE + "comments/y"]), known) or "")
    assert "quotes" in (reason(Statement("Le quai est le seul passage", "fr", [c.iri],
                                         quote="un pont"), known) or "")
    assert "not supported" in (reason(Statement("Les impôts doivent baisser demain", "fr",
                                                [c.iri]), known) or "")
    assert "cites no" in (reason(Statement("Le quai", "fr", []), known) or "")
    assert "longer" in (reason(Statement("quai " * 1000, "fr", [c.iri]), known) or "")


def test_answer_parser_refuses_what_is_not_the_schema() -> None:
    def envelope(content: str) -> bytes:
        import json
        return json.dumps({"choices": [{"message": {"content": content}}]}).encode()
    ids = {"c1": BASE + "comments/x"}
    good = '{"statements": [{"text": "t", "supportedBy": ["c1"], "language": "fr"}]}'
    assert llm.parse_answer(envelope(good), ids, "fr")[0].supported_by == [BASE + "comments/x"]
    bad_language = '{"statements": [{"text": "t", "supportedBy": ["c1"], "language": "x y"}]}'
    assert llm.parse_answer(envelope(bad_language), ids, "fr")[0].language == "fr"
    for content in ('{"statements": "all"}', '[1, 2]', '{"statements": [{"text": 3}]}',
                    '{"statements": [{"text": "t", "supportedBy": "c1"}]}',
                    '{"statements": [' + ",".join(['{"text": "t", "supportedBy": ["c1"]}'] * 50)
                    + "]}", "[" * 50 + "]" * 50):
        with pytest.raises(llm.AnswerError):
            llm.parse_answer(envelope(content), ids, "fr")
    with pytest.raises(llm.AnswerError):
        llm.parse_answer(b"<html>", ids, "fr")

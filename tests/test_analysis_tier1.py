"""Tier 1 of the analysis (issue 13): deterministic, incremental, outputs that follow the data.

Every test runs the real thing on a node directory: the corpus is written through the
node's write path, ``analyse`` reads the store and writes its outputs back through it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph
import pytest

from ddsnode.analysis import verifier
from ddsnode.analysis.corpus import from_store
from ddsnode.analysis.run import analyse
from ddsnode.analysis.trigram import similarity
from ddsnode.ldp.node import Node
from ddsnode.settings import Settings
from tests.support.analysis_corpus import (
    BASE,
    PROPOSALS,
    delete,
    make_node,
    proposal_doc,
    stored_outputs,
    write,
)

DDS = "https://w3id.org/dds/ns#"
_VOLATILE = ("http://purl.org/dc/terms/created", "http://purl.org/dc/terms/modified",
             "http://www.w3.org/ns/prov#wasGeneratedBy")


def outputs(node_dir: Path, *, with_runs: bool = False) -> dict[str, set[str]]:
    """IRI -> N-Triples lines of each live output, less what changes with time."""
    return {iri: {line for line in ntriples.splitlines()
                  if not any(p in line for p in _VOLATILE)}
            for iri, ntriples in stored_outputs(node_dir).items()
            if with_runs or "/analysis/run-" not in iri}


def objects(lines: set[str], predicate: str) -> set[str]:
    """The IRI objects of ``predicate`` in N-Triples ``lines``."""
    found = set()
    for t in pyoxigraph.parse("\n".join(lines).encode(), pyoxigraph.RdfFormat.N_TRIPLES):
        if t.predicate.value == predicate and isinstance(t.object, pyoxigraph.NamedNode):
            found.add(t.object.value)
    return found


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    make_node(tmp_path / "node")
    return tmp_path / "node"


def test_outputs_of_each_kind_point_at_contributions(corpus: Path) -> None:
    report = analyse(Settings.load(corpus), corpus)
    assert report.contributions == len(PROPOSALS) + 5
    found = outputs(corpus)
    kinds = {iri.rsplit("/", 1)[1].split("-")[0] for iri in found}
    assert kinds == {"topic", "duplicate", "summary"}
    dupes = [objects(lines, DDS + "linksContribution") for iri, lines in found.items()
             if "/duplicate-" in iri]
    assert {BASE + "proposals/bike-quays", BASE + "proposals/bike-quays-again"} in dupes
    # Across languages, through the platform's machine translation: flagged as such.
    pivot = next(lines for iri, lines in found.items() if "/duplicate-" in iri and
                 BASE + "proposals/bike-lanes-ca" in objects(lines, DDS + "linksContribution")
                 and BASE + "proposals/bike-quays" in objects(lines, DDS + "linksContribution"))
    assert any("viaMachineTranslation" in line and '"true"' in line for line in pivot)
    # Different ideas on the same topic are not duplicates.
    assert all(BASE + "proposals/bike-parking" not in pair for pair in dupes)
    # The cycling proposals and the tree proposals fall in different topics.
    topic_of = {}
    for iri, lines in found.items():
        if "/topic-" in iri:
            for member in objects(lines, DDS + "member"):
                topic_of[member] = iri
    assert topic_of[BASE + "proposals/bike-quays"] == topic_of[BASE + "proposals/bike-parking"]
    assert topic_of[BASE + "proposals/trees-park"] == topic_of[BASE + "proposals/trees-streets"]
    assert topic_of[BASE + "proposals/bike-quays"] != topic_of[BASE + "proposals/trees-park"]


def test_arguments_and_support_note(corpus: Path) -> None:
    analyse(Settings.load(corpus), corpus)
    node = Node.open(Settings.load(corpus))
    try:
        summary = next(iri for iri, lines in outputs(corpus).items() if "/summary-" in iri
                       and BASE + "proposals/bike-quays" in objects(lines, DDS + "summarises"))
        graph = pyoxigraph.Store()
        resource = node.store.get(summary)
        assert resource is not None
        graph.load(resource.ntriples.encode(), pyoxigraph.RdfFormat.N_TRIPLES)
    finally:
        node.close()
    rows = {(str(r["who"].value), r["stance"].value.rsplit("/", 1)[1]) for r in graph.query(
        "SELECT ?who ?stance WHERE { ?s <https://w3id.org/dds/ns#supportedBy> ?who ; "
        "<https://w3id.org/dds/ns#stance> ?stance }")}
    # For and against both appear (stratified), each with the comment that says it.
    assert (BASE + "comments/k2", "against") in rows
    assert any(stance == "inFavour" for _, stance in rows)
    notes = [r["n"].value for r in graph.query(
        "SELECT ?n WHERE { ?s <https://w3id.org/dds/ns#agreementNote> ?n }")]
    assert notes and all("consensus" in n or "consens" in n for n in notes)
    english = [n for n in notes if "support," in n]
    assert english and "not consensus" in english[0]


def test_same_input_same_output(tmp_path: Path) -> None:
    make_node(tmp_path / "a")
    make_node(tmp_path / "b")
    analyse(Settings.load(tmp_path / "a"), tmp_path / "a")
    analyse(Settings.load(tmp_path / "b"), tmp_path / "b")
    first, second = outputs(tmp_path / "a"), outputs(tmp_path / "b")
    assert first and first == second


def test_rerun_rewrites_nothing(corpus: Path) -> None:
    settings = Settings.load(corpus)
    first = analyse(settings, corpus)
    again = analyse(settings, corpus)
    assert first.written > 0
    assert again.written == 0 and again.deleted == 0
    assert again.unchanged == first.written
    assert not again.refitted
    assert len(outputs(corpus, with_runs=True)) == len(outputs(corpus)) + 2  # two runs


def test_new_contribution_is_assigned_without_refitting(corpus: Path) -> None:
    settings = Settings.load(corpus)
    analyse(settings, corpus)
    before = outputs(corpus)
    spec = {"title": {"fr": "Pistes cyclables protégées vers la gare"},
            "body": {"fr": "Une piste cyclable protégée des quais jusqu'à la gare, pour les "
                           "vélos."}}
    write(corpus, proposal_doc("bike-station", spec))
    report = analyse(settings, corpus)
    assert not report.refitted
    after = outputs(corpus)
    topic_iris = {iri for iri in after if "/topic-" in iri}
    assert topic_iris == {iri for iri in before if "/topic-" in iri}  # same fitted topics
    holder = [iri for iri in topic_iris
              if BASE + "proposals/bike-station" in objects(after[iri], DDS + "member")]
    assert len(holder) == 1
    assert BASE + "proposals/bike-quays" in objects(after[holder[0]], DDS + "member")
    full = analyse(settings, corpus, full=True)
    assert full.refitted


def test_deleted_and_withdrawn_contributions_leave_every_output(corpus: Path) -> None:
    settings = Settings.load(corpus)
    analyse(settings, corpus)
    gone = {BASE + "comments/k2", BASE + "proposals/bike-quays-again"}
    assert any(g in line for lines in outputs(corpus).values() for line in lines for g in gone)
    delete(corpus, BASE + "comments/k2")
    withdrawn = proposal_doc("bike-quays-again", PROPOSALS["bike-quays-again"])
    withdrawn["state"] = "withdrawn"
    write(corpus, withdrawn)
    report = analyse(settings, corpus)
    assert report.deleted >= 1  # the duplicate links of the withdrawn proposal
    for lines in outputs(corpus).values():
        assert not any(g in line for line in lines for g in gone)
    node = Node.open(settings)
    try:  # a removed output answers 410 from then on: a tombstone, not a silent hole
        tombstones = [iri for iri in json.loads((corpus / "analysis" / "state.json")
                                                .read_text())["outputs"]
                      if node.store.get(iri) is None or node.store.get(iri).kind == "tombstone"]
        assert tombstones == []
    finally:
        node.close()


def test_every_stored_statement_cites_live_contributions_and_passes_the_verifier(
        corpus: Path) -> None:
    settings = Settings.load(corpus)
    analyse(settings, corpus)
    node = Node.open(settings)
    try:
        live = {c.iri: c for c in from_store(node.store, BASE, max_items=1000, max_chars=20000)}
    finally:
        node.close()
    statements = 0
    for iri, lines in outputs(corpus).items():
        if "/summary-" not in iri:
            continue
        store = pyoxigraph.Store()
        store.load("\n".join(lines).encode(), pyoxigraph.RdfFormat.N_TRIPLES)
        for row in store.query(
                "SELECT ?s ?text ?quote (GROUP_CONCAT(STR(?by); separator=' ') AS ?bys) WHERE {"
                " ?s <https://w3id.org/dds/ns#statementText> ?text ;"
                " <https://w3id.org/dds/ns#supportedBy> ?by ."
                " OPTIONAL { ?s <https://w3id.org/dds/ns#quotedSpan> ?quote } }"
                " GROUP BY ?s ?text ?quote"):
            statements += 1
            cited = row["bys"].value.split()
            assert cited and all(c in live for c in cited)
            from ddsnode.analysis.summaries import Statement
            quote = row["quote"].value if row["quote"] is not None else None
            st = Statement(row["text"].value, row["text"].language or "", cited, quote=quote)
            assert verifier.reason(st, live) is None
    assert statements >= 4


def test_a_reviewer_verdict_survives_reruns(corpus: Path) -> None:
    settings = Settings.load(corpus)
    analyse(settings, corpus)
    link = next(iri for iri, lines in outputs(corpus).items() if "/duplicate-" in iri)
    node = Node.open(settings)
    try:
        resource = node.store.get(link)
        assert resource is not None
        reviewed = resource.ntriples.replace("/review-status/candidate", "/review-status/rejected")
        reviewed += f"<{link}> <{DDS}reviewedBy> <{BASE}participants/reviewer> .\n"
        node.write_document(link, reviewed.encode(), "application/n-triples")
    finally:
        node.close()
    analyse(settings, corpus, full=True)
    lines = outputs(corpus)[link]
    assert any("/review-status/rejected" in line for line in lines)
    assert any("participants/reviewer" in line for line in lines)


def test_pg_trgm_similarity_matches_postgresql() -> None:
    # Values PostgreSQL's pg_trgm gives (its documentation: similarity('word', 'words')).
    assert similarity("word", "words") == pytest.approx(0.571429, abs=1e-6)
    assert similarity("Hello, World", "hello world") == 1.0
    assert similarity("", "abc") == 0.0


@pytest.mark.slow  # ddsnode analyse as typed, twice (tests/support/fastloop.py)
def test_cli_runs_with_a_progress_bar_and_twice(corpus: Path) -> None:
    cmd = [sys.executable, "-m", "ddsnode", "analyse", str(corpus)]
    first = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "analyse: topics" in first.stderr  # the stages, on stderr (not a terminal)
    assert "duplicate links" in first.stdout
    missing = subprocess.run([sys.executable, "-m", "ddsnode", "analyse",
                              str(corpus.parent / "nothing")], check=False,
                             capture_output=True, text=True,
                             timeout=300)
    assert missing.returncode == 2
    not_a_date = subprocess.run([*cmd, "--since", "yesterday"], check=False,
                                capture_output=True, text=True, timeout=300)
    assert not_a_date.returncode == 2 and "ISO 8601" in not_a_date.stderr
    window = subprocess.run([*cmd, "--since", "2026-03-02", "--quiet"], check=False,
                            capture_output=True, text=True, timeout=300)
    assert window.returncode == 0 and window.stderr == ""
    assert "5 contributions" in window.stdout  # the comments (created 2026-03-02)


def test_analysis_state_can_be_lost(corpus: Path) -> None:
    settings = Settings.load(corpus)
    analyse(settings, corpus)
    before = outputs(corpus)
    shutil.rmtree(corpus / "analysis")
    analyse(settings, corpus)
    assert outputs(corpus) == before


def test_outputs_are_read_over_http_as_json_ld(tmp_path: Path) -> None:
    from tests.support.analysis_corpus import COMMENTS, comment_doc
    from tests.support.inprocess import local_node
    with local_node(tmp_path) as node, node.client() as http:
        for slug, spec in PROPOSALS.items():
            doc = proposal_doc(slug, spec, node.base)
            r = http.put(doc["id"], content=json.dumps(doc), headers={
                **node.auth(), "Content-Type": "application/ld+json"})
            assert r.status_code in (201, 204), r.text
        for slug, spec in COMMENTS.items():
            doc = comment_doc(slug, spec, node.base)
            r = http.put(doc["id"], content=json.dumps(doc), headers={
                **node.auth(), "Content-Type": "application/ld+json"})
            assert r.status_code in (201, 204), r.text
        report = analyse(Settings.load(node.dir), node.dir)  # while the node is serving
        listing = http.get("/analysis/?type=dds:DuplicateLink",
                           headers={"Accept": "application/ld+json"})
        assert listing.status_code == 200
        members = [m for m in json.dumps(listing.json()).split('"') if "/analysis/duplicate-" in m]
        assert len(set(members)) == report.duplicates
        summary = next(iter({m for m in http.get(
            "/analysis/?type=dds:Summary", headers={"Accept": "application/ld+json"}
        ).text.split('"') if "/analysis/summary-" in m}))
        doc = http.get(summary, headers={"Accept": "application/ld+json"}).json()
        assert doc["type"] == "Summary" and doc["statements"]
        run = http.get(report.run, headers={"Accept": "text/turtle"})
        assert run.status_code == 200 and "AnalysisRun" in run.text
        # Outputs are written by the analysis, or by a holder of a token with scope review.
        link = next(m for m in members if m.startswith("http"))
        current = http.get(link, headers={"Accept": "application/ld+json"})
        confirmed = {**current.json(), "reviewStatus": "ddsreview:confirmed",
                     "reviewedBy": node.url("participants/reviewer")}
        body = {"content": json.dumps(confirmed), "headers": {
            "Content-Type": "application/ld+json", "If-Match": current.headers["etag"]}}
        assert http.put(link, **body).status_code == 401
        writer = http.put(link, **{**body, "headers": {**body["headers"], **node.auth()}})
        assert writer.status_code == 403  # a write token is not a reviewer's
        from ddsnode.ldp.tokens import TokenRegistry
        review = TokenRegistry(node.dir).create(["review"], "reviewer")
        reviewed = http.put(link, **{**body, "headers": {**body["headers"],
                                                         **node.auth(review)}})
        assert reviewed.status_code == 204, reviewed.text
    report = analyse(Settings.load(node.dir), node.dir)  # the verdict outlives a rerun
    kept = outputs(node.dir)[link]
    assert any("/review-status/confirmed" in line for line in kept)


def test_federation_scope_reads_the_peers_cached_contributions(tmp_path: Path) -> None:
    import sqlite3
    import time

    from ddsnode.commands.node import init_node
    from ddsnode.federation.database import FederationDB
    from tests.support.analysis_corpus import comment_doc
    ours = tmp_path / "ours"
    make_node(ours)
    # A peer's proposal and comment, stored by the peer's own write path, then cached here
    # as the federation cache keeps what it fetched (valid: origin checked, shapes passed).
    peer_base = "http://peer.example/"
    peer = Node.open(init_node(tmp_path / "peer", base_url=peer_base))
    spec = {"title": {"fr": "Des pistes cyclables protégées le long des quais"},
            "body": {"fr": "Créer des pistes cyclables protégées sur les quais pour aller à "
                           "l'école à vélo en sécurité."}}
    docs = [proposal_doc("quays", spec, peer_base),
            comment_doc("p1", {"on": "quays", "stance": "against", "body": {
                "fr": "Les quais sont trop étroits pour une piste cyclable."}}, peer_base)]
    rows = []
    try:
        for doc in docs:
            stored = peer.write_document(doc["id"], json.dumps(doc).encode(),
                                         "application/ld+json")
            rows.append((doc["id"], stored.ntriples, doc["type"]))
    finally:
        peer.close()
    FederationDB(ours).close()
    with sqlite3.connect(ours / "federation.db") as db:
        for iri, ntriples, kind in rows:
            db.execute("INSERT INTO cache (iri, origin, fetched_from, status, fetched_at, "
                       "ntriples, container) VALUES (?, ?, ?, 'valid', ?, ?, ?)",
                       (iri, peer_base.rstrip("/"), iri, time.time(), ntriples,
                        "proposals/" if kind == "Proposal" else "comments/"))
    settings = Settings.load(ours)
    local = analyse(settings, ours)
    federated = analyse(settings, ours, scope="federation")
    assert federated.contributions == local.contributions + 2
    found = outputs(ours)
    pairs = [objects(lines, DDS + "linksContribution") for iri, lines in found.items()
             if "/duplicate-" in iri]
    assert {BASE + "proposals/bike-quays-again", peer_base + "proposals/quays"} in pairs
    summaries = [lines for iri, lines in found.items() if "/summary-" in iri and
                 peer_base + "proposals/quays" in objects(lines, DDS + "summarises")]
    assert summaries and peer_base + "comments/p1" in objects(summaries[0], DDS + "supportedBy")
    node = Node.open(settings)  # the run's provenance says which scope it read
    try:
        run = node.store.get(federated.run)
        assert run is not None and '"federation"' in run.ntriples
    finally:
        node.close()


def test_limits_on_what_a_run_reads(tmp_path: Path) -> None:
    from ddsnode.analysis.corpus import from_ntriples
    node_dir = tmp_path / "node"
    make_node(node_dir, extra={"analysis_max_text_chars": 1000, "analysis_max_contributions": 5})
    long = {"title": {"fr": "Un texte très long"},
            "body": {"fr": "vélo quai piste " * 30_000}}  # 480,000 characters
    write(node_dir, proposal_doc("long", long))
    settings = Settings.load(node_dir)
    report = analyse(settings, node_dir)
    assert report.contributions == 5  # analysis_max_contributions
    node = Node.open(settings)
    try:
        read = list(from_store(node.store, BASE, max_items=100,
                               max_chars=settings.analysis_max_text_chars))
    finally:
        node.close()
    assert max(len(t) for c in read for t in c.texts.values()) <= 1000
    # A text with no language tag (a peer's, or written as N-Triples) gets one from py3langid;
    # a contribution without text, or withdrawn, is not analysed.
    iri = BASE + "proposals/untagged"
    untagged = from_ntriples(iri, f'<{iri}> <http://purl.org/dc/terms/title> '
                                  '"Plantar arbres al parc i als carrers del barri" .\n', 1000)
    assert untagged is not None and set(untagged.texts) == {"ca"}
    assert from_ntriples(iri, f'<{iri}> <http://purl.org/dc/terms/title> "  "@fr .\n',
                         1000) is None
    assert from_ntriples(iri, f'<{iri}> <http://purl.org/dc/terms/title> "Vélo"@fr .\n'
                              f'<{iri}> <https://w3id.org/dds/ns#state> '
                              '<https://w3id.org/dds/state/withdrawn> .\n', 1000) is None


def test_one_run_at_a_time(corpus: Path) -> None:
    import fcntl

    from ddsnode.problem import Conflict
    (corpus / "analysis").mkdir(exist_ok=True)
    with open(corpus / "analysis" / "run.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a run in another process holds it
        with pytest.raises(Conflict):
            analyse(Settings.load(corpus), corpus)
    assert analyse(Settings.load(corpus), corpus).written > 0


def test_topics_are_labelled_in_the_languages_translations_carry(corpus: Path) -> None:
    spec = {"title": {"fr": "Une piste cyclable protégée sur le pont",
                      "en": "A protected bike lane on the bridge",
                      "es": "Un carril bici protegido en el puente"},
            "body": {"fr": "Protéger les cyclistes sur le pont avec une piste séparée.",
                     "en": "Protect cyclists on the bridge with a separate lane.",
                     "es": "Proteger a los ciclistas en el puente con un carril separado."},
            "machineTranslated": ["en", "es"]}
    write(corpus, proposal_doc("bike-bridge", spec))
    analyse(Settings.load(corpus), corpus)
    topic = next(lines for iri, lines in outputs(corpus).items() if "/topic-" in iri and
                 BASE + "proposals/bike-bridge" in objects(lines, DDS + "member"))
    labels = {line.rsplit("@", 1)[1].split()[0] for line in topic if "prefLabel" in line}
    assert {"fr", "en", "es"} <= labels

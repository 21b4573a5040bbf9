"""Duplicate candidates at scale (issue 13): the blocked product that skips the lower
triangle and the measure checks read once per text find exactly the pairs of the plain
all-pairs definition, on real Make.org proposals and across block boundaries; an
incremental run does not rewrite every link for its score's fourth decimal."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from ddsnode.analysis import duplicates
from ddsnode.analysis.corpus import Contribution, from_store
from ddsnode.analysis.documents import duplicate_iri
from ddsnode.analysis.measures import difference, differs, read, statement
from ddsnode.analysis.run import analyse
from ddsnode.analysis.text import analyse_text
from ddsnode.ldp.node import Node
from ddsnode.settings import Settings
from tests.support.analysis_corpus import (
    BASE,
    make_node,
    proposal_doc,
    stored_outputs,
    triples,
    write,
)

DDS = "https://w3id.org/dds/ns#"
DATA = (Path(__file__).resolve().parent.parent.parent / "shared" / "data"
        / "makeorg-mondedapres" / "mondedapres_2020_05_28.csv")


def _proposals(n: int) -> list[Contribution]:
    with DATA.open(encoding="utf-8") as f:
        rows = [r["proposition"].strip() for _, r in zip(range(n), csv.DictReader(f),
                                                         strict=False)]
    return [Contribution(f"makeorg:{i:05d}", "Proposal", texts={"fr": t})
            for i, t in enumerate(rows)]


@pytest.mark.skipif(not DATA.is_file(), reason="the Make.org data is not in ../shared/data")
def test_blocked_pairs_are_the_all_pairs_definition() -> None:
    items = _proposals(4_500)  # three blocks of 2,000 rows: pairs within and across blocks
    threshold = 0.45
    found = duplicates.scores(items, threshold)
    members = duplicates.comparable(items)
    x = duplicates.matrix([analyse_text(c.texts["fr"], "fr") for c in members])
    assert x is not None and x.shape[0] > 2 * duplicates._BLOCK
    dense = (x @ x.T).toarray()
    expected = {}
    for i, j in zip(*np.nonzero(np.triu(dense >= threshold, k=1)), strict=True):
        a, b = members[int(i)], members[int(j)]
        if difference(a.texts["fr"], b.texts["fr"], "fr") is None:
            expected[(a.iri, b.iri)] = round(min(1.0, float(dense[i, j])), 4)
    assert len(expected) > 50  # real near pairs, some across blocks
    assert {k: v.score for k, v in found.items()} == expected
    across = [k for k in expected
              if int(k[0].split(":")[1]) // 2_000 != int(k[1].split(":")[1]) // 2_000]
    assert across


def test_read_once_agrees_with_the_pairwise_check() -> None:
    texts = ["Il faut limiter les écarts de salaire de 1 à 5.",
             "Il faut limiter les écarts de salaires de 1 à 10",
             "Il faut manger bio et local.", "Il faut ne manger que local",
             "Il faut plafonner les salaires et augmenter le SMIC.",
             "Il faut plafonner les salaires"]
    for a in texts:
        for b in texts:
            assert differs(read(statement(a), "fr"), read(statement(b), "fr")) \
                == difference(a, b, "fr")


def _links(node_dir: Path) -> dict[str, tuple[float, str]]:
    """Duplicate link IRI -> (similarity score, the run that wrote it)."""
    out = {}
    for iri, ntriples in stored_outputs(node_dir, "/duplicate-").items():
        score, run = None, None
        for t in triples(ntriples):
            if t.predicate.value == DDS + "similarityScore":
                score = float(t.object.value)
            elif t.predicate.value == "http://www.w3.org/ns/prov#wasGeneratedBy":
                run = t.object.value
        assert score is not None and run is not None
        out[iri] = (score, run)
    return out


def _fresh(node_dir: Path) -> dict[str, float]:
    """Duplicate link IRI -> the score a run computes now (every weight from today's data)."""
    settings = Settings.load(node_dir)
    node = Node.open(settings)
    try:
        items = list(from_store(node.store, BASE, max_items=10_000, max_chars=20_000))
    finally:
        node.close()
    return {duplicate_iri(BASE, a, b): c.score
            for (a, b), c in duplicates.scores(items, settings.analysis_duplicate_threshold
                                               ).items()}


def test_an_incremental_run_keeps_a_link_whose_score_barely_moved(tmp_path: Path) -> None:
    """New contributions shift every TF-IDF weight: a link is rewritten when its score moves
    by SCORE_TOLERANCE or more (or with --full), not for its fourth decimal."""
    make_node(tmp_path / "node")
    node_dir = tmp_path / "node"
    settings = Settings.load(node_dir)
    first = analyse(settings, node_dir)
    before = _links(node_dir)
    assert before and {run for _, run in before.values()} == {first.run}
    write(node_dir, proposal_doc("trees", {
        "title": {"fr": "Planter des arbres dans les cours d'école"},
        "body": {"fr": "Des arbres et de l'ombre dans chaque cour d'école, pour les enfants "
                       "l'été."}}))
    fresh = _fresh(node_dir)
    second = analyse(settings, node_dir)
    after = _links(node_dir)
    kept = 0
    for iri, (score, run) in before.items():
        assert iri in fresh
        if abs(fresh[iri] - score) < duplicates.SCORE_TOLERANCE:
            assert after[iri] == (score, first.run)  # not rewritten
            kept += fresh[iri] != score
        else:
            assert after[iri] == (fresh[iri], second.run)
    assert kept  # a score that moved a little, kept
    analyse(settings, node_dir, full=True)
    assert {iri: score for iri, (score, _) in _links(node_dir).items()} == fresh

"""Topic IRIs that outlive a refit (issue 13): a refit's clusters are matched to the previous
run's by member overlap and keep their IRIs; new topics get new IRIs; vanished ones go."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ddsnode.analysis.lineage import MATCH_JACCARD, first_names, inherited_names
from ddsnode.analysis.run import analyse
from ddsnode.analysis.topics import TopicModel
from ddsnode.ldp.node import Node
from ddsnode.settings import Settings
from tests.support.analysis_corpus import BASE, delete, make_node, proposal_doc, write
from tests.test_analysis_tier1 import DDS, objects, outputs


def members(names: list[str], assignment: dict[str, int]) -> dict[str, set[str]]:
    """Topic name -> its members."""
    out: dict[str, set[str]] = {}
    for iri, topic in assignment.items():
        out.setdefault(names[topic], set()).add(iri)
    return out


def test_matched_topics_keep_their_names_new_ones_get_new_names() -> None:
    previous = {"a1": 0, "a2": 0, "a3": 0, "b1": 1, "b2": 1, "b3": 1, "c1": 2, "c2": 2}
    old_names = ["m1-0", "m1-1", "old-7"]
    # The refit numbers its topics differently, moves one member, drops topic c, and
    # finds a new topic d.
    now = {"a1": 2, "a2": 2, "a3": 0, "b1": 0, "b2": 0, "b3": 0, "d1": 1, "d2": 1}
    names = inherited_names("m2", 3, now, old_names, previous)
    assert names[2] == "m1-0"  # a: two of its three members (Jaccard 2/3)
    assert names[0] == "m1-1"  # b, with a3 joining it (Jaccard 3/4)
    assert names[1] == "m2-1"  # d is new: a new name, from this fit
    assert "old-7" not in names  # c vanished
    assert names == inherited_names("m2", 3, now, old_names, previous)  # deterministic


def test_a_model_saved_before_names_keeps_its_published_iris(tmp_path: Path) -> None:
    model = TopicModel("abc123", ["velo", "arbre"], np.ones(2), np.eye(2), ["fr", "fr"],
                       ["vélo", "arbre"])
    assert model.names == ["abc123-0", "abc123-1"]
    np.savez_compressed(tmp_path / "old.npz", model_id=np.array("abc123"),
                        vocabulary=np.array(model.vocabulary), idf=model.idf,
                        components=model.components, term_language=np.array(["fr", "fr"]),
                        term_display=np.array(["vélo", "arbre"]))  # no names: last session's
    old = TopicModel.load(tmp_path / "old.npz")
    assert old is not None and old.names == ["abc123-0", "abc123-1"]
    model.names = ["x-0", "y-3"]
    model.save(tmp_path / "new.npz")
    again = TopicModel.load(tmp_path / "new.npz")
    assert again is not None and again.names == ["x-0", "y-3"]


def test_a_weak_overlap_is_not_the_same_topic() -> None:
    previous = {f"x{i}": 0 for i in range(10)}
    now = {**{f"x{i}": 0 for i in range(2)}, **{f"y{i}": 0 for i in range(8)}}
    assert 2 / 18 < MATCH_JACCARD
    assert inherited_names("m2", 1, now, ["m1-0"], previous) == ["m2-0"]


def test_no_history_and_a_name_still_held() -> None:
    assert inherited_names("m1", 2, {"a": 0, "b": 1}, [], {}) == first_names("m1", 2)
    # A cold refit of the same input has the same model id: a new topic whose default
    # name a kept topic holds gets a suffix, never the same IRI as another topic.
    assert inherited_names("m1", 2, {"a": 1, "z": 0}, ["m1-1"], {"a": 0}) == ["m1-0", "m1-1"]
    clash = inherited_names("m1", 2, {"a": 0, "z": 1}, ["m1-1"], {"a": 0})
    assert clash == ["m1-1", "m1-1-1"]


BRIDGE = {"title": {"fr": "Une piste cyclable sur le pont"},
          "body": {"fr": "Une piste cyclable protégée sur le pont, pour les vélos qui vont des "
                         "quais à l'école."}}
HOUSING = {
    "housing-rent": {"title": {"fr": "Encadrer les loyers des logements"},
                     "body": {"fr": "Encadrer les loyers des logements du centre pour que les "
                                    "familles puissent se loger près de leur travail."}},
    "housing-empty": {"title": {"fr": "Réquisitionner les logements vacants"},
                      "body": {"fr": "Réquisitionner les logements vacants depuis deux ans pour "
                                     "loger les familles sans logement."}},
    "housing-social": {"title": {"fr": "Construire des logements sociaux"},
                       "body": {"fr": "Construire des logements sociaux pour les familles et "
                                      "encadrer les loyers du parc privé."}},
    "housing-students": {"title": {"fr": "Des logements pour les étudiants"},
                         "body": {"fr": "Transformer les bureaux vides en logements étudiants "
                                        "aux loyers modérés."}},
}


def topics_by_member(found: dict[str, set[str]]) -> dict[str, str]:
    """Contribution -> the IRI of its topic."""
    out = {}
    for iri, lines in found.items():
        if "/topic-" in iri:
            for member in objects(lines, DDS + "member"):
                out[member] = iri
    return out


@pytest.fixture(scope="module")
def refits(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, set[str]]]:
    """Four runs on one node: two topics; one proposal added and an anchored refit; four
    housing proposals added and a refit to three topics (cold: another size); the housing
    proposals deleted and a refit to two."""
    node_dir = tmp_path_factory.mktemp("lineage") / "node"
    make_node(node_dir, {"analysis_topics": 2})
    seen = []
    analyse(Settings.load(node_dir), node_dir)
    first = outputs(node_dir)
    # One more proposal and a refit of the same size: anchored to the model, IRIs kept.
    write(node_dir, proposal_doc("bike-bridge", BRIDGE))
    report = analyse(Settings.load(node_dir).replace(analysis_refit_ratio=0.0), node_dir)
    assert report.refitted
    seen.append(outputs(node_dir))
    anchored = topics_by_member(seen[0])
    assert set(anchored.values()) == set(topics_by_member(first).values())
    assert anchored[BASE + "proposals/bike-bridge"] == anchored[BASE + "proposals/bike-quays"]
    for slug, spec in HOUSING.items():
        write(node_dir, proposal_doc(slug, spec))
    analyse(Settings.load(node_dir).replace(analysis_topics=3, analysis_refit_ratio=0.0), node_dir)
    seen.append(outputs(node_dir))
    for slug in HOUSING:
        delete(node_dir, f"{BASE}proposals/{slug}")
    analyse(Settings.load(node_dir), node_dir, full=True)
    seen.append(outputs(node_dir))
    node = Node.open(Settings.load(node_dir))
    try:  # a vanished topic answers 410 (a tombstone), not a silent hole
        gone = sorted(set(topics_by_member(seen[1]).values())
                      - set(topics_by_member(seen[2]).values()))
        kinds = [node.store.get(iri) for iri in gone]
        assert gone and all(k is not None and k.kind == "tombstone" for k in kinds)
    finally:
        node.close()
    return seen


def test_a_refit_keeps_the_iris_of_the_topics_it_keeps(
        refits: list[dict[str, set[str]]]) -> None:
    first, second, third = (topics_by_member(found) for found in refits)
    assert len(set(first.values())) == 2
    for slug in ("bike-quays", "trees-park"):  # one of each topic
        iri = BASE + f"proposals/{slug}"
        assert first[iri] == second[iri] == third[iri]
    # The housing topic is new: a new IRI, no older topic's.
    housing = {second[BASE + f"proposals/{slug}"] for slug in HOUSING}
    assert len(housing) == 1 and not housing & set(first.values())


def test_a_vanished_topic_is_removed(refits: list[dict[str, set[str]]]) -> None:
    second, third = topics_by_member(refits[1]), topics_by_member(refits[2])
    housing = second[BASE + "proposals/housing-rent"]
    assert housing not in set(third.values())
    assert not any(iri == housing for iri in refits[2])
    assert set(third.values()) == set(topics_by_member(refits[0]).values())

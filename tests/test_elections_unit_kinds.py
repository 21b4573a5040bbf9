"""Kinds of geopolitical unit as a SKOS scheme (issue 14, ``schemes/unit-kind.ttl``).

The scheme must cover every ``gpUnitType`` the node writes: NIST's ReportingUnitType
values (the export's list and NIST's schema), those in the examples, and those the
importers write from the real samples; and label each in the explorer's four languages.
"""

from __future__ import annotations

import json
from pathlib import Path

import rdflib

from ddsnode import resources
from ddsnode.elections import export
from ddsnode.elections.unit_kinds import (
    NIST_OTHER,
    SCHEME,
    concept_iri,
    unit_kind_label,
    unit_kinds,
)
from ddsnode.rdf.vocab import SKOS

SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "data" / "elections" / \
    "nist-cdf" / "NIST_V2_election_results_reporting.json"


def test_scheme_is_nists_list_plus_european_kinds() -> None:
    nist = json.loads(SCHEMA.read_text(encoding="utf-8"))["definitions"][
        "ElectionResults.ReportingUnitType"]["enum"]
    assert set(unit_kinds()) == set(nist) | set(NIST_OTHER)
    assert set(nist) == export.UNIT_TYPES


def test_every_kind_has_four_labels() -> None:
    missing = [(w, lang) for w, labels in unit_kinds().items() for lang in ("en", "fr", "ca", "es")
               if not labels.get(lang)]
    assert missing == []


def test_every_kind_in_the_examples_is_a_concept() -> None:
    used = {json.loads(p.read_text(encoding="utf-8")).get("gpUnitType")
            for p in resources.examples_dir().glob("e-place-*.jsonld")} - {None}
    assert used and all(concept_iri(w) for w in used), used


def test_concepts_are_well_formed() -> None:
    graph = rdflib.Graph().parse(resources.ontology_dir() / "schemes" / "unit-kind.ttl")
    scheme = rdflib.URIRef(SCHEME)
    tops = set(graph.objects(scheme, SKOS.hasTopConcept))
    for word in unit_kinds():
        concept = rdflib.URIRef(f"{SCHEME}/{word}")
        assert concept in tops
        assert str(graph.value(concept, SKOS.notation)) == word
        assert {o.language for o in graph.objects(concept, SKOS.definition)} >= {"en", "fr"}


def test_labels() -> None:
    assert unit_kind_label("polling-place", "fr") == "bureau de vote"
    assert unit_kind_label("polling-place", "es") == "colegio electoral"
    assert unit_kind_label("municipality", "ca") == "municipi"
    assert unit_kind_label("polling-place", "de") == "polling place"
    assert unit_kind_label("Kieskring 7", "fr") == "Kieskring 7"


def test_every_kind_the_importers_write_is_a_concept(tmp_path: Path) -> None:
    """The real samples through each importer: every gpUnitType written has a concept."""
    from ddsnode.commands.node import init_node
    from ddsnode.elections.loading import node_graph
    from ddsnode.elections.run import import_eml, import_nist, import_openelections
    from ddsnode.ldp.node import Node
    from ddsnode.rdf.vocab import DDS
    from ddsnode.settings import Settings

    shared = SCHEMA.parents[1]
    node_dir = tmp_path / "node"
    init_node(node_dir, base_url="http://127.0.0.1:8000/")
    settings = Settings.load(node_dir)
    import_nist(settings, node_dir, shared / "civics-cdf-samples" /
                "post_election_sample_feed_summary.xml")
    import_eml(settings, node_dir, shared / "kiesraad-eml" /
               "Fake_test_data_Telling_TK2023_gemeente_Dordrecht.eml.xml")
    csv = tmp_path / "20200811__ga__primary__general__runoff.csv"
    with (shared / "openelections" / csv.name).open(encoding="utf-8") as f:
        csv.write_text("".join(next(f) for _ in range(30)), encoding="utf-8")
    import_openelections(settings, node_dir, csv)
    node = Node.open(settings)
    try:
        graph = node_graph(node)
    finally:
        node.close()
    written = {str(o) for o in graph.objects(None, DDS.gpUnitType)}
    assert {"polling-place", "municipality", "electoral-district", "state", "county",
            "precinct"} <= written
    assert [w for w in written if concept_iri(w) is None] == []

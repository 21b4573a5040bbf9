"""The framework-free core: ``Node`` used without HTTP, as the CLI and importers do."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ddsnode import resources
from ddsnode.commands.node import init_node
from ddsnode.federation import reactions
from ddsnode.federation.database import FederationDB
from ddsnode.ldp import conneg, records
from ddsnode.ldp.node import Found, Node
from ddsnode.problem import Conflict, Gone, PreconditionFailed, ValidationFailed

BASE = "http://node.test/"


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    settings = init_node(tmp_path / "n", base_url=BASE)
    node = Node.open(settings)
    yield node
    node.close()


def example(name: str) -> tuple[str, bytes]:
    text = (resources.examples_dir() / f"{name}.jsonld").read_text("utf-8")
    text = text.replace("https://participa.rivemont.example/", BASE)
    return json.loads(text)["id"], text.encode()


def test_write_document_stores_a_resource_rendered_in_every_media_type(node: Node) -> None:
    iri, body = example("a-proposal-protected-bike-lanes")
    stored = node.write_document(iri, body, "application/ld+json")
    assert stored.iri == iri and stored.version == 1 and stored.container == BASE + "proposals/"
    found = node.read(node.target(iri))
    tags = set()
    for offer in (conneg.JSONLD, conneg.JSONLD_EXPANDED, conneg.TURTLE, conneg.NTRIPLES,
                  conneg.HTML, conneg.JSON):
        rep = node.rendered(node.target(iri), found, offer)
        assert rep is not None and rep.body and rep.etag.startswith('"')
        current = node.store.get(iri)
        assert current is not None
        again = node.rendered(node.target(iri), Found(current), offer)
        assert again == rep  # same bytes, same strong ETag, whichever copy asks
        tags.add(rep.etag)
    assert len(tags) == 6  # one strong validator per representation
    assert node.rendered(node.target(iri), found, "image/png") is None
    assert "https://w3id.org/dds/ns#Proposal" in stored.index.types
    assert "https://w3id.org/dds/topic/mobility" in stored.index.topics
    assert stored.index.lat == pytest.approx(45.764)
    assert stored.index.title == "Protected bike lanes on the Quai des Tanneurs"
    assert node.read(node.target(iri)).resource.version == 1


def test_create_only_refuses_an_existing_resource(node: Node) -> None:
    iri, body = example("a-comment-c-101")
    node.write_document(iri, body, "application/ld+json", create_only=True)
    with pytest.raises(PreconditionFailed):
        node.write_document(iri, body, "application/ld+json", create_only=True)


def test_invalid_documents_raise_validation_failed_with_the_report(node: Node) -> None:
    text = (resources.examples_dir() / "invalid" / "proposal-missing-title.jsonld").read_text()
    text = text.replace("https://participa.rivemont.example/", BASE)
    iri = json.loads(text)["id"]
    with pytest.raises(ValidationFailed) as caught:
        node.write_document(iri, text.encode(), "application/ld+json")
    assert caught.value.extra["errors"] and "report" in caught.value.extra
    assert node.store.get(iri) is None


def test_delete_leaves_a_tombstone(node: Node) -> None:
    iri, body = example("a-reaction-s-501")
    node.write_document(iri, body, "application/ld+json")
    node.delete(iri)
    with pytest.raises(Gone):
        node.read(node.target(iri))
    stored = node.store.get(iri)
    assert stored is not None and stored.kind == "tombstone"
    rep = node.renderings.get(stored, conneg.TURTLE)
    assert rep is not None and b"Tombstone" in rep.body


def test_containers_are_created_once_and_are_not_writable(node: Node) -> None:
    again = Node(node.settings, node.store)
    again.ensure_containers()
    root = node.store.get(BASE)
    assert root is not None and root.kind == "container" and root.version == 1
    with pytest.raises(Conflict):
        node.put(BASE + "proposals/a/b", b"{}", "application/ld+json")


def test_new_counts_move_last_modified_of_the_resource_and_its_container(
        node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    iri, body = example("a-proposal-protected-bike-lanes")
    stored = node.write_document(iri, body, "application/ld+json")
    container = node.target(BASE + "proposals/")
    page = node.container_view(container, node.read(container).resource, conneg.TURTLE, {})
    assert page.modified == stored.modified
    later = stored.modified + timedelta(seconds=5)

    class Clock(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return later

    ledger = reactions.ReactionLedger(FederationDB(node.settings.node_dir))
    node.write_hooks.append(reactions.keep_counts(ledger))
    ledger.mark_counted(iri)
    ledger.record("https://peer.example/s/1", "https://peer.example/p/1", iri, "support",
                  "https://peer.example/")
    monkeypatch.setattr(records, "datetime", Clock)
    assert node.recount(iri) is not None
    recounted = node.read(node.target(iri)).resource
    assert recounted.modified == later  # the bytes changed, so must Last-Modified
    again = node.container_view(container, node.read(container).resource, conneg.TURTLE, {})
    assert again.modified == later  # a member changed (its page entry need not have)

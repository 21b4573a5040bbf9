"""The change feed over a real store, and the node description peers read."""

from __future__ import annotations

import json
from pathlib import Path

import rdflib

from ddsnode import resources
from ddsnode.commands.node import init_node
from ddsnode.federation.feed import ChangeFeed, cursor_of
from ddsnode.federation.peers import read_description
from ddsnode.keys import KEY_FILE, load_node_key, public_key_pem
from ddsnode.ldp.description import describe_node
from ddsnode.ldp.node import Node

BASE = "http://127.0.0.1:8999/"


def _node(tmp_path: Path, **extra: str) -> Node:
    settings = init_node(tmp_path / "n", base_url=BASE, extra=dict(extra))
    return Node.open(settings)


def _example(name: str) -> tuple[str, bytes]:
    text = (resources.examples_dir() / f"{name}.jsonld").read_text("utf-8")
    text = text.replace("https://participa.rivemont.example/", BASE)
    return json.loads(text)["id"], text.encode()


def test_pages_carry_a_cursor_and_skip_unpublished_changes(tmp_path: Path) -> None:
    node = _node(tmp_path, open_containers="open/")
    try:
        feed = ChangeFeed(node.store, BASE, node.containers)
        start = feed.latest()
        iri, body = _example("a-proposal-school-streets")
        node.write_document(iri, body, "application/ld+json")
        node.put(BASE + "open/note", b"<#a> <#b> <#c> .", "text/turtle")
        node.delete(iri)
        page = feed.page(start)
        assert [(a["type"], a["object"]["id"]) for a in page["orderedItems"]] == [
            ("Create", iri), ("Delete", iri)]
        assert page["orderedItems"][0]["object"]["type"] == [
            "https://w3id.org/dds/ns#Proposal"]
        assert page["orderedItems"][0]["id"].startswith(BASE + "feed#change-")
        cursor = cursor_of(page)
        assert cursor == feed.latest() and cursor > start
        empty = feed.page(cursor)  # a warm re-sync: one empty page, same cursor
        assert empty["orderedItems"] == [] and cursor_of(empty) == cursor
        collection = feed.collection()
        assert collection["type"] == "OrderedCollection"
        assert collection["totalItems"] == cursor and collection["first"].endswith("after=0")
        small = feed.page(start, limit=1)
        assert len(small["orderedItems"]) == 1 and cursor_of(small) == start + 1
    finally:
        node.close()


def test_the_description_publishes_key_inbox_and_feed(tmp_path: Path) -> None:
    node = _node(tmp_path)
    try:
        pem = public_key_pem(load_node_key(tmp_path / "n" / KEY_FILE))
        graph = rdflib.Graph()
        describe_node(graph, BASE, pem)
        described = read_description(graph.serialize(format="turtle").encode(),
                                     "text/turtle", BASE)
        assert described.keyid == BASE + "#main-key" and described.key_pem == pem
        assert described.inbox == BASE + "inbox" and described.feed == BASE + "feed"
        root = node.store.get(BASE)
        assert root is not None and pem.strip().splitlines()[1] in root.ntriples
    finally:
        node.close()

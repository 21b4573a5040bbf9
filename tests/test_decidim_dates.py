"""Decidim's creation dates become the resources' own ``dct:created`` (issue 10, item 3).

The node keeps a resource's ``dct:created`` as sent; the importer sends Decidim's
``created_at``. So an import — and a re-import over resources an older import (or a
write without the date) left with the node's clock — gives each resource the date the
participant made it on the platform; ``published`` stays Decidim's ``published_at``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ddsnode.ldp.node import Node
from ddsnode.settings import Settings
from tests.support import decidim_variants as variants
from tests.support.inprocess import LocalNode, local_node
from tests.test_decidim_hostile_size import SLUG, run_import

ENTITIES = {"proposals": "proposals/{slug}-{id}", "debates": "proposals/{slug}-debate-{id}",
            "proposal_comments": "comments/{slug}-{id}", "results": "results/{slug}-{id}"}


def xsd(decidim: str) -> str:
    """Decidim's ``2025-01-29 11:17:44 UTC`` as the xsd:dateTime the importer writes."""
    moment = datetime.strptime(decidim, "%Y-%m-%d %H:%M:%S %Z").replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def export(folder: Path) -> dict[str, list[dict[str, str]]]:
    variants.copy_export(folder, ENTITIES, max_rows=4)
    return {entity: variants.read(folder, entity)[1] for entity in ENTITIES}


def created(node: LocalNode, path: str) -> tuple[str, str | None]:
    with node.client() as http:
        doc = http.get(path, headers={"Accept": "application/ld+json"}).json()
    item = next((d for d in doc.get("@graph", [doc]) if d.get("id") == node.url(path)), doc)
    return item["created"], item.get("published")


def test_created_is_decidims_created_at(tmp_path: Path) -> None:
    rows = export(tmp_path / "export")
    with local_node(tmp_path) as node:
        assert run_import(node, tmp_path / "export")["totals"]["rejected"] == 0
        for entity, pattern in ENTITIES.items():
            for row in rows[entity]:
                path = pattern.format(slug=SLUG, id=row["id"])
                got, published = created(node, path)
                assert got == xsd(row["created_at"]), (entity, row["id"])
                if row.get("published_at"):
                    assert published == xsd(row["published_at"])
        again = run_import(node, tmp_path / "export")
        assert again["totals"]["updated"] == again["totals"]["created"] == 0


def test_reimport_restores_the_creation_date(tmp_path: Path) -> None:
    rows = export(tmp_path / "export")
    proposal = rows["proposals"][0]
    path = f"proposals/{SLUG}-{proposal['id']}"
    with local_node(tmp_path) as node:
        run_import(node, tmp_path / "export")
        # What an older import left: the same document with the node's clock as its date.
        opened = Node.open(Settings.load(node.dir))
        try:
            stored = opened.store.get(node.url(path))
            assert stored is not None
            dated = f'<{node.url(path)}> <http://purl.org/dc/terms/created> '
            ntriples = "\n".join(line for line in stored.ntriples.splitlines()
                                 if not line.startswith(dated))
            opened.write_document(node.url(path), ntriples.encode(), "application/n-triples")
        finally:
            opened.close()
        assert created(node, path)[0] != xsd(proposal["created_at"])
        (node.dir / "imports.db").unlink()  # and no ledger: compared by content
        report = run_import(node, tmp_path / "export")
        assert report["counts"]["proposals"]["updated"] >= 1
        assert created(node, path)[0] == xsd(proposal["created_at"])

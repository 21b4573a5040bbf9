"""Speed of the analysis's tier 1 (issue 13) on N real contributions, cold and incremental.

Make.org "Le monde d'après" proposals (18,690; CC0) are the input, in memory (reading them
from a store is the ``reading`` stage of ``ddsnode analyse`` and is not timed here). Each
stage is printed in seconds and as a ratio to the baseline measured in the same run: one
pass of the tokeniser over the same texts (lemmas, stopwords), the least any method here
must do.

    .venv/bin/python bench/analysis_speed.py [--n 10000] [--new 1000]
    .venv/bin/python bench/analysis_speed.py --node DIR [--n 10000] [--new 1000]

With ``--node DIR`` it runs ``ddsnode analyse`` end to end on a node made in DIR (a new
directory): N proposals written through the write path (not timed), a cold run, then NEW
more proposals and an incremental run (reading the store and writing outputs included).
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ddsnode.analysis import duplicates, topics
from ddsnode.analysis.corpus import Contribution
from ddsnode.analysis.text import analyse_text, lemma
from ddsnode.settings import Settings

DATA = ROOT.parent / "shared" / "data" / "makeorg-mondedapres" / "mondedapres_2020_05_28.csv"


def end_to_end(node_dir: Path, texts: list[str], n: int) -> None:
    import json

    from ddsnode.analysis.run import analyse
    from ddsnode.commands.node import init_node
    from ddsnode.ldp.node import Node
    settings = init_node(node_dir, base_url="http://127.0.0.1:8000/")

    def fill(items: list[tuple[int, str]]) -> float:
        node = Node.open(settings)
        start = time.perf_counter()
        try:
            with node.store.transaction():
                for i, text in items:
                    iri = f"{settings.base_url}proposals/m{i}"
                    doc = {"@context": "https://w3id.org/dds/context/v1", "id": iri,
                           "type": "Proposal", "title": {"fr": text[:200]}, "body": {"fr": text}}
                    node.write_document(iri, json.dumps(doc).encode(), "application/ld+json")
        finally:
            node.close()
        return time.perf_counter() - start

    took = fill(list(enumerate(texts[:n])))
    print(f"filled {n:,} proposals through the write path in {took:.0f} s (not analysis)")
    start = time.perf_counter()
    report = analyse(settings, node_dir)
    cold = time.perf_counter() - start
    print(f"analyse, cold, {n:,}: {cold:.1f} s ({report.topics} topics, "
          f"{report.duplicates} duplicate links, written {report.written})")
    fill(list(enumerate(texts[n:], n)))
    start = time.perf_counter()
    report = analyse(settings, node_dir)
    warm = time.perf_counter() - start
    print(f"analyse, incremental, +{len(texts) - n:,}: {warm:.1f} s "
          f"(refitted: {report.refitted}; written {report.written}, unchanged "
          f"{report.unchanged}); {warm / cold:.2f} x the cold run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="contributions analysed cold")
    parser.add_argument("--new", type=int, default=1_000, help="contributions added after")
    parser.add_argument("--node", type=Path, help="run end to end on a new node in this directory")
    args = parser.parse_args()
    with DATA.open(encoding="utf-8") as f:
        rows = [r["proposition"].strip() for r in csv.DictReader(f)]
    rng = random.Random(13)
    texts = [rows[i % len(rows)] for i in rng.sample(range(len(rows)), min(len(rows),
                                                                            args.n + args.new))]
    while len(texts) < args.n + args.new:  # past 18,690: repeat with a varying suffix
        texts.append(f"{rng.choice(rows)} ({len(texts)})")
    if args.node:
        end_to_end(args.node, texts, args.n)
        return
    corpus = [Contribution(f"makeorg:{i}", "Proposal", texts={"fr": t})
              for i, t in enumerate(texts)]
    cold, new = corpus[:args.n], corpus[args.n:]

    lemma.cache_clear()
    analyse_text.cache_clear()
    t0 = time.perf_counter()
    for c in cold:
        analyse_text(c.texts["fr"], "fr")
    baseline = time.perf_counter() - t0
    lemma.cache_clear()
    analyse_text.cache_clear()

    def timed(name: str, fn):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        out = fn()
        took = time.perf_counter() - start
        print(f"{name:<44}{took:>8.1f} s{took / baseline:>9.1f} x baseline")
        return out

    print(f"baseline: tokenising {len(cold):,} texts once: {baseline:.2f} s")
    model = timed(f"topics: fit on {len(cold):,}", lambda: topics.fit(cold, 0))
    timed(f"topics: assign {len(cold):,}", lambda: topics.assign(model, cold))
    threshold = float(Settings({}).analysis_duplicate_threshold)
    found = timed(f"duplicates: all pairs of {len(cold):,}",
                  lambda: duplicates.scores(cold, threshold))
    print(f"  ({len(found):,} candidates at {threshold}, after the measure checks)")
    timed(f"incremental: assign {len(new):,} new", lambda: topics.assign(model, new))
    timed(f"incremental: duplicates of {len(cold) + len(new):,}",
          lambda: duplicates.scores(cold + new, threshold))
    timed(f"refit anchored to the model: {len(cold) + len(new):,}",
          lambda: topics.fit(cold + new, 0, previous=model))


if __name__ == "__main__":
    main()

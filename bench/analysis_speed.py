"""Speed of the analysis's tier 1 (issue 13) on N real contributions, cold and incremental.

Make.org "Le monde d'après" proposals (18,690; CC0) are the input, in memory (reading them
from a store is the ``reading`` stage of ``ddsnode analyse`` and is not timed here), in an
order drawn with seed 13. Past 18,690 (100,000 asks for 81,310 more), each further text is
**spliced**: the first half of the words of one proposal (its action: "Il faut taxer …")
followed by the second half of another's (its object), both drawn with the same seed.
Repeating proposals, even with a suffix, would make each copy an exact duplicate of its
source; a spliced text shares half its words with each source, so it is sometimes a
candidate of one of them. Its effect, measured: 211,946 candidates at 100,000, where the
density of the real proposals (1,150 at 10,000; 4,107 at 18,690: growing as n squared)
would give about 115,000, so the duplicate stage works on 1.8 times the pairs a real
corpus of that size would have, and its figures are on the side of caution. ``--decidim``
adds the Decidim export's 45 proposals (en and ca, es machine-translated) and 202
comments (with their alignment as stance), so that every language path and the summaries
run.

Each stage is printed in seconds of wall clock and of CPU (the process's, all threads),
with the load average before and after, and as a ratio to the baseline measured in the
same run: one pass of the tokeniser over the same texts (lemmas, stopwords), the least any
method here must do. ``--checksum`` prints a SHA-256 of every output (vocabulary, topics,
assignments, candidates, summaries) to show that a change keeps them.

    .venv/bin/python bench/analysis_speed.py [--n 10000] [--new 1000] [--decidim] [--checksum]
    .venv/bin/python bench/analysis_speed.py --node DIR [--n 10000] [--new 1000]

With ``--node DIR`` it runs ``ddsnode analyse`` end to end on a node made in DIR (a new
directory): N proposals written through the write path (not timed), a cold run, then NEW
more proposals and an incremental run (reading the store and writing outputs included).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np

from ddsnode.analysis import duplicates, summaries, topics
from ddsnode.analysis.corpus import Contribution
from ddsnode.analysis.text import analyse_text, content, lemma
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
    start, cpu, load = time.perf_counter(), time.process_time(), _load()
    report = analyse(settings, node_dir)
    cold = time.perf_counter() - start
    print(f"analyse, cold, {n:,}: {cold:.1f} s, {time.process_time() - cpu:.1f} s CPU, "
          f"load {load}-{_load()} ({report.topics} topics, "
          f"{report.duplicates} duplicate links, written {report.written})", flush=True)
    fill(list(enumerate(texts[n:], n)))
    start, cpu, load = time.perf_counter(), time.process_time(), _load()
    report = analyse(settings, node_dir)
    warm = time.perf_counter() - start
    print(f"analyse, incremental, +{len(texts) - n:,}: {warm:.1f} s, "
          f"{time.process_time() - cpu:.1f} s CPU, load {load}-{_load()} "
          f"(refitted: {report.refitted}; written {report.written}, unchanged "
          f"{report.unchanged}); {warm / cold:.2f} x the cold run")


def _decidim() -> list[Contribution]:
    """The Decidim export's proposals (en and ca, es machine-translated) and their comments."""
    folder = DATA.parent.parent / "decidim-nightly"
    csv.field_size_limit(1 << 24)
    out = []
    with (folder / "nightly.decidim.org-open-data-proposals.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter=";"):
            texts = {lang: f"{r.get(f'title/{lang}', '')}\n{r.get(f'body/{lang}', '')}".strip()
                     for lang in ("en", "ca")}
            es = (f"{r.get('title/machine_translations/es', '')}\n"
                  f"{r.get('body/machine_translations/es', '')}").strip()
            if es:
                texts["es"] = es
            out.append(Contribution(f"decidim:proposal/{r['id']}", "Proposal",
                                    texts={k: v for k, v in texts.items() if v},
                                    machine={"es"} if es else set(), platform="decidim"))
    with (folder / "nightly.decidim.org-open-data-proposal_comments.csv").open(
            encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter=";"):
            body, lang = r.get("body", ""), r.get("locale") or "en"
            parent = r.get("root_commentable_url", "").rstrip("/").rsplit("/", 1)[-1]
            if body.strip() and parent:
                stance = {"1": "inFavour", "-1": "against", "0": "neutral"}.get(
                    r.get("alignment", ""), None)
                out.append(Contribution(f"decidim:comment/{r['id']}", "Comment",
                                        texts={lang: body}, stance=stance,
                                        reply_to=f"decidim:proposal/{parent}",
                                        platform="decidim"))
    return out


def texts_for(n: int) -> list[str]:
    """``n`` French proposal texts: the 18,690 Make.org proposals in a seeded order, then
    spliced ones (see the module docstring)."""
    with DATA.open(encoding="utf-8") as f:
        rows = [r["proposition"].strip() for r in csv.DictReader(f)]
    rng = random.Random(13)
    texts = [rows[i] for i in rng.sample(range(len(rows)), min(len(rows), n))]
    while len(texts) < n:  # past 18,690: the action of one, the object of another
        a, b = rows[rng.randrange(len(rows))].split(), rows[rng.randrange(len(rows))].split()
        texts.append(" ".join(a[:max(1, len(a) // 2)] + b[len(b) // 2:]))
    return texts


def _load() -> str:
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="contributions analysed cold")
    parser.add_argument("--new", type=int, default=1_000, help="contributions added after")
    parser.add_argument("--node", type=Path, help="run end to end on a new node in this directory")
    parser.add_argument("--decidim", action="store_true",
                        help="add the Decidim export's proposals and comments")
    parser.add_argument("--checksum", action="store_true",
                        help="print a SHA-256 of every output (to compare two versions)")
    parser.add_argument("--skip-refit", action="store_true", help="leave the refit out")
    args = parser.parse_args()
    texts = texts_for(args.n + args.new)
    if args.node:
        end_to_end(args.node, texts, args.n)
        return
    corpus = [Contribution(f"makeorg:{i:06d}", "Proposal", texts={"fr": t}, platform="makeorg")
              for i, t in enumerate(texts)]
    cold, new = corpus[:args.n], corpus[args.n:]
    if args.decidim:
        cold += _decidim()

    lemma.cache_clear()
    analyse_text.cache_clear()
    content.cache_clear()
    t0, c0 = time.perf_counter(), time.process_time()
    for c in cold:
        analyse_text(c.original, c.language)
    baseline = time.perf_counter() - t0
    print(f"baseline: tokenising {len(cold):,} texts once: {baseline:.2f} s "
          f"({time.process_time() - c0:.2f} s CPU), load average {_load()}")
    lemma.cache_clear()
    analyse_text.cache_clear()
    content.cache_clear()
    digest = hashlib.sha256()

    def timed(name: str, fn):  # type: ignore[no-untyped-def]
        start, cpu, load = time.perf_counter(), time.process_time(), _load()
        out = fn()
        took, used = time.perf_counter() - start, time.process_time() - cpu
        print(f"{name:<44}{took:>8.1f} s{used:>8.1f} s CPU{took / baseline:>8.1f} x baseline"
              f"  load {load}-{_load()}", flush=True)
        return out

    timed(f"tokenise {len(cold):,} (cold caches)",
          lambda: [analyse_text(c.original, c.language) for c in cold])
    model = timed(f"topics: fit on {len(cold):,}", lambda: topics.fit(cold, 0))
    assigned = timed(f"topics: assign {len(cold):,}", lambda: topics.assign(model, cold))
    threshold = float(Settings({}).analysis_duplicate_threshold)
    found = timed(f"duplicates: pairs of {len(cold):,}",
                  lambda: duplicates.scores(cold, threshold))
    print(f"  ({len(found):,} candidates at {threshold}, after the measure checks)")
    made = timed(f"summaries of {len(cold):,}",
                 lambda: summaries.summarise(cold, 5))
    if args.checksum:
        digest.update(repr(sorted(model.vocabulary)).encode())
        digest.update(np.round(model.components, 6).tobytes())
        digest.update(repr(sorted(assigned.items())).encode())
        digest.update(repr(sorted((k, v.score, v.language) for k, v in found.items())).encode())
        digest.update(repr([(s.subject, [t.text for t in s.statements]) for s in made]).encode())
        print(f"checksum of the outputs: {digest.hexdigest()}")
    if not new:
        return
    timed(f"incremental: tokenise {len(new):,} new",
          lambda: [analyse_text(c.original, c.language) for c in new])
    timed(f"incremental: assign {len(new):,} new", lambda: topics.assign(model, new))
    timed(f"incremental: duplicates of {len(cold) + len(new):,}",
          lambda: duplicates.scores(cold + new, threshold))
    if not args.skip_refit:
        timed(f"refit anchored to the model: {len(cold) + len(new):,}",
              lambda: topics.fit(cold + new, 0, previous=model))


if __name__ == "__main__":
    main()

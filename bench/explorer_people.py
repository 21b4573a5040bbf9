"""What a person's page and a contest's candidates cost to render, against pages of the
same node that read nothing beyond their own graph.

    .venv/bin/python bench/explorer_people.py [--rounds 200]

One node in this process (tests/support/inprocess): the example election (the council
contest's first candidate naming a person), Popolo's person and organization examples
(``ddsnode import popolo``, ../shared/data/popolo/examples/) and NIST's Virginia sample
(``ddsnode import nist``: candidates written apart from their contests). Each page is
rendered ``--rounds`` times straight through ``explorer.web.pages.resource_page`` (the
page cache is bypassed: a first render is what the people part adds), and the median is
printed beside the median of a place page (its own graph only) and a party page (the
index's links plus the contests' graphs) of the same run. Read the ratios, not the
milliseconds: the machine is shared. A script, never a test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from ddsnode import resources  # noqa: E402
from ddsnode.cli import main  # noqa: E402
from ddsnode.commands.demo import rebase  # noqa: E402
from ddsnode.explorer.web.pages import resource_page  # noqa: E402
from ddsnode.explorer.web.routes import site_of  # noqa: E402
from ddsnode.explorer.web.site import Reading  # noqa: E402
from ddsnode.rdf.rdfio import graph_from_ntriples  # noqa: E402
from tests.support.inprocess import local_node  # noqa: E402

SHARED = HERE.parent.parent / "shared" / "data"
POPOLO = SHARED / "popolo" / "examples"
NIST = SHARED / "elections" / "civics-cdf-samples" / "pre_election_sample_feed.xml"
CONTEST = "elections/municipal-2026-council"
PERSON = "organisations/ex-person-john-q-public"
PAGES = [("place (baseline)", "places/rivemont"), ("party", "organisations/party-rc"),
         ("contest, candidates in it", CONTEST),
         ("person, Popolo + fragment candidate", PERSON),
         ("contest, NIST candidates apart", "elections/va-contest-cc20002"),
         ("person, NIST candidate apart", "organisations/va-person-per10861a")]


def main_(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, \
            local_node(Path(tmp), settings={"explorer_peer_sync_seconds": 0}) as running:
        core = running.app.node  # type: ignore[attr-defined]
        for path in sorted(resources.examples_dir().glob("*.jsonld")):
            document = json.loads(rebase(path.read_text(encoding="utf-8"), running.base))
            if document["id"] == running.base + CONTEST:
                document["selections"][0]["candidates"]["person"] = running.base + PERSON
            core.write_document(document["id"], json.dumps(document).encode(),
                                "application/ld+json")
        source = Path(tmp) / "people.json"
        source.write_text(json.dumps({
            "persons": [json.loads((POPOLO / "embedding-person.json").read_text("utf-8"))],
            "organizations": [json.loads((POPOLO / "organization.json").read_text("utf-8"))]}))
        for args in (["popolo", str(source), "--slug", "ex"], ["nist", str(NIST), "--slug", "va"]):
            assert main(["import", args[0], str(running.dir), *args[1:], "--quiet"]) == 0
        with running.client() as http:  # the index replays the writes and imports
            assert http.get("/" + PERSON, headers={"Accept": "text/html"}).status_code == 200
        site = site_of(core)
        medians = {}
        for name, path in PAGES:
            iri = running.base + path
            graph = graph_from_ntriples(core.store.get(iri).ntriples)
            read = Reading("en", False, False, "/" + path, [], {})
            times = []
            for _ in range(rounds):
                start = time.perf_counter()
                body = resource_page(site, read, iri, graph)
                times.append(time.perf_counter() - start)
            assert len(body) > 1000
            medians[name] = statistics.median(times)
        base = medians["place (baseline)"]
        print(f"{'page':40} {'median ms':>10} {'× place':>8}")
        for name, value in medians.items():
            print(f"{name:40} {value * 1000:10.2f} {value / base:8.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    main_(parser.parse_args().rounds)

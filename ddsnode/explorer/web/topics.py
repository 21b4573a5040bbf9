"""The topics of a search's results: the automatic analysis's topic clusters that the
results belong to, with how many of the results each holds (docs/analysis.md, "On the
search page").

The counts are the ``cluster`` facet's (``ddsnode.explorer.clusters``), counted over the
whole result set with every other facet, so the panel costs a look-up of the topics'
names and runs, and one read per run shown. It is part of the search page, which is
cached per index generation: a new run rewrites its topics, the index moves, the page
and its tag move with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ddsnode.analysis.panels import Run, run_of, term
from ddsnode.explorer.clusters import FACET
from ddsnode.explorer.labels import local_name, pick
from ddsnode.explorer.query import SearchQuery
from ddsnode.explorer.search import Results
from ddsnode.explorer.web.pages import _graph_of
from ddsnode.explorer.web.site import Site

FIRST = 5  # topics listed before "more topics" (the facet keeps the 25 largest)
MAX_RUNS = 3  # runs read and described ("how this was made") per page


@dataclass
class Topic:
    """One topic of the results: its name, how many results it holds, its links."""

    iri: str
    node: str
    label: str
    count: int
    selected: bool  # the search is narrowed to it
    narrow: str  # the search with this topic added to (or taken off) its filters
    run: str | None


@dataclass
class TopicsPanel:
    """The topics of one result set, largest first, and the runs that made them."""

    topics: list[Topic]
    runs: list[Run]
    total: int  # results in the set

    @property
    def first(self) -> list[Topic]:
        """The topics shown at once."""
        return self.topics[:FIRST]

    @property
    def more(self) -> list[Topic]:
        """The topics behind "more topics"."""
        return self.topics[FIRST:]

    def run_number(self, run: str | None) -> int | None:
        """The place (from 1) of ``run`` among the runs described, if it is one."""
        found = [i for i, r in enumerate(self.runs, 1) if r.iri == run]
        return found[0] if found else None


def topics_panel(site: Site, query: SearchQuery, results: Results, lang: str,
                 extra: list[tuple[str, str]]) -> TopicsPanel | None:
    """The panel of ``results`` (None when no analysed topic holds any of them and the
    search is narrowed to none)."""
    counts = results.facets.get(FACET, [])
    # A topic the search is narrowed to stays listed (with "remove this filter") when the
    # other filters leave none of its members.
    counted = {iri for iri, _ in counts}
    counts = counts + [(iri, 0) for iri in query.filters.get(FACET, ()) if iri not in counted]
    if not counts:
        return None
    iris = [iri for iri, _ in counts]
    hits = site.index.hits(iris)
    runs_of = site.index.outgoing(iris, term("generatedBy"))
    topics = []
    for iri, count in counts:
        hit = hits.get(iri)
        if hit is None:
            continue  # a topic removed since the count: nothing to link to
        topics.append(Topic(
            iri=iri, node=hit.node, label=pick(hit.titles, lang) or local_name(iri),
            count=count, selected=query.selected(FACET, iri),
            narrow=query.url("/explore", extra, toggle=(FACET, iri)),
            run=next(iter(runs_of.get(iri, [])), None)))
    runs: list[Run] = []
    for run in dict.fromkeys(t.run for t in topics if t.run):
        if len(runs) >= MAX_RUNS:
            break
        hit = site.index.hit(run)
        graph = _graph_of(site, hit) if hit is not None else None
        if graph is not None:
            runs.append(run_of(graph, run))
    return TopicsPanel(topics, runs, results.total) if topics else None

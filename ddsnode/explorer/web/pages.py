"""The resource page: the view of a graph (``ddsnode.explorer.view``) with its comment
thread and traceability timeline, rendered for one reader."""

from __future__ import annotations

from typing import Any

import rdflib

from ddsnode.analysis.arguments import pro_contra
from ddsnode.analysis.panels import panels
from ddsnode.explorer import candidacy, timeline, view
from ddsnode.explorer.ballot import choice_names
from ddsnode.explorer.labels import local_name, pick, vocabulary_labels
from ddsnode.explorer.search import Hit
from ddsnode.explorer.web import people
from ddsnode.explorer.web.site import Reading, Site
from ddsnode.federation.trace import Chain
from ddsnode.rdf.rdfio import graph_from_ntriples

THREAD_DEPTH = 4  # replies to replies… shown nested up to this depth


def resource_page(site: Site, read: Reading, iri: str, graph: rdflib.Graph, *,
                  chain: Chain | None = None,
                  peer: dict[str, str] | None = None) -> bytes:
    """The HTML page of resource ``iri`` described by ``graph``."""
    lang = read.lang
    vocab = vocabulary_labels()
    labels_of = node_names(site)

    def name_of(target: str) -> str:
        return (pick(labels_of([target]).get(target), lang)
                or pick(vocab.get(target), lang) or local_name(target))

    page = view.build(graph, iri, lang, labels_of, choices=_choices(site, graph, iri, lang,
                                                                    name_of))

    budget = [int(site.settings.explorer_max_comments)]
    page.comments = _thread(site, iri, lang, name_of, budget, 1)
    base = site.node.base

    def page_of(target: str) -> str:
        return "/" + target[len(base):] if target.startswith(base) else \
            "/explore/resource?iri=" + target

    if chain is not None:
        nodes = list(chain.nodes.values())
        hits = site.index.hits(chain.nodes)
        page.timeline = timeline.stages(
            iri, nodes, chain.links, lang, progress_of=lambda i: _progress(site, i),
            page_of=page_of, title_of=lambda i: pick(site.index.labels([i]).get(i), lang),
            date_of=lambda i: hits[i].date if i in hits else None)
    if local_name(page.kind) == "Party":
        page.candidacies = _lists(site, iri, lang, name_of)
    person = people.person(site, iri, lang, name_of, _graph_of) \
        if local_name(page.kind) == "Person" else None
    candidates = people.contest(site, graph, iri, lang, name_of, _graph_of) \
        if local_name(page.kind) == "CandidateContest" else []
    members = people.members(site, iri, lang, name_of, _graph_of) \
        if local_name(page.kind) in ("Party", "Organization") else []
    if candidates:  # the table says who stands: not the selections' fragment names again
        page.facts = [f for f in page.facts if not all(
            (v.href or "").startswith(iri + "#") for v in f.values)]
    turtle = "/" + iri[len(base):] if iri.startswith(base) else iri
    analysis = panels(iri, lambda o, p, n: [h.iri for h in site.index.incoming(o, p, n)],
                      lambda i: _graph_of(site, h) if (h := site.index.hit(i)) else None)
    analysis.pro_contra = pro_contra(iri, analysis.summaries, _stances(page.comments),
                                     complete=budget[0] > 0, graph=graph)
    return site.render("resource.html", read, view=page, peer=peer, person=person,
                       candidates=candidates, members=members, turtle_href=view.safe_href(iri) and turtle or "#",
                       analysis=analysis, name_of=name_of)


def node_names(site: Site) -> view.LabelsOf:
    """The index's labels, with this node and the nodes it follows named as their
    operators name them (``dct:publisher`` is a node's base IRI: a reader sees the name,
    not ``127.0.0.1:8000``)."""
    known = {site.node.base: {"": str(site.settings.name)}}
    for peer in site.fed.peers.all():
        if peer.name:
            known.setdefault(peer.base, {"": str(peer.name)})

    def labels_of(iris: list[str]) -> dict[str, dict[str, str]]:
        found = site.index.labels(iris)
        for iri in iris:
            if iri in known and iri not in found:
                found[iri] = known[iri]
        return found
    return labels_of


def _choices(site: Site, graph: rdflib.Graph, iri: str, lang: str,
             name_of: Any) -> dict[str, str]:
    """The names of a contest result's selections, from its contest (local or cached)."""
    contest = next((str(o) for o in graph.objects(rdflib.URIRef(iri),
                                                  rdflib.URIRef(view.term("contest")))), None)
    if contest is None:
        return {}
    hit = site.index.hit(contest)
    described = _graph_of(site, hit) if hit is not None else None
    return choice_names(described, lang, name_of, people.describer(site, _graph_of)) \
        if described is not None else {}


MAX_CONTESTS = 50  # contests listed on a party's page
MAX_RESULTS = 200  # results read per contest to find the latest


def _lists(site: Site, party: str, lang: str, name_of: Any) -> list[candidacy.Candidacy]:
    """The party's lists: contests whose candidates name it (candidates described in
    the contest, or resources of their own as a NIST import writes them), with the
    latest result."""
    out = []
    describe = people.describer(site, _graph_of)
    for hit in people.contests_naming(site, party, "party")[:MAX_CONTESTS]:
        graph = _graph_of(site, hit)
        if graph is None:
            continue
        title = pick(hit.titles, lang) or local_name(hit.iri)
        results = [(r.iri, g) for r in site.index.incoming(hit.iri, view.term("contest"),
                                                           MAX_RESULTS)
                   if (g := _graph_of(site, r)) is not None]
        out += [candidacy.fared(c, results, name_of)
                for c in candidacy.lists_in(graph, hit.iri, party, lang, title, describe)]
    return out


def _graph_of(site: Site, hit: Hit) -> rdflib.Graph | None:
    if hit.node == site.node.base:
        resource = site.node.store.get(hit.iri)
        return graph_from_ntriples(resource.ntriples) if resource and resource.ntriples \
            else None
    entry = site.fed.cache.get(hit.iri)
    return entry.graph() if entry is not None else None


def _thread(site: Site, iri: str, lang: str, name_of: Any, budget: list[int],
            depth: int) -> list[view.Comment]:
    """Comments replying to ``iri`` (``as:inReplyTo``), oldest first, nested."""
    if depth > THREAD_DEPTH or budget[0] <= 0:
        return []
    out = []
    for hit in site.index.incoming(iri, view.term("inReplyTo"), budget[0]):
        graph = _graph_of(site, hit)
        if graph is None:
            continue
        budget[0] -= 1
        item = view.comment(graph, hit.iri, lang, name_of)
        item.replies = _thread(site, hit.iri, lang, name_of, budget, depth + 1)
        out.append(item)
    return out


def _stances(comments: list[view.Comment]) -> list[str | None]:
    """The stance (local name) of every comment of a thread as read, replies included."""
    out: list[str | None] = []
    for c in comments:
        out.append(local_name(c.stance_iri) if c.stance_iri else None)
        out += _stances(c.replies)
    return out


def _progress(site: Site, iri: str) -> float | None:
    """``dds:progress`` of a local result (a timeline shows it as a bar)."""
    if not iri.startswith(site.node.base):
        return None
    resource = site.node.store.get(iri)
    if resource is None or not resource.ntriples:
        return None
    graph = graph_from_ntriples(resource.ntriples)
    for value in graph.objects(rdflib.URIRef(iri), rdflib.URIRef(view.term("progress"))):
        try:
            return float(str(value))
        except ValueError:
            return None
    return None

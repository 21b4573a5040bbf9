"""What a contribution's page shows of the analysis: plain data, no web framework.

Three panels (issue 13, "explorer panels"; ``docs/analysis.md``, "On a contribution's
page"): the duplicate links that involve the contribution ("possibly the same as"), the
summaries of its thread (or, on a comment's page, the statements that cite it), and the
runs that made them ("how this was made").

Links are found through an index of incoming links (the explorer's search index keeps,
for every resource, its IRI objects and those of its own fragments), so a page costs a few
indexed look-ups and reads of the outputs it shows, never a scan of ``analysis/``. Terms
are resolved through the shared JSON-LD context (``ontology/context.jsonld``): no
vocabulary IRI is typed here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import rdflib

from ddsnode import resources
from ddsnode.analysis.llm import METHOD as MODEL_METHOD

if TYPE_CHECKING:  # arguments.py reads this module's summaries
    from ddsnode.analysis.arguments import ProContra

# Bounds of one page (docs/security.md, "Analysis panels"): a contribution linked by
# thousands of outputs, or a summary with thousands of statements, costs no more than this.
MAX_DUPLICATES = 50
MAX_SUMMARIES = 5
MAX_STATEMENTS = 50

Incoming = Callable[[str, str, int], list[str]]  # (object IRI, predicate, limit) -> IRIs
GraphOf = Callable[[str], "rdflib.Graph | None"]


@cache
def term(name: str) -> str:
    """The IRI of context term ``name`` (``reviewStatus`` -> ``…dds/ns#reviewStatus``)."""
    context = resources.context_document()["@context"]
    value = context[name]
    iri = str(value["@id"] if isinstance(value, dict) else value)
    prefix, sep, rest = iri.partition(":")
    if sep and isinstance(context.get(prefix), str) and not rest.startswith("//"):
        return str(context[prefix]) + rest
    return str(iri)


@dataclass
class Duplicate:
    """A duplicate link seen from one of its two contributions."""

    link: str
    other: str  # the other contribution's IRI
    other_node: str  # the node authoritative for it (its origin, with a final slash)
    other_platform: str | None  # its dds:sourcePlatform, when its graph is at hand
    score: float | None
    methods: list[str]
    language: str | None  # dds:comparedLanguage
    via_machine_translation: bool
    status: str  # candidate | confirmed | rejected (the review-status scheme's local name)
    reviewed_by: str | None
    run: str | None


@dataclass
class Statement:
    """One statement of a summary, with the contributions it rests on."""

    iri: str
    text: str
    lang: str
    supported_by: list[str]
    quoted: str | None
    stance: str | None  # inFavour | against | neutral (local names)


@dataclass
class Summary:
    """A summary of a thread: its statements and, where supports are all there is, the
    note that says so ("support, not consensus")."""

    iri: str
    subject: str | None  # the summarised contribution
    methods: list[str]
    status: str | None
    statements: list[Statement]
    support_count: int | None
    note: dict[str, str]  # language -> dds:agreementNote
    run: str | None
    cites_only: bool = False  # found by a citation of this contribution, not summarising it

    @property
    def by_model(self) -> bool:
        """Whether a language model wrote it (tier 3: shown once a reviewer published it)."""
        return MODEL_METHOD in self.methods


@dataclass
class Run:
    """An analysis run (``prov:Activity``): what it read, how, with what, when."""

    iri: str
    methods: list[str]
    parameters: str | None
    software: str | None
    scope: str | None
    model_name: str | None
    model_hash: str | None
    prompt_hash: str | None
    temperature: float | None
    input_count: int | None
    input_hash: str | None
    dropped: int | None
    started: str | None
    ended: str | None


@dataclass
class Panels:
    """Everything the analysis panels of one page show."""

    duplicates: list[Duplicate] = field(default_factory=list)
    rejected: list[Duplicate] = field(default_factory=list)  # reviewed: not the same
    summaries: list[Summary] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    # Set by the page, which reads the thread (analysis.arguments.pro_contra).
    pro_contra: ProContra | None = None

    @property
    def empty(self) -> bool:
        """Whether there is nothing to show."""
        return not (self.duplicates or self.rejected or self.summaries or self.pro_contra)


def panels(iri: str, incoming: Incoming, graph_of: GraphOf) -> Panels:
    """The analysis panels of contribution ``iri``.

    ``incoming(object, predicate, limit)`` gives the IRIs of indexed resources that link to
    ``object`` by ``predicate`` (from themselves or their fragments); ``graph_of(iri)`` the
    graph of a local or cached resource, or None.
    """
    out = Panels()
    runs: dict[str, None] = {}
    for link in incoming(iri, term("contributions"), MAX_DUPLICATES):
        graph = graph_of(link)
        found = _duplicate(graph, link, iri, graph_of) if graph is not None else None
        if found is None:
            continue
        (out.rejected if found.status == "rejected" else out.duplicates).append(found)
        if found.run:
            runs.setdefault(found.run)
    # Stronger first: confirmed before candidates, then by score (stable on the link IRI).
    out.duplicates.sort(key=lambda d: (d.status != "confirmed", -(d.score or 0.0), d.link))
    seen: set[str] = set()
    for predicate, cites in ((term("summarises"), False), (term("supportedBy"), True)):
        for summary_iri in incoming(iri, predicate, MAX_SUMMARIES):
            if summary_iri in seen or len(out.summaries) >= MAX_SUMMARIES:
                continue
            seen.add(summary_iri)
            graph = graph_of(summary_iri)
            summary = _summary(graph, summary_iri, iri if cites else None) \
                if graph is not None else None
            if summary is None:
                continue
            out.summaries.append(summary)
            if summary.run:
                runs.setdefault(summary.run)
    for run_iri in runs:
        graph = graph_of(run_iri)
        if graph is not None:
            out.runs.append(run_of(graph, run_iri))
    return out


def _duplicate(graph: rdflib.Graph, link: str, iri: str,
               graph_of: GraphOf) -> Duplicate | None:
    s = rdflib.URIRef(link)
    if rdflib.URIRef(term("DuplicateLink")) not in set(graph.objects(s, rdflib.RDF.type)):
        return None
    members = sorted({str(o) for o in graph.objects(s, rdflib.URIRef(term("contributions")))})
    others = [m for m in members if m != iri]
    if iri not in members or len(others) != 1:
        return None  # not about this contribution, or malformed: nothing to show
    other = others[0]
    other_graph = graph_of(other)
    platform = _iri(other_graph, other, "sourcePlatform") if other_graph is not None else None
    parts = urlsplit(other)
    return Duplicate(
        link=link, other=other, other_node=f"{parts.scheme}://{parts.netloc}/",
        other_platform=platform, score=_float(graph, s, "similarityScore"),
        methods=_strings(graph, s, "method"), language=_string(graph, s, "comparedLanguage"),
        via_machine_translation=_string(graph, s, "viaMachineTranslation") == "true",
        status=_status(graph, s) or "candidate", reviewed_by=_iri(graph, link, "reviewedBy"),
        run=_iri(graph, link, "generatedBy"))


def _summary(graph: rdflib.Graph, iri: str, cited: str | None) -> Summary | None:
    s = rdflib.URIRef(iri)
    if rdflib.URIRef(term("Summary")) not in set(graph.objects(s, rdflib.RDF.type)):
        return None
    status = _status(graph, s)
    if status == "draft":
        return None  # a model's draft is not published until a reviewer says so
    statements = []
    for node in sorted(graph.objects(s, rdflib.URIRef(term("statements"))), key=str):
        statement = _statement(graph, node)
        if statement is not None and (cited is None or cited in statement.supported_by):
            statements.append(statement)
        if len(statements) >= MAX_STATEMENTS:
            break
    if not statements:
        return None  # nothing the page could show that rests on a contribution
    note = {v.language or "": str(v) for v in graph.objects(s, rdflib.URIRef(
        term("agreementNote"))) if isinstance(v, rdflib.Literal)}
    count = _float(graph, s, "supportCount")
    return Summary(iri=iri, subject=_iri(graph, iri, "summarises"),
                   methods=_strings(graph, s, "method"), status=status, statements=statements,
                   support_count=int(count) if count is not None else None, note=note,
                   run=_iri(graph, iri, "generatedBy"), cites_only=cited is not None)


def _statement(graph: rdflib.Graph, node: rdflib.term.Node) -> Statement | None:
    supported = sorted(str(o) for o in graph.objects(node, rdflib.URIRef(term("supportedBy")))
                       if isinstance(o, rdflib.URIRef))
    texts = [v for v in graph.objects(node, rdflib.URIRef(term("text")))
             if isinstance(v, rdflib.Literal)]
    if not supported or not texts:
        return None  # the shapes refuse a statement without support; never show one
    text = sorted(texts, key=lambda v: v.language or "")[0]
    quoted = next((str(v) for v in graph.objects(node, rdflib.URIRef(term("quotedSpan")))
                   if isinstance(v, rdflib.Literal)), None)
    stance = next((_local(str(v)) for v in graph.objects(node, rdflib.URIRef(term("stance")))),
                  None)
    return Statement(iri=str(node), text=str(text), lang=text.language or "",
                     supported_by=supported, quoted=quoted, stance=stance)


def run_of(graph: rdflib.Graph, iri: str) -> Run:
    """The run ``iri`` as ``graph`` (its resource) describes it."""
    s = rdflib.URIRef(iri)
    count, dropped = _float(graph, s, "inputCount"), _float(graph, s, "droppedStatements")
    return Run(iri=iri, methods=_strings(graph, s, "method"),
               parameters=_string(graph, s, "parameters"),
               software=_string(graph, s, "softwareVersion"),
               scope=_string(graph, s, "analysisScope"),
               model_name=_string(graph, s, "modelName"),
               model_hash=_string(graph, s, "modelHash"),
               prompt_hash=_string(graph, s, "promptHash"),
               temperature=_float(graph, s, "temperature"),
               input_count=int(count) if count is not None else None,
               input_hash=_string(graph, s, "inputHash"),
               dropped=int(dropped) if dropped is not None else None,
               started=_string(graph, s, "startedAt"), ended=_string(graph, s, "endedAt"))


def _status(graph: rdflib.Graph, s: rdflib.URIRef) -> str | None:
    value = _iri(graph, str(s), "reviewStatus")
    return _local(value) if value else None


def _local(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _iri(graph: rdflib.Graph, subject: str, name: str) -> str | None:
    return next((str(o) for o in sorted(graph.objects(rdflib.URIRef(subject),
                                                      rdflib.URIRef(term(name))), key=str)
                 if isinstance(o, rdflib.URIRef)), None)


def _strings(graph: rdflib.Graph, s: rdflib.URIRef, name: str) -> list[str]:
    return sorted(str(o) for o in graph.objects(s, rdflib.URIRef(term(name)))
                  if isinstance(o, rdflib.Literal))


def _string(graph: rdflib.Graph, s: rdflib.URIRef, name: str) -> str | None:
    values = _strings(graph, s, name)
    return values[0] if values else None


def _float(graph: rdflib.Graph, s: rdflib.URIRef, name: str) -> float | None:
    value = _string(graph, s, name)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None

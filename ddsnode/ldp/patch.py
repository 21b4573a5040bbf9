"""PATCH documents applied to one resource's graph: Solid N3 Patch and SPARQL Update.

* ``text/n3`` — Solid Protocol 0.11, 5.3.1: one ``solid:InsertDeletePatch`` with at most
  one ``solid:deletes``, ``solid:inserts`` and ``solid:where`` formula. ``where`` must
  match exactly one binding and every instantiated delete must be present, else 409.
* ``application/sparql-update`` — SPARQL 1.1 Update 3.1.1-3.1.3 restricted to the
  resource: INSERT DATA, DELETE DATA, DELETE WHERE and DELETE/INSERT … WHERE, with no
  named graphs (GRAPH, WITH, USING), no SERVICE and no graph management (LOAD, CLEAR …).

The result is a new graph; the caller validates and stores it like any other write.

Every PATCH runs within a :class:`PatchBudget` (issue 9, item 2: a 269-byte update whose
WHERE multiplied rows ran without limit, and a 207-byte CONCAT grew a resource to 20 MB):

* at most ``solutions`` WHERE solutions over the whole request (422 past it),
* results no larger than a request body may be (413, counted while templates are
  instantiated, so memory stays bounded too),
* at most ``seconds`` of work: the meter checks the clock at every solution, and the
  node runs the evaluation in a killable process (:mod:`ddsnode.ldp.patch_worker`) because
  rdflib may work for long between two solutions (a join with no answer, a property
  path closure) and cannot be interrupted in a thread — the same reason ``/sparql`` runs
  in a process (:mod:`ddsnode.store.index`). That process also caps memory.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

import rdflib
from rdflib.graph import QuotedGraph
from rdflib.term import Node, Variable

from ddsnode.problem import (
    BadRequest,
    Conflict,
    PayloadTooLarge,
    Problem,
    QueryTimeout,
    Unprocessable,
    UnsupportedMediaType,
)
from ddsnode.rdf.vocab import RDF, SOLID

N3_PATCH = "text/n3"
SPARQL_UPDATE = "application/sparql-update"
PATCH_TYPES = (N3_PATCH, SPARQL_UPDATE)

Triple = tuple[Node, Node, Node]


@dataclass(frozen=True)
class PatchBudget:
    """What one PATCH may cost: time, WHERE solutions, result size and worker memory."""

    seconds: float = 5.0
    solutions: int = 10_000
    result_bytes: int = 4 * 1024 * 1024
    memory_mb: int = 512

    @classmethod
    def from_settings(cls, settings: Any) -> PatchBudget:
        """The budget the node's settings give: ``sparql_timeout``, ``patch_solution_limit``,
        ``max_body_bytes`` and ``patch_memory_mb``."""
        return cls(seconds=float(settings.sparql_timeout),
                   solutions=int(settings.patch_solution_limit),
                   result_bytes=int(settings.max_body_bytes),
                   memory_mb=int(settings.patch_memory_mb))


class Meter:
    """Counts what a PATCH uses against its budget; raises the problem when one runs out."""

    def __init__(self, budget: PatchBudget) -> None:
        self.budget = budget
        self.deadline = time.monotonic() + budget.seconds
        self.solutions = 0
        self.inserted = 0

    def solution(self) -> None:
        """One more WHERE solution: 422 past the bound, 503 past the time limit."""
        self.solutions += 1
        if self.solutions > self.budget.solutions:
            raise Unprocessable(
                f"The PATCH matched more than {self.budget.solutions} solutions "
                "(setting patch_solution_limit); nothing was changed. Narrow its WHERE "
                "clause, or split it into several PATCH requests")
        self.check_time()

    def check_time(self) -> None:
        """503 once the time limit has passed."""
        if time.monotonic() > self.deadline:
            raise timeout(self.budget)

    def insert(self, triple: Triple) -> None:
        """One more instantiated triple to insert: 413 once they outgrow a body."""
        self.inserted += _size(triple)
        if self.inserted > self.budget.result_bytes:
            raise too_large(self.budget)


def timeout(budget: PatchBudget) -> QueryTimeout:
    """The problem for a PATCH stopped at its time limit."""
    return QueryTimeout(f"The PATCH ran longer than {budget.seconds:g} s (setting "
                        "sparql_timeout) and was stopped; nothing was changed. Narrow its "
                        "WHERE clause")


def too_large(budget: PatchBudget) -> PayloadTooLarge:
    """The problem for a PATCH whose result outgrows a request body."""
    return PayloadTooLarge(f"The PATCH would make the resource larger than "
                           f"{budget.result_bytes} bytes of N-Triples (setting "
                           "max_body_bytes, the limit of a body); nothing was changed")


def _size(triple: Triple) -> int:
    # The triple's N-Triples line: three terms, spaces, " ." and a newline.
    return sum(len(t.n3().encode("utf-8")) for t in triple) + 5


def graph_size(graph: Iterable[Triple]) -> int:
    """About the N-Triples size of ``graph`` in bytes (the line of each triple)."""
    return sum(_size(t) for t in graph)


def apply_patch(graph: rdflib.Graph, iri: str, body: bytes, media_type: str, *,
                budget: PatchBudget | None = None, isolated: bool = False) -> rdflib.Graph:
    """A copy of ``graph`` with the patch applied; BadRequest/Conflict/Unprocessable on
    failure, 413/422/503 past ``budget``. ``isolated``: evaluate in the killable patch
    worker process (what the node does), so the time limit holds however rdflib spends it."""
    if media_type not in PATCH_TYPES:
        raise UnsupportedMediaType(
            f"PATCH accepts {', '.join(PATCH_TYPES)}; got {media_type or 'no Content-Type'}",
            headers={"Accept-Patch": ", ".join(PATCH_TYPES)})
    if not body.strip():
        # Most often curl's --data '@prefix …', which reads a file named "prefix …" and
        # sends nothing: name that, not what an empty document lacks (issue 10 item 7).
        raise Unprocessable(
            "The PATCH body is empty. With curl, --data reads a body that starts with @ from "
            "a file: send the patch with --data-raw '…' (or --data-binary @patch.n3).")
    budget = budget or PatchBudget()
    if isolated:
        from ddsnode.ldp.patch_worker import run_isolated
        return run_isolated(list(graph), iri, body, media_type, budget)
    return evaluate(graph, iri, body, media_type, budget)


def evaluate(graph: Iterable[Triple], iri: str, body: bytes, media_type: str,
             budget: PatchBudget) -> rdflib.Graph:
    """The patched copy of ``graph``, computed here within ``budget`` (checked per solution)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The patch document is not UTF-8") from None
    meter = Meter(budget)
    result = rdflib.Graph()
    for triple in graph:
        result.add(triple)
    if media_type == N3_PATCH:
        _apply_n3(result, iri, text, meter)
    else:
        _apply_sparql(result, iri, text, meter)
    meter.check_time()
    if graph_size(result) > budget.result_bytes:
        raise too_large(budget)
    return result


# --- N3 Patch ----------------------------------------------------------------------------

def _formula(doc: rdflib.Graph, patch: Node, predicate: rdflib.URIRef) -> list[Triple]:
    values = list(doc.objects(patch, predicate))
    if len(values) > 1:
        raise Unprocessable(f"An N3 Patch has at most one {predicate.n3()} formula")
    if not values:
        return []
    if not isinstance(values[0], QuotedGraph):
        raise Unprocessable(f"{predicate.n3()} must be a formula {{ … }}")
    return [(s, p, o) for s, p, o in values[0]]


def _apply_n3(graph: rdflib.Graph, iri: str, text: str, meter: Meter) -> None:
    doc = rdflib.Graph()
    try:
        doc.parse(data=text, format="n3", publicID=iri)
    except Exception as e:  # noqa: BLE001 - rdflib raises many types for bad syntax
        raise BadRequest(f"Invalid N3 patch document: {str(e)[:300]}") from None
    patches = [s for s in doc.subjects(RDF.type, SOLID.InsertDeletePatch)]
    if len(patches) != 1:
        raise Unprocessable("An N3 Patch must contain exactly one solid:InsertDeletePatch "
                            "(Solid Protocol 5.3.1)")
    patch = patches[0]
    where = _formula(doc, patch, SOLID.where)
    inserts = _formula(doc, patch, SOLID.inserts)
    deletes = _formula(doc, patch, SOLID.deletes)
    if any(isinstance(t, rdflib.BNode) for triple in deletes for t in triple):
        raise Unprocessable("solid:deletes must not contain blank nodes (Solid Protocol 5.3.1)")
    bound = {t for triple in where for t in triple if isinstance(t, Variable)}
    loose = {t for triple in inserts + deletes for t in triple
             if isinstance(t, Variable) and t not in bound}
    if loose:
        raise Unprocessable("Variables in solid:inserts or solid:deletes must occur in "
                            f"solid:where: {', '.join(sorted('?' + v for v in loose))}")
    binding: dict[Variable, Node] = {}
    if where:
        pattern = " ".join(f"{s.n3()} {p.n3()} {o.n3()} ." for s, p, o in where)
        # Two solutions are enough to refuse: the rest of the join is never computed.
        rows = list(islice(_metered(graph.query(f"SELECT * WHERE {{ {pattern} }}"), meter), 2))
        if len(rows) != 1:
            many = "more than one binding" if rows else "no binding"
            raise Conflict(f"solid:where matched {many}; it must match exactly "
                           "one (Solid Protocol 5.3.1)")
        row: Any = rows[0]
        binding = {v: row[v] for v in bound}
    to_delete = [_bind(t, binding) for t in deletes]
    missing = [t for t in to_delete if t not in graph]
    if missing:
        raise Conflict(f"{len(missing)} triple(s) of solid:deletes are not in the resource "
                       "(Solid Protocol 5.3.1)")
    for triple in to_delete:
        graph.remove(triple)
    for triple in inserts:
        bound_triple = _bind(triple, binding)
        meter.insert(bound_triple)
        graph.add(bound_triple)


def _metered(solutions: Iterable[Any], meter: Meter) -> Iterator[Any]:
    """``solutions``, each counted against the budget as it is produced."""
    for solution in solutions:
        meter.solution()
        yield solution


def _bind(triple: Triple, binding: dict[Variable, Node]) -> Triple:
    s, p, o = (binding.get(t, t) if isinstance(t, Variable) else t for t in triple)
    return s, p, o


# --- SPARQL Update -----------------------------------------------------------------------

_ALLOWED = {"InsertData", "DeleteData", "DeleteWhere", "Modify"}
_REFUSED_PARTS = {"ServiceGraphPattern", "GraphGraphPattern"}


def _walk(value: Any) -> Any:
    """Every CompValue nested in ``value`` (rdflib's SPARQL algebra)."""
    if hasattr(value, "name") and isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _walk(child)
    elif isinstance(value, (list, tuple)):
        for child in value:
            yield from _walk(child)


def _field(value: Any, name: str) -> Any:
    # CompValue.get() returns the key itself when missing; read the dict directly.
    return dict.get(value, name)


def _apply_sparql(graph: rdflib.Graph, iri: str, text: str, meter: Meter) -> None:
    from rdflib.plugins.sparql.algebra import translateUpdate
    from rdflib.plugins.sparql.parser import parseUpdate
    try:
        update = translateUpdate(parseUpdate(text), base=iri)
    except Exception as e:  # noqa: BLE001 - pyparsing and rdflib raise several types
        raise BadRequest(f"Invalid SPARQL Update: {str(e)[:300]}") from None
    for op in update.algebra:
        if op.name not in _ALLOWED:
            raise Unprocessable(f"SPARQL {op.name} is not allowed in a PATCH; use INSERT DATA, "
                                "DELETE DATA or DELETE/INSERT … WHERE on this resource")
        if _field(op, "withClause") or _field(op, "using"):
            raise Unprocessable("WITH and USING name other graphs; a PATCH changes only "
                                "this resource")
        for clause in (op, _field(op, "delete"), _field(op, "insert")):
            if clause is not None and _field(clause, "quads"):
                raise Unprocessable("GRAPH blocks name other graphs; a PATCH changes only "
                                    "this resource")
        for part in _walk(_field(op, "where")):
            if part.name in _REFUSED_PARTS:
                raise Unprocessable("SERVICE and GRAPH are not allowed in a PATCH")
    for op in update.algebra:  # in order: each operation sees the ones before (3.1)
        try:
            _operation(graph, op, meter)
        except (Problem, MemoryError):
            raise  # the budget's own answers (MemoryError: the worker's memory cap)
        except Exception as e:  # noqa: BLE001 - evaluation errors of a well-formed update
            raise Unprocessable(f"The SPARQL Update could not be applied: {str(e)[:300]}") \
                from None


def _operation(graph: rdflib.Graph, op: Any, meter: Meter) -> None:
    """One update operation, its solutions counted (rdflib's evalUpdate, metered)."""
    from rdflib.plugins.sparql.algebra import _traverseAgg, analyse
    from rdflib.plugins.sparql.evaluate import evalBGP, evalPart
    from rdflib.plugins.sparql.sparql import QueryContext

    if op.name == "InsertData":
        for triple in op.triples:
            meter.insert(triple)
            graph.add(triple)
        return
    if op.name == "DeleteData":
        missing = [t for t in op.triples if tuple(t) not in graph]
        if missing:
            raise Conflict(f"{len(missing)} triple(s) of DELETE DATA are not in the resource")
        for triple in op.triples:
            graph.remove(triple)
        return
    ctx = QueryContext(graph, initBindings={})  # rdflib's forget() reads them
    ctx.prologue = op.prologue
    if op.name == "DeleteWhere":
        delete, insert = op.triples, []  # type: list[Any], list[Any]
        solutions = evalBGP(ctx, op.triples)
    else:  # Modify
        delete = op.delete.triples if op.delete else []
        insert = op.insert.triples if op.insert else []
        # rdflib marks joins lazy (evaluated per solution of the left side) for queries
        # but not for updates, whose joins then build the right side in full first: the
        # row multiplication of issue 9 item 2 grew memory without a solution to count.
        _traverseAgg(op.where, visitor=analyse)
        solutions = evalPart(ctx, op.where)
    # SPARQL 1.1 Update 3.1.3: the WHERE is evaluated first; then every instantiated
    # DELETE triple is removed, then every INSERT triple added.
    removed: list[Triple] = []
    added: list[Triple] = []
    for solution in _metered(solutions, meter):
        removed.extend(_fill(delete, solution))
        for triple in _fill(insert, solution):
            meter.insert(triple)
            added.append(triple)
    for triple in removed:
        graph.remove(triple)
    for triple in added:
        graph.add(triple)


def _fill(template: Iterable[Any], solution: Any) -> Iterator[Triple]:
    """The template's triples under one solution (SPARQL 1.1 Update 3.1.3: a triple with an
    unbound variable is skipped; a blank node is fresh for each solution)."""
    fresh: dict[rdflib.BNode, rdflib.BNode] = {}
    for pattern in template:
        terms: list[Node] = []
        for term in pattern:
            if isinstance(term, Variable):
                term = solution.get(term)
                if term is None:
                    break
            elif isinstance(term, rdflib.BNode):
                term = fresh.setdefault(term, rdflib.BNode())
            terms.append(term)
        else:
            yield terms[0], terms[1], terms[2]

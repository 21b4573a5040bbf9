"""PATCH documents applied to one resource's graph: Solid N3 Patch and SPARQL Update.

* ``text/n3`` — Solid Protocol 0.11, 5.3.1: one ``solid:InsertDeletePatch`` with at most
  one ``solid:deletes``, ``solid:inserts`` and ``solid:where`` formula. ``where`` must
  match exactly one binding and every instantiated delete must be present, else 409.
* ``application/sparql-update`` — SPARQL 1.1 Update 3.1.1-3.1.3 restricted to the
  resource: INSERT DATA, DELETE DATA, DELETE WHERE and DELETE/INSERT … WHERE, with no
  named graphs (GRAPH, WITH, USING), no SERVICE and no graph management (LOAD, CLEAR …).

The result is a new graph; the caller validates and stores it like any other write.
"""

from __future__ import annotations

from typing import Any

import rdflib
from rdflib.graph import QuotedGraph
from rdflib.term import Node, Variable

from ddsnode.problem import BadRequest, Conflict, Unprocessable, UnsupportedMediaType
from ddsnode.vocab import RDF, SOLID

N3_PATCH = "text/n3"
SPARQL_UPDATE = "application/sparql-update"
PATCH_TYPES = (N3_PATCH, SPARQL_UPDATE)

Triple = tuple[Node, Node, Node]


def apply_patch(graph: rdflib.Graph, iri: str, body: bytes, media_type: str) -> rdflib.Graph:
    """A copy of ``graph`` with the patch applied; BadRequest/Conflict/Unprocessable on failure."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The patch document is not UTF-8") from None
    result = rdflib.Graph()
    for triple in graph:
        result.add(triple)
    if media_type == N3_PATCH:
        _apply_n3(result, iri, text)
    elif media_type == SPARQL_UPDATE:
        _apply_sparql(result, iri, text)
    else:
        raise UnsupportedMediaType(
            f"PATCH accepts {', '.join(PATCH_TYPES)}; got {media_type or 'no Content-Type'}",
            headers={"Accept-Patch": ", ".join(PATCH_TYPES)})
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


def _apply_n3(graph: rdflib.Graph, iri: str, text: str) -> None:
    doc = rdflib.Graph()
    try:
        doc.parse(data=text, format="n3", publicID=iri)
    except Exception as e:  # rdflib raises many types for bad syntax
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
        rows = list(graph.query(f"SELECT * WHERE {{ {pattern} }}"))
        if len(rows) != 1:
            raise Conflict(f"solid:where matched {len(rows)} bindings; it must match exactly "
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
        graph.add(_bind(triple, binding))


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


def _apply_sparql(graph: rdflib.Graph, iri: str, text: str) -> None:
    from rdflib.plugins.sparql.algebra import translateUpdate
    from rdflib.plugins.sparql.parser import parseUpdate
    try:
        update = translateUpdate(parseUpdate(text), base=iri)
    except Exception as e:  # pyparsing and rdflib raise several types
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
        if op.name == "DeleteData":
            missing = [t for t in op.triples if tuple(t) not in graph]
            if missing:
                raise Conflict(f"{len(missing)} triple(s) of DELETE DATA are not in the resource")
    try:
        graph.update(update)
    except Exception as e:  # evaluation errors of a well-formed update
        raise Unprocessable(f"The SPARQL Update could not be applied: {str(e)[:300]}") from None

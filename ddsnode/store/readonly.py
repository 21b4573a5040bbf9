"""The read-only guard of ``/sparql``: parse the query, refuse updates, SERVICE and LOAD.

The query is parsed (rdflib's SPARQL 1.1 grammar), not matched by a regular expression,
so ``SERVICE`` inside a comment or a string literal is harmless and a real one is found
however it is spelled. Every refusal is a :class:`~ddsnode.problem.BadRequest`.
"""

from __future__ import annotations

from typing import Any, Literal

from pyparsing import ParseBaseException
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from ddsnode.problem import BadRequest

QueryForm = Literal["SELECT", "ASK", "CONSTRUCT", "DESCRIBE"]

_FORMS: dict[str, QueryForm] = {"SelectQuery": "SELECT", "AskQuery": "ASK",
                                "ConstructQuery": "CONSTRUCT", "DescribeQuery": "DESCRIBE"}

MAX_QUERY_CHARS = 100_000


def check_query(query: str) -> QueryForm:
    """The form of a read-only query; BadRequest for an update, SERVICE, or a syntax error."""
    if len(query) > MAX_QUERY_CHARS:
        raise BadRequest(f"SPARQL query longer than {MAX_QUERY_CHARS} characters")
    if not query.strip():
        raise BadRequest("malformed SPARQL query: the query is empty")
    try:
        tree = parseQuery(query)
    except ParseBaseException as e:
        _refuse_update(query)
        raise BadRequest(f"malformed SPARQL query: {_short(e)}") from None
    except Exception as e:  # noqa: BLE001 - rdflib raises assorted errors (bad IRI, prefix)
        raise BadRequest(f"malformed SPARQL query: {_short(e)}") from None
    if _contains(tree, "ServiceGraphPattern"):
        raise BadRequest("SERVICE is not allowed on this endpoint: it only queries this "
                         "node's data")
    form = _FORMS.get(getattr(tree[1], "name", ""))
    if form is None:
        raise BadRequest("malformed SPARQL query: no SELECT, ASK, CONSTRUCT or DESCRIBE")
    return form


def _refuse_update(text: str) -> None:
    try:
        update = parseUpdate(text)
    except Exception:  # noqa: BLE001 - rdflib raises assorted errors on bad input
        return  # neither a query nor an update: the caller reports the query syntax error
    names = {op.name for op in update.request}
    if "Load" in names:
        raise BadRequest("LOAD is not allowed: this SPARQL endpoint is read-only")
    raise BadRequest("SPARQL updates are not allowed: this endpoint is read-only; "
                     "write resources through the LDP interface")


def _contains(node: Any, name: str) -> bool:
    if isinstance(node, CompValue):
        if node.name == name:
            return True
        return any(_contains(v, name) for v in node.values())
    if isinstance(node, (list, tuple)) or type(node).__name__ == "ParseResults":
        return any(_contains(v, name) for v in node)
    return False


def _short(error: Exception) -> str:
    return str(error).splitlines()[0][:300] if str(error) else type(error).__name__

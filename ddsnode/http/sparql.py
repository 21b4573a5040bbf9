"""The read-only SPARQL 1.1 endpoint at ``/sparql`` (SPARQL 1.1 Protocol 2.1).

Queries come as ``?query=`` (GET), a form field (POST, ``application/x-www-form-urlencoded``)
or a body (POST, ``application/sparql-query``); results are negotiated on Accept. The
store runs the query within the time and result limits and refuses SERVICE and LOAD;
updates are refused here (403): the data changes only through LDP writes, validated.
"""

from __future__ import annotations

from functools import partial

import anyio.to_thread

from ddsnode.http.endpoint import FixedMethodsEndpoint
from ddsnode.http.exchange import (
    Receive,
    Scope,
    Send,
    parse_query,
    query_params,
    read_body,
    send_response,
)
from ddsnode.ldp import conneg
from ddsnode.ldp.access import needs_token
from ddsnode.ldp.node import Node
from ddsnode.problem import BadRequest, Forbidden, UnsupportedMediaType

ALLOW = "GET, HEAD, POST, OPTIONS"
FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"
MAX_QUERY_BYTES = 256 * 1024


def accept_list(header: str | None) -> list[str]:
    """The media ranges of Accept, most preferred first (q-values, then order)."""
    if not header:
        return []
    ranges = conneg.parse_accept(header)
    ordered = sorted(enumerate(ranges), key=lambda p: (-p[1][3], p[0]))
    return [f"{kind}/{sub}" for _, (kind, sub, _params, q) in ordered if q > 0]


class SparqlEndpoint(FixedMethodsEndpoint):
    """ASGI app for ``/sparql``."""

    allow = ALLOW

    def __init__(self, node: Node) -> None:
        self.node = node
        self.private = any(needs_token(c) for c in node.containers)  # ddsnode.ldp.access

    def refusal(self, method: str, path: str) -> str:
        """The detail of the 405 for ``method``."""
        return f"{method} is not supported on /sparql"

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        """GET, HEAD or POST: run the query and send the negotiated result."""
        if self.private:
            # The union graph includes private containers: reading it needs a token.
            self.node.authorize("read", headers.get("authorization"))
        query = await self._query(scope, receive, headers, method)
        result = await anyio.to_thread.run_sync(partial(
            self.node.sparql, query, accept_list(headers.get("accept"))))
        await send_response(send, 200, [(b"content-type", result.media_type.encode()),
                                        (b"vary", b"Accept, Origin")],
                            result.body, head=method == "HEAD")

    async def _query(self, scope: Scope, receive: Receive, headers: dict[str, str],
                     method: str) -> str:
        if method in ("GET", "HEAD"):
            params = query_params(scope)
        else:
            media_type = conneg.media_type_of(headers.get("content-type"))
            body = await read_body(scope, receive, headers, MAX_QUERY_BYTES)
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                raise BadRequest("The body is not UTF-8") from None
            if media_type == QUERY:
                return text
            if media_type == UPDATE:
                raise Forbidden("This SPARQL endpoint is read-only; change data with LDP "
                                "writes (PUT, POST, PATCH, DELETE)")
            if media_type != FORM:
                raise UnsupportedMediaType(f"POST /sparql takes {FORM} or {QUERY}")
            params = {}
            for name, value in parse_query(text):  # the same checks as a query string
                if name in params:
                    raise BadRequest(f"Form field {name[:100]!r} is given twice")
                params[name] = value
        if "update" in params:
            raise Forbidden("This SPARQL endpoint is read-only; change data with LDP writes")
        if "default-graph-uri" in params or "named-graph-uri" in params:
            raise BadRequest("default-graph-uri and named-graph-uri are not supported: the "
                             "default graph is the union of the node's resources")
        query = params.get("query")
        if not query:
            raise BadRequest("Give the query as ?query=, a form field or an "
                             "application/sparql-query body (SPARQL 1.1 Protocol 2.1)")
        return query

"""The frame shared by endpoints with a fixed set of methods (documents, /sparql, federation).

It answers OPTIONS with Allow, refuses other methods with 405 + Allow (RFC 9110 15.5.6),
and renders any Problem raised by ``handle`` as problem+json (RFC 9457).
"""

from __future__ import annotations

from ddsnode.http.errors import send_problem
from ddsnode.http.exchange import Receive, Scope, Send, request_headers, send_response
from ddsnode.problem import MethodNotAllowed, Problem


class FixedMethodsEndpoint:
    """ASGI app base: subclasses set ``allow`` and implement ``handle``."""

    allow = "GET, HEAD, OPTIONS"

    def refusal(self, method: str, path: str) -> str:
        """The detail of the 405 for ``method``."""
        return f"{method} is not supported here"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        try:
            if method == "OPTIONS":
                await send_response(send, 204, [(b"allow", self.allow.encode())])
                return
            if method not in self.allow.split(", "):
                raise MethodNotAllowed(self.refusal(method, scope["path"]),
                                       headers={"Allow": self.allow})
            await self.handle(scope, receive, send, method, request_headers(scope))
        except Problem as problem:
            await send_problem(send, problem, instance=scope["path"], head=method == "HEAD")

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        """Answer an allowed method other than OPTIONS."""
        raise NotImplementedError

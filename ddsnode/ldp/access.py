"""The read rule: may this request read this IRI? One answer for every read path.

A node's resources are public, except those in the ``private_containers`` of the
settings: reading one of those needs a bearer token with scope ``read`` (or ``admin``).
Every way data leaves the node applies this rule — LDP reads (:meth:`Node.required_scope`),
``/trace``, ``/federation/reactions``, ``?scope=federation`` listings, ``/sparql`` and the
change feed — so that a path cannot forget it.

Where the rule says no, the answer must be the one a missing resource gets (issue 9,
items 11-12): same status, same body, no title, type or link of the private resource.
The helpers here never raise on a bad token: an unknown, revoked or malformed token
reads as the public does; the endpoints that must refuse (401/403) call
:meth:`Node.authorize` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ddsnode.ldp.containers import Container, ContainerRegistry

if TYPE_CHECKING:
    from ddsnode.ldp.tokens import TokenRegistry

__all__ = ["OPERATOR", "PUBLIC", "READ_SCOPES", "ReadRule", "Reader", "needs_token",
           "reader_for"]

READ_SCOPES = frozenset({"read", "admin"})


def needs_token(container: Container | None) -> bool:
    """Whether reading in ``container`` needs a token with scope ``read``."""
    return container is not None and container.private


@dataclass(frozen=True)
class Reader:
    """Who reads: the scopes of a valid token; none for the public."""

    scopes: frozenset[str] = frozenset()

    @property
    def reads_private(self) -> bool:
        """Whether this reader may read private containers."""
        return bool(self.scopes & READ_SCOPES)


PUBLIC = Reader()
#: The holder of the node directory (the CLI): it can open the store itself anyway.
OPERATOR = Reader(frozenset({"admin"}))


def reader_for(tokens: TokenRegistry | None, authorization: str | None) -> Reader:
    """The reader an ``Authorization`` header names; PUBLIC when absent or not valid."""
    if not authorization or tokens is None:
        return PUBLIC
    kind, _, token = authorization.partition(" ")
    if kind.lower() != "bearer":
        return PUBLIC
    info = tokens.verify(token.strip())
    return PUBLIC if info is None else Reader(info.scopes)


@dataclass(frozen=True)
class ReadRule:
    """The rule over one node's IRIs: its base and its containers."""

    base: str
    containers: ContainerRegistry

    def is_private(self, iri: str) -> bool:
        """Whether ``iri`` (a resource, a fragment of one, a container) is in a private
        container of this node. IRIs of other origins are never private here."""
        if not iri.startswith(self.base):
            return False
        return needs_token(self.containers.get(iri[len(self.base):]))

    def may_read(self, iri: str, reader: Reader) -> bool:
        """Whether ``reader`` may read ``iri`` (or learn anything of it beyond what a
        public resource says)."""
        return reader.reads_private or not self.is_private(iri)

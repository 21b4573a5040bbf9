"""The storage interface: what the LDP layer asks of a backend.

It mirrors HTTP (read, write, delete, children) rather than RDF. Contract, for every
backend (``tests/test_store.py`` runs the same suite over each):

* ``get(iri)`` returns the stored resource, a tombstone (``kind == "tombstone"``) for a
  deleted one, or ``None``. It never returns a half-written resource.
* ``put(resource, ...)`` creates or replaces atomically: after it returns, the new
  version is durable (survives SIGKILL of the process) and every later ``get`` sees it;
  if it raises, nothing changed. ``expect_version`` makes it conditional (compare and
  swap: ``PreconditionFailed`` if the current version differs; ``0`` means "must not
  exist"). Writing over a tombstone is allowed (the IRI is reused); the container row
  of a child must exist (``Conflict`` otherwise), except for the root.
* ``delete(iri, ...)`` replaces the resource by a tombstone (kept forever, so clients
  and peers learn it is gone) and removes it from its container's children.
* ``children(container, ...)`` pages through a container's live members in a stable
  order (newest first by ``seq``), by keyset (``after`` is an opaque cursor a page gave
  as its ``next`` or ``prev``), with filters; it never loads the whole container.
* ``changes(after, limit)`` lists the change log (every put/delete, in commit order,
  with a monotonic ``seq``): the federation change feed and the SPARQL index's replay.
* ``transaction()`` groups the puts and deletes this thread makes inside it into one
  atomic, durable commit (one fsync for many writes); ``savepoint()`` inside it undoes
  one step's writes if that step raises. Backends without transactions run each write
  on its own (the defaults).
* ``sparql(query, accept)`` runs a read-only SPARQL 1.1 query over all live resources
  (the default graph is the union of the resources' graphs) within the time and result
  limits; updates, ``SERVICE`` and ``LOAD`` are refused.
"""

from __future__ import annotations

import abc
import base64
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar

from ddsnode.problem import BadRequest
from ddsnode.problem import QueryTimeout as QueryTimeout  # re-exported for backends

Kind = Literal["rdf", "container", "binary", "tombstone"]
R = TypeVar("R")


@dataclass(frozen=True)
class Representation:
    """One serialisation of a resource, with its strong ETag."""

    media_type: str
    body: bytes
    etag: str


@dataclass(frozen=True)
class IndexFields:
    """What container filters look at, extracted from the resource's graph at write time."""

    types: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()  # IRIs or codes (NUTS/LAU/OCD-ID) of administrative areas
    platform: str | None = None  # source platform IRI
    lat: float | None = None
    long: float | None = None
    date: str | None = None  # ISO date/dateTime the resource is about (start/created)
    title: str = ""  # a human title, any language, for listings
    text: str = ""  # every text literal, for full-text search


@dataclass(frozen=True)
class StoredResource:
    """A resource as stored: its graph, precomputed representations and metadata."""

    iri: str
    container: str | None
    kind: Kind
    ntriples: str  # the resource's own graph (for binary: its description)
    representations: dict[str, Representation]  # media type -> representation
    created: datetime
    modified: datetime
    index: IndexFields = field(default_factory=IndexFields)
    binary: bytes | None = None  # the bytes of a non-RDF source
    binary_type: str | None = None  # its media type
    version: int = 0  # set by the store: 1 on create, +1 on each write
    seq: int = 0  # set by the store: creation order, used for paging


@dataclass(frozen=True)
class Filters:
    """Container filters; every field None/empty means no filter on it."""

    type: str | None = None
    topic: str | None = None
    state: str | None = None
    area: str | None = None
    platform: str | None = None
    bbox: tuple[float, float, float, float] | None = None  # min_long, min_lat, max_long, max_lat
    date_from: str | None = None
    date_to: str | None = None
    text: str | None = None


NO_FILTERS = Filters()


@dataclass(frozen=True)
class Child:
    """A container member as listed on a page (no full graph)."""

    iri: str
    kind: Kind
    types: tuple[str, ...]
    title: str
    modified: datetime
    index: IndexFields = field(default_factory=IndexFields)


@dataclass(frozen=True)
class Page:
    """A page of children, newest first, with the cursors of the next (older) page and of
    the previous (newer) one; None on the last page and on the first page."""

    items: list[Child]
    next: str | None
    prev: str | None = None


class TransactionLost(RuntimeError):
    """The database ended a transaction by itself (SQLite does on a full disk or an I/O
    error): none of its writes were stored, and the writes after it must not run."""


OLDER, NEWER = "s", "p"  # the two kinds of page cursor: members before / after a seq


def parse_cursor(cursor: str) -> tuple[str, int]:
    """(OLDER or NEWER, seq) of a cursor made by :func:`keyset_page`; BadRequest if bad."""
    try:
        parts = decode_cursor(cursor)
        if len(parts) != 2 or parts[0] not in (OLDER, NEWER):
            raise ValueError
        return parts[0], int(parts[1])
    except ValueError:
        raise BadRequest(f"malformed page cursor {cursor[:64]!r}") from None


def keyset_page(rows: list[R], limit: int, bound: int | None, newer: bool,
                seq: Callable[[R], int], child: Callable[[R], Child]) -> Page | None:
    """The page ``limit + 1`` rows make: asked newest first past an OLDER cursor (or from
    the top), oldest first past a NEWER one. None when a NEWER page reaches the newest
    member: that page is the first page, which the caller asks for from the top (so
    pages keep their boundaries whichever way a client walks)."""
    more = len(rows) > limit
    rows = rows[:limit]
    if newer:
        if not more:
            return None
        rows.reverse()
        return Page([child(r) for r in rows], next=encode_cursor(OLDER, seq(rows[-1])),
                    prev=encode_cursor(NEWER, seq(rows[0])))
    prev = None if bound is None else encode_cursor(NEWER, seq(rows[0]) if rows else bound)
    return Page([child(r) for r in rows],
                next=encode_cursor(OLDER, seq(rows[-1])) if more else None, prev=prev)


@dataclass(frozen=True)
class Change:
    """One entry of the change log."""

    seq: int
    iri: str
    action: Literal["create", "update", "delete"]
    at: datetime
    container: str | None
    types: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueryResult:
    """A SPARQL result serialised in the negotiated format.

    ``truncated`` is True when the result had more than ``limit`` rows (or triples) and
    only the first ``limit`` are in ``body``; the HTTP layer should say so (a header).
    """

    media_type: str
    body: bytes
    truncated: bool = False


def encode_cursor(*parts: object) -> str:
    """An opaque, URL-safe cursor."""
    raw = "\x1f".join(str(p) for p in parts).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> list[str]:
    """The parts of a cursor made by :func:`encode_cursor`; ValueError if it is not one."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8").split("\x1f")
    except (ValueError, UnicodeError):
        raise ValueError("malformed cursor") from None


class Store(abc.ABC):
    """A backend that keeps a node's resources (see the module docstring for the contract)."""

    @abc.abstractmethod
    def get(self, iri: str) -> StoredResource | None:
        """The resource or its tombstone, or None."""

    @abc.abstractmethod
    def put(self, resource: StoredResource, *, expect_version: int | None = None) -> StoredResource:
        """Create or replace atomically; returns it with version and seq set."""

    @abc.abstractmethod
    def delete(self, iri: str, *, tombstone: StoredResource,
               expect_version: int | None = None) -> None:
        """Replace the resource by ``tombstone`` (kind "tombstone") atomically."""

    @abc.abstractmethod
    def children(self, container: str, *, after: str | None = None, limit: int = 50,
                 filters: Filters = Filters()) -> Page:
        """A page of live members of ``container``."""

    @abc.abstractmethod
    def count_children(self, container: str) -> int:
        """How many live members ``container`` has (may be an estimate for huge ones)."""

    @abc.abstractmethod
    def changes(self, after: int = 0, limit: int = 100) -> list[Change]:
        """Change-log entries with seq > after, oldest first."""

    @abc.abstractmethod
    def sparql(self, query: str, *, accept: Sequence[str], timeout: float,
               limit: int) -> QueryResult:
        """Run a read-only SPARQL query over all live resources."""

    def container_stamp(self, container: str) -> int | None:
        """A number that changes whenever a member of ``container`` is created, changed or
        deleted (pages may be cached under it), or None when the backend keeps none."""
        return None

    def changed_at(self, seq: int) -> datetime | None:
        """When change ``seq`` of the change log happened (None if unknown): with
        :meth:`container_stamp`, a container page's Last-Modified."""
        return None

    def transaction(self) -> AbstractContextManager[None]:
        """Commit every write this thread makes in the block together, when it ends."""
        return nullcontext()

    def savepoint(self) -> AbstractContextManager[None]:
        """Inside :meth:`transaction`: undo the block's writes if it raises."""
        return nullcontext()

    def loop_lease(self, seconds: float) -> Any:
        """The :class:`ddsnode.store.lease.Lease` that decides which process runs the
        background loops when several share this store, or None (one process)."""
        return None

    def close(self) -> None:
        """Release files and connections."""

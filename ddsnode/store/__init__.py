"""Storage backends behind one interface (:class:`~ddsnode.store.base.Store`).

``open_store(settings)`` picks the backend named by the ``store`` setting:

* ``embedded`` — SQLite (``DIR/store.sqlite3``) + a derived pyoxigraph index (``DIR/index/``)
* ``postgresql`` — a PostgreSQL database (``database_url``) shared by several processes
* ``sparql`` — any SPARQL 1.1 Query/Update server (``sparql_query_url``, ``sparql_update_url``)

``open_state(settings, store)`` gives the node state (``state.py``): small values every
process and machine of the node shares (signing keys, tokens).

See ``docs/storage.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from ddsnode.settings import Settings
from ddsnode.store.base import (
    Change,
    Child,
    Filters,
    IndexFields,
    Page,
    QueryResult,
    QueryTimeout,
    Representation,
    Store,
    StoredResource,
)
from ddsnode.store.state import NodeState

__all__ = ["Change", "Child", "Filters", "IndexFields", "Page", "QueryResult", "QueryTimeout",
           "NodeState", "Representation", "Store", "StoredResource", "each_time", "open_state",
           "open_store"]


def open_store(settings: Settings) -> Store:
    """The store a node's settings name; ValueError for an unknown or incomplete choice."""
    if settings.store == "embedded":
        if settings.node_dir is None:
            raise ValueError("the embedded store needs a node directory")
        from ddsnode.store.embedded import EmbeddedStore
        return EmbeddedStore(Path(settings.node_dir))
    if settings.store == "sparql":
        if not settings.sparql_query_url or not settings.sparql_update_url:
            raise ValueError("store = sparql needs sparql_query_url and sparql_update_url")
        from ddsnode.store.sparql import SparqlStore
        return SparqlStore(settings.sparql_query_url, settings.sparql_update_url,
                           user=settings.sparql_user, password=settings.sparql_password,
                           auth=settings.sparql_auth)
    if settings.store == "postgresql":
        if not settings.database_url:
            raise ValueError("store = postgresql needs database_url (DDS_DATABASE_URL)")
        from ddsnode.store.postgresql import PostgresqlStore
        return PostgresqlStore(settings.database_url, pool_size=int(settings.database_pool_size),
                               connect_timeout=float(settings.database_connect_timeout))
    raise ValueError(f"unknown store {settings.store!r}: expected embedded, postgresql or "
                     "sparql")


def open_state(settings: Settings, store: Store | None = None) -> NodeState:
    """The node state of ``settings`` (``state.py``): on ``store = "postgresql"`` the
    database's ``node_state`` table, over ``store``'s pool when it is given (else over
    two connections of its own, closed with the state); otherwise ``DIR/node-state.db``."""
    if settings.store == "postgresql":
        from ddsnode.store.postgresql import PostgresqlStore
        from ddsnode.store.postgresql_state import PostgresqlState
        if isinstance(store, PostgresqlStore):
            return PostgresqlState(store._connection)
        if not settings.database_url:
            raise ValueError("store = postgresql needs database_url (DDS_DATABASE_URL)")
        # No pool of its own: a command (``ddsnode token create``) makes a few calls,
        # and a caller that never closes the state leaves no connection open.
        timeout = float(settings.database_connect_timeout)
        PostgresqlStore(settings.database_url, pool_size=1, connect_timeout=timeout).close()
        return PostgresqlState(partial(each_time, settings.database_url, timeout))
    if settings.node_dir is None:
        raise ValueError("the node state needs a node directory (or store = postgresql)")
    from ddsnode.store.state import SqliteState
    return SqliteState(Path(settings.node_dir))


@contextmanager
def each_time(url: str, timeout: float) -> Iterator[Any]:
    """A connection for one call, closed after it (an unreachable database: 503)."""
    from ddsnode.problem import Unavailable
    from ddsnode.store.postgresql import database_errors
    from ddsnode.store.postgresql_schema import connect
    try:
        conn = connect(url, connect_timeout=timeout)
    except database_errors() as e:
        raise Unavailable(f"the database is unreachable ({type(e).__name__}); retry") from None
    try:
        yield conn
    finally:
        conn.close()

"""Storage backends behind one interface (:class:`~ddsnode.store.base.Store`).

``open_store(settings)`` picks the backend named by the ``store`` setting:

* ``embedded`` — SQLite (``DIR/store.sqlite3``) + a derived pyoxigraph index (``DIR/index/``)
* ``postgresql`` — a PostgreSQL database (``database_url``) shared by several processes
* ``sparql`` — any SPARQL 1.1 Query/Update server (``sparql_query_url``, ``sparql_update_url``)

See ``docs/storage.md``.
"""

from __future__ import annotations

from pathlib import Path

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

__all__ = ["Change", "Child", "Filters", "IndexFields", "Page", "QueryResult", "QueryTimeout",
           "Representation", "Store", "StoredResource", "open_store"]


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

"""``ddsnode init DIR`` and ``ddsnode serve DIR``: create and run a node."""

from __future__ import annotations

import argparse
import shutil
import socket
from pathlib import Path
from typing import Any

from ddsnode.settings import SETTINGS_FILE, Settings, require_node_dir, write_settings_file

KEY_FILE = "node-key.pem"


def init_node(path: Path, *, base_url: str | None = None, name: str | None = None,
              extra: dict[str, Any] | None = None) -> Settings:
    """Create a node directory: settings file, store, signing key, token database."""
    if path.exists() and any(path.iterdir()):
        raise ValueError(f"{path} exists and is not empty; choose a new directory")
    path.mkdir(parents=True, exist_ok=True)
    values: dict[str, Any] = dict(extra or {})
    if base_url:
        values["base_url"] = base_url if base_url.endswith("/") else base_url + "/"
    if name:
        values["name"] = name
    write_settings_file(path / SETTINGS_FILE, values)
    try:
        settings = Settings.load(path)
        # The store first: a database that cannot be reached leaves no half-made node
        # directory behind (the same command works once the database does).
        from ddsnode.store import open_store
        open_store(settings).close()
        from ddsnode.store.node_key import node_key
        node_key(settings, create=True)  # DIR/node-key.pem, or the database's (postgresql)
        from ddsnode.ldp.tokens import TokenRegistry
        TokenRegistry(path).close()
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)  # it was empty or absent (checked above)
        raise
    return settings


def add_parser(sub: Any) -> None:
    """Register ``init`` and ``serve``."""
    p = sub.add_parser("init", help="create a node directory")
    p.add_argument("dir", type=Path)
    p.add_argument("--base-url", help="public base IRI (default http://127.0.0.1:8000/)")
    p.add_argument("--name", help="human name of the node")
    p.add_argument("--database-url",
                   help="keep the store in this PostgreSQL database (store = postgresql), "
                        "e.g. postgresql:///dds (docs/storage.md)")
    p.set_defaults(func=_init)
    s = sub.add_parser("serve", help="serve a node directory over HTTP")
    s.add_argument("dir", type=Path)
    s.add_argument("--host", help="interface to bind (default from settings: 127.0.0.1)")
    s.add_argument("--port", type=int, help="port to listen on (default from settings: 8000)")
    s.add_argument("--workers", type=int,
                   help="processes serving the node (default from settings: 1; more than 1 "
                        "needs store = postgresql)")
    # Set by `serve --workers N` for its children: the sockets it listens on, inherited.
    s.add_argument("--listen-fds", help=argparse.SUPPRESS)
    s.set_defaults(func=_serve)


def _init(args: argparse.Namespace) -> int:
    extra = {"store": "postgresql", "database_url": args.database_url} \
        if args.database_url else None
    settings = init_node(args.dir, base_url=args.base_url, name=args.name, extra=extra)
    print(f"created node {settings.name!r} at {args.dir} (base {settings.base_url})")
    from ddsnode.cli import program  # hints that work as printed (.venv/bin/ddsnode)
    print(f"next: {program()} serve {args.dir}    and for writes: "
          f"{program()} token create {args.dir}")
    return 0


def serve(settings: Settings, sockets: list[socket.socket] | None = None) -> None:
    """Run the node with uvicorn until interrupted (SIGINT or SIGTERM); on ``sockets``
    already listening (a worker of ``serve --workers``) or on host:port."""
    import uvicorn

    from ddsnode.http.app import create_app
    from ddsnode.http.server import server_config
    # The connection limits (timeouts, head sizes) live in the protocol: ddsnode.http.server.
    server = uvicorn.Server(server_config(create_app(settings), settings))
    server.run(sockets=sockets)
    if not server.started:
        raise SystemExit(3)  # as uvicorn.run: startup failed, uvicorn logged why


def _serve(args: argparse.Namespace) -> int:
    node_dir = require_node_dir(args.dir)
    settings = Settings.load(node_dir, overrides={"host": args.host, "port": args.port,
                                                  "workers": args.workers})
    if args.listen_fds:  # one worker of `serve --workers N`
        serve(settings, [socket.socket(fileno=int(fd)) for fd in args.listen_fds.split(",")])
        return 0
    from ddsnode.analysis.embeddings import require
    from ddsnode.commands import workers
    from ddsnode.commands.port import ensure_free
    try:
        workers.check(settings, int(settings.workers))
        require(settings)  # analysis_embeddings on needs its package (docs/analysis.md)
    except ValueError as e:
        from ddsnode.cli import UsageError
        raise UsageError(str(e)) from None
    ensure_free(settings.host, int(settings.port))  # a taken port: one line, exit 2
    if int(settings.workers) > 1:
        return workers.Supervisor(node_dir, settings, int(settings.workers)).run()
    serve(settings)
    return 0

"""The ``ddsnode`` command line: one parser, a subcommand module per command group.

Each module in :data:`COMMAND_MODULES` defines ``add_parser(subparsers)`` and sets
``func`` on its parsers; ``func(args)`` returns the exit status. Errors that a user can
fix are printed as one line, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from ddsnode import __version__
from ddsnode.problem import Problem

COMMAND_MODULES = (
    "ddsnode.commands.validate",
    "ddsnode.commands.ontology",
    "ddsnode.commands.node",
    "ddsnode.commands.token",
    "ddsnode.commands.demo",
    "ddsnode.commands.imports",
    "ddsnode.commands.elections",  # adds to the import group: after imports
    "ddsnode.commands.directory",  # adds to the import group: after imports
    "ddsnode.commands.peer",
    "ddsnode.commands.trace",
    "ddsnode.commands.analysis",  # issue 13: ddsnode analyse
    "ddsnode.commands.publish",  # issue 15: ddsnode publish --static
    "ddsnode.commands.catalog",  # issue 15: the open-data portal
    "ddsnode.commands.intake",  # issue 15: ddsnode intake verify-log
)


class UsageError(Exception):
    """A mistake the user can fix; printed as one line, exit status 2."""


def program() -> str:
    """The command as the user typed it, for hints that must work as printed: after the
    README's install ``ddsnode`` is ``.venv/bin/ddsnode``, not on PATH."""
    typed = sys.argv[0] if sys.argv else ""
    if Path(typed).name != "ddsnode":
        return f"{sys.executable} -m ddsnode"
    on_path = shutil.which("ddsnode")
    same = on_path is not None and Path(on_path).resolve() == Path(typed).resolve()
    return "ddsnode" if same else typed


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    parser = argparse.ArgumentParser(prog="ddsnode", description="Democracy Data Space node")
    parser.add_argument("--version", action="version", version=f"ddsnode {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:  # a command group not written yet
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    # rdflib logs a traceback for each ill-typed literal it reads; validation reports
    # those literals properly, so the log would only bury the report.
    logging.getLogger("rdflib.term").setLevel(logging.ERROR)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        status: int = args.func(args)
        return status
    except (UsageError, Problem, OSError, ValueError) as e:
        print(f"ddsnode: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130

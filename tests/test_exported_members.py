"""``__all__`` stays honest where a module or package has a public face (STYLE.md, HTTPX).

As HTTPX's ``tests/test_exported_members.py`` does for its package: a module that
declares ``__all__`` lists exactly what it offers. The rules, checked on a source tree
(so the tests can plant violations in a scratch tree and see them caught):

* ``__all__`` is a literal list or tuple of strings, with no name twice;
* every name in ``__all__`` is bound at the module's top level (defined or imported);
* every public function and class the module defines is in ``__all__`` (a helper only
  the package uses gets a leading underscore, or is listed);
* a package whose ``__init__.py`` re-exports names from its own modules (its public
  face: ``ddsnode.store``, ``ddsnode.outbound``, ``ddsnode.validation``) declares
  ``__all__`` and lists them (mypy --strict's no_implicit_reexport needs it too).

Modules without ``__all__`` are not asked for one: most modules of ddsnode are read
through their names (``from ddsnode.ldp.node import Node``), not through ``import *``.
"""

from __future__ import annotations

import ast
import functools
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: Packages where the rule "public, not listed" is not enforced yet (every other rule
#: is): empty since the wave's packages were completed (issue 11); an entry whose
#: package has become clean fails, to be dropped.
PENDING: tuple[str, ...] = ()


def _pending(module: str) -> str | None:
    return next((p for p in PENDING if module == p or module.startswith(p + ".")), None)


@dataclass(frozen=True)
class Violation:
    """One broken rule: which module, which rule, which names."""

    module: str
    rule: str
    names: frozenset[str]


def modules(root: Path) -> Iterator[tuple[str, Path]]:
    """(dotted name, path) of every module under ``root`` (a ``ddsnode`` folder)."""
    for path in sorted(root.rglob("*.py")):
        name = ".".join(path.relative_to(root.parent).with_suffix("").parts)
        yield name.removesuffix(".__init__"), path


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements at module level, including those under ``if``/``try`` (TYPE_CHECKING …)."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.If):
            yield from _top_level(stmt.body + stmt.orelse)
        elif isinstance(stmt, ast.Try):
            yield from _top_level(stmt.body + stmt.orelse + stmt.finalbody
                                  + [s for h in stmt.handlers for s in h.body])


def _bound(stmt: ast.stmt) -> Iterator[str]:
    """The names a top-level statement binds."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield stmt.name
    elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
        yield from ((a.asname or a.name).split(".")[0] for a in stmt.names)
    elif isinstance(stmt, ast.Assign):
        for target in stmt.targets:
            yield from (n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) and isinstance(stmt.target, ast.Name):
        yield stmt.target.id


def _declared_all(tree: ast.Module) -> tuple[list[str] | None, bool]:
    """(the names of ``__all__`` or None when absent, whether it is a literal of strings)."""
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            names = value.elts if isinstance(value, (ast.List, ast.Tuple)) else None
            if names is not None and all(isinstance(e, ast.Constant)
                                         and isinstance(e.value, str) for e in names):
                return [str(e.value) for e in names if isinstance(e, ast.Constant)], True
            return [], False
    return None, True


def check_tree(root: Path) -> list[Violation]:
    """Every ``__all__`` rule broken in the ``ddsnode`` package at ``root``."""
    found: list[Violation] = []
    for name, path in modules(root):
        tree = ast.parse(path.read_text("utf-8"), str(path))
        statements = list(_top_level(tree.body))
        bound = {n for s in statements for n in _bound(s)}
        listed, literal = _declared_all(tree)
        package = path.name == "__init__.py"
        if package:
            reexported = {(a.asname or a.name) for s in statements
                          if isinstance(s, ast.ImportFrom) and s.module
                          and s.module.startswith(name + ".") for a in s.names
                          if not (a.asname or a.name).startswith("_")}
            if reexported and listed is None:
                found.append(Violation(name, "no __all__ for re-exports",
                                       frozenset(reexported)))
            elif reexported - set(listed or []):
                found.append(Violation(name, "re-export not in __all__",
                                       frozenset(reexported - set(listed or []))))
        if listed is None:
            continue
        if not literal:
            found.append(Violation(name, "__all__ not a literal", frozenset()))
            continue
        if len(listed) != len(set(listed)):
            found.append(Violation(name, "listed twice",
                                   frozenset(n for n in listed if listed.count(n) > 1)))
        if set(listed) - bound:
            found.append(Violation(name, "listed, not defined", frozenset(set(listed) - bound)))
        defined = {s.name for s in tree.body
                   if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                   and not s.name.startswith("_")}
        if defined - set(listed):
            found.append(Violation(name, "public, not listed", frozenset(defined - set(listed))))
    return found


@functools.cache
def _found() -> tuple[Violation, ...]:
    """The violations of this checkout's tree (parsed once for the tests below)."""
    return tuple(check_tree(REPO / "ddsnode"))


def test_every_all_in_ddsnode_is_honest() -> None:
    found = [v for v in _found()
             if not (v.rule == "public, not listed" and _pending(v.module))]
    assert not found, "\n".join(f"{v.module}: {v.rule}: {sorted(v.names)}" for v in found)


def test_pending_entries_still_apply() -> None:
    """A package of PENDING that its owner has made clean is dropped from the list."""
    still = {_pending(v.module) for v in _found()
             if v.rule == "public, not listed"}
    assert set(PENDING) <= still, f"clean now: drop from PENDING {set(PENDING) - still}"


def test_every_listed_name_is_there_at_run_time() -> None:
    """What the source says, the imported module has (``import *`` would not fail)."""
    missing = {}
    for name, path in modules(REPO / "ddsnode"):
        listed, _ = _declared_all(ast.parse(path.read_text("utf-8")))
        if listed:
            module = importlib.import_module(name)
            gone = [n for n in listed if not hasattr(module, n)]
            if gone:
                missing[name] = gone
    assert not missing, missing


def _plant(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "ddsnode"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return root


PLANTED = [
    ("listed, not defined", {"__init__.py": "", "m.py": "__all__ = ['gone']\n"},
     "listed, not defined"),
    ("public, not listed", {"__init__.py": "",
                            "m.py": "__all__ = ['f']\ndef f(): ...\ndef g(): ...\n"},
     "public, not listed"),
    ("listed twice", {"__init__.py": "", "m.py": "__all__ = ['f', 'f']\ndef f(): ...\n"},
     "listed twice"),
    ("computed __all__", {"__init__.py": "", "m.py": "__all__ = sorted(['f'])\ndef f(): ...\n"},
     "__all__ not a literal"),
    ("re-export without __all__", {"__init__.py": "", "p/__init__.py":
                                   "from ddsnode.p.m import Thing\n",
                                   "p/m.py": "class Thing: ...\n"},
     "no __all__ for re-exports"),
    ("re-export left out", {"__init__.py": "", "p/__init__.py":
                            "from ddsnode.p.m import A, B\n__all__ = ['A']\n",
                            "p/m.py": "class A: ...\nclass B: ...\n"},
     "re-export not in __all__"),
]


@pytest.mark.parametrize("files,rule", [(f, r) for _, f, r in PLANTED],
                         ids=[n for n, _, _ in PLANTED])
def test_a_planted_violation_is_caught(tmp_path: Path, files: dict[str, str], rule: str) -> None:
    assert [v.rule for v in check_tree(_plant(tmp_path, files))] == [rule]


def test_an_honest_module_passes(tmp_path: Path) -> None:
    root = _plant(tmp_path, {
        "__init__.py": "",
        "m.py": ("from typing import TYPE_CHECKING\nimport os\n__all__ = ['f', 'C', 'X', 'os']\n"
                 "X = 1\ndef f(): ...\nclass C: ...\ndef _private(): ...\n"
                 "if TYPE_CHECKING:\n    from pathlib import Path\n"),
        "p/__init__.py": "from ddsnode.p.m import A as A, _B\n__all__ = ['A']\n",
        "p/m.py": "class A: ...\nclass _B: ...\n"})
    assert check_tree(root) == []

"""Every problem type the node can answer with is documented, and every documented one exists.

A client branches on the ``type`` of an RFC 9457 problem document
(``https://w3id.org/dds/problems/<slug>``), so each slug is a promise: ``docs/errors.md``
lists them in a table (slug, status, title). Every ``Problem`` class of ``ddsnode/``
(``ddsnode/problem.py`` and the subclasses modules define next to the rule they enforce)
must have its row with the same status and title, and every row must name a slug that
some class raises. The check is a function of (classes, document), so the tests also
plant a violation of each kind and see it caught.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import ddsnode
from ddsnode.problem import Problem

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "errors.md"
ROW = re.compile(r"^\|\s*`([a-z0-9-]+)`\s*\|\s*(\d{3})\s*\|\s*([^|]+?)\s*\|", re.M)


def problem_classes() -> list[type[Problem]]:
    """Every public Problem class defined in ddsnode (every module imported first)."""
    for module in pkgutil.walk_packages(ddsnode.__path__, "ddsnode."):
        if not module.name.endswith("__main__"):  # __main__ runs the CLI when imported
            importlib.import_module(module.name)
    found: list[type[Problem]] = [Problem]
    pending = [Problem]
    while pending:
        for sub in pending.pop().__subclasses__():
            pending.append(sub)
            # private subclasses (``_Logged``) are internal carriers of another type
            if sub.__module__.startswith("ddsnode.") and not sub.__name__.startswith("_"):
                found.append(sub)
    return found


def documented(text: str) -> dict[str, tuple[int, str]]:
    """slug -> (status, title) from the rows of the table in ``text``."""
    rows: dict[str, tuple[int, str]] = {}
    for slug, status, title in ROW.findall(text):
        assert slug not in rows, f"{slug} has two rows"
        rows[slug] = (int(status), title)
    return rows


def mismatches(classes: list[type[Problem]], text: str) -> list[str]:
    """What the table gets wrong about ``classes``: missing, stale or different rows."""
    rows = documented(text)
    problems: list[str] = []
    for cls in classes:
        where = f"{cls.__module__}.{cls.__name__}"
        if cls.slug not in rows:
            problems.append(f"undocumented: {cls.slug} ({where})")
        elif rows[cls.slug] != (cls.status, cls.title):
            problems.append(f"differs: {cls.slug} is {(cls.status, cls.title)} in {where}, "
                            f"{rows[cls.slug]} in the table")
    raised = {cls.slug for cls in classes}
    problems += [f"documented, never raised: {slug}" for slug in rows if slug not in raised]
    return problems


def test_every_problem_type_is_documented_and_every_documented_one_exists() -> None:
    assert mismatches(problem_classes(), DOC.read_text("utf-8")) == []


def test_the_http_doc_points_at_the_table() -> None:
    assert "errors.md" in (REPO / "docs" / "http.md").read_text("utf-8")


class _Base(Problem):
    """A stand-in for a type the table lists (kept out of problem_classes by its name)."""

    status, slug, title = 418, "teapot", "A teapot"


TABLE = "| slug | status | title |\n|---|---|---|\n| `teapot` | 418 | A teapot |\n"


def _planted(slug: str, status: int, title: str) -> type[Problem]:
    # type() keeps the planted class out of the module namespace; it is still a subclass
    # of Problem, but its module is this test's, so problem_classes() never lists it.
    return type("_Planted", (Problem,), {"slug": slug, "status": status, "title": title})


@pytest.mark.parametrize("classes,table,expected", [
    pytest.param([_Base], TABLE, [], id="honest"),
    pytest.param([_Base, _planted("new-thing", 422, "New")], TABLE,
                 ["undocumented: new-thing"], id="a new type without a row"),
    pytest.param([_Base], TABLE + "| `ghost` | 409 | Gone away |\n",
                 ["documented, never raised: ghost"], id="a row for no type"),
    pytest.param([_Base], TABLE.replace("418", "400"),
                 ["differs: teapot"], id="a status that moved"),
    pytest.param([_Base], TABLE.replace("A teapot |", "A kettle |"),
                 ["differs: teapot"], id="a title that moved"),
])
def test_a_planted_violation_is_caught(classes: list[type[Problem]], table: str,
                                       expected: list[str]) -> None:
    found = mismatches(classes, table)
    assert len(found) == len(expected)
    assert all(f.startswith(e) for f, e in zip(found, expected, strict=True)), found

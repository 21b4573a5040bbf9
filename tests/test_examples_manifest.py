"""Every example conforms; every invalid example fails exactly as its manifest says.

Manifest-driven (STYLE habit 9), with the reference engine (pyshacl) and the bundled
shapes. ``examples/invalid/manifest.json`` lists ``{file, description, focus, shape,
path, component}``; see ``ddsnode/authoring/manifest.py`` for how an entry is matched.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ddsnode.authoring import manifest
from ddsnode.authoring.sources import Sources
from ddsnode.validation.reference import validate_pyshacl
from ddsnode.validation.shapes import shapes_graph

SOURCES = Sources.bundled()
EXPECTED = manifest.expectations(SOURCES.manifest(), manifest.prefixes_of(SOURCES.context))


@pytest.mark.parametrize("path", SOURCES.example_files(), ids=lambda p: p.name)
def test_example_conforms(path: Path) -> None:
    report = validate_pyshacl(SOURCES.parse_example(path))
    problems = [f"{manifest.describe(r, shapes_graph())}: {r.message('en')}"
                for r in report.violations]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invalid_example_fails_as_stated(name: str) -> None:
    path = SOURCES.examples_dir / "invalid" / name
    assert path.is_file(), f"the manifest names {name}, which does not exist"
    report = validate_pyshacl(SOURCES.parse_example(path))
    problems = manifest.mismatches(EXPECTED[name], report, shapes_graph())
    assert not problems, "\n".join(problems)


def test_every_invalid_example_has_an_entry() -> None:
    stray = [p.name for p in SOURCES.invalid_example_files() if p.name not in EXPECTED]
    assert not stray, f"invalid examples without a manifest entry: {stray}"


def test_every_entry_is_described() -> None:
    entries = SOURCES.manifest()
    assert all(isinstance(e.get("description"), str) and e["description"] for e in entries)

"""Code and ontology cannot drift: every ``DDS.<name>`` in the code, and every ``dds:``
term of the context, is declared in ``ontology/`` (STYLE habit 7)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import ddsnode
from ddsnode import resources
from ddsnode.authoring.terms import context_terms, declared_terms
from ddsnode.rdf.vocab import DDS, DDS_NS, ontology_graph

PACKAGE = Path(ddsnode.__file__).parent
# DDS.Proposal, DDS["Proposal"], DDS['Proposal'] (attributes of the namespace object excluded)
USES = re.compile(r"\bDDS(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*[\"']([A-Za-z_][\w-]*)[\"']\s*\])")
NOT_TERMS = {name for name in dir(type(DDS)) if not name.startswith("_")}


def code_uses() -> list[tuple[str, str]]:
    """(file, local name) for every DDS term the package's code names."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for match in USES.finditer(path.read_text(encoding="utf-8")):
            name = match.group(1) or match.group(2)
            if name not in NOT_TERMS:
                found.append((str(path.relative_to(PACKAGE.parent)), name))
    return found


def test_every_dds_term_in_code_is_declared() -> None:
    declared = declared_terms(ontology_graph())
    missing = [f"{file}: DDS.{name}" for file, name in code_uses()
               if DDS_NS + name not in {str(t) for t in declared}]
    assert not missing, "used in code, not declared in ontology/:\n" + "\n".join(missing)


def test_every_dds_term_of_the_context_is_declared() -> None:
    declared = {str(t) for t in declared_terms(ontology_graph())}
    context = resources.context_document()["@context"]
    missing = sorted(f"{term} -> {iri}" for term, iri in context_terms(context).items()
                     if iri.startswith(DDS_NS) and iri not in declared)
    assert not missing, "context terms whose dds: IRI is not declared:\n" + "\n".join(missing)


def test_pattern_finds_uses() -> None:
    sample = 'DDS.Proposal, DDS["inSpace"], DDS.terms, OTHERDDS.x'
    names = [m.group(1) or m.group(2) for m in USES.finditer(sample)]
    assert [n for n in names if n not in NOT_TERMS] == ["Proposal", "inSpace"]


def test_undeclared_term_is_an_error() -> None:
    """A name computed at run time is checked when used; a name written in the code is
    checked by test_every_dds_term_in_code_is_declared (so imports never parse ontology/)."""
    with pytest.raises(KeyError):
        DDS["NoSuchTermInTheOntology"]

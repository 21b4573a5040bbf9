"""The example scenario's election published as NIST CDF (issue 14).

``examples/nist/e-election-municipal-2026.json`` is what ``ddsnode export nist`` writes
for the Rivemont election of ``examples/e-*.jsonld``. These tests keep the two in sync
(the file is re-exported from the JSON-LD examples and compared), check the file against
NIST's JSON schema as published (the shared copy), and import it back: the numbers on
the node are the JSON-LD examples' numbers.

When the JSON-LD examples change, regenerate the file:
``.venv/bin/python tests/test_elections_example.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import jsonschema

from ddsnode import resources
from ddsnode.commands.demo import load_examples
from ddsnode.commands.node import init_node
from ddsnode.elections import export
from ddsnode.elections.loading import node_model
from ddsnode.elections.run import import_nist
from ddsnode.ldp.node import Node
from ddsnode.settings import Settings

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "elections"
SCHEMA_FILE = SHARED / "nist-cdf" / "NIST_V2_election_results_reporting.json"
EXAMPLE = resources.examples_dir() / "nist" / "e-election-municipal-2026.json"
ISSUER = "Ville de Rivemont, service des élections"
BASE = "https://elections.rivemont.example/"
# The producing software's version changes with every release; the data does not.
VOLATILE = ("VendorApplicationId",)


def exported(tmp: Path) -> dict[str, Any]:
    """The example election as exported now from the JSON-LD examples."""
    node_dir = tmp / "examples-node"
    init_node(node_dir, base_url=BASE)
    settings = Settings.load(node_dir)
    written, problems = load_examples(settings)
    assert written and not problems, problems
    node = Node.open(settings)
    try:
        model = node_model(node, BASE + "elections/municipal-2026")
    finally:
        node.close()
    data: dict[str, Any] = json.loads(export.nist_json(model, issuer=ISSUER))
    return data


def stable(report: dict[str, Any]) -> dict[str, Any]:
    """The report without the fields that name the software, not the election."""
    return {k: v for k, v in report.items() if k not in VOLATILE}


def test_example_file_is_what_export_writes(tmp_path: Path) -> None:
    shipped = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert stable(exported(tmp_path)) == stable(shipped), \
        "examples/nist is out of date: run .venv/bin/python tests/test_elections_example.py"


def test_example_file_validates_against_nists_schema() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = [f"{list(e.absolute_path)}: {e.message}"
              for e in validator.iter_errors(json.loads(EXAMPLE.read_text(encoding="utf-8")))]
    assert errors == []


def _example_counts() -> dict[tuple[str, str, str], int]:
    """(selection id, count type, unit id) -> count, from the current JSON-LD results."""
    results: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(resources.examples_dir().glob("e-result-*.jsonld")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        key = (doc["contest"], doc["reportingUnit"])
        if key not in results or doc["sequence"] > results[key]["sequence"]:
            results[key] = doc
    out = {}
    for doc in results.values():
        unit = doc["reportingUnit"].rsplit("/", 1)[-1]
        for vc in doc["voteCounts"]:
            out[(vc["selection"].rsplit("#", 1)[-1], vc["countType"], unit)] = vc["count"]
    return out


def test_example_file_imports_back_to_the_examples_numbers(tmp_path: Path) -> None:
    node_dir = tmp_path / "node"
    init_node(node_dir, base_url="http://127.0.0.1:8000/")
    settings = Settings.load(node_dir)
    report = import_nist(settings, node_dir, EXAMPLE, slug="rivemont")
    assert report.rejects == [] and report.totals()["created"] > 0
    node = Node.open(settings)
    try:
        model = node_model(node, "http://127.0.0.1:8000/elections/rivemont-election-1")
    finally:
        node.close()
    ids = {u.iri: u.ident for u in model.units.values()}
    selections = {s.iri: s.ident for c in model.contests for s in c.selections}
    got = {(selections[sel], ctype, ids[r.figures.unit]): n
           for r in model.results for (sel, ctype), n in r.figures.counts.items()}
    expected = _example_counts()
    assert len(expected) == 11  # 9 council counts, 2 referendum answers
    assert got == expected


if __name__ == "__main__":
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        EXAMPLE.parent.mkdir(exist_ok=True)
        EXAMPLE.write_text(json.dumps(exported(Path(tmp)), indent=2, ensure_ascii=False) + "\n",
                           encoding="utf-8")
    print(f"wrote {EXAMPLE}", file=sys.stderr)

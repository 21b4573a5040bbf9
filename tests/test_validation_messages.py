"""Validation messages name what is actually wrong and how to fix it (issue 10, item 10).

A shape's sh:message is shared by all its constraints, so "`state` must be one of …" was
shown for two valid states (the count failed) and "A title is required" for a title
without a language tag (the datatype failed). Each case below names the constraint
component that must fire and words its message must contain, in English and French;
the HTTP cases check the 422 problem, that nothing was stored, and that the node still
answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from string import Formatter
from typing import Any

import pytest

from ddsnode import resources
from ddsnode.rdf.jsonld import parse_rdf
from ddsnode.rdf.vocab import SH
from ddsnode.validation import validate
from ddsnode.validation.explanation import term_name
from ddsnode.validation.messages import LANGS, TEMPLATES
from ddsnode.validation.shapes import shapes_graph
from tests.support.inprocess import LocalNode, local_node

CTX = "https://w3id.org/dds/context/v1"
IRI = "http://127.0.0.1:8000/proposals/p"


def proposal(**fields: Any) -> dict[str, Any]:
    """A proposal document with ``fields`` over a valid minimum."""
    doc: dict[str, Any] = {"@context": CTX, "id": "", "type": "Proposal",
                           "title": {"en": "More trees"}}
    doc.update(fields)
    return {k: v for k, v in doc.items() if v is not None}


# (case, document, constraint component that fires, words in English, words in French)
CASES: list[tuple[str, dict[str, Any], str, list[str], list[str]]] = [
    ("title without language tag", proposal(title="More trees"), "Datatype",
     ["`title`", "language tag", '{"en": "More trees"}'],
     ["`title`", "étiquette de langue", '{"en": "More trees"}']),
    ("title missing", proposal(title=None), "MinCount",
     ["`title` is missing", 'In JSON-LD: "title": {"en": "…"}'],
     ["`title` manque", 'En JSON-LD : "title": {"en": "…"}']),
    ("two states, each allowed", proposal(state=["accepted", "evaluating"]), "MaxCount",
     ["Only one `state` is allowed", "found 2", '"accepted"', '"evaluating"'],
     ["Un seul `state`", "2 trouvés"]),
    ("unknown state", proposal(state="maybe"), "In",
     ['`state` is "maybe"', "not an allowed value", '"accepted"', '"withdrawn"'],
     ['`state` vaut "maybe"', "valeur permise", '"notAnswered"']),
    ("two titles in one language", proposal(title={"en": ["A", "B"]}), "UniqueLang",
     ["`title`", 'language "en"', "one per language"], ["`title`", "« en »"]),
    ("count as text", proposal(supportCount="many"), "Datatype",
     ["`supportCount`", '"many"', "xsd:nonNegativeInteger"],
     ["`supportCount`", '"many"', "xsd:nonNegativeInteger"]),
    ("two support counts", proposal(supportCount=[3, 4]), "MaxCount",
     ["Only one `supportCount`", "found 2"], ["Un seul `supportCount`"]),
    ("latitude out of range", proposal(lat=123.5), "MaxInclusive",
     ["`lat`", "at most 90"], ["`lat`", "au plus 90"]),
    ("author as an object without id", proposal(author={"name": "Ann"}), "NodeKind",
     ["`author` must be a link", 'without an "id"'], ["`author` doit être un lien"]),
    ("author typed as a proposal", proposal(author={"id": "#a", "type": "Proposal",
                                                    "title": {"en": "y"}}), "Or",
     ["`author`", "types as Proposal", "Participant / Organization / Party"],
     ["`author`", "comme Proposal", "Participant / Organization / Party"]),
    ("place name as a number", proposal(place={"id": "#pl", "type": "Place", "name": 42}),
     "Or", ["`name`", '"42" (xsd:integer)', "xsd:string, rdf:langString"],
     ["`name`", "xsd:string, rdf:langString"]),
    ("description without language tag", proposal(description="text"), "Datatype",
     ["`description`", "language tag"], ["`description`", "étiquette de langue"]),
]


def results_for(doc: dict[str, Any], engine: str) -> list[Any]:
    """The violations of ``doc`` read at IRI."""
    graph = parse_rdf(json.dumps(doc).encode(), "json-ld", base=IRI)
    return validate(graph, engine=engine).violations


@pytest.mark.parametrize("engine", ["fast", "pyshacl"])
@pytest.mark.parametrize(("case", "doc", "component", "en", "fr"), CASES,
                         ids=[c[0] for c in CASES])
def test_message_names_the_constraint_that_fired(case: str, doc: dict[str, Any],
                                                 component: str, en: list[str],
                                                 fr: list[str], engine: str) -> None:
    violations = results_for(doc, engine)
    fired = [r for r in violations if r.constraint == SH[component + "ConstraintComponent"]]
    assert fired, f"{case}: {component} did not fire: {[str(r.constraint) for r in violations]}"
    for result in fired:
        for lang, words in (("en", en), ("fr", fr)):
            text = result.message(lang)
            for word in words:
                assert word in text, f"{case} [{lang}]: {word!r} not in {text!r}"
        assert result.rule("en")  # the shape's own sh:message stays available


def test_count_message_does_not_blame_the_values() -> None:
    """Two allowed states: the message is about the count, not the allowed values."""
    (result,) = results_for(proposal(state=["accepted", "evaluating"]), "fast")
    assert "one of" not in result.message("en")
    assert "not an allowed value" not in result.message("en")


def test_title_message_is_not_required() -> None:
    """A title is there, only its language tag is missing: never "is required"."""
    (result,) = results_for(proposal(title="More trees"), "fast")
    assert "required" not in result.message("en")


# HTTP: (case, content type, body, words in the problem's detail)
HTTP_CASES: list[tuple[str, str, bytes, list[str]]] = [
    ("json-ld without @context", "application/ld+json",
     json.dumps({"id": "", "type": "Proposal", "title": {"en": "x"}}).encode(),
     ['no "@context"', '"id", "type", "title"', CTX]),
    ("json-ld without @context, one key", "application/ld+json", b'{"title": "x"}',
     ['no "@context"', '"title"', CTX]),
    ("list of objects without @context", "application/ld+json", b'[{"type": "Proposal"}]',
     ['no "@context"', '"type"']),
    ("empty json object", "application/ld+json", b"{}", ['"@context"']),
    ("empty turtle", "text/turtle", b"", ["no statements", "body is empty"]),
    ("turtle of prefixes only", "text/turtle", b"@prefix dct: <http://purl.org/dc/terms/> .\n",
     ["no statements"]),
    ("turtle of comments only", "text/turtle", b"# nothing\n", ["no statements"]),
    ("plain-string title", "application/ld+json",
     json.dumps(proposal(title="More trees")).encode(), ["language tag", '{"en":']),
    ("two states", "application/ld+json",
     json.dumps(proposal(state=["accepted", "rejected"])).encode(),
     ["Only one `state`", "found 2"]),
]


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    """One node for the refusals: none of them stores anything, which each test checks."""
    with local_node(tmp_path_factory.mktemp("messages")) as running:
        yield running


@pytest.mark.parametrize(("case", "media_type", "body", "words"), HTTP_CASES,
                         ids=[c[0] for c in HTTP_CASES])
def test_http_problem_names_the_problem(node: LocalNode, case: str, media_type: str,
                                        body: bytes, words: list[str]) -> None:
    with node.client() as http:
        other_iri, other = node.example("a-proposal-school-streets")
        assert http.put(other_iri, content=other, headers={  # 201 first, then 204
            **node.auth(), "Content-Type": "application/ld+json"}).status_code in (201, 204)
        response = http.put("/proposals/bad", content=body,
                            headers={**node.auth(), "Content-Type": media_type})
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        detail = response.json()["detail"]
        for word in words:
            assert word in detail, f"{case}: {word!r} not in {detail!r}"
        for error in response.json().get("errors", []):
            assert error["message"] and error["rule"] and error["constraint"]
        # nothing stored, and the node still answers
        assert http.get("/proposals/bad").status_code == 404
        assert http.get(other_iri).status_code == 200
        query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
        assert http.get("/sparql", params={"query": query}).status_code == 200


def _manifest() -> list[dict[str, str]]:
    entries: list[dict[str, str]] = json.loads(
        (resources.examples_dir() / "invalid" / "manifest.json").read_text(encoding="utf-8"))
    return entries


@pytest.mark.parametrize("entry", _manifest(), ids=lambda e: e["file"])
def test_every_invalid_example_is_explained(entry: dict[str, str]) -> None:
    """Each invalid example's violation names its property, in English and French."""
    path = resources.examples_dir() / "invalid" / entry["file"]
    graph = parse_rdf(path.read_bytes(), "json-ld", base=entry["focus"])
    fired = [r for r in validate(graph).violations
             if str(r.constraint) == entry["component"] and str(r.path) == entry["path"]]
    assert fired, entry
    terms = [term_name(fired[0].path, datatype) for datatype in
             (None, *shapes_graph().objects(fired[0].source_shape, SH.datatype))]
    for lang in ("en", "fr"):
        text = fired[0].message(lang)
        assert any(f"`{term}`" in text for term in terms), (lang, text)
        assert "not satisfied" not in text
    french = fired[0].message("fr")
    for english in (" and ", " more", "blank node", "see the", " is ", " must "):
        assert english not in french, french


def test_catalogue_is_complete() -> None:
    """Every template exists in every language, with the same fields."""
    for key, by_lang in TEMPLATES.items():
        assert set(by_lang) == set(LANGS), key
        fields = {lang: {f for _, f, _, _ in Formatter().parse(text) if f}
                  for lang, text in by_lang.items()}
        assert all(f == fields["en"] for f in fields.values()), (key, fields)


@pytest.mark.parametrize(("lang", "words"), [
    ("ca", ["Només es permet un `state`", "2"]), ("es", ["Solo se permite un `state`", "2"])])
def test_catalan_and_spanish(lang: str, words: list[str]) -> None:
    (result,) = results_for(proposal(state=["accepted", "evaluating"]), "fast")
    for word in words:
        assert word in result.message(lang)


def test_cli_with_a_working_copy_of_the_shapes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``ddsnode validate --shapes DIR`` explains its results the same way."""
    from ddsnode.cli import main
    document = tmp_path / "two-states.jsonld"
    document.write_text(json.dumps(proposal(state=["accepted", "rejected"])))
    status = main(["validate", "--shapes", str(resources.shapes_dir()), "--lang", "fr",
                   str(document)])
    assert status == 1
    assert "Un seul `state` est permis" in capsys.readouterr().out


@pytest.mark.parametrize("body", [b"", b"  \n", b"\n\n"], ids=["empty", "spaces", "newlines"])
@pytest.mark.parametrize("media_type", ["text/n3", "application/sparql-update"])
def test_empty_patch_says_so(node: LocalNode, media_type: str, body: bytes) -> None:
    """curl --data '@prefix …' sends nothing: the 422 says the body is empty and why."""
    with node.client() as http:
        iri, document = node.example("a-proposal-school-streets")
        http.put(iri, content=document, headers={**node.auth(),
                                                 "Content-Type": "application/ld+json"})
        before = http.get(iri, headers={"Accept": "text/turtle"})
        response = http.patch(iri, content=body,
                              headers={**node.auth(), "Content-Type": media_type})
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        detail = response.json()["detail"]
        assert "body is empty" in detail and "--data-raw" in detail
        after = http.get(iri, headers={"Accept": "text/turtle"})
        assert after.headers["etag"] == before.headers["etag"]  # nothing changed
        query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
        assert http.get("/sparql", params={"query": query}).status_code == 200


def test_insert_only_patch_names_the_count(node: LocalNode) -> None:
    """The README's old PATCH: inserting a state beside the one there is a 422 that says
    only one state is allowed (not that the values are not allowed)."""
    patch = ("@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n_:p a solid:InsertDeletePatch;"
             " solid:inserts { <> <https://w3id.org/dds/ns#state> "
             "<https://w3id.org/dds/state/evaluating> }.")
    with node.client() as http:
        iri, document = node.example("a-proposal-protected-bike-lanes")
        http.put(iri, content=document, headers={**node.auth(),
                                                 "Content-Type": "application/ld+json"})
        before = http.get(iri, headers={"Accept": "text/turtle"}).headers["etag"]
        response = http.patch(iri, content=patch.encode(),
                              headers={**node.auth(), "Content-Type": "text/n3"})
        assert response.status_code == 422, response.text
        assert "Only one `state` is allowed; found 2" in response.json()["detail"]
        assert http.get(iri, headers={"Accept": "text/turtle"}).headers["etag"] == before

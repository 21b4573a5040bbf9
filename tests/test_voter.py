"""Where do I vote, who are the candidates, results at my station: the example election.

The node holds the Rivemont election of ``examples/e-*.jsonld`` (three polling stations
in one postcode, 69990: bureaux 101 and 104 serve secteur 1, bureau 201 secteur 2; a
council contest and a referendum; results for secteur 1 and the whole town), written
through HTTP like any client would. Every answer is asked as a page and as JSON, and the
lookup is asked hostile things (too long, odd Unicode, injections, private IRIs).
"""

from __future__ import annotations

import glob
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ddsnode import resources
from tests.support.inprocess import LocalNode, local_node

VOTE = "/explore/vote"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    with local_node(tmp_path_factory.mktemp("voter"),
                    settings={"private_containers": "private/",
                              "voter_containers": "places/ elections/ organisations/ private/",
                              "voter_refresh_seconds": 0}) as running:
        with running.client() as http:
            for path in sorted(glob.glob(str(resources.examples_dir() / "e-*.jsonld"))):
                iri, body = running.example(Path(path).stem)
                response = http.put(iri, content=body, headers={
                    "Content-Type": "application/ld+json", **running.auth()})
                assert response.status_code == 201, response.text
        yield running


@pytest.fixture()
def http(node: LocalNode) -> Iterator[httpx.Client]:
    with node.client() as client:
        yield client


def vote(http: httpx.Client, **params: str) -> httpx.Response:
    return http.get(VOTE + ".json", params=params)


def test_postcode_split_between_stations_gives_a_picker(node: LocalNode,
                                                        http: httpx.Client) -> None:
    body = vote(http, postcode="69990").json()
    assert body["picker"] == [
        {"label": "Secteur 1 – Presqu'île et Tanneurs",
         "unit": node.url("places/rivemont-secteur-1")},
        {"label": "Secteur 2 – Plateau", "unit": node.url("places/rivemont-secteur-2")}]
    page = http.get(VOTE, params={"postcode": "69990", "lang": "fr"})
    assert page.status_code == 200 and "Choisissez votre adresse" in page.text
    assert f'href="{VOTE}?unit=' in page.text  # each choice is a plain link


def test_a_unit_gets_its_stations_hours_and_ballots(node: LocalNode,
                                                    http: httpx.Client) -> None:
    body = vote(http, unit=node.url("places/rivemont-secteur-1")).json()
    assert [s["name"] for s in body["stations"]] == [
        "Bureau 101 – École des Tanneurs", "Bureau 104 – Mairie annexe de la Presqu'île"]
    assert body["stations"][0]["hours"] == ["Su 08:00-20:00"]
    assert body["stations"][0]["address"].startswith("École des Tanneurs, 3 quai")
    assert [b["title"]["en"] for b in body["ballots"]] == [
        "Rivemont municipal council", "Local referendum: Tanneurs limited-traffic zone"]
    assert [lv["gpUnitType"] for lv in body["levels"]] == ["ward", "municipality"]
    # the same answer asked with Accept on the page's URL
    negotiated = http.get(VOTE, params={"unit": node.url("places/rivemont-secteur-1")},
                          headers={"Accept": "application/json"})
    assert negotiated.json() == body


def test_a_point_finds_the_nearest_station_of_its_unit(node: LocalNode,
                                                       http: httpx.Client) -> None:
    near_201 = vote(http, lat="45.7741", long="4.8275").json()
    assert near_201["unit"]["id"] == node.url("places/rivemont-secteur-2")
    assert near_201["stations"][0]["name"] == "Bureau 201 – Gymnase du Plateau"
    near_104 = vote(http, lat="45.7630", long="4.8338").json()
    assert near_104["unit"]["id"] == node.url("places/rivemont-secteur-1")
    assert near_104["stations"][0]["name"].startswith("Bureau 104")


def test_page_has_the_map_and_the_stations_without_script(node: LocalNode,
                                                          http: httpx.Client) -> None:
    page = http.get(VOTE, params={"unit": node.url("places/rivemont-secteur-1"),
                                  "lang": "en"})
    assert page.status_code == 200
    assert "<svg" in page.text and "<script" not in page.text
    assert "Bureau 104 – Mairie annexe de la Presqu&#39;île" in page.text
    assert 'method="get"' in page.text  # the form is a shareable GET


def test_unknown_address_is_said_clearly(http: httpx.Client) -> None:
    # a page: the answer is "none here", said plainly with the form (errors >= 400 are
    # problem documents only, test_read_rule.py)
    page = http.get(VOTE, params={"q": "12 rue Inconnue", "lang": "fr"})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "Aucun bureau de vote trouvé" in page.text and 'name="q"' in page.text
    problem = vote(http, q="12 rue Inconnue")
    assert problem.status_code == 404
    assert problem.headers["content-type"].startswith("application/problem+json")
    assert vote(http, postcode="75001").status_code == 404
    assert vote(http, lat="48.85", long="2.35").status_code == 404  # outside the grid


def test_candidates_and_parties_of_a_ballot(node: LocalNode, http: httpx.Client) -> None:
    contest = node.url("elections/municipal-2026-council")
    body = http.get(VOTE + "/ballot", params={"contest": contest},
                    headers={"Accept": "application/json"}).json()
    names = sorted((c["name"]["fr"], sel["parties"][0]["name"])
                   for sel in body["selections"] for c in sel["candidates"])
    assert names == [("Camille Peuplier", "Rivemont en commun"),
                     ("Hugo Tilleul", "Avenir Rivemont"),
                     ("Inès Saule", "Rivemont écologie et solidarités")]
    page = http.get(VOTE + "/ballot", params={"contest": contest, "lang": "fr"})
    assert f'href="{node.url("organisations/party-rc")}"' in page.text


def test_results_at_my_station_and_above(node: LocalNode, http: httpx.Client) -> None:
    unit = node.url("places/rivemont-secteur-1")
    body = http.get(VOTE + "/results", params={"unit": unit},
                    headers={"Accept": "application/json"}).json()
    levels = {lv["unit"]: lv["results"] for lv in body["levels"]}
    assert list(levels) == [unit, node.url("places/rivemont")]
    council = levels[unit][0]
    source = json.loads(node.rebase((resources.examples_dir() /
                                     "e-result-municipal-2026-council-secteur-1-seq-2.jsonld"
                                     ).read_text("utf-8")))
    # the correction (sequence 2) is the current result, with its numbers
    assert council["status"] == "correction"
    assert council["ballotsCast"] == source["ballotsCast"]
    assert sum(c["votes"] for c in council["counts"]) == sum(
        vc["count"] for vc in source["voteCounts"] if vc["countType"] == "total")
    page = http.get(VOTE + "/results", params={"unit": unit, "lang": "en"})
    assert "Camille Peuplier" in page.text and "ddsnode verify" in page.text


def test_conditional_get(node: LocalNode, http: httpx.Client) -> None:
    first = vote(http, unit=node.url("places/rivemont-secteur-2"))
    again = http.get(VOTE + ".json", params={"unit": node.url("places/rivemont-secteur-2")},
                     headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_new_station_is_found_after_a_write(node: LocalNode, http: httpx.Client) -> None:
    iri, body = node.example("e-place-bureau-201")
    doc = json.loads(body)
    doc["id"] = node.url("places/bureau-202")
    doc["name"] = "Bureau 202 – Médiathèque"
    doc["address"]["postCode"] = "69991"
    doc["wheelchairAccessible"] = True
    response = http.put(doc["id"], content=json.dumps(doc), headers={
        "Content-Type": "application/ld+json", **node.auth()})
    assert response.status_code == 201, response.text
    answer = vote(http, postcode="69991").json()  # the table was rebuilt
    assert answer["stations"][0]["name"] == "Bureau 202 – Médiathèque"
    assert answer["stations"][0]["wheelchairAccessible"] is True


@pytest.mark.parametrize("params, status", [
    ({"q": "x" * 201}, 400),
    ({"postcode": "6" * 5000}, 400),
    ({"q": "3 quai des Tanneurs\u202e\u200b\ufeff 69990"}, 200),  # bidi, zero-width
    ({"q": "3 quai des Tanneurs\x00 69990"}, 400),  # a control character
    ({"q": "' OR 1=1; DROP TABLE segments; --"}, 404),
    ({"q": "%' UNION SELECT data FROM stations --"}, 404),
    ({"postcode": "69990' OR '1'='1"}, 404),
    ({"lat": "nan", "long": "4.8"}, 400),
    ({"lat": "1e308", "long": "4.8"}, 400),
    ({"lat": "45.7", "long": ""}, 400),
    ({"unit": "javascript:alert(1)"}, 404),
    ({}, 400),
], ids=["long-q", "long-postcode", "odd-unicode", "nul", "sql-1", "sql-2", "sql-3", "nan", "huge",
        "half-point", "js-unit", "nothing"])
def test_hostile_queries(http: httpx.Client, params: dict[str, str], status: int) -> None:
    response = vote(http, **params)
    assert response.status_code == status, response.text
    page = http.get(VOTE, params=params)
    assert page.status_code == (200 if not params or status == 404 else status)
    if page.status_code >= 400:
        assert page.headers["content-type"].startswith("application/problem+json")
    assert "<script" not in page.text


def test_markup_in_a_query_is_escaped(http: httpx.Client) -> None:
    page = http.get(VOTE, params={"q": '"><script>alert(1)</script>'})
    assert page.status_code == 200 and "govuk-error-summary" in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_private_stations_are_never_shown(node: LocalNode, http: httpx.Client) -> None:
    iri, body = node.example("e-place-bureau-201")
    doc = json.loads(body)
    doc["id"] = node.url("private/bureau-secret")
    doc["name"] = "Bureau secret"
    doc["address"]["postCode"] = "69992"
    response = http.put(doc["id"], content=json.dumps(doc), headers={
        "Content-Type": "application/ld+json", **node.auth()})
    assert response.status_code == 201, response.text
    assert vote(http, postcode="69992").status_code == 404
    with_token = http.get(VOTE + ".json", params={"postcode": "69992"},
                          headers=node.auth(node.read_token))
    assert with_token.status_code == 404  # the lookup is public data, for everyone


def test_results_come_from_the_signed_generation(tmp_path: Path) -> None:
    """With the election published, the results page names the generation it read, links
    its signed manifest and pointer, and shows the generation's numbers."""
    with local_node(tmp_path, settings={"publication_elections": "*",
                                        "publication_interval_seconds": 0.5,
                                        "voter_refresh_seconds": 0}) as node:
        with node.client() as http:
            for path in sorted(glob.glob(str(resources.examples_dir() / "e-*.jsonld"))):
                iri, body = node.example(Path(path).stem)
                assert http.put(iri, content=body, headers={
                    "Content-Type": "application/ld+json", **node.auth()}).status_code == 201
            pointer = node.url("elections/municipal-2026/results/current")
            unit = node.url("places/rivemont-secteur-1")
            # The publisher asks its feed twice a second: wait for a generation made
            # after the last example was written (an earlier one may lack the results).
            for _ in range(1200):
                body = http.get(VOTE + "/results", params={"unit": unit},
                                headers={"Accept": "application/json"}).json()
                if len(body["levels"]) == 2 and body["source"] == "generation":
                    break
                time.sleep(0.1)
            assert body["source"] == "generation"
            [published] = body["published"]
            for _ in range(100):  # the server re-reads its pointer within a second
                current = http.get(pointer).json()
                if current["generation"] == published["generation"]:
                    break
                time.sleep(0.1)
            assert published["generation"] == current["generation"] >= 1
            assert published["manifest"] == node.url(
                f"elections/municipal-2026/results/g/{current['generation']}/manifest.jws")
            assert http.get(published["manifest"]).status_code == 200
            council = body["levels"][0]["results"][0]
            assert council["ballotsCast"] == json.loads(node.rebase((
                resources.examples_dir() /
                "e-result-municipal-2026-council-secteur-1-seq-2.jsonld").read_text("utf-8")
            ))["ballotsCast"]
            page = http.get(VOTE + "/results", params={"unit": unit, "lang": "fr"})
            assert f"génération publiée n° {current['generation']}" in page.text
            assert "le manifeste signé" in page.text


def test_a_point_is_answered_for_the_unit_enclosing_it(tmp_path: Path) -> None:
    """With outlines, a point of secteur 1 gets secteur 1's stations even where bureau 201
    (secteur 2) is nearer: the nearest station among those serving the enclosing unit."""
    outline = {"rivemont-secteur-1": "POLYGON((4.80 45.75, 4.86 45.75, 4.86 45.772, "
                                     "4.80 45.772, 4.80 45.75))",
               "rivemont-secteur-2": "POLYGON((4.80 45.772, 4.86 45.772, 4.86 45.79, "
                                     "4.80 45.79, 4.80 45.772))"}
    with local_node(tmp_path, settings={"voter_grid_degrees": 0.0005,
                                        "voter_refresh_seconds": 0}) as node:
        with node.client() as http:
            for path in sorted(glob.glob(str(resources.examples_dir() / "e-*.jsonld"))):
                iri, body = node.example(Path(path).stem)
                doc = json.loads(body)
                name = iri.rsplit("/", 1)[-1]
                if name in outline:
                    doc["wkt"] = outline[name]
                assert http.put(iri, content=json.dumps(doc), headers={
                    "Content-Type": "application/ld+json", **node.auth()}).status_code == 201
            inside_1 = vote(http, lat="45.7712", long="4.827").json()
            inside_2 = vote(http, lat="45.7725", long="4.827").json()
    assert inside_1["unit"]["id"] == node.url("places/rivemont-secteur-1")
    assert inside_1["stations"][0]["name"].startswith("Bureau 101")  # 201 is nearer
    assert inside_2["unit"]["id"] == node.url("places/rivemont-secteur-2")
    assert inside_2["stations"][0]["name"].startswith("Bureau 201")

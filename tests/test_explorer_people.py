"""Candidates and persons on the explorer (in process): the example election, its
council contest's first candidate naming a person (``dds:person``), and Popolo's own
person, organization and membership examples (``../shared/data/popolo/examples/``, CC-BY
4.0) imported with ``ddsnode import popolo`` under the slug that person's IRI uses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from ddsnode import resources
from ddsnode.cli import main
from ddsnode.commands.demo import rebase
from ddsnode.explorer.web.people import MAX_MEMBERSHIPS
from tests.support.inprocess import LocalNode, local_node

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
EXAMPLES = SHARED / "popolo" / "examples"
HTML = {"Accept": "text/html"}
HOSTILE = '<script>alert("x")</script>'
CONTEST = "elections/municipal-2026-council"
PERSON = "organisations/ex-person-john-q-public"


def example(name: str) -> Any:
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def popolo(node: LocalNode, data: Any, name: str) -> None:
    source = node.dir.parent / name
    source.write_text(json.dumps(data), encoding="utf-8")
    assert main(["import", "popolo", str(node.dir), str(source), "--slug", "ex",
                 "--quiet"]) == 0


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    with local_node(tmp_path_factory.mktemp("explorer-people"),
                    settings={"name": "Rivemont participe",
                              "explorer_peer_sync_seconds": 0,
                              "private_containers": "private/"}) as running:
        core = running.app.node  # type: ignore[attr-defined]
        for path in sorted(resources.examples_dir().glob("*.jsonld")):
            document = json.loads(rebase(path.read_text(encoding="utf-8"), running.base))
            if document["id"] == running.base + CONTEST:
                first = document["selections"][0]["candidates"]
                first["person"] = running.base + PERSON
                first["postElectionStatus"] = "winner"
                # A candidate standing for someone else: not on John Q. Public's page.
                document["selections"][1]["candidates"]["person"] = \
                    running.base + "organisations/ex-person-hostile"
            core.write_document(document["id"], json.dumps(document).encode(),
                                "application/ld+json")
        # Popolo's examples: a person with two memberships of ABC, Inc., the company; and
        # someone else, named with markup, member of the same company; and someone alone.
        # One file: a second import under the same slug would tombstone the first's.
        popolo(running, {"persons": [example("embedding-person"),
                                     {"id": "hostile", "name": HOSTILE},
                                     {"id": "alone", "name": "Alone"},
                                     {"id": "busy", "name": "Busy"}],
                         "organizations": [example("organization")],
                         "memberships": [{"id": "h1", "person_id": "hostile",
                                          "organization_id": "abc-inc",
                                          "role": "Intruder"}] + [
                             {"id": f"b{i}", "person_id": "busy", "organization_id": "abc-inc",
                              "role": f"Role {i}", "start_date": f"{1900 + i}"}
                             for i in range(MAX_MEMBERSHIPS + 5)]}, "people.json")
        # A membership of John's kept in a private container: not on his public page.
        membership = {"@context": "https://w3id.org/dds/context/v1",
                      "id": running.base + "private/m-secret", "type": "Membership",
                      "memberAgent": running.base + PERSON,
                      "organization": running.base + "organisations/party-rc",
                      "roleName": "Secret role"}
        core.write_document(membership["id"], json.dumps(membership).encode(),
                            "application/ld+json")
        yield running


def page(node: LocalNode, path: str, lang: str = "en") -> str:
    with node.client() as http:
        r = http.get(path, params={"lang": lang}, headers=HTML)
    assert r.status_code == 200, r.text
    return r.text


def rows(html: str, css: str) -> list[str]:
    table = re.search(rf'<table class="govuk-table {css}">(.*?)</table>', html, re.S)
    assert table is not None, css
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", r)).split())
            for r in re.findall(r'<tr class="govuk-table__row">(.*?)</tr>', table.group(1),
                                re.S)][1:]


def test_a_person_page_lists_candidacies_with_the_latest_share(node: LocalNode) -> None:
    html = page(node, "/" + PERSON)
    assert "Mr. John Q. Public, Esq." in html
    # Sequence 2 of secteur 1 (the correction), not sequence 1.
    assert rows(html, "dds-standings") == [
        "Rivemont municipal council Camille Peuplier Rivemont en commun 51.4% "
        "(Secteur 1 – Presqu'île et Tanneurs, correction) Elected"]
    assert 'href="/elections/municipal-2026-council?lang=en"' in html
    assert 'href="/organisations/party-rc?lang=en"' in html
    assert 'href="/results/municipal-2026-council-secteur-1-seq-2?lang=en"' in html
    # Hugo Tilleul's candidacy names another person.
    assert "Hugo Tilleul" not in html


def test_a_person_page_lists_memberships_not_someone_elses(node: LocalNode) -> None:
    html = page(node, "/" + PERSON)
    assert rows(html, "dds-memberships") == [
        "ABC, Inc. Kitchen assistant January 1970 December 31, 1971",
        "ABC, Inc. Chef January 1, 1972 March 15, 1980"]
    assert "Intruder" not in html and "Secret role" not in html
    with node.client() as http:  # the private membership is there, for a reader allowed
        assert "Secret role" in http.get("/private/m-secret", headers=node.auth()).text
    assert 'href="/organisations/ex-organization-abc-inc?lang=en"' in html


def test_a_person_page_in_french(node: LocalNode) -> None:
    html = page(node, "/" + PERSON, "fr")
    assert "Candidatures" in html and "Appartenances" in html and "Élu·e" in html
    assert "Conseil municipal de Rivemont" in html
    assert "51,4" in html


def test_the_contest_page_lists_candidates_with_links(node: LocalNode) -> None:
    html = page(node, "/" + CONTEST)
    assert rows(html, "dds-candidates") == [
        "Hugo Tilleul Avenir Rivemont",
        "Camille Peuplier Rivemont en commun Elected",
        "Inès Saule Rivemont écologie et solidarités"]
    assert f'href="/{PERSON}?lang=en"' in html
    assert 'href="/organisations/ex-person-hostile?lang=en"' in html
    assert 'href="/organisations/party-ar?lang=en"' in html
    # The candidates are in the table, not again as the selections' fragment names.
    assert "candidate-rc-1<" not in html


def test_a_hostile_name_is_text(node: LocalNode) -> None:
    html = page(node, "/organisations/ex-person-hostile")
    assert HOSTILE not in html
    assert "&lt;script&gt;" in html
    assert rows(html, "dds-memberships") == ["ABC, Inc. Intruder"]
    assert rows(html, "dds-standings")[0].startswith("Rivemont municipal council Hugo Tilleul")


def test_a_person_nobody_names_has_no_tables(node: LocalNode) -> None:
    html = page(node, "/organisations/ex-person-alone")
    assert "Alone" in html
    assert "dds-standings" not in html and "dds-memberships" not in html


def test_the_directory_lists_organisations_not_persons_or_memberships(
        node: LocalNode) -> None:
    html = page(node, "/explore/directory")
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
    assert "ABC, Inc." in text
    for absent in ("John Q. Public", "Kitchen assistant", "Intruder", "ex-person",
                   "ex-membership", HOSTILE):
        assert absent not in text and absent not in html


def test_memberships_listed_are_bounded(node: LocalNode) -> None:
    """A person with more memberships than a page lists: the oldest MAX_MEMBERSHIPS."""
    found = rows(page(node, "/organisations/ex-person-busy"), "dds-memberships")
    assert len(found) == MAX_MEMBERSHIPS
    assert found[0] == "ABC, Inc. Role 0 1900"


NIST_PRE = SHARED / "elections" / "civics-cdf-samples" / "pre_election_sample_feed.xml"


def test_nist_candidates_written_apart_link_to_persons(tmp_path: Path) -> None:
    """``ddsnode import nist`` writes each candidate as a resource of its own, named by a
    selection of its contest (NIST's Virginia sample): the person's page finds the contest
    through the candidate, and the contest's page reads its candidates."""
    with local_node(tmp_path, settings={"explorer_peer_sync_seconds": 0}) as running:
        assert main(["import", "nist", str(running.dir), str(NIST_PRE), "--slug", "va",
                     "--quiet"]) == 0
        html = page(running, "/organisations/va-person-per10861a")
        assert rows(html, "dds-standings") == [
            "President of the United States Barack H. Obama Democratic"]
        assert 'href="/elections/va-contest-cc20002?lang=en"' in html
        assert 'href="/organisations/va-party-par0003?lang=en"' in html
        html = page(running, "/elections/va-contest-cc20002")
        contest = rows(html, "dds-candidates")
        assert "Barack H. Obama Democratic" in contest and len(contest) == 2
        assert "Outcome" not in html  # no candidate has a post-election status yet
        assert 'href="/organisations/va-person-per10861a?lang=en"' in page(
            running, "/elections/va-contest-cc20002")


def test_a_party_page_lists_no_private_membership(node: LocalNode) -> None:
    """John's membership of Rivemont en commun is kept in a private container: not
    indexed, so not among the party's members; the party's own head of list is."""
    html = page(node, "/organisations/party-rc")
    assert "Secret role" not in html and "John Q. Public" not in html
    assert rows(html, "dds-members") == ["Camille Peuplier tête de liste November 2025"]


NIST_EXAMPLE = resources.examples_dir() / "nist" / "e-election-municipal-2026.json"


def test_a_party_page_lists_candidacies_of_a_nist_import(tmp_path: Path) -> None:
    """A NIST import writes candidates as resources apart from their contest: each
    party's page still lists its list (contest, candidate linked to the person, the
    latest result's votes and share), and not another party's candidates."""
    with local_node(tmp_path, settings={"explorer_peer_sync_seconds": 0}) as running:
        assert main(["import", "nist", str(running.dir), str(NIST_EXAMPLE), "--slug", "rv",
                     "--quiet"]) == 0
        found = {}
        for party in ("ar", "rc", "res"):
            html = page(running, f"/organisations/rv-party-party-{party}")
            found[party] = rows(html, "dds-candidacies")
            assert 'href="/elections/rv-contest-municipal-2026-council?lang=en"' in html
        assert found["rc"] == ["Rivemont municipal council Camille Peuplier 11,052 "
                               "(Secteur 1 – Presqu'île et Tanneurs, unofficial complete) "
                               "51.4%"]
        assert [r.split(" 6,211 ")[0] for r in found["ar"]] == [
            "Rivemont municipal council Hugo Tilleul"]
        assert [r.split(" 4,251 ")[0] for r in found["res"]] == [
            "Rivemont municipal council Inès Saule"]
        html = page(running, "/organisations/rv-party-party-rc")
        person = "/organisations/rv-person-rivemont-2026-camille-peuplier?lang=en"
        assert f'href="{person}">Camille Peuplier</a>' in html
        result = re.search(r'<a class="govuk-link" href="(/results/[^"]+)">11,052</a>', html)
        assert result is not None
        # The votes link to the result read, whose page names the lists by their
        # candidates (resources apart too), never by the selections' fragment names.
        votes = rows(page(running, unescape(result.group(1))), "dds-votes")
        assert [v.split(" (")[0] for v in votes] == [
            "Camille Peuplier", "Hugo Tilleul", "Inès Saule"]
        assert not any("list-" in v for v in votes)
        # In French too: the page's words and numbers are the reader's.
        french = rows(page(running, "/organisations/rv-party-party-rc", "fr"),
                      "dds-candidacies")
        assert french and "Camille Peuplier" in french[0] and "51,4" in french[0]

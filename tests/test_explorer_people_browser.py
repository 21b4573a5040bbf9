"""The person and contest pages in a real Chromium (issue 12, candidates and persons).

A served node (``ddsnode serve``) holds the example election, its council contest's
first candidate naming a person, and Popolo's person/organization examples imported with
``ddsnode import popolo`` (../shared/data/popolo/examples/, CC-BY 4.0). Each page loads
with no console error and nothing from another host, axe-core finds no serious or
critical violation, the keyboard reaches every link with a visible focus, the page
reflows on a phone, and screenshots land in ``test-artifacts/screenshots/``
(``explorer-person-*.png``, ``explorer-contest-candidates-*.png``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ddsnode import resources
from tests.support.browser import visit
from tests.support.node import RunningNode, running_node
from tests.test_browser_pages import check_page

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO.parent / "shared" / "data" / "popolo" / "examples"
CONTEST = "elections/municipal-2026-council"
PERSON = "organisations/ex-person-john-q-public"


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    root = tmp_path_factory.mktemp("people-browser")
    with running_node(root, settings={"name": "Rivemont participe"}) as node, \
            node.client() as http:
        for path in sorted(resources.examples_dir().glob("*.jsonld")):
            document = json.loads(node.rebase(path.read_text(encoding="utf-8")))
            if document["id"] == node.base + CONTEST:
                first = document["selections"][0]["candidates"]
                first["person"] = node.base + PERSON
                first["postElectionStatus"] = "winner"
            r = http.put(document["id"], content=json.dumps(document).encode(),
                         headers={**node.auth(node.publisher_token),
                                  "Content-Type": "application/ld+json"})
            assert r.status_code in (201, 204), (path.name, r.text)
        source = root / "people.json"
        source.write_text(json.dumps({
            "persons": [json.loads((EXAMPLES / "embedding-person.json").read_text("utf-8"))],
            "organizations": [json.loads((EXAMPLES / "organization.json").read_text("utf-8"))],
        }), encoding="utf-8")
        subprocess.run([sys.executable, "-m", "ddsnode", "import", "popolo", str(node.dir),
                        str(source), "--slug", "ex", "--quiet"], cwd=REPO, check=True)
        yield node


@pytest.mark.parametrize(("name", "path"), [
    ("explorer-person", PERSON + "?lang=en"),
    ("explorer-person-fr", PERSON + "?lang=fr"),
    ("explorer-contest-candidates", CONTEST + "?lang=en")])
def test_people_page(browser: Any, people: RunningNode, name: str, path: str) -> None:
    """Each page passes load, axe, keyboard, reflow and screenshot checks."""
    check_page(browser, people.url(path), name)


def test_from_the_contest_to_the_person_and_back(browser: Any, people: RunningNode) -> None:
    """A reader follows the candidate's link to the person, then the contest's link back."""
    with visit(browser, people.url(CONTEST + "?lang=en")) as v:
        v.page.locator("table.dds-candidates").get_by_role(
            "link", name="Camille Peuplier").click()
        v.page.wait_for_load_state("load")
        assert v.page.url.startswith(people.url(PERSON))
        main = v.page.locator("main").inner_text()
        assert "Mr. John Q. Public, Esq." in main and "Kitchen assistant" in main
        assert "Elected" in main and "51.4%" in main
        v.page.locator("table.dds-standings").get_by_role(
            "link", name="Rivemont municipal council").click()
        v.page.wait_for_load_state("load")
        assert v.page.url.startswith(people.url(CONTEST))

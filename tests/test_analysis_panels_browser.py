"""The analysis panels of a proposal's page in a real Chromium (issue 13, explorer panels).

A served node (``ddsnode serve``) holds the examples, the analysis examples among them
(a run, a confirmed duplicate link, a thread summary) and a rejected candidate. The
proposal's page passes the checks every page type gets (no console error, nothing from
another host, axe-core with no serious or critical violation, visible keyboard focus,
reflow on a phone; screenshots ``test-artifacts/screenshots/explorer-analysis-panels*.png``),
and a reader opens "how this was made" and follows a statement to the comment it rests on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from ddsnode import resources
from tests.support.browser import visit
from tests.support.node import RunningNode, running_node
from tests.test_browser_pages import check_page

pytestmark = pytest.mark.slow

PROPOSAL = "proposals/protected-bike-lanes"


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    root = tmp_path_factory.mktemp("analysis-panels-browser")
    with running_node(root, settings={"name": "Rivemont participe"}) as node, \
            node.client() as http:
        documents = [json.loads(node.rebase(path.read_text(encoding="utf-8")))
                     for path in sorted(resources.examples_dir().glob("*.jsonld"))]
        link = next(d for d in documents if d["type"] == "DuplicateLink")
        documents.append({**link, "id": node.base + "analysis/duplicate-rejected",
                          "contributions": [node.base + PROPOSAL,
                                            node.base + "proposals/school-streets"],
                          "similarityScore": 0.64, "reviewStatus": "ddsreview:rejected"})
        for document in documents:
            r = http.put(document["id"], content=json.dumps(document).encode(),
                         headers={**node.auth(node.publisher_token),
                                  "Content-Type": "application/ld+json"})
            assert r.status_code in (201, 204), (document["id"], r.text)
        yield node


@pytest.mark.parametrize(("name", "lang"), [
    ("explorer-analysis-panels", "en"), ("explorer-analysis-panels-fr", "fr")])
def test_analysis_panels_page(browser: Any, analysed: RunningNode, name: str,
                              lang: str) -> None:
    """The page with its panels passes load, axe, keyboard, reflow and screenshot checks."""
    check_page(browser, analysed.url(f"{PROPOSAL}?lang={lang}"), name)


def test_a_reader_opens_the_provenance_and_follows_a_source(browser: Any,
                                                              analysed: RunningNode) -> None:
    with visit(browser, analysed.url(PROPOSAL + "?lang=en")) as v:
        panel = v.page.locator("section.dds-analysis")
        assert "Possibly the same as" in panel.inner_text()
        duplicates = panel.locator("ul.dds-duplicates").inner_text()
        assert "school" not in duplicates.lower()  # the rejected candidate is not listed
        run = panel.locator("details.dds-run").first
        run.locator("summary").click()
        assert "Statements dropped by the verifier" in run.inner_text()
        panel.locator("a.dds-support-link").first.click()
        v.page.wait_for_load_state("load")
        assert v.page.url.startswith(analysed.url("comments/c-101"))

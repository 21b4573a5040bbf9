"""The open-data portal's page in a real Chromium (issue 15): /catalog in English and
French on the demo node, served by ``ddsnode serve`` (which builds the files at start).

Each page loads with no console error and nothing from another host, axe-core finds no
serious or critical violation, the keyboard reaches every link with a visible focus,
the layout reflows on a phone, and screenshots land in ``test-artifacts/screenshots/``.
A download link on the page fetches the file the catalogue describes.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import httpx
import pytest

from tests.support.browser import (
    assert_accessible,
    assert_focus_visible,
    assert_reflows,
    screenshot,
    visit,
)
from tests.support.node import RunningNode

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(demo_site: RunningNode) -> RunningNode:
    """The session's demo node, once its open-data files are built."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if httpx.get(demo_site.url("catalog"), timeout=10).status_code == 200:
            return demo_site
        time.sleep(0.5)
    raise AssertionError("the demo node built no open-data files")


@pytest.mark.parametrize(("name", "query", "locale", "heading"), [
    ("catalog", "", "en-GB", "Open data"),
    ("catalog-fr", "?lang=fr", "fr-FR", "Données ouvertes")])
def test_catalog_page(browser: Any, demo: RunningNode, name: str, query: str, locale: str,
                      heading: str) -> None:
    with visit(browser, demo.url("catalog" + query), locale=locale) as v:
        assert v.page.locator("h1").inner_text().strip() == heading
        assert v.page.locator("table").count() >= 10  # one per dataset
        assert_accessible(v.page)
        assert_focus_visible(v.page)
        assert_reflows(v.page)
        shots = screenshot(v.page, name)
        assert all(p.stat().st_size > 1000 for p in shots)


def test_download_link_gives_the_described_file(browser: Any, demo: RunningNode) -> None:
    """The page's link to the node's CSV fetches bytes whose SHA-256 the page shows. (The
    server may rebuild between the page and the download: then the page shown afterwards
    describes the newer file; a few tries settle it.)"""
    for _ in range(3):
        with visit(browser, demo.url("catalog")) as v:
            link = v.page.locator("a[href$='name=node.csv']").first
            href = link.get_attribute("href")
            checksum = link.locator("xpath=ancestor::tr//code").inner_text().strip()
        assert href is not None and href.startswith(demo.url("catalog/files?"))
        r = httpx.get(href, timeout=10)
        assert r.headers["etag"] == '"' + hashlib.sha256(r.content).hexdigest() + '"'
        if hashlib.sha256(r.content).hexdigest() == checksum:
            return
    raise AssertionError("the downloaded file never matched the checksum on the page")

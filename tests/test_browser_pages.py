"""Every kind of HTML page the node serves, in a real Chromium (issue 12, issue 15).

The demo node is made by ``ddsnode demo --no-serve`` (the example scenario and the example
directory, through the validated write path) and served by ``ddsnode serve``. Each page type is opened in Debian's
Chromium: it loads with no console error and nothing fetched from another host, axe-core
finds no serious or critical WCAG 2.1 A/AA violation, the keyboard reaches every link with
a visible focus, and screenshots at desktop and mobile widths land in
``test-artifacts/screenshots/`` for a reviewer. The ontology documentation site
(``ddsnode ontology docs``) gets the same checks, served from a folder on 127.0.0.1.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

import ddsnode
from tests.support.browser import (
    assert_accessible,
    assert_focus_visible,
    assert_reflows,
    screenshot,
    visit,
)
from tests.support.node import RunningNode, _cli

pytestmark = pytest.mark.slow

# Page types of today's HTML (ddsnode/ldp/html.py and the documents served beside it):
# (screenshot name, path on the node).
NODE_PAGES = [
    ("home", ""),
    ("container", "proposals/"),
    ("proposal", "proposals/protected-bike-lanes"),
    ("comment", "comments/c-101"),
    ("meeting", "meetings/public-debate-2026-04-15"),
    ("decision", "decisions/council-2026-07-09-mobility-budget"),
    ("result", "results/cycling-plan-2026-2030"),
    ("contest-result", "results/municipal-2026-council-secteur-1-seq-2"),
    ("election", "elections/municipal-2026"),
    ("organisation", "organisations/metropole-rivemont"),
    # The explorer (ddsnode/explorer/): search with facets, the directory and its map.
    ("home-fr", "?lang=fr"),
    ("search", "explore"),
    ("search-results", "explore?q=bike&size=5"),
    ("search-es", "explore?q=escuela&lang=es"),
    ("directory", "explore/directory"),
    ("directory-filtered", "explore/directory?cluster=digitalStrategy&level=consult"),
    ("directory-organisation",
     "explore/directory/organisation?id={base}organisations/metropole-rivemont"),
]
# Served as HTML too, by the same renderer as every resource page, but 18,000 elements long:
# it gets the load checks only (axe takes a minute on it here); the ontology as people read
# it is the docs site below.
LARGE_PAGES = [("ontology", "ns")]  # /shapes is the same renderer, as long


@pytest.fixture(scope="module")
def demo(demo_site: RunningNode) -> RunningNode:
    """The session's demo node (tests/conftest.py)."""
    return demo_site


@pytest.fixture(scope="module")
def ontology_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The ontology docs site (``ddsnode ontology docs``) served on 127.0.0.1."""
    root = tmp_path_factory.mktemp("ontology-docs")
    _cli("ontology", "docs", str(root))
    # The site is static files; whoever hosts it answers /favicon.ico (browsers ask every
    # origin for it), here with the node's icon.
    (root / "favicon.ico").write_bytes((resources_dir() / "favicon.ico").read_bytes())
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def resources_dir() -> Path:
    """The node's own assets folder (``ddsnode/assets``)."""
    return Path(ddsnode.__file__).parent / "assets"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def check_page(browser: Any, url: str, name: str) -> None:
    """Load, axe, keyboard, reflow, screenshots: the checks every page type gets."""
    with visit(browser, url) as v:
        assert v.page.title(), f"{url}: no <title>"
        assert v.page.locator("h1").count() >= 1, f"{url}: no heading"
        assert_accessible(v.page)
        assert_focus_visible(v.page)
        assert_reflows(v.page)
        shots = screenshot(v.page, name)
        assert all(p.stat().st_size > 1000 for p in shots)


@pytest.mark.parametrize(("name", "path"), NODE_PAGES, ids=[n for n, _ in NODE_PAGES])
def test_node_page(browser: Any, demo: RunningNode, name: str, path: str) -> None:
    """Each page type of the node passes load, axe, keyboard and screenshot checks."""
    check_page(browser, demo.url(path.replace("{base}", quote(demo.base, safe=""))), name)


@pytest.mark.parametrize(("name", "path"), LARGE_PAGES, ids=[n for n, _ in LARGE_PAGES])
def test_large_page_loads(browser: Any, demo: RunningNode, name: str, path: str) -> None:
    """A very long page loads with no console error and nothing from another host."""
    with visit(browser, demo.url(path)) as v:
        assert v.page.locator("main h1").count() == 1
        screenshot(v.page, name)


def test_container_links_reach_members(browser: Any, demo: RunningNode) -> None:
    """Following a member link from a container page opens that member's page."""
    with visit(browser, demo.url("proposals/")) as v:
        link = v.page.get_by_role("link", name="Protected bike lanes", exact=False).first
        link.click()
        v.page.wait_for_load_state("load")
        assert v.page.url == demo.url("proposals/protected-bike-lanes")
        assert "bike lanes" in v.page.locator("h1").inner_text().lower()


def test_gone_and_missing_pages(browser: Any, demo: RunningNode) -> None:
    """A missing resource answers 404 in the browser; the page a person sees has no
    script errors and loads nothing from elsewhere."""
    with visit(browser, demo.url("proposals/no-such-proposal"), expect_status=404) as v:
        assert "404" in v.page.content() or v.page.title()


# The ontology docs site's page types: the language chooser, an index, a class, a property
# and a concept scheme, the languages taking turns (the pages of both come from the same
# code: ddsnode/authoring/docs.py).
DOCS_PAGES = [("ontology-docs-root", "index.html"),
              ("ontology-docs-index-en", "en/index.html"),
              ("ontology-docs-class-fr", "fr/class/Proposal.html"),
              ("ontology-docs-property-en", "en/property/state.html"),
              ("ontology-docs-scheme-fr", "fr/scheme/state.html")]


@pytest.mark.parametrize(("name", "path"), DOCS_PAGES, ids=[n for n, _ in DOCS_PAGES])
def test_ontology_docs_page(browser: Any, ontology_site: str, name: str, path: str) -> None:
    """Each page type of the ontology docs site passes the same checks."""
    check_page(browser, ontology_site + path, name)

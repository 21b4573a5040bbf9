"""The explorer in a real Chromium, driven as a visitor drives it (issue 12).

Search by typing, facets by ticking boxes, paging by following the page's own links, the
language switch, the directory matrix and its map: each by clicking in the demo node's
pages (``ddsnode demo``), every visit free of console errors and third-party requests.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.support.browser import (
    assert_accessible,
    assert_focus_visible,
    assert_reflows,
    screenshot,
    tab_to,
    visit,
)
from tests.support.cluster import running_cluster, wait_for
from tests.support.node import RunningNode

pytestmark = pytest.mark.slow
DDS = "https://w3id.org/dds/ns#"


def result_titles(page: Any) -> list[str]:
    """The titles of the results listed on a search page, in order."""
    return [t.strip() for t in page.locator(".dds-results > li a").evaluate_all(
        "links => links.filter(a => a.closest('li').parentElement.classList"
        ".contains('dds-results')).map(a => a.textContent)")]


def result_count(page: Any) -> int:
    """The number in the page's "N results" line."""
    text = page.locator("#result-count").inner_text()
    return int(re.sub(r"\D", "", text))


def test_search_by_typing(browser: Any, demo_site: RunningNode) -> None:
    """Words typed in the home page's box find the proposal, accents and case folded
    (``ecole`` finds ``école``), and the URL carries the query (shareable)."""
    with visit(browser, demo_site.url("")) as v:
        v.page.get_by_role("searchbox").first.fill("ECOLE")
        v.page.get_by_role("button", name="Search").first.click()
        v.page.wait_for_url(re.compile(r"/explore\?.*q=ECOLE"))
        titles = result_titles(v.page)
        assert any("school" in t.lower() or "école" in t.lower() for t in titles), titles
        assert result_count(v.page) >= 1
        shared = v.page.url
        v.goto(shared)  # the same URL gives the same results
        assert result_titles(v.page) == titles


def test_search_and_facets_by_keyboard_alone(browser: Any, demo_site: RunningNode) -> None:
    """With Tab, typing, Space and Enter only: search from the home page, tick a kind,
    apply, and open a result."""
    with visit(browser, demo_site.url("")) as v:
        tab_to(v.page, "input[type=search]")
        v.page.keyboard.type("bike")
        v.page.keyboard.press("Enter")
        v.page.wait_for_url(re.compile(r"q=bike"))
        before = result_count(v.page)
        tab_to(v.page, "input[name=kind][value$='#Proposal']")
        v.page.keyboard.press("Space")
        tab_to(v.page, "button.govuk-button--secondary")  # Apply filters
        v.page.keyboard.press("Enter")
        v.page.wait_for_url(re.compile(r"kind="))
        assert "q=bike" in v.page.url and 0 < result_count(v.page) < before
        tab_to(v.page, ".dds-results > li a")
        target = v.page.evaluate("document.activeElement.href")
        v.page.keyboard.press("Enter")
        v.page.wait_for_url(target)
        assert v.page.locator("h1").count() == 1


def test_facets_by_clicking(browser: Any, demo_site: RunningNode) -> None:
    """Ticking a kind and applying narrows the results to that kind; the box stays
    ticked; unticking it gives every result back."""
    with visit(browser, demo_site.url("explore?size=100")) as v:
        everything = result_count(v.page)
        box = v.page.locator("input[name=kind][value$='#Proposal']")
        label = v.page.locator(f"label[for='{box.get_attribute('id')}']").inner_text()
        expected = int(re.search(r"\((\d+)\)", label).group(1))  # type: ignore[union-attr]
        box.check()
        v.page.get_by_role("button", name="Apply filters").click()
        v.page.wait_for_url(re.compile(r"kind="))
        assert result_count(v.page) == expected < everything
        assert v.page.locator("input[name=kind][value$='#Proposal']").is_checked()
        kinds = v.page.locator(".dds-results > li").evaluate_all(
            "items => items.map(li => li.textContent)")
        assert kinds and all("Proposal" in k or "Amendment" in k for k in kinds), kinds
        v.page.locator("input[name=kind][value$='#Proposal']").uncheck()
        v.page.get_by_role("button", name="Apply filters").click()
        v.page.wait_for_load_state("load")
        assert result_count(v.page) == everything


def test_paging_by_links(browser: Any, demo_site: RunningNode) -> None:
    """Next and previous links in the page walk the results: pages do not overlap, and
    previous comes back to the first page."""
    with visit(browser, demo_site.url("explore?size=5")) as v:
        total = result_count(v.page)
        first = result_titles(v.page)
        assert len(first) == 5 < total
        assert v.page.locator("a[rel=prev]").count() == 0
        v.page.locator("a[rel=next]").click()
        v.page.wait_for_url(re.compile(r"cursor="))
        second = result_titles(v.page)
        assert second and not set(second) & set(first)
        seen = len(first) + len(second)
        while v.page.locator("a[rel=next]").count():  # to the last page
            v.page.locator("a[rel=next]").click()
            v.page.wait_for_load_state("load")
            seen += len(result_titles(v.page))
        assert seen == total
        v.goto(demo_site.url("explore?size=5"))
        v.page.locator("a[rel=next]").click()
        v.page.wait_for_url(re.compile(r"cursor="))
        v.page.locator("a[rel=prev]").click()
        v.page.wait_for_load_state("load")
        assert result_titles(v.page) == first


def test_language_switch_sticks(browser: Any, demo_site: RunningNode) -> None:
    """Choosing français on the home page turns the page French, and pages reached from it
    stay French; the switch names each language in itself."""
    with visit(browser, demo_site.url(""), locale="en-GB") as v:
        assert v.page.locator("html").get_attribute("lang") == "en"
        switch = v.page.get_by_role("navigation", name="Language")
        assert switch.get_by_role("link", name="français").get_attribute("lang") == "fr"
        switch.get_by_role("link", name="français").click()
        v.page.wait_for_load_state("load")
        assert v.page.locator("html").get_attribute("lang") == "fr"
        english_heading = "Search contributions"
        assert english_heading not in v.page.locator("main").inner_text()
        # follow the header's first link (search) and the first result: still French
        v.page.locator("header nav a").first.click()
        v.page.wait_for_load_state("load")
        assert v.page.locator("html").get_attribute("lang") == "fr"
        v.page.locator(".dds-results > li a").first.click()
        v.page.wait_for_load_state("load")
        assert v.page.locator("html").get_attribute("lang") == "fr"


def test_browser_language_chosen_first(browser: Any, demo_site: RunningNode) -> None:
    """With no choice made, the browser's language (Accept-Language) picks the interface."""
    with visit(browser, demo_site.url("explore"), locale="ca-ES") as v:
        assert v.page.locator("html").get_attribute("lang") == "ca"


def _map_names(page: Any) -> set[str]:
    """The organisations the directory's map shows: a marker's title names one, a
    cluster's ("2 organisations: A, B") names each."""
    names: set[str] = set()
    titles = page.locator("svg.dds-map .dds-map-points title").evaluate_all(
        "titles => titles.map(t => t.textContent)")
    for title in titles:
        cluster = re.match(r"\d+ [^:]+: (.*)", title)
        names.update(n.strip() for n in cluster.group(1).split(", ")) if cluster \
            else names.add(title.strip())
    return names


def _listed_names(page: Any) -> set[str]:
    return {t.strip() for t in page.locator(".dds-organisations > li > a").all_inner_texts()}


def test_directory_matrix_and_map_follow_the_filter(browser: Any,
                                                   demo_site: RunningNode) -> None:
    """A cell of the clusters x IAP2 matrix opens the list of its organisations, and the
    map then shows those organisations' points only."""
    with visit(browser, demo_site.url("explore/directory")) as v:
        all_on_map = _map_names(v.page)
        assert all_on_map and all_on_map <= _listed_names(v.page)
        cell = v.page.locator("table.dds-matrix td[data-organisations='2'] a").first
        cell.click()
        v.page.wait_for_url(re.compile(r"cluster=.*level="))
        listed = _listed_names(v.page)
        assert len(listed) == 2
        on_map = _map_names(v.page)
        assert on_map <= listed and on_map < all_on_map
        assert v.page.get_by_role("group", name=re.compile("Map")).count() == 1


def test_peer_resources_beside_our_own(browser: Any, tmp_path: Any) -> None:
    """Node B's explorer lists node A's proposal beside its own (the peer cache), and the
    peer's page says whose it is and links to its origin; that page type gets every check."""
    with running_cluster(tmp_path, ("a", "b")) as nodes:
        theirs, body = nodes["a"].example("a-proposal-quai-bike-lane")
        nodes["a"].put(theirs, body)
        ours, body = nodes["b"].example("b-proposal-tanneurs-school-crossing")
        nodes["b"].put(ours, body)
        nodes.peer("b", "a")
        search = nodes["b"].url("explore?kind=" + quote(DDS + "Proposal"))
        wait_for(lambda: theirs in httpx.get(
            search, headers={"Accept": "application/ld+json"}, timeout=10).text,
                 what="A's proposal in B's search", timeout=60)
        with visit(browser, search) as v:
            links = v.page.locator(".dds-results > li a")
            hrefs = links.evaluate_all("links => links.map(a => a.href)")
            assert any(h.startswith(nodes["b"].url("explore/resource?")) for h in hrefs)
            assert ours in hrefs
            v.page.get_by_role("link", name="A riverside cycle lane along the quay").click()
            v.page.wait_for_url(re.compile(r"/explore/resource\?"))
            assert v.page.locator(f"main a[href='{theirs}']").count() >= 1
            assert_accessible(v.page)
            assert_focus_visible(v.page)
            assert_reflows(v.page)
            screenshot(v.page, "peer-resource")

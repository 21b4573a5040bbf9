"""The voter's pages in a real Chromium, in French and English (issue 15).

The session's demo node (``ddsnode demo``: the Rivemont election of the examples) is
browsed like the other page types (tests/test_browser_pages.py): each page loads with no
console error and nothing from another host, axe-core finds no serious or critical
WCAG 2.1 A/AA violation, the keyboard reaches every link with a visible focus, the page
reflows on a phone, and screenshots land in ``test-artifacts/screenshots/voter-*.png``.
The form is also used as a person would: typed into and submitted, with no script on the
page, to a shareable URL.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from tests.support.browser import visit
from tests.support.node import RunningNode
from tests.test_browser_pages import check_page

pytestmark = pytest.mark.slow

PAGES = [
    ("voter-form-en", "explore/vote?lang=en"),
    ("voter-picker-fr", "explore/vote?postcode=69990&lang=fr"),
    ("voter-station-fr", "explore/vote?unit={base}places%2Frivemont-secteur-1&lang=fr"),
    ("voter-station-en", "explore/vote?lat=45.7741&long=4.8275&lang=en"),
    ("voter-not-found-fr", "explore/vote?q=12+rue+Inconnue&lang=fr"),
    ("voter-ballot-en",
     "explore/vote/ballot?contest={base}elections%2Fmunicipal-2026-council&lang=en"),
    ("voter-ballot-fr",
     "explore/vote/ballot?contest={base}elections%2Fmunicipal-2026-referendum&lang=fr"),
    ("voter-results-fr", "explore/vote/results?unit={base}places%2Frivemont-secteur-1&lang=fr"),
    ("voter-results-en", "explore/vote/results?unit={base}places%2Frivemont-secteur-2&lang=en"),
]


@pytest.mark.parametrize(("name", "path"), PAGES, ids=[n for n, _ in PAGES])
def test_voter_page(browser: Any, demo_site: RunningNode, name: str, path: str) -> None:
    """Each voter page passes load, axe, keyboard, reflow and screenshot checks."""
    check_page(browser, demo_site.url(path.replace("{base}", quote(demo_site.base, safe=""))),
               name)


def test_the_form_works_without_script(browser: Any, demo_site: RunningNode) -> None:
    """Typing a postcode and pressing the button leads to the picker, then to a station."""
    with visit(browser, demo_site.url("explore/vote?lang=fr")) as v:
        assert v.page.locator("script").count() == 0
        v.page.get_by_label("Ou seulement votre code postal").fill("69990")
        v.page.get_by_role("button", name="Trouver mon bureau de vote").click()
        v.page.wait_for_load_state("load")
        assert "postcode=69990" in v.page.url
        v.page.get_by_role("link", name="Secteur 2 – Plateau").click()
        v.page.wait_for_load_state("load")
        assert "Bureau 201 – Gymnase du Plateau" in v.page.locator("main").inner_text()

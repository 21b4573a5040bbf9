"""The clerk's tally page in a real Chromium: filled in and submitted as a clerk would.

A demo node of its own (``ddsnode demo``, the Rivemont election; not the session's shared
one, since a counted tally changes what other pages show), served by ``ddsnode serve``.
In French, with no script on the page: choose the contest, choose the station, type a
tally whose numbers do not add up (the page says which field, and the field points at
the reason), fix it, submit: the confirmation shows the log event. The browser's own
``Origin`` and ``Sec-Fetch-Site`` headers pass the cross-site check. The refusal is in
French from the catalogue, the station named once by its name (never an IRI or the
API's English). Then a second clerk sends other numbers for the counted station (refused:
already counted) and a supervisor settles it on the review page: the numbers side by
side, the differing fields marked, a reason, the correction recorded. Each step passes
axe-core (no serious or critical violation), keyboard focus and reflow checks, with
screenshots ``test-artifacts/screenshots/clerk-*.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ddsnode.ldp.tokens import TokenRegistry
from tests.support.browser import (
    assert_accessible,
    assert_focus_visible,
    assert_reflows,
    screenshot,
    served_demo,
    visit,
)
from tests.support.node import RunningNode

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clerk_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    with served_demo(tmp_path_factory.mktemp("clerk-browser")) as node:
        yield node


def _checked(page: Any, name: str) -> None:
    assert page.locator("script").count() == 0
    assert_accessible(page)
    assert_focus_visible(page)
    assert_reflows(page)
    assert all(p.stat().st_size > 1000 for p in screenshot(page, name))


def test_a_clerk_enters_a_tally(browser: Any, clerk_site: RunningNode) -> None:
    with visit(browser, clerk_site.url("explore/intake?lang=fr"), locale="fr-FR") as v:
        page = v.page
        _checked(page, "clerk-choose-fr")
        page.get_by_label("Scrutin").select_option(label="Conseil municipal de Rivemont")
        page.get_by_role("button", name="Continuer").click()
        page.wait_for_load_state("load")
        _checked(page, "clerk-form-fr")
        station = page.get_by_label("Bureau de vote", exact=True)
        assert "Bureau 201 – Gymnase du Plateau" in station.inner_text()
        station.select_option(value=clerk_site.url("places/bureau-201"))
        for name, value in (("Camille Peuplier", "120"), ("Hugo Tilleul", "80"),
                            ("Inès Saule", "40")):
            page.get_by_label(name, exact=False).fill(value)
        page.get_by_label("Votants", exact=True).fill("200")  # fewer than the votes
        page.get_by_label("Bulletins blancs").fill("3")
        page.get_by_label("Votre jeton d'accès").fill(clerk_site.token)
        page.get_by_role("button", name="Envoyer le procès-verbal").click()
        page.wait_for_load_state("load")
        cast = page.get_by_label("Votants", exact=True)
        reason = page.locator("#" + str(cast.get_attribute("aria-describedby")))
        assert "plus que les 200 votants" in reason.inner_text()
        assert cast.input_value() == "200" and page.get_by_label(
            "Votre jeton d'accès").input_value() == ""  # kept, except the token
        summary = page.locator(".govuk-error-summary").inner_text()
        assert summary.count("Bureau 201") == 1 and "http" not in summary
        assert "ballots" not in summary and "registered" not in summary  # no English
        _checked(page, "clerk-refused-fr")
        cast.fill("250")
        page.get_by_label("Votre jeton d'accès").fill(clerk_site.token)
        page.get_by_role("button", name="Envoyer le procès-verbal").click()
        page.wait_for_load_state("load")
        assert "Résultat compté" in page.locator("h1").inner_text()
        assert page.locator("#event-seq").inner_text().isdigit()
        assert len(page.locator("#event-hash").inner_text()) == 64
        assert page.locator("#station-total").inner_text() == "240"
        assert clerk_site.token not in page.content()
        _checked(page, "clerk-done-fr")


def test_a_supervisor_settles_a_correction(browser: Any, clerk_site: RunningNode) -> None:
    # After the tally above (bureau 201 counted): another clerk's numbers are refused...
    with visit(browser, clerk_site.url("explore/intake?lang=fr"), locale="fr-FR") as v:
        page = v.page
        page.get_by_label("Scrutin").select_option(label="Conseil municipal de Rivemont")
        page.get_by_role("button", name="Continuer").click()
        page.wait_for_load_state("load")
        page.get_by_label("Bureau de vote", exact=True).select_option(
            value=clerk_site.url("places/bureau-201"))
        for name, value in (("Camille Peuplier", "120"), ("Hugo Tilleul", "85"),
                            ("Inès Saule", "40")):
            page.get_by_label(name, exact=False).fill(value)
        page.get_by_label("Votants", exact=True).fill("250")
        page.get_by_label("Bulletins blancs").fill("3")
        page.get_by_label("Votre jeton d'accès").fill(clerk_site.token)
        page.get_by_role("button", name="Envoyer le procès-verbal").click()
        page.wait_for_load_state("load")
        reason = page.locator("#f-reason-error").inner_text()
        assert "déjà compté" in reason
    # ... and wait on the supervisor's page, who accepts them with a reason.
    supervisor = TokenRegistry(clerk_site.dir).create(["write", "review"], label="superviseur")
    with visit(browser, clerk_site.url("explore/intake/review?lang=fr"), locale="fr-FR") as v:
        page = v.page
        _checked(page, "clerk-review-token-fr")
        page.locator("#f-token").fill(supervisor)
        page.get_by_role("button", name="Afficher ce qui attend").click()
        page.wait_for_load_state("load")
        assert "Rectifications en attente" in page.locator("main").inner_text()
        item = page.locator("section").filter(has_text="Bureau 201")
        assert item.locator(".govuk-tag").all_inner_texts() == ["diffère"]
        assert "Proposé" in item.locator("thead").inner_text()
        _checked(page, "clerk-review-fr")
        item.get_by_label("Motif (conservé au journal)").fill("Procès-verbal relu : 85 voix")
        item.locator("input[type=password]").fill(supervisor)
        item.get_by_role("button", name="Accepter la rectification").click()
        page.wait_for_load_state("load")
        assert "Rectification enregistrée" in page.locator("#review-done-title").inner_text()
        assert "Aucune rectification n'attend" in page.locator("main").inner_text()
        assert supervisor not in page.content()
        _checked(page, "clerk-review-done-fr")

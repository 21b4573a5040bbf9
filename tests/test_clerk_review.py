"""The supervisor's page (/explore/intake/review) and the clerk's page's refusals in the
reader's language.

An in-process node with the example election under double entry. Clerks key tallies in
through the clerk's page; the supervisor lists what waits, sees the numbers side by side
with the differing fields marked, and settles each through the same desk as
``POST /intake/tallies`` (checked through the public log). Refusals: every class the
desk can answer is named by a catalogue message in each language, and the page never
shows the API's English detail or an IRI in its reasons.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ddsnode.elections.hook import ImplausibleResult
from ddsnode.explorer.web.clerk import message
from ddsnode.explorer.web.clerk_refusal import FINDING_FIELDS, REASONS, reasons
from ddsnode.intake import refusals
from ddsnode.intake.tally import Tally
from ddsnode.ldp.tokens import TokenRegistry
from ddsnode.problem import Problem
from tests.support.inprocess import LocalNode, local_node
from tests.test_clerk import HTML, PATH, REFERENDUM, council, counted, error_of, form, submit
from tests.test_intake import COUNCIL, events, load_election, post, tally

REVIEW = PATH + "/review"
LANGS = ("en", "fr", "ca", "es")
CATALOGUES = Path(__file__).resolve().parents[1] / "ddsnode/explorer/locales/clerk"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    with local_node(tmp_path_factory.mktemp("review"),
                    settings={"intake_double_entry": "*"}) as n:
        with n.client() as http:
            load_election(n, http)
        yield n


@pytest.fixture(scope="module")
def http(node: LocalNode) -> Iterator[httpx.Client]:
    with node.client() as client:
        yield client


@pytest.fixture(scope="module")
def tokens(node: LocalNode) -> dict[str, str]:
    registry = TokenRegistry(node.dir)
    return {"second": registry.create(["write"], label="second clerk"),
            "review": registry.create(["write", "review"], label="supervisor"),
            "review_only": registry.create(["review"], label="reader")}


def review(http: httpx.Client, fields: dict[str, str], **headers: str) -> httpx.Response:
    return http.post(REVIEW, data=fields, headers={**HTML, **headers})


def shown(page: str) -> str:
    """What the page says of a refusal: the summary and every message beside a field."""
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', page, re.S)
    beside = re.findall(r'<p class="govuk-error-message"[^>]*>([^<]*)<', page)
    return html.unescape((summary.group(0) if summary else "") + "\n".join(beside))


def item_form(page: str, station: str) -> dict[str, str]:
    """The hidden fields of the form that settles ``station``'s item."""
    for block in re.findall(r"<form method=\"post\".*?</form>", page, re.S):
        hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', block))
        if hidden.get("station", "").endswith("/" + station):
            return hidden
    raise AssertionError(f"no form for {station}")


def test_the_page_asks_for_a_token_and_refuses_the_wrong_ones(
        node: LocalNode, http: httpx.Client, tokens: dict[str, str]) -> None:
    r = http.get(REVIEW, params={"lang": "fr"}, headers=HTML)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert "Examiner les doubles saisies" in r.text and 'type="password"' in r.text
    assert "<script" not in r.text and "govuk-table" not in r.text  # nothing listed
    for token, reason in (("", "Le jeton manque"), ("dds_" + "Q" * 43, "Le jeton manque"),
                          (node.token, "portées write et review"),
                          (tokens["review_only"], "portées write et review")):
        page = review(http, {"lang": "fr", "action": "list", "token": token}).text
        assert reason in error_of(page, "f-token") and (not token or token not in page)
    api = http.post(REVIEW, data={"action": "list", "token": node.token})  # not a browser
    assert api.status_code == 403 and api.headers["content-type"].startswith(
        "application/problem+json")
    assert http.post(REVIEW, data={"action": "list"}).status_code == 401
    crossed = review(http, {"action": "list", "token": tokens["review"]},
                     **{"Sec-Fetch-Site": "cross-site"})
    assert crossed.status_code == 403


def test_a_supervisor_counts_one_side_of_a_double_entry(
        node: LocalNode, http: httpx.Client, tokens: dict[str, str]) -> None:
    clerk = form(node, http, lang="fr")[1]
    submit(http, clerk, council(node, "bureau-101", "50", "30", "20"), node.token)
    two = submit(http, form(node, http, lang="fr")[1],
                 council(node, "bureau-101", "50", "33", "20"), tokens["second"])
    assert "un responsable les comparera" in two.text
    assert f'href="{REVIEW}?lang=fr"' in two.text  # the way to the supervisor's page
    page = review(http, {"lang": "fr", "action": "list", "token": tokens["review"]}).text
    assert tokens["review"] not in page and "<script" not in page
    assert "Bureau 101 – École des Tanneurs – Conseil municipal de Rivemont" in page
    assert "Saisie 1" in page and "Saisie 2" in page and "second clerk" in page
    [row] = re.findall(r"<tr class=\"govuk-table__row\">\s*<th scope=\"row\"[^>]*>([^<]*)"
                       r"<strong class=\"govuk-tag govuk-tag--red\">diffère</strong>", page)
    assert "Rivemont en commun" not in row and row.strip()  # one list differs, named
    assert page.count(">diffère<") == 1
    fields = item_form(page, "bureau-101")
    entries = re.findall(r'name="event" type="radio" value="(\d+)"', page)
    assert len(entries) == 2
    # No reason, no entry: both fields say why, pointing at their messages.
    refused = review(http, {**fields, "token": tokens["review"]}).text
    assert "motif" in error_of(refused, fields["item"] + "-reason")
    assert "Choisissez la saisie" in shown(refused)
    assert f'aria-describedby="{fields["item"]}-entry-error"' in refused
    chosen = {**fields, "event": entries[1], "reason": "PV vérifié : liste AR à 33",
              "token": tokens["review"]}
    done = review(http, chosen)
    assert "Résultat compté" in done.text and "Bureau 101" in done.text
    assert "Aucune double saisie ne diverge" in done.text
    again = review(http, chosen)  # a double click: the same key and numbers
    assert "Déjà reçu" in again.text
    logged = counted(http, "bureau-101")
    assert len(logged) == 1 and logged[0]["details"]["reason"] == "PV vérifié : liste AR à 33"
    assert logged[0]["details"]["entries"] == [int(entries[1])]
    assert logged[0]["subject"] not in {e["subject"] for e in events(http)
                                        if e["kind"] == "tally-entry"}


def test_a_supervisor_accepts_a_correction_a_clerk_could_not_make(
        node: LocalNode, http: httpx.Client, tokens: dict[str, str]) -> None:
    first = tally(node, "bureau-201", 7, 8, 9)
    post(node, http, first, "c-1")
    assert post(node, http, first, "c-2", token=tokens["second"]).status_code == 201
    other = council(node, "bureau-201", "7", "8", "12", cast="42", blank="10", invalid="5")
    refused = submit(http, form(node, http)[1], {**other, "reason": "list RES recounted"},
                     node.token)
    assert "review scope" in error_of(refused.text, "f-reason")
    page = review(http, {"lang": "en", "action": "list", "token": tokens["review"]}).text
    assert "Corrections waiting" in page and "Reason given with it: list RES recounted" in page
    assert "Counted" in page and "Proposed" in page and page.count(">differs<") == 2
    fields = item_form(page, "bureau-201")
    stale = review(http, {**fields, "revises": "1", "reason": "ok", "token": tokens["review"]})
    assert "changed meanwhile" in error_of(stale.text, fields["item"] + "-entry")
    assert 'href="#' + fields["item"] + '-entry"' in stale.text  # the summary links to it
    ok = review(http, {**fields, "reason": "sheet checked", "token": tokens["review"]})
    assert "Correction recorded" in ok.text and "No correction waits" in ok.text
    logged = counted(http, "bureau-201")
    assert [e["kind"] for e in logged] == ["tally-counted", "tally-correction"]
    assert logged[1]["details"]["reason"] == "sheet checked"
    # The same decision again from an old page (another key): the counted event moved on.
    api = http.post(REVIEW, data={**fields, "key": "review-old-page", "reason": "again",
                                  "token": tokens["review"]})
    assert api.status_code == 409 and api.json()["type"].endswith("/conflict")


# --- refusals in the reader's language ------------------------------------------------


def catalogue(lang: str) -> set[str]:
    data = json.loads((CATALOGUES / f"{lang}.json").read_text("utf-8"))
    return {v for v in data.values() if isinstance(v, str)}


def from_catalogue(text: str, lang: str) -> bool:
    """Whether ``text`` is a message of the clerk's catalogue in ``lang``, fields filled."""
    return any(re.fullmatch(".+?".join(re.escape(p) for p in re.split(r"\{[a-z_]+\}", t)),
                            text, re.S) for t in catalogue(lang))


def test_every_refusal_class_has_a_message_in_every_language() -> None:
    named = {kind for kind, _, _ in REASONS}
    in_intake = {getattr(refusals, n) for n in refusals.__all__
                 if isinstance(getattr(refusals, n), type)}
    assert in_intake <= named, in_intake - named  # a new refusal needs its message
    figures = {"cast": "9", "registered": "5", "votes": "8", "blank": "1", "invalid": "1",
               "counted": "10"}
    cases: list[Problem] = [kind("https://n.example/places/b-1 (https://n.example/places/b-1)")
                            for kind, _, _ in REASONS]
    cases += [ImplausibleResult("https://n.example/x: English", extra={"findings": [
        {"code": code}]}) for code in FINDING_FIELDS] + [Problem("odd")]
    for lang in LANGS:
        for problem in cases:
            said = reasons(problem, lambda msgid, **v: message(msgid, lang, **v), figures,
                           {"evidence": "2 048", "reason": "2 000"})
            assert said, problem
            for field, text in said:
                assert field.startswith("f-") and "http" not in text and problem.detail not in text
                assert from_catalogue(text, lang), (lang, type(problem), text)
                if lang != "en":
                    english = reasons(problem, lambda msgid, **v: message(msgid, "en", **v),
                                      figures, {})
                    assert text not in {t for _, t in english}, (lang, type(problem))


#: case -> (the API's status, the message the page gives)
WALK = {"implausible": (422, "finding_turnout-over-100"),
        "unknown-station": (422, "error_unknown_station"),
        "unknown-contest": (422, "error_unknown_contest"),
        "unknown-selection": (422, "error_unknown_selection"),
        "already-counted": (409, "error_already_counted"),
        "needs-review": (403, "error_correction_scope"),
        "nothing-to-correct": (409, "error_nothing_to_correct"),
        "key-reused": (422, "error_key_reused"), "key-missing": (400, "error_key_missing"),
        "reason-too-long": (400, "error_reason_too_long"),
        "entered-twice": (409, "error_entered_twice"),
        "written-otherwise": (409, "error_written_otherwise"),
        "evidence-type": (415, "error_evidence_type"), "token-401": (401, "error_token_401"),
        "token-403": (403, "error_token_403")}
UNNAMED = ("unknown-station", "unknown-contest")  # no station of the contest to name


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalNode, httpx.Client]]:
    """A node of its own, double entry on: bureau-104 counted, bureau-201 entered once by
    the write token, a result already stored where the referendum's bureau-101 count will
    go; bureau-101's council tally untouched."""
    with local_node(tmp_path_factory.mktemp("walk"),
                    settings={"intake_double_entry": "*"}) as n, n.client() as client:
        load_election(n, client)
        second = TokenRegistry(n.dir).create(["write"], label="second clerk")
        post(n, client, tally(n, "bureau-104", 1, 1, 1), "w-1")
        assert post(n, client, tally(n, "bureau-104", 1, 1, 1), "w-2",
                    token=second).status_code == 201
        assert post(n, client, tally(n, "bureau-201", 4, 4, 4), "w-3").status_code == 202
        stored = Tally(n.url(REFERENDUM), n.url("places/bureau-101"),
                       tuple(sorted((s, "total", 9) for s in referendum(n, client))))
        iri = n.url("results/municipal-2026-referendum-bureau-101-seq-1")
        n.put(client, iri, json.dumps(stored.document(iri, 1, "unofficialComplete",
                                                      "2026-03-15T20:00:00Z")).encode())
        yield n, client


def referendum(node: LocalNode, http: httpx.Client) -> list[str]:
    """The referendum's selections, as its form names them."""
    page = http.get(PATH, params={"contest": node.url(REFERENDUM)}, headers=HTML).text
    return [n.removeprefix("count ") for n in re.findall(r'name="(count [^"]+)"', page)]


@pytest.mark.parametrize("case", WALK)
def test_the_clerk_page_names_each_refusal_in_the_readers_language(
        walk: tuple[LocalNode, httpx.Client], case: str) -> None:
    node, http = walk
    hidden, fields, token, files = _refusal(node, http, case)
    api = http.post(PATH, data={**hidden, **fields, "token": token},
                    files=files)  # not asking for HTML: the problem document
    status, msgid = WALK[case]
    assert api.status_code == status and api.headers["content-type"].startswith(
        "application/problem+json"), (case, api.status_code, api.text)
    detail = api.json()["detail"]
    pages = {}
    for lang in LANGS:  # the same refused form, in each language: nothing changes between
        r = submit(http, {**hidden, "lang": lang}, fields, token, files=files)
        assert r.status_code == 200, (case, lang, r.text[:300])
        said = shown(r.text)
        assert said.strip() and detail not in said, (case, lang, said)
        assert "http://" not in said and "https://" not in said, (case, lang, said)
        lines = [x.strip() for x in re.split(r"<[^>]+>|\n", said) if x.strip()]
        assert all(from_catalogue(line, lang) for line in lines), (case, lang, lines)
        assert message(msgid, lang).split("{", 1)[0] in said, (case, lang, said)
        title = re.search(r'id="clerk-error-title">([^<]*)<', r.text)
        assert title, (case, lang)
        if case not in UNNAMED:  # the station, once, by its label
            assert html.unescape(title.group(1)).count("Bureau 10") + \
                html.unescape(title.group(1)).count("Bureau 20") == 1, (case, lang, title)
        pages[lang] = said
    assert len(set(pages.values())) == len(LANGS), case  # four languages, four texts


def _refusal(node: LocalNode, http: httpx.Client,
             case: str) -> tuple[dict[str, str], dict[str, str], str, dict[str, Any] | None]:
    """(hidden fields, fields, token, files) of a form the desk refuses for ``case``."""
    _, hidden = form(node, http)
    fields = council(node, "bureau-101", "2", "2", "2")
    token, files = node.token, None
    review_token = TokenRegistry(node.dir).create(["write", "review"], label="supervisor")
    if case == "implausible":
        fields.update(cast="5", registered="4")
    elif case == "unknown-station":
        fields["station"] = node.url("places/rivemont-secteur-1")
    elif case == "unknown-contest":
        hidden = {**hidden, "contest": node.url("elections/nope")}
    elif case == "unknown-selection":
        fields[f"count {node.url(COUNCIL)}#list-zz"] = "1"
    elif case in ("already-counted", "needs-review"):
        fields = council(node, "bureau-104", "1", "1", "2")
        if case == "needs-review":
            fields["reason"] = "recount"
    elif case == "nothing-to-correct":
        fields["reason"] = "recount"
        token = review_token
    elif case == "key-reused":
        _, hidden = form(node, http)
        token = TokenRegistry(node.dir).create(["write"])
        first = submit(http, hidden, council(node, "bureau-201", "5", "5", "5"), token)
        assert first.status_code == 202, first.text
        fields = council(node, "bureau-201", "6", "6", "6")  # the same form, other numbers
    elif case == "key-missing":
        hidden = {**hidden, "key": ""}
    elif case == "reason-too-long":
        fields["reason"] = "x" * 2500
        token = review_token
    elif case == "entered-twice":
        fields = council(node, "bureau-201", "4", "4", "4")
    elif case == "written-otherwise":
        _, hidden = form(node, http, contest=REFERENDUM)
        fields = {"station": node.url("places/bureau-101"),
                  **{"count " + s: "3" for s in referendum(node, http)}}
        assert http.post(PATH, data={**hidden, **fields, "token": node.token}).status_code == 202
        token = TokenRegistry(node.dir).create(["write"])
        _, hidden = form(node, http, contest=REFERENDUM)
    elif case == "evidence-type":
        files = {"evidence": ("pv.pdf", b"<html>", "application/pdf")}
    elif case == "token-401":
        token = "dds_" + "W" * 43
    elif case == "token-403":
        token = node.read_token
    return hidden, fields, token, files


# --- hostile posts ----------------------------------------------------------------------


def test_what_the_review_page_cannot_read_or_did_not_offer_changes_nothing(
        node: LocalNode, http: httpx.Client, tokens: dict[str, str]) -> None:
    """Too big, not a form, a form cut short, and decisions about items the page never
    listed (another station, forged IRIs): a 4xx problem or the page's refusal, and not
    one event in the log."""
    before = events(http)
    token = tokens["review"]
    big = http.post(REVIEW, data={"action": "list", "token": token, "reason": "x" * 20_000},
                    headers=HTML)
    assert big.status_code == 413
    assert big.headers["content-type"].startswith("application/problem+json")
    for content, media_type, status in (
            (b'{"action": "list"}', "application/json", 415),
            (b"\xff\xfe%%%&&==;;", "application/x-www-form-urlencoded", 400),
            (b"--x\r\nbroken", "multipart/form-data; boundary=x", 400)):
        r = http.post(REVIEW, content=content, headers={**HTML, "Content-Type": media_type})
        assert r.status_code == status, (media_type, r.status_code, r.text[:300])
        assert r.headers["content-type"].startswith("application/problem+json")
    decision = {"action": "accept", "item": "i-1", "event": "1", "reason": "forged",
                "token": token}
    for n, (contest, station) in enumerate((
            (node.url(COUNCIL), node.url("places/bureau-104")),  # nothing waits there
            ("http://evil.example/x", "javascript:alert(1)"))):
        page = review(http, {**decision, "contest": contest, "station": station,
                             "key": f"forged-{n}"}).text
        assert 'class="govuk-error-summary"' in page
        assert 'href="javascript:' not in page
        api = http.post(REVIEW, data={**decision, "contest": contest, "station": station,
                                      "key": f"forged-api-{n}"})
        assert api.status_code == 422
        assert api.headers["content-type"].startswith("application/problem+json")
    assert events(http) == before

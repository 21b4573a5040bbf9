"""The clerk's tally page (/explore/intake): the intake as a server-rendered form.

One in-process node for the module, the example election (Rivemont) loaded: bureaux 101,
104 and 201, the council contest (three lists) and the referendum. Each test uses its
own station or contest, so the tests share the node and its log. Every POST goes
through the same desk as ``POST /intake/tallies`` (docs/election-night.md, "Entering
tallies by hand"), which the tests check through the public log and totals.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ddsnode.explorer.web.clerk import FIGURES
from ddsnode.explorer.web.clerk_form import number, read_form
from ddsnode.explorer.web.clerk_names import Names
from ddsnode.ldp.tokens import TokenRegistry
from ddsnode.problem import BadRequest
from tests.support.inprocess import LocalNode, local_node
from tests.test_intake import COUNCIL, ELECTION, events, load_election

PATH = "/explore/intake"
HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
EVIDENCE_MAX = 2048
TALLY_MAX = 16 * 1024
FORM_MAX = EVIDENCE_MAX + TALLY_MAX  # the form's limit: a sheet and a tally
REFERENDUM = "elections/municipal-2026-referendum"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    with local_node(tmp_path_factory.mktemp("clerk"), settings={
            "intake_evidence_max_bytes": EVIDENCE_MAX, "intake_max_tally_bytes": TALLY_MAX}) as n:
        with n.client() as http:
            load_election(n, http)
        yield n


@pytest.fixture(scope="module")
def http(node: LocalNode) -> Iterator[httpx.Client]:
    with node.client() as client:
        yield client


def form(node: LocalNode, http: httpx.Client, contest: str = COUNCIL,
         **params: str) -> tuple[str, dict[str, str]]:
    """The rendered form of ``contest``: (page, its hidden fields)."""
    r = http.get(PATH, params={"contest": node.url(contest), **params}, headers=HTML)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', r.text))
    return r.text, hidden


def council(node: LocalNode, station: str, rc: str, ar: str, res: str,
            **figures: str) -> dict[str, str]:
    sel = node.url(COUNCIL) + "#list-"
    return {"station": node.url(f"places/{station}"), f"count {sel}rc": rc,
            f"count {sel}ar": ar, f"count {sel}res": res, **figures}


def submit(http: httpx.Client, hidden: dict[str, str], fields: dict[str, str], token: str,
           *, headers: dict[str, str] | None = None,
           files: dict[str, Any] | None = None) -> httpx.Response:
    """The form posted as a browser posts it: multipart/form-data."""
    data = {**hidden, **fields, "token": token}
    return http.post(PATH, data=data, files=files or {"evidence": ("", b"", "application/"
                                                                    "octet-stream")},
                     headers={**HTML, **(headers or {})})


def counted(http: httpx.Client, station: str, contest: str = COUNCIL) -> list[dict[str, Any]]:
    """The events that counted or corrected ``station``'s tally for ``contest``."""
    return [e for e in events(http) if e["kind"] in ("tally-counted", "tally-correction")
            and e["details"]["tally"]["unit"].endswith("/" + station)
            and e["details"]["tally"]["contest"].endswith("/" + contest)]


def error_of(page: str, field: str) -> str:
    """The reason shown beside ``field``, checking the field points at it."""
    assert f'aria-describedby="{field}-error"' in page or \
        re.search(rf'id="{field}"[^>]*aria-describedby="[^"]*{field}-error', page) or \
        re.search(rf'aria-describedby="[^"]*{field}-error[^"]*"[^>]*id="{field}"', page), page
    found = re.search(rf'id="{field}-error">([^<]*)<', page)
    assert found, page
    return found.group(1)


def test_the_chooser_lists_contests_and_the_form_the_contests_fields(
        node: LocalNode, http: httpx.Client) -> None:
    r = http.get(PATH, headers={**HTML, "Accept-Language": "fr"})
    assert r.status_code == 200 and "Saisir le procès-verbal" in r.text
    assert "Conseil municipal de Rivemont" in r.text and node.url(REFERENDUM) in r.text
    page, hidden = form(node, http, lang="fr")
    assert hidden["contest"] == node.url(COUNCIL) and hidden["key"].startswith("clerk-")
    assert "Rivemont en commun" in page and "Camille Peuplier" in page  # selection labels
    assert "Bureau 101 – École des Tanneurs" in page  # stations by name
    for field in ("f-cast", "f-blank", "f-invalid", "f-registered", "f-evidence", "f-reason"):
        assert f'id="{field}"' in page
    assert 'type="password"' in page and "<script" not in page
    assert form(node, http)[1]["key"] != hidden["key"]  # a new key for each rendering
    narrowed, _ = form(node, http, q="201")
    assert "bureau-201" in narrowed and "bureau-101" not in narrowed


def test_a_tally_is_counted_and_a_second_submit_counts_once(
        node: LocalNode, http: httpx.Client) -> None:
    _, hidden = form(node, http)
    fields = council(node, "bureau-101", "500", "300", "200", cast="1 015", blank="10",
                     invalid="5")
    first = submit(http, hidden, fields, node.token)
    assert first.status_code == 201, first.text
    assert "Tally counted" in first.text and "Already received" not in first.text
    logged = counted(http, "bureau-101")
    assert len(logged) == 1
    seq, digest = logged[0]["sequence"], logged[0]["hash"]
    assert f'id="event-seq">{seq}<' in first.text and digest in first.text
    assert 'id="station-total">1,000<' in first.text  # the station's new total
    assert node.token not in first.text
    # a double click, or a reload of the answer: the same key, the same numbers
    again = submit(http, hidden, fields, node.token)
    assert again.status_code == 201 and "Already received" in again.text
    assert f'id="event-seq">{seq}<' in again.text
    assert len(counted(http, "bureau-101")) == 1
    edited = submit(http, hidden, {**fields, "blank": "9"}, node.token)  # same key, edited
    assert "open a new form" in edited.text and len(counted(http, "bureau-101")) == 1
    r = http.get("/intake/totals", params={"election": node.url(ELECTION)})
    row = next(x for x in r.json()["results"] if x["unit"].endswith("/bureau-101")
               and x["contest"] == node.url(COUNCIL))
    assert dict((s.rsplit("-", 1)[-1], n) for s, n in row["counts"]) == \
        {"rc": 500, "ar": 300, "res": 200}
    assert row["ballots_cast"] == 1015


def test_a_bad_token_is_refused_and_never_echoed(node: LocalNode, http: httpx.Client) -> None:
    _, hidden = form(node, http)
    fields = council(node, "bureau-104", "1", "2", "3")
    secret = "dds_" + "Z" * 43
    r = submit(http, hidden, fields, secret)
    assert r.status_code == 200 and secret not in r.text
    assert "unknown or revoked" in error_of(r.text, "f-token")
    assert 'value="2"' in r.text and hidden["key"] in r.text  # values and key kept
    read_only = submit(http, hidden, fields, node.read_token)
    assert "write scope" in error_of(read_only.text, "f-token")
    assert node.read_token not in read_only.text
    api = http.post(PATH, data={**hidden, **fields, "token": secret})  # not a browser
    assert api.status_code == 401 and api.headers["content-type"].startswith(
        "application/problem+json") and secret not in api.text
    assert counted(http, "bureau-104") == []


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"},
                                     {"Origin": "null"},
                                     {"Sec-Fetch-Site": "cross-site"},
                                     {"Sec-Fetch-Site": "same-site"},
                                     {"Origin": "http://127.0.0.1:8000",
                                      "Sec-Fetch-Site": "cross-site"}])
def test_a_form_posted_from_another_site_is_refused(node: LocalNode, http: httpx.Client,
                                                    headers: dict[str, str]) -> None:
    _, hidden = form(node, http)
    r = submit(http, hidden, council(node, "bureau-104", "1", "2", "3"), node.token,
               headers=headers)
    assert r.status_code == 403 and r.headers["content-type"].startswith(
        "application/problem+json")
    assert counted(http, "bureau-104") == []


def test_implausible_counts_are_refused_with_the_field_named(
        node: LocalNode, http: httpx.Client) -> None:
    _, hidden = form(node, http, lang="fr")  # the form keeps its language (hidden field)
    fields = council(node, "bureau-104", "100", "50", "25", cast="150", registered="140")
    r = submit(http, hidden, fields, node.token)
    assert r.status_code == 200
    assert "plus que les 150 votants" in error_of(r.text, "f-cast")
    assert "ne peut dépasser 100" in error_of(r.text, "f-registered")
    assert 'value="150"' in r.text and 'value="140"' in r.text  # kept for the fix
    assert 'href="#f-cast"' in r.text  # the summary links to the field
    api = http.post(PATH, data={**hidden, **fields, "token": node.token})
    assert api.status_code == 422 and api.json()["type"].endswith("implausible-result")
    assert counted(http, "bureau-104") == []
    fixed = submit(http, hidden, {**fields, "cast": "190", "registered": "1000"}, node.token)
    assert fixed.status_code == 201, fixed.text  # the refused key was not taken
    assert len(counted(http, "bureau-104")) == 1


@pytest.mark.parametrize(("value", "reason"), [("12a", "whole number"), ("-3", "negative"),
                                               ("1.5", "whole number"), ("", "Enter the number"),
                                               ("99999999999", "too large"),
                                               ("١٢", "whole number")])
def test_counts_that_are_not_counts_are_refused_field_by_field(
        node: LocalNode, http: httpx.Client, value: str, reason: str) -> None:
    _, hidden = form(node, http)
    fields = council(node, "bureau-201", "1", value, "3", blank="x")
    r = submit(http, hidden, fields, node.token)
    assert reason in error_of(r.text, "f-sel-0")  # "ar" sorts first
    assert "whole number" in error_of(r.text, "f-blank")
    assert counted(http, "bureau-201") == []


def test_unknown_station_or_contest_is_refused(node: LocalNode, http: httpx.Client) -> None:
    _, hidden = form(node, http)
    elsewhere = council(node, "bureau-201", "1", "2", "3")
    elsewhere["station"] = node.url("places/rivemont-secteur-1")  # a district, not a station
    r = submit(http, hidden, elsewhere, node.token)
    assert "polling stations of this contest" in error_of(r.text, "f-station")
    r = submit(http, {**hidden, "contest": node.url("elections/nope")},
               council(node, "bureau-201", "1", "2", "3"), node.token)
    assert "Choose a contest" in error_of(r.text, "f-contest")
    stray = {**council(node, "bureau-201", "1", "2", "3"),
             f"count {node.url(REFERENDUM)}#yes": "4"}
    r = submit(http, hidden, stray, node.token)
    assert "not on this contest's ballot" in html.unescape(r.text)
    assert http.get(PATH, params={"contest": "https://elsewhere.example/c"},
                    headers=HTML).status_code == 200
    assert counted(http, "bureau-201") == []


def test_evidence_is_stored_and_linked_and_a_too_big_one_refused(
        node: LocalNode, http: httpx.Client) -> None:
    _, hidden = form(node, http, contest=REFERENDUM)
    page = http.get(PATH, params={"contest": node.url(REFERENDUM)}, headers=HTML).text
    selections = re.findall(r'name="(count [^"]+)"', page)
    assert len(selections) >= 2
    fields = {"station": node.url("places/bureau-201"), **{s: "5" for s in selections}}
    big = {"evidence": ("pv.pdf", PDF + b" " * EVIDENCE_MAX, "application/pdf")}
    r = submit(http, hidden, fields, node.token, files=big)
    assert f"at most {EVIDENCE_MAX:,} bytes" in error_of(r.text, "f-evidence")
    fake = {"evidence": ("pv.pdf", b"<html><script>", "application/pdf")}
    assert "PDF" in error_of(submit(http, hidden, fields, node.token, files=fake).text,
                             "f-evidence")
    ok = submit(http, hidden, fields, node.token,
                files={"evidence": ("pv.pdf", PDF, "application/pdf")})
    assert ok.status_code == 201, ok.text
    result = re.search(r'<a class="govuk-link" href="([^"]+)">', ok.text.split("Result<")[1])
    assert result
    stored = http.get(result.group(1), headers={"Accept": "application/ld+json"}).json()
    assert stored["sourceDigest"].startswith("sha256:") and "intake/evidence" in stored["source"]


def test_a_correction_needs_the_review_scope(node: LocalNode, http: httpx.Client) -> None:
    _, hidden = form(node, http)
    first = submit(http, hidden, council(node, "bureau-201", "7", "8", "9"), node.token)
    assert first.status_code == 201, first.text
    _, hidden = form(node, http)
    changed = council(node, "bureau-201", "7", "8", "10")
    r = submit(http, hidden, changed, node.token)  # a different tally, no reason
    assert "give a reason" in error_of(r.text, "f-reason")
    r = submit(http, hidden, {**changed, "reason": "recount of list RES"}, node.token)
    assert "review scope" in error_of(r.text, "f-reason")
    assert 'recount of list RES' in r.text  # the reason is kept
    assert len(counted(http, "bureau-201")) == 1
    review = TokenRegistry(node.dir).create(["write", "review"], label="supervisor")
    r = submit(http, hidden, {**changed, "reason": "recount of list RES"}, review)
    assert r.status_code == 201 and "Correction recorded" in r.text
    logged = counted(http, "bureau-201")
    assert [e["kind"] for e in logged] == ["tally-counted", "tally-correction"]
    assert logged[1]["details"]["revises"] == logged[0]["sequence"]
    assert logged[1]["details"]["reason"] == "recount of list RES"


def test_hostile_forms_are_refused_whole(node: LocalNode, http: httpx.Client) -> None:
    _, hidden = form(node, http)
    fields = {**hidden, **council(node, "bureau-104", "1", "2", "3"), "token": node.token}
    big = http.post(PATH, data={**fields, "reason": "x" * FORM_MAX}, headers=HTML)
    assert big.status_code == 413
    many = http.post(PATH, data={**fields, **{f"f{i}": "1" for i in range(1200)}})
    assert many.status_code == 400
    boundary = "b0undary"
    cut = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"contest\"\r\n\r\n"
           f"{hidden['contest']}\r\n--{boundary}\r\nContent-Disposition: form-da").encode()
    r = http.post(PATH, content=cut,
                  headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 400
    assert http.post(PATH, content=b"{}", headers={"Content-Type": "application/json"}
                     ).status_code == 415
    assert len(counted(http, "bureau-104")) <= 1  # the one of the implausible test's fix


def test_a_long_station_list_is_cut_and_searched(node: LocalNode) -> None:
    desk = node.app.assembly.intake  # type: ignore[attr-defined]
    geo, names, contest = desk.geography(), Names(desk.node.store), node.url(COUNCIL)
    listed, more = names.stations(geo, contest, "", 1, "", "en")
    assert len(listed) == 1 and more == 2  # three stations, one listed
    listed, more = names.stations(geo, contest, "201", 1, "", "en")
    assert [i for i, _ in listed] == [node.url("places/bureau-201")] and more == 0
    chosen = node.url("places/bureau-104")
    listed, _ = names.stations(geo, contest, "", 1, chosen, "en")
    assert chosen in [i for i, _ in listed]  # the clerk's choice stays in the list


def test_the_form_reader_and_numbers() -> None:
    body = (b"--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
            b"--xyz\r\nContent-Disposition: form-data; name=\"f\"; filename=\"p.pdf\"\r\n"
            b"Content-Type: application/pdf\r\n\r\n%PDF-\r\n\r\n--xyz--\r\n")
    posted = read_form(body, "multipart/form-data; boundary=xyz")
    assert posted.fields == {"a": "1"}
    assert posted.files["f"].data == b"%PDF-\r\n" and posted.files["f"].media_type == \
        "application/pdf"
    for broken in (b"--xyz\r\nContent-Disposition: form-data\r\n\r\n1\r\n--xyz--",
                   b"--xyz\r\nno header block--xyz--", b"junk--xyz--", body[:-10]):
        with pytest.raises(BadRequest):
            read_form(broken, "multipart/form-data; boundary=xyz")
    assert number("1 234") == (1234, "") and number("1\u202f234") == (1234, "")
    assert number("") == (None, "") and number("-1") == (None, "error_negative")
    assert number("1,5") == (None, "error_not_number")


def test_the_four_catalogues_have_the_same_messages() -> None:
    import json
    folder = Path(__file__).resolve().parents[1] / "ddsnode/explorer/locales/clerk"
    keys = {lang: set(json.loads((folder / f"{lang}.json").read_text("utf-8")))
            for lang in ("en", "fr", "ca", "es")}
    assert keys["fr"] == keys["ca"] == keys["es"] == keys["en"]
    templates = Path(__file__).resolve().parents[1] / "ddsnode/explorer/templates"
    used = set(re.findall(r'm\("([a-z_0-9-]+)"[,)]', "".join(
        (templates / n).read_text("utf-8") for n in ("clerk.html", "clerk_done.html",
                                                     "clerk_macros.html", "clerk_review.html"))))
    used |= {f"done_{w}" for w in ("counted", "corrected", "unchanged",
                                    "awaiting-second-entry", "mismatch")}  # answer_of's words
    used |= {f"figure_{f}" for f, _ in FIGURES} | {f"error_token_{s}" for s in (401, 403)}
    assert used <= keys["en"], used - keys["en"]


def test_double_entry_through_the_page(tmp_path: Path) -> None:
    # Two clerks key in the same sheet; it counts when their numbers agree.
    with local_node(tmp_path, settings={"intake_double_entry": "*"}) as other, \
            other.client() as client:
        load_election(other, client)
        second = TokenRegistry(other.dir).create(["write"], label="second clerk")
        fields = council(other, "bureau-101", "5", "6", "7")
        r = submit(client, form(other, client)[1], fields, other.token)
        assert r.status_code == 202 and "waiting for a second" in r.text
        assert "Nothing is counted for this station yet" in r.text
        r = submit(client, form(other, client)[1], fields, second)
        assert r.status_code == 201 and "Tally counted" in r.text
        assert 'id="station-total">18<' in r.text
        assert len(counted(client, "bureau-101")) == 1

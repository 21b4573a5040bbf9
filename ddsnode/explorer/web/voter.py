"""The voter's pages: where do I vote, who are the candidates, results at my station.

``/explore/vote`` (a plain GET form: every answer is a shareable URL, and works without
JavaScript), ``/explore/vote.json`` (the same answer as JSON; ``Accept:
application/json`` on the page's URL too), ``/explore/vote/ballot?contest=IRI`` (the
candidates and parties of one contest) and ``/explore/vote/results?unit=IRI`` (results at
a unit and every unit above it). Each request is a few reads of the lookup table
(:mod:`ddsnode.voter.lookup`), on the event loop; the table is rebuilt when what it was
computed from changed, checked at most every ``voter_refresh_seconds`` on a worker thread
while requests answer from the table in hand (:class:`VoterSite`). A query that
finds nothing is a page with the form and why (200, like a search without results), or a
404 problem document for JSON; a query that cannot be asked is a 400 problem.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import jinja2

from ddsnode import paths
from ddsnode.elections.reporting import UnitResult
from ddsnode.elections.unit_kinds import unit_kind_label
from ddsnode.explorer import map as dirmap
from ddsnode.explorer.i18n import LANGUAGES, Translator, request_language
from ddsnode.explorer.web.voter_site import VoterSite
from ddsnode.http.endpoint import FixedMethodsEndpoint
from ddsnode.http.exchange import ASGIApp, Receive, Scope, Send, query_params, send_response
from ddsnode.ldp import conneg
from ddsnode.ldp.preconditions import Preconditions
from ddsnode.problem import BadRequest, NotAcceptable, NotFound
from ddsnode.voter.lookup import Answer, Lookup
from ddsnode.voter.results import Level, results_at

PATH = "/" + paths.VOTE_PATH
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
HTML, JSON = "text/html", "application/json"
FRAGMENTS_CACHED = 4096  # rendered answers kept (each a few KiB)
FIELDS = ("q", "postcode", "lat", "long", "unit")

# Templates ship with the package: no stat() of each template per render (auto_reload
# stats every template a page includes, on every render, on the event loop).
_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                          autoescape=True, undefined=jinja2.StrictUndefined,
                          auto_reload=False)


def pick(texts: dict[str, str] | None, lang: str) -> str:
    """The text of ``texts`` in ``lang``, else untagged, English, or any."""
    if not texts:
        return ""
    for key in (lang, "und", "en"):
        if texts.get(key):
            return texts[key]
    return next(iter(texts.values()))


class _VoterPage(FixedMethodsEndpoint):
    """Shared: language, negotiation, rendering, ETag."""

    template = ""

    def __init__(self, site: VoterSite, json_only: bool = False) -> None:
        self.site = site
        self.json_only = json_only

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        """GET/HEAD: the page, or its JSON."""
        params = query_params(scope)
        offer = JSON if self.json_only else conneg.negotiate(headers.get("accept"),
                                                             (HTML, JSON))
        if offer is None:
            raise NotAcceptable(f"Available: {HTML}, {JSON}")
        lang = _lang(params, headers)
        await self.site.ready()  # the table in hand; maybe a check started (VoterSite)
        # A few indexed reads of a local SQLite file and a template (about a millisecond):
        # on the event loop, since a hop to a worker thread costs more than the work.
        found, body = self._render(params, offer, lang)
        out = [(b"vary", b"Accept, Accept-Language, Cookie"), (b"cache-control", b"no-cache")]
        if found:  # "nothing here" pages carry no validator (they echo the query only)
            tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            out.append((b"etag", tag.encode()))
            pre = Preconditions.parse(None, headers.get("if-none-match"))
            if pre.if_none_match is not None and tag in pre.if_none_match:
                await send_response(send, 304, out)
                return
        out.append((b"content-type", (offer + "; charset=utf-8").encode()))
        await send_response(send, 200, out, body, head=method == "HEAD")

    def _render(self, params: dict[str, str], offer: str, lang: str) -> tuple[bool, bytes]:
        """(whether something was found, the body)."""
        try:
            data, context = self.answer(params, lang)
        except NotFound as problem:
            # A lookup that finds nothing is an answer, like a search with no results:
            # the page says why, with the form to try again. Errors (>= 400) are problem
            # documents only, from the one renderer (JSON clients get the 404 problem).
            if offer == JSON:
                raise
            context = {"error": problem.detail, "status": problem.status}
            return False, self.page("voter_form.html", lang, params, context)
        if offer == JSON and isinstance(data, bytes):
            return True, data
        if offer == JSON:
            # compact: the C encoder (an indent falls back to the pure-Python one)
            text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
            return True, text.encode("utf-8")
        return True, self.page(self.template, lang, params, context)

    def answer(self, params: dict[str, str], lang: str) -> tuple[Any, dict[str, Any]]:
        """(JSON data, template context) of a request."""
        raise NotImplementedError

    def page(self, template: str, lang: str, params: dict[str, str],
             extra: dict[str, Any]) -> bytes:
        """Render ``template`` with the site's context and ``extra``."""
        return self.text(template, lang, params, extra).encode("utf-8")

    def text(self, template: str, lang: str, params: dict[str, str],
             extra: dict[str, Any]) -> str:
        """``template`` rendered with the site's context and ``extra``, as text."""
        t = Translator(lang)
        s = self.site.node.settings

        def link(target: str, pairs: Any = ()) -> str:
            pairs = list(pairs.items()) if isinstance(pairs, dict) else list(pairs)
            return target + ("?" + urlencode(pairs) if pairs else "")

        context: dict[str, Any] = {
            "t": t, "_": t.gettext, "ngettext": t.ngettext, "lang": lang, "link": link, "path": PATH,
            "switch": lambda code: link(self.path, {**params, "lang": code}),
            "static": lambda name: f"/explore/static/{name}",
            "site": SimpleNamespace(name=s.name, operator=s.operator),
            "languages": [(c, Translator.language_name(c)) for c in LANGUAGES],
            "election_kind": "Election", "pick": lambda d: pick(d, lang),
            "kind_label": lambda word: unit_kind_label(word, lang),
            "status_label": lambda word: t.gettext(status_label(word)),
            "base": self.site.node.base,
            "params": {k: params.get(k, "") for k in FIELDS}, "error": None,
            "answer": None, "answer_html": None, "json_href": "", "status": 200}
        context.update(extra)
        return _env.get_template(template).render(context)

    @property
    def path(self) -> str:
        """This page's path (for the language switch)."""
        return PATH


class WhereToVote(_VoterPage):
    """``/explore/vote`` and ``/explore/vote.json``."""

    template = "voter_form.html"

    def __init__(self, site: VoterSite, json_only: bool = False) -> None:
        super().__init__(site, json_only)
        self.fragments: dict[tuple[int, str], tuple[Answer, str]] = {}

    def answer(self, params: dict[str, str], lang: str) -> tuple[Any, dict[str, Any]]:
        """The form alone, the voter's stations and ballots, or the picker."""
        fields = {k: params.get(k, "") for k in FIELDS}
        if not any(v.strip() for v in fields.values()):
            if self.json_only:
                raise BadRequest("give an address (q), a postcode, a point (lat, long) "
                                 "or a unit")
            return {}, {}
        answer = self.site.current().ask(**fields)
        if self.json_only:
            return answer.encoded(), {}
        json_href = PATH + ".json?" + urlencode({k: v for k, v in fields.items() if v})
        return answer.encoded(), {"answer": answer, "json_href": json_href,
                                  "answer_html": self.fragment(answer, lang)}

    def fragment(self, answer: Answer, lang: str) -> str:
        """The answer part of the page, rendered once per answer and language (answers
        are shared by every address of a unit; only the form echoes the query)."""
        key = (id(answer), lang)
        cached = self.fragments.get(key)
        if cached is None or cached[0] is not answer:
            html = self.text("voter_answer.html", lang, {}, {
                "answer": answer, "map_svg": _map(answer, lang)})
            if len(self.fragments) >= FRAGMENTS_CACHED:
                self.fragments.clear()
            cached = (answer, html)  # autoescaped by the template that made it (|safe)
            self.fragments[key] = cached
        return cached[1]


class BallotPage(_VoterPage):
    """``/explore/vote/ballot?contest=IRI``: who are the candidates."""

    template = "voter_ballot.html"

    @property
    def path(self) -> str:
        """This page's path."""
        return PATH + "/ballot"

    def answer(self, params: dict[str, str], lang: str) -> tuple[Any, dict[str, Any]]:
        """The contest with its selections, candidates and parties."""
        iri = params.get("contest", "")
        if not iri or len(iri) > 2048:
            raise BadRequest("contest must be the IRI of a contest on a ballot")
        contest = self.site.current().contest(iri)
        return contest, {"contest": contest, "unit": params.get("unit", "")}


class ResultsPage(_VoterPage):
    """``/explore/vote/results?unit=IRI``: results there and at every level above."""

    template = "voter_results.html"

    @property
    def path(self) -> str:
        """This page's path."""
        return PATH + "/results"

    def answer(self, params: dict[str, str], lang: str) -> tuple[Any, dict[str, Any]]:
        """Per level (the voter's stations, their unit, the units above), per contest."""
        unit = params.get("unit", "")
        if not unit or len(unit) > 2048:
            raise BadRequest("unit must be the IRI of a unit from a where-to-vote answer")
        lookup = self.site.current()
        answer = lookup.by_unit(unit)
        units = [s["iri"] for s in answer.stations] + [i for i, _, _ in answer.levels]
        elections = sorted({b["election"] for b in answer.ballots})
        published = {e: p for e in elections
                     if (p := self.site.published.published(e)) is not None}
        # A signed generation when there is one (what readers and mirrors can check),
        # else the results stored on the node.
        levels = results_at(self.site.published, sorted(published), units) + \
            results_at(self.site.results, [e for e in elections if e not in published], units)
        names = {s["iri"]: s["name"] for s in answer.stations} | \
            {i: n for i, n, _ in answer.levels}
        labels = _selection_labels(lookup, {r.contest for lv in levels for r in lv.results},
                                   lang)
        data = {"unit": unit, "published": [p.__dict__ for p in published.values()],
                "source": "generation" if published else "store", "levels": [
            {"unit": lv.unit, "name": names.get(lv.unit, lv.unit),
             "results": [_result_json(r) for r in lv.results]} for lv in levels]}
        titles = {b["iri"]: b["title"] for b in answer.ballots}
        elections_titles = {b["election"]: b["electionTitle"] for b in answer.ballots}
        return data, {"answer": answer, "levels": levels, "names": names, "labels": labels,
                      "titles": titles, "published": list(published.values()),
                      "election_titles": elections_titles,
                      "stored": [e for e in elections if e not in published]}


#: Results-status words (NIST ResultsStatus, either spelling) -> msgids of the catalogues.
STATUS_LABELS = {"pre-election": "before the count", "unofficial-partial": "unofficial, partial",
                 "unofficial-complete": "unofficial, complete", "certified": "certified",
                 "recount": "recount", "correction": "correction"}


def status_label(word: str) -> str:
    """The msgid naming a results status (``unofficialPartial`` or ``unofficial-partial``)."""
    hyphenated = re.sub(r"(?<=[a-z])([A-Z])", lambda m: "-" + m.group(1).lower(), word)
    return STATUS_LABELS.get(hyphenated, word)


def _result_json(r: UnitResult) -> dict[str, Any]:
    return {"contest": r.contest, "level": r.level, "status": r.status, "asOf": r.as_of,
            "counts": [{"selection": s, "votes": n} for s, n in r.counts],
            "ballotsCast": r.ballots_cast, "blank": r.blank, "invalid": r.invalid,
            "registered": r.registered, "stationsReported": r.stations_reported,
            "stationsTotal": r.stations_total}


def _selection_labels(lookup: Lookup, contests: set[str], lang: str) -> dict[str, str]:
    """selection IRI -> what the ballot calls it (candidates' names, or the text)."""
    out: dict[str, str] = {}
    for iri in contests:
        try:
            contest = lookup.contest(iri)
        except NotFound:
            continue
        for sel in contest["selections"]:
            names = [pick(c["name"], lang) for c in sel["candidates"] if c["name"]]
            out[sel["iri"]] = ", ".join(names) or pick(sel["text"], lang) or \
                ", ".join(p["name"] for p in sel["parties"]) or sel["iri"].rsplit("#", 1)[-1]
    return out


def _map(answer: Answer, lang: str) -> str:
    """A server-drawn SVG map of the answer's stations (no script, no tile server)."""
    points = tuple(dirmap.MapPoint(s["long"], s["lat"], s["name"], "")
                   for s in answer.stations
                   if s.get("lat") is not None and s.get("long") is not None)
    return _svg(points, lang) if points else ""


@functools.lru_cache(maxsize=4096)
def _svg(points: tuple[dirmap.MapPoint, ...], lang: str) -> str:
    """The map of ``points``, drawn once (a unit's stations are the same for every
    address of it)."""
    # No list link inside the map: its wording is the directory's ("these organisations"),
    # and the stations are listed right below it anyway.
    return dirmap.render_map(points, width=480, height=300, lang=lang)


def _lang(params: dict[str, str], headers: dict[str, str]) -> str:
    return request_language(params.get("lang"), headers)


def voter_routes(node: Any) -> list[tuple[str, ASGIApp, str]]:
    """(path, endpoint, name) rows for the routes table."""
    site = VoterSite(node)
    return [(PATH, WhereToVote(site), "vote"),
            (PATH + ".json", WhereToVote(site, json_only=True), "vote-json"),
            (PATH + "/ballot", BallotPage(site), "vote-ballot"),
            (PATH + "/results", ResultsPage(site), "vote-results")]


__all__ = ["BallotPage", "Level", "ResultsPage", "VoterSite", "WhereToVote", "pick",
           "status_label", "voter_routes"]

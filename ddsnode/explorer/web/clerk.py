"""The clerk's tally page: ``/explore/intake``, election night's intake as a server form.

A polling-station clerk or a district data-entry operator chooses the contest (grouped
by election) and the station, types the counts of the tally sheet (one field per
selection the contest defines, then ballots cast, blank, invalid and registered
voters), may attach the sheet (a photo or PDF), and submits with their write token —
a password field, never in a URL, never echoed back, never logged. No JavaScript.

The page takes exactly the API's path (``ddsnode/http/intake.py``): the tally is built
as the JSON-LD ``ContestResult`` a client would send and handed to
:meth:`ddsnode.intake.desk.Desk.submit` with the form's idempotency key — the same
validation, plausibility checks, double entry, corrections, hash-chained log and
totals; the sheet goes through :meth:`~ddsnode.intake.desk.Desk.store_evidence`, with
the same limits as ``POST /intake/evidence``.

* **Double submission**: every rendering of the form carries a new random idempotency
  key (hidden field); a double click or a reload sends the same key and body, and the
  desk answers the first answer again: the page says "already received".
* **Cross-site posts** (docs/security.md, "Clerk's tally page"): refused when the
  browser says the form came from another site (``Sec-Fetch-Site``, Fetch Metadata) or
  another origin (``Origin``, RFC 6454 7), before the body is read.
* **Refusals** come back to a browser as the form, values kept (the token never), each
  reason beside its field (``aria-describedby``) and in a summary that names the station
  and contest once, by their labels — every reason from the catalogue in the page's
  language (:mod:`.clerk_refusal`), never the API's English ``detail``: a 200 page, like
  a search that finds nothing, since errors (>= 400) are problem documents only; a
  client that does not ask for HTML gets the problem document (RFC 9457) with its status.
* The supervisor's page, ``/explore/intake/review`` (:mod:`.clerk_review`), settles
  double entries that differ and corrections waiting, through the same desk.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode, urlsplit

import anyio.to_thread
import jinja2

from ddsnode.explorer.i18n import LANGUAGES, Translator, request_language
from ddsnode.explorer.json_catalogue import JsonCatalogue
from ddsnode.explorer.labels import local_name
from ddsnode.explorer.web.clerk_form import Posted, number, read_form
from ddsnode.explorer.web.clerk_names import Names
from ddsnode.explorer.web.clerk_refusal import reasons
from ddsnode.http.endpoint import FixedMethodsEndpoint
from ddsnode.http.exchange import (
    ASGIApp,
    Receive,
    Scope,
    Send,
    query_params,
    read_body,
    send_response,
)
from ddsnode.intake.desk import Answer, Desk, Submission
from ddsnode.intake.geography import Geography
from ddsnode.intake.refusals import MAX_REASON
from ddsnode.ldp.access import needs_token
from ddsnode.problem import Forbidden, Problem, Unprocessable

__all__ = ["PATH", "ClerkPage", "clerk_routes", "message"]

PATH = "/explore/intake"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
CATALOGUES = Path(__file__).resolve().parent.parent / "locales" / "clerk"
#: Stations the form's choice lists (names read for each: a page's cost is bounded
#: whatever the election's size); a search narrows a longer list (docs/security.md).
MAX_STATIONS_LISTED = 200
COUNT = "count "  # prefix of a count field's name; the rest is the selection's IRI
#: (field, JSON-LD term) of the figures beside the votes (docs/election-night.md)
FIGURES = (("cast", "ballotsCast"), ("blank", "blankBallots"), ("invalid", "invalidBallots"),
           ("registered", "registeredVoters"))

_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                          autoescape=True, undefined=jinja2.StrictUndefined)


_TEXT = JsonCatalogue(CATALOGUES)


def message(msgid: str, lang: str, **values: object) -> str:
    """``msgid`` in ``lang`` (else English, else the msgid), its ``{fields}`` filled."""
    return _TEXT.formatted(msgid, lang, **values) if values else _TEXT.message(msgid, lang)


def _origin(url: str) -> str:
    """scheme://host[:port] of ``url``, the default port left out (RFC 6454 6.2)."""
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme}://{(parts.hostname or '').lower()}{port}"


class ClerkPage(FixedMethodsEndpoint):
    """``GET /explore/intake`` (choose, then the form) and ``POST`` (a tally in)."""

    allow = "GET, HEAD, OPTIONS, POST"
    path = PATH  # the page's own path (language links, forms)

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.node = desk.node
        self.names = Names(desk.node.store)

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        params = query_params(scope)
        if method == "POST":
            self._same_origin(headers)  # before reading a byte of the body
            body = await read_body(scope, receive, headers, self.max_form_bytes())
            posted = read_form(body, headers.get("content-type", ""))
            lang = self._lang(posted.fields, headers)
            html = "text/html" in headers.get("accept", "")
            status, page = await anyio.to_thread.run_sync(self._post, posted, lang, html)
        else:
            self._check_reader(headers)
            lang = self._lang(params, headers)
            status, page = await anyio.to_thread.run_sync(self._get, params, lang)
        await send_response(send, status, [
            (b"content-type", b"text/html; charset=utf-8"),
            # every form carries a fresh idempotency key: never stored, never shared
            (b"cache-control", b"no-store"), (b"vary", b"Accept-Language, Cookie")],
            page.encode("utf-8"), head=method == "HEAD")

    def max_form_bytes(self) -> int:
        """The largest form: a tally sheet and a tally, as the API takes them one by one
        (``intake_evidence_max_bytes`` + ``intake_max_tally_bytes``; 413 above)."""
        s = self.node.settings
        return int(s.intake_evidence_max_bytes) + int(s.intake_max_tally_bytes)

    # --- checks --------------------------------------------------------------------

    def _same_origin(self, headers: dict[str, str]) -> None:
        """Refuse a form another site made the browser post (docs/security.md)."""
        site = headers.get("sec-fetch-site")
        origin = headers.get("origin")
        if site is not None and site not in ("same-origin", "none"):
            raise Forbidden(f"A tally form posted from another site ({site[:20]}) is refused: "
                            "open the form on this node")
        if origin is not None and origin != _origin(self.node.base):
            raise Forbidden("A tally form posted from another origin is refused: open the "
                            "form on this node")

    def _check_reader(self, headers: dict[str, str]) -> None:
        """As the intake's reads: a node keeping elections or places private shows their
        contests and stations to a read token only (docs/security.md, one read rule)."""
        if not self._public():
            self.node.authorize("read", headers.get("authorization"))

    def _public(self) -> bool:
        """Whether elections and places are public (the node's ``private_containers``)."""
        return not any(needs_token(self.node.containers.get(p))
                       for p in ("elections/", "places/"))

    @staticmethod
    def _lang(values: dict[str, str], headers: dict[str, str]) -> str:
        return request_language(values.get("lang"), headers)

    # --- GET -----------------------------------------------------------------------

    def _get(self, params: dict[str, str], lang: str) -> tuple[int, str]:
        self.desk.elections()  # 503 while the intake starts
        geo = self.desk.geography()
        contest = params.get("contest", "")
        if not contest:
            return 200, self._chooser(geo, lang, params.get("q", ""), [])
        if contest not in geo.contests:
            return 200, self._chooser(geo, lang, params.get("q", "")[:200],
                                      [("f-contest", message("error_unknown_contest", lang))])
        station = params.get("station", "")
        return 200, self._form(geo, lang, contest, params.get("q", "")[:200],
                               {"station": station}, {}, [])

    # --- POST ----------------------------------------------------------------------

    def _post(self, posted: Posted, lang: str, html: bool) -> tuple[int, str]:
        """Authenticate, read the counts, store the sheet, submit: (status, page)."""
        values = {k: v for k, v in posted.fields.items() if k != "token"}  # never echoed
        geo: Geography | None = None
        contest = posted.text("contest")
        try:
            token = posted.text("token")
            try:
                grant = self.node.authorize("write", f"Bearer {token}" if token else None)
            except Problem as problem:  # 401 or 403: the token's field says why
                raise _Fields(problem, self._reasons(problem, posted, lang)) from None
            assert grant is not None
            self.desk.elections()  # 503 while the intake starts
            geo = self.desk.geography()
            if contest not in geo.contests:
                raise _Fields(Unprocessable("Not a contest of an election on this node"),
                              [("f-contest", message("error_unknown_contest", lang))])
            doc, errors = self._tally(posted, geo, contest, lang)
            if errors:
                raise _Fields(Unprocessable("Some fields are not counts"), errors)
            evidence = ""
            upload = posted.files.get("evidence")
            if upload is not None:
                try:
                    stored = self.desk.store_evidence(upload.data, upload.media_type, grant.id)
                except Problem as problem:
                    raise _Fields(problem, self._reasons(problem, posted, lang)) from None
                evidence = str(stored.body["sha256"])
            body = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("utf-8")
            answer = self.desk.submit(Submission(
                body, "application/ld+json", posted.text("key"), grant.id, grant.scopes,
                reason=posted.text("reason"), evidence=evidence))
        except (Problem, _Fields) as refusal:
            inner = refusal.inner if isinstance(refusal, _Fields) else refusal
            if not html:
                raise inner from None
            fields = refusal.fields if isinstance(refusal, _Fields) else \
                self._reasons(refusal, posted, lang)
            if geo is None and self._public():
                geo = self.desk.geography()  # to give the form back, values kept
            # The page is the answer (as a search that finds nothing): 200, the form and
            # why; errors >= 400 are problem documents only, from the one renderer.
            if geo is None or contest not in geo.contests:
                return 200, self._chooser(geo, lang, "", fields)
            return 200, self._form(geo, lang, contest, posted.text("q"), values,
                                   dict(fields), fields, refused=True)
        return answer.status, self._done(geo, lang, contest, posted.text("station"), answer)

    def _tally(self, posted: Posted, geo: Geography, contest: str,
               lang: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """The ContestResult a client would send, and the fields that are not counts."""
        info = geo.contests[contest]
        errors: list[tuple[str, str]] = []
        station = posted.text("station")
        if station not in geo.stations_of(contest):
            errors.append(("f-station", message("error_unknown_station", lang)))
        sent = {k[len(COUNT):] for k in posted.fields if k.startswith(COUNT)}
        if sent - info.selections:
            errors.append(("f-contest", message("error_unknown_selection", lang)))
        counts = []
        for i, selection in enumerate(sorted(info.selections)):
            value, why = number(posted.text(COUNT + selection))
            if value is None:
                errors.append((f"f-sel-{i}", message(why or "error_required", lang)))
            else:
                counts.append({"type": "VoteCount", "selection": selection,
                               "countType": "total", "count": value})
        doc: dict[str, Any] = {"@context": "https://w3id.org/dds/context/v1",
                               "type": "ContestResult", "contest": contest,
                               "reportingUnit": station, "voteCounts": counts}
        for name, term in FIGURES:
            value, why = number(posted.text(name))
            if why:
                errors.append((f"f-{name}", message(why, lang)))
            elif value is not None:
                doc[term] = value
        return doc, errors

    def _reasons(self, problem: Problem, posted: Posted, lang: str) -> list[tuple[str, str]]:
        """Field ids and the reasons the refusal gives for them, in ``lang``."""
        t = Translator(lang)
        limits = {"evidence": t.number(int(self.node.settings.intake_evidence_max_bytes)),
                  "reason": t.number(MAX_REASON)}
        return reasons(problem, lambda msgid, **v: message(msgid, lang, **v),
                       _figures(posted), limits)

    # --- pages ---------------------------------------------------------------------

    def _context(self, lang: str, extra: dict[str, Any]) -> dict[str, Any]:
        t = Translator(lang)
        s = self.node.settings

        def link(target: str, pairs: Any = ()) -> str:
            pairs = list(pairs.items()) if isinstance(pairs, dict) else list(pairs)
            return target + ("?" + urlencode(pairs) if pairs else "")

        context: dict[str, Any] = {
            "t": t, "_": t.gettext, "m": lambda msgid, **v: message(msgid, lang, **v),
            "lang": lang, "link": link, "path": self.path, "clerk_path": PATH,
            "election_kind": "Election",
            "switch": lambda code: link(self.path, {**extra.get("query", {}), "lang": code}),
            "static": lambda name: f"/explore/static/{name}",
            "site": SimpleNamespace(name=s.name, operator=s.operator),
            "languages": [(c, Translator.language_name(c)) for c in LANGUAGES],
            "summary": [], "title": message("error_title", lang), "number": t.number}
        context.update(extra)
        return context

    def _render(self, template: str, lang: str, extra: dict[str, Any]) -> str:
        return _env.get_template(template).render(self._context(lang, extra))

    def _chooser(self, geo: Geography | None, lang: str, q: str,
                 summary: list[tuple[str, str]]) -> str:
        elections = []
        for election, contests in sorted((geo.elections if geo else {}).items()):
            elections.append((self.names.label(election, lang),
                              [(c, self.names.label(c, lang)) for c in contests]))
        return self._render("clerk.html", lang, {
            "step": "choose", "elections": elections, "q": q, "summary": summary,
            "query": {}})

    def _form(self, geo: Geography, lang: str, contest: str, q: str, values: dict[str, str],
              errors: dict[str, str], summary: list[tuple[str, str]], *,
              refused: bool = False) -> str:
        info = geo.contests[contest]
        contest_label = self.names.label(contest, lang)
        title = message("error_title", lang)
        station = values.get("station", "")
        if refused and station in geo.stations_of(contest):  # named once, by its label
            title = message("error_title_named", lang, contest=contest_label,
                            station=self.names.label(station, lang))
        stations, more = self.names.stations(geo, contest, q, MAX_STATIONS_LISTED,
                                             values.get("station", ""), lang)
        labels = self.names.selections(contest, lang)
        selections = [SimpleNamespace(id=f"f-sel-{i}", name=COUNT + iri,
                                      label=labels.get(iri) or local_name(iri),
                                      value=values.get(COUNT + iri, ""))
                      for i, iri in enumerate(sorted(info.selections))]
        return self._render("clerk.html", lang, {
            "step": "form", "contest": contest, "contest_label": contest_label,
            "election_label": self.names.label(info.election, lang), "q": q,
            "stations": stations, "more": more, "selections": selections,
            "figures": [f for f, _ in FIGURES], "values": values, "errors": errors,
            "summary": summary, "title": title,
            # new for each rendering: the key of this form's one tally (a retry keeps it)
            "key": values.get("key") or "clerk-" + secrets.token_urlsafe(18),
            "query": {"contest": contest, "q": q}})

    def _done(self, geo: Geography | None, lang: str, contest: str, station: str,
              answer: Answer) -> str:
        counted = self.desk.totals.counted(contest, station)
        labels = self.names.selections(contest, lang)
        rows = [(labels.get(s) or local_name(s), n) for s, n in sorted(counted.totals().items())] \
            if counted is not None else []
        return self._render("clerk_done.html", lang, {
            "answer": answer.body, "replayed": answer.replayed, "contest": contest,
            "contest_label": self.names.label(contest, lang),
            "station_label": self.names.label(station, lang), "counted": counted, "rows": rows,
            "total": sum(n for _, n in rows), "query": {"contest": contest}})


class _Fields(Exception):
    """A refusal (``inner``, what an API client gets) with its reasons per field."""

    def __init__(self, inner: Problem, fields: list[tuple[str, str]]) -> None:
        super().__init__(inner.detail)
        self.inner, self.fields = inner, fields


def _figures(posted: Posted) -> dict[str, str]:
    """The numbers a finding's text names, as the clerk typed them."""
    votes = sum((number(v)[0] or 0) for k, v in posted.fields.items() if k.startswith(COUNT))
    out = {name: posted.text(name) or "0" for name, _ in FIGURES}
    blank, invalid = (number(posted.text(n))[0] or 0 for n in ("blank", "invalid"))
    return {**out, "votes": str(votes), "counted": str(votes + blank + invalid)}


def clerk_routes(desk: Desk | None) -> list[tuple[str, ASGIApp, str]]:
    """(path, endpoint, name) rows for the routes table (none without an intake): the
    clerk's page and the supervisor's."""
    if desk is None:
        return []
    from ddsnode.explorer.web.clerk_review import REVIEW_PATH, ReviewPage  # built on this
    return [(PATH, ClerkPage(desk), "clerk"), (REVIEW_PATH, ReviewPage(desk), "clerk-review")]


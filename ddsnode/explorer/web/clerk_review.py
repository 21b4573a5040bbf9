"""The supervisor's page: ``/explore/intake/review``, what waits for a reviewer.

Two kinds of item wait (:meth:`ddsnode.intake.desk.Desk.review`, ``intake/review.py``):
double entries of a station that differ (nothing is counted until a supervisor takes
one side), and tallies refused for a station already counted (a clerk's other numbers,
or a correction sent without the review scope). Each shows the numbers side by side —
the entries, or the counted tally and the proposed one — with the fields that differ
marked in words (not by colour alone), when and by whom (the token's label and id) each
was sent, and a form to settle it: a correction through :meth:`Desk.submit`, as
``POST /intake/tallies`` with ``Correction-Reason`` and ``Revises`` takes it — the
numbers of the chosen entry, the supervisor's reason, ``Revises`` the counted event (a
correction) or the chosen entry (a mismatch), so a decision someone else took meanwhile
is refused (409), never applied twice or on top of another.

Like the clerk's page (:class:`~ddsnode.explorer.web.clerk.ClerkPage`, which this page
extends): no JavaScript, no session, no cookie; the token — scopes ``write`` and
``review`` — is typed into a password field and sent in the POST body only, never
echoed; a form posted from another site is refused before its body is read; each
rendered form carries its own idempotency key (a double click settles once); errors sit
beside their fields (``aria-describedby``) and in a summary. Without a token, or with
one lacking a scope: the token form again with the reason (a client that does not ask
for HTML gets the problem document, 401 or 403), as the clerk's page does.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace

from ddsnode.explorer.i18n import Translator
from ddsnode.explorer.labels import local_name
from ddsnode.explorer.web.clerk import FIGURES, ClerkPage, message
from ddsnode.explorer.web.clerk_form import Posted
from ddsnode.explorer.web.clerk_refusal import reasons
from ddsnode.intake.desk import Answer, Submission
from ddsnode.intake.refusals import MAX_REASON
from ddsnode.intake.review import (
    Entry,
    Mismatch,
    OpenCorrection,
    differing,
    entry_of,
    figures_of,
    submission_body,
)
from ddsnode.ldp.tokens import TokenInfo
from ddsnode.problem import Forbidden, Problem, Unprocessable

__all__ = ["MAX_ITEMS", "REVIEW_PATH", "ReviewPage"]

REVIEW_PATH = "/explore/intake/review"
#: Items one page lists (each reads its entries from the log: a page's cost is bounded)
MAX_ITEMS = 50
MAX_REVIEW_FORM = 16 * 1024  # bytes: a token, a reason (<= 2,000 characters), a few ids
_FIELD = {"f-reason": "reason", "f-token": "token"}  # a refusal's field -> the item's


class _ItemRefused(Exception):
    """A decision refused: ``inner`` for an API client, ``fields`` (item field, text)."""

    def __init__(self, inner: Problem, fields: list[tuple[str, str]]) -> None:
        super().__init__(inner.detail)
        self.inner, self.fields = inner, fields


@dataclass(frozen=True)
class _Page:
    """What one rendering of the list reads once: labels, ballots, times, token labels."""

    label: Callable[[str], str]
    selections: Callable[[str], dict[str, str]]
    date: Callable[[str], str]
    who: dict[str, str]


class ReviewPage(ClerkPage):
    """``GET /explore/intake/review`` (the token form), ``POST`` (the list; a decision)."""

    path = REVIEW_PATH

    def max_form_bytes(self) -> int:
        """A decision's form: no file, a reason and a few fields."""
        return MAX_REVIEW_FORM

    def _get(self, params: dict[str, str], lang: str) -> tuple[int, str]:
        """The token form: the list is posted, never in a URL (the token goes with it)."""
        return 200, self._render("clerk_review.html", lang, {
            "step": "token", "errors": {}, "done": None, "query": {}})

    def _post(self, posted: Posted, lang: str, html: bool) -> tuple[int, str]:
        """The list, or a decision and the list (:meth:`_post_review`)."""
        return 200, self._post_review(posted, lang, html)

    def _grant(self, token: str) -> TokenInfo:
        """The token's grant: scope ``write`` and ``review`` (or ``admin``), else 401/403."""
        grant = self.node.authorize("write", f"Bearer {token}" if token else None)
        assert grant is not None
        if not {"review", "admin"} & grant.scopes:
            raise Forbidden("Reviewing needs a token with scope 'review'")
        return grant

    def _post_review(self, posted: Posted, lang: str, html: bool) -> str:
        """The list (``action=list``) or a decision and the list: the page."""
        try:
            grant = self._grant(posted.text("token"))
        except Problem as problem:
            if not html:
                raise
            text = message("error_review_token_403" if isinstance(problem, Forbidden)
                           else "error_token_401", lang)
            return self._render("clerk_review.html", lang, {
                "step": "token", "summary": [("f-token", text)], "errors": {"f-token": text},
                "done": None,
                "title": message("review_error_title", lang), "query": {}})
        self.desk.elections()  # 503 while the intake starts
        done, refused, item = None, None, posted.text("item")
        if posted.text("action") == "accept":
            try:
                done = self._decide(posted, grant, lang)
            except _ItemRefused as refusal:
                if not html:
                    raise refusal.inner from None
                refused = refusal.fields
        return self._page(lang, done, item, refused, posted)

    def _decide(self, posted: Posted, grant: TokenInfo, lang: str) -> dict[str, str]:
        """Settle one item through the desk; what the page says it recorded."""
        contest, station, reason = (posted.text(n) for n in ("contest", "station", "reason"))
        event, revises = posted.text("event"), posted.text("revises")
        fields = []
        if not (event.isascii() and event.isdigit() and len(event) <= 18):
            fields.append(("entry", message("error_choose_entry", lang)))
        if not reason:
            fields.append(("reason", message("error_reason_required", lang)))
        if fields:
            raise _ItemRefused(Unprocessable("Choose an entry and give a reason"), fields)
        found = self.desk.log.page(int(event) - 1, 1)
        entry = entry_of(found[0]) if found and found[0].seq == int(event) else None
        if entry is None or (entry.tally.contest, entry.tally.unit) != (contest, station):
            raise _ItemRefused(Unprocessable("No such entry for this station and contest"),
                               [("entry", message("error_entry_gone", lang))])
        # Revises: the counted event (a correction) or the chosen entry (a mismatch)
        answer: Answer
        try:
            answer = self.desk.submit(Submission(
                submission_body(entry.tally), "application/ld+json", posted.text("key"),
                grant.id, grant.scopes, reason=reason,
                revises=int(revises) if revises.isdigit() and len(revises) <= 18 else
                int(event)))
        except Problem as problem:
            t = Translator(lang)
            said = reasons(problem, lambda msgid, **v: message(msgid, lang, **v), {},
                           {"reason": t.number(MAX_REASON)})
            raise _ItemRefused(problem, [(_FIELD.get(f, "entry"), text)
                                         for f, text in said]) from None
        return {"station": self.names.label(station, lang),
                "contest": self.names.label(contest, lang), "event": str(answer.body["event"]),
                "status": str(answer.body["status"]), "replayed": "1" if answer.replayed else ""}

    def _page(self, lang: str, done: dict[str, str] | None, item: str,
              refused: list[tuple[str, str]] | None, posted: Posted) -> str:
        """The list, with what was recorded or why a decision was refused."""
        queue = self.desk.review(MAX_ITEMS)
        who = {t.id: t.label for t in (self.node.tokens.list() if self.node.tokens else [])}
        t = Translator(lang)
        # read once a page: a contest, its stations and times repeat from item to item
        names = _Page(cache(lambda iri: self.names.label(iri, lang)),
                      cache(lambda iri: self.names.selections(iri, lang)), cache(t.date), who)
        waiting: list[Mismatch | OpenCorrection] = [*queue.mismatches, *queue.corrections]
        items = [self._item(x, lang, names) for x in waiting]
        summary, title = [], message("review_error_title", lang)
        errors: dict[str, str] = {}
        if refused is not None:
            shown = next((i for i in items if i.id == item), None)
            for field, text in refused:
                key = f"{item}-{field}" if shown is not None else "f-general"
                errors.setdefault(key, text)
                summary.append((key, text))
            if shown is not None:
                title = message("review_error_named", lang, station=shown.station_label,
                                contest=shown.contest_label)
                shown.values = {"reason": posted.text("reason"), "event": posted.text("event"),
                                "key": posted.text("key")}
        for i in items:
            i.key = i.values.get("key") or "review-" + secrets.token_urlsafe(18)
        return self._render("clerk_review.html", lang, {
            "step": "list", "items": items, "more": queue.more, "done": done,
            "summary": summary, "errors": errors, "title": title, "query": {},
            "mismatches": [i for i in items if i.kind == "mismatch"],
            "corrections": [i for i in items if i.kind == "correction"]})

    def _item(self, x: Mismatch | OpenCorrection, lang: str, page: _Page) -> SimpleNamespace:
        """One item as the template shows it: columns, rows, the differing fields."""
        labels = page.selections(x.contest)

        def column(entry: Entry | None, heading: str) -> SimpleNamespace:
            if entry is None:
                return SimpleNamespace(heading=heading, sent=message("review_imported", lang),
                                       figures={}, reason="", event=0)
            name = page.who.get(entry.subject) or entry.subject
            by = f"{name} ({entry.subject})" if name != entry.subject else name
            return SimpleNamespace(
                heading=heading, event=entry.event, figures=figures_of(entry.tally),
                sent=message("review_sent", lang, event=entry.event, time=page.date(entry.time),
                             who=by), reason=entry.reason)

        if isinstance(x, Mismatch):
            columns = [column(e, message("review_entry", lang, n=n))
                       for n, e in enumerate(x.entries, 1)]
            tallies = [e.tally for e in x.entries]
            kind, first, revises = "mismatch", x.entries[0].event, ""
        else:
            columns = [column(x.counted, message("review_counted", lang)),
                       column(x.proposed, message("review_proposed", lang))]
            tallies = [x.proposed.tally] + ([x.counted.tally] if x.counted else [])
            kind, first, revises = "correction", x.proposed.event, str(x.current)
        names = sorted({n for c in columns for n in c.figures if n.startswith(("http:",
                                                                              "https:"))})
        differs = differing(tallies) if len(tallies) > 1 else frozenset()
        rows = [SimpleNamespace(label=labels.get(n) or local_name(n), name=n,
                                differs=n in differs) for n in names]
        rows += [SimpleNamespace(label=message(f"figure_{f}", lang), name=f,
                                 differs=f in differs) for f, _ in FIGURES]
        return SimpleNamespace(
            id=f"r{first}", kind=kind, contest=x.contest, station=x.unit, revises=revises,
            contest_label=page.label(x.contest), station_label=page.label(x.unit),
            columns=columns, rows=rows,
            values={}, key="", proposed=columns[-1])

"""Mapping of proposals (and amendments, and their answers), debates, meetings, comments.

* proposals -> ``Proposal``, or ``Amendment`` (``is_amend``) that ``amends`` the original;
  the institutional answer -> a ``Decision`` (``decisionType`` answer) that ``answers`` it
* debates -> ``Debate``; meetings -> ``Meeting`` (type, times, place, minutes)
* ``*_comments`` -> ``Comment``: ``inReplyTo`` the commented resource, or the parent
  comment for a reply, so threads keep their shape; ``alignment`` -> ``stance``
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from ddsnode.decidim.context import Context, Mapped
from ddsnode.decidim.mapping import (
    Doc,
    Notes,
    Row,
    alignment,
    cell,
    count,
    created,
    date_time,
    document,
    flag,
    id_in_url,
    id_list,
    is_url,
    languages,
    mark_machine_translated,
    place,
    row_id,
)

LIKE_COLUMNS = ("likes/total_count", "likes_count", "likes", "endorsements/total_count",
                "endorsements_count", "endorsements")
COMMENT_COLUMNS = ("comments_count", "comments", "comments/count")
# Decidim commentable types -> (container, IRI kind); others cannot be replied to here.
COMMENTABLES = {
    "Decidim::Proposals::Proposal": ("proposals", ""),
    "Decidim::Debates::Debate": ("proposals", "debate"),
    "Decidim::Meetings::Meeting": ("meetings", ""),
    "Decidim::Accountability::Result": ("results", ""),
    "Decidim::Budgets::Project": ("projects", ""),
    "Decidim::Comments::Comment": ("comments", ""),
    "Decidim::Initiative": ("processes", "initiative"),
    "Decidim::ParticipatoryProcess": ("processes", "process"),
    "Decidim::Assembly": ("processes", "assembly"),
}


def _state(row: Row, notes: Notes) -> tuple[str | None, str]:
    """(shared state word, Decidim's own token) of a proposal."""
    token = (cell(row, "state") or "").strip().lower().replace(" ", "_")
    if flag(cell(row, "withdrawn")) or cell(row, "withdrawn_at"):
        token = "withdrawn"
    token = token or "not_answered"
    word = alignment("state").get(token)
    if word is None:
        notes.add(f"proposal state {token!r} is a custom state; kept as platformState only")
    return word, token


def _proposal_iris(ctx: Context, value: str | None) -> list[str]:
    out = []
    for item in id_list(value):
        ident = id_in_url(item, "proposals") if "/" in item else item
        if ident:
            out.append(ctx.platform.proposal(ident))
    return sorted(set(out))


def _meeting_iris(ctx: Context, value: str | None) -> list[str]:
    out = [id_in_url(u, "meetings") if "/" in u else u for u in id_list(value)]
    return sorted({ctx.platform.resource("meetings", "", m) for m in out if m})


def proposal(ctx: Context, row: Row, notes: Notes) -> list[Mapped]:
    """A proposal or an amendment, and the decision that answered it (if any)."""
    ident = row_id(row)
    iri = ctx.platform.proposal(ident)
    amendment = flag(cell(row, "is_amend"))
    machine: set[str] = set()
    doc = document(iri, "Amendment" if amendment else "Proposal")
    doc["title"] = languages(row, "title", machine, rich=False, default_lang=ctx.default_lang)
    doc["body"] = languages(row, "body", machine, default_lang=ctx.default_lang)
    if amendment:
        original = id_in_url(cell(row, "original_proposal/url", "amendable/url"), "proposals") \
            or cell(row, "original_proposal/id", "amendable/id")
        doc["amends"] = ctx.platform.proposal(original) if original else None
        if not doc["title"]:
            # Emendations often carry no title of their own in the export; Decidim shows
            # them under the amended proposal's title, and so does the node.
            doc["title"] = languages(row, "original_proposal/title", machine, rich=False)
            if doc["title"]:
                notes.add("the amendment has no title; the amended proposal's title is used")
    author, meeting = ctx.author(row, notes)
    doc["author"] = author
    discussed = set(_meeting_iris(ctx, cell(row, "meeting_urls")))
    if meeting:
        discussed.add(meeting)
    doc["discussedAt"] = sorted(discussed) or None
    doc["inSpace"] = ctx.space_of(row, ("url",))
    word, token = _state(row, notes)
    doc["state"], doc["platformState"] = word, token
    doc["topic"] = ctx.topics(row, notes) or None
    doc["place"] = place(iri, row, notes, ctx.default_lang)
    doc["identifier"] = cell(row, "reference")
    doc["created"] = created(row, notes)
    doc["published"] = date_time(cell(row, "published_at", "created_at"), notes, "published_at")
    doc["supportCount"] = count(cell(row, "votes", "supports", "proposal_votes_count"),
                                notes, "votes")
    doc["likeCount"] = count(cell(row, *LIKE_COLUMNS), notes, "likes")
    doc["commentCount"] = count(cell(row, *COMMENT_COLUMNS), notes, "comments")
    doc["followCount"] = count(cell(row, "follows_count"), notes, "follows_count")
    doc["copiedFrom"] = _proposal_iris(ctx, cell(row, "related_proposals")) or None
    doc["mergedInto"] = _proposal_iris(ctx, cell(row, "merged_into", "merged_proposals")) or None
    doc["splitFrom"] = _proposal_iris(ctx, cell(row, "split_from", "splitted_from")) or None
    out = []
    answer = _answer(ctx, row, iri, word, notes)
    if answer is not None:
        doc["answeredBy"] = answer["id"]
        out.append(Mapped("proposal_answers", ident, answer))
    mark_machine_translated(doc, machine)
    ctx.platform.provenance(doc, cell(row, "url"))
    return [Mapped("proposals", ident, doc), *out]


def _answer(ctx: Context, row: Row, proposal_iri: str, word: str | None,
            notes: Notes) -> Doc | None:
    machine: set[str] = set()
    text = languages(row, "answer", machine, default_lang=ctx.default_lang)
    answered = date_time(cell(row, "answered_at", "state_published_at"), notes, "answered_at")
    if not text and not (answered and word in ("accepted", "rejected", "evaluating")):
        return None
    ident = cell(row, "id") or ""
    doc = document(ctx.platform.resource("decisions", "answer", ident), "Decision")
    doc.update({"decisionType": "answer", "answers": proposal_iri,
                "decidedBy": ctx.platform.operator, "body": text,
                "date": answered[:10] if answered else None})
    if word in ("accepted", "rejected", "evaluating", "notAnswered", "withdrawn"):
        doc["outcome"] = word
    doc["inSpace"] = ctx.space_of(row, ("url",))
    mark_machine_translated(doc, machine)
    return ctx.platform.provenance(doc, cell(row, "url"))


def debate(ctx: Context, row: Row, notes: Notes) -> list[Mapped]:
    """A debate."""
    ident = row_id(row)
    iri = ctx.platform.resource("proposals", "debate", ident)
    machine: set[str] = set()
    doc = document(iri, "Debate")
    doc["title"] = languages(row, "title", machine, rich=False, default_lang=ctx.default_lang)
    doc["body"] = languages(row, "description", machine, default_lang=ctx.default_lang)
    doc["author"], _ = ctx.author(row, notes)
    doc["inSpace"] = ctx.space_of(row, ("url",))
    doc["startTime"] = date_time(cell(row, "start_time"), notes, "start_time")
    doc["endTime"] = date_time(cell(row, "end_time"), notes, "end_time")
    doc["topic"] = ctx.topics(row, notes) or None
    doc["identifier"] = cell(row, "reference")
    doc["created"] = created(row, notes)
    doc["published"] = date_time(cell(row, "created_at"), notes, "created_at")
    doc["platformState"] = "closed" if cell(row, "closed_at") else "open"
    doc["likeCount"] = count(cell(row, *LIKE_COLUMNS), notes, "likes")
    doc["commentCount"] = count(cell(row, *COMMENT_COLUMNS), notes, "comments")
    doc["followCount"] = count(cell(row, "follows_count"), notes, "follows_count")
    mark_machine_translated(doc, machine)
    ctx.platform.provenance(doc, cell(row, "url"))
    return [Mapped("debates", ident, doc)]


def meeting(ctx: Context, row: Row, notes: Notes) -> list[Mapped]:
    """A meeting: when, how (in person, online, hybrid), where, and its minutes."""
    ident = row_id(row)
    iri = ctx.platform.resource("meetings", "", ident)
    machine: set[str] = set()
    doc = document(iri, "Meeting")
    doc["title"] = languages(row, "title", machine, rich=False, default_lang=ctx.default_lang)
    doc["description"] = languages(row, "description", machine, default_lang=ctx.default_lang)
    doc["startTime"] = date_time(cell(row, "start_time"), notes, "start_time")
    doc["endTime"] = date_time(cell(row, "end_time"), notes, "end_time")
    kind = cell(row, "type_of_meeting")
    doc["meetingType"] = alignment("meeting-type").get(kind or "")
    if kind and doc["meetingType"] is None:
        notes.add(f"meeting type {kind!r} is unknown")
    online = cell(row, "online_meeting_url")
    doc["onlineUrl"] = online if online and is_url(online) else None
    closed = cell(row, "closed_at")
    doc["attendeeCount"] = count(cell(row, "attendees_count", "attendees"), notes,
                                 "attendees") if closed else None
    doc["minutes"] = languages(row, "closing_report", machine, default_lang=ctx.default_lang)
    doc["place"] = place(iri, row, notes, ctx.default_lang)
    author, _ = ctx.author(row, notes)
    if author == ctx.platform.operator:
        doc["organizer"] = author
    else:
        doc["author"] = author
    doc["inSpace"] = ctx.space_of(row, ("url",))
    doc["topic"] = ctx.topics(row, notes) or None
    doc["identifier"] = cell(row, "reference")
    doc["created"] = created(row, notes)
    if flag(cell(row, "withdrawn")):
        doc["platformState"] = "withdrawn"
    doc["followCount"] = count(cell(row, "follows_count"), notes, "follows_count")
    doc["commentCount"] = count(cell(row, "comments/count", "comments_count"), notes,
                                "comments")
    mark_machine_translated(doc, machine)
    ctx.platform.provenance(doc, cell(row, "url"))
    return [Mapped("meetings", ident, doc)]


def comment(ctx: Context, entity: str, row: Row, notes: Notes) -> list[Mapped]:
    """A comment: its thread (inReplyTo), stance, author and the space of its root."""
    ident = row_id(row)
    kind = cell(row, "commentable_type") or ""
    target_id = cell(row, "commentable_id")
    if kind not in COMMENTABLES or not target_id:
        raise ValueError(f"comments on {kind or 'an unnamed type'} are not imported "
                         "(no mapping for what they reply to)")
    container, sub = COMMENTABLES[kind]
    iri = ctx.platform.resource("comments", "", ident)
    machine: set[str] = set()
    doc = document(iri, "Comment")
    lang = cell(row, "locale") or ctx.default_lang
    doc["body"] = languages(row, "body", machine, default_lang=lang)
    doc["inReplyTo"] = ctx.platform.resource(container, sub, target_id)
    alignment_token = cell(row, "alignment") or "0"
    doc["stance"] = alignment("comment-alignment").get(alignment_token)
    if doc["stance"] is None:
        notes.add(f"comment alignment {alignment_token!r} is unknown")
    group = cell(row, "user_group/id")
    if group:
        doc["author"] = ctx.group(group)
        ctx.groups.setdefault(group, cell(row, "user_group/name") or "")
    else:
        doc["author"], _ = ctx.author(row, notes)
    root = cell(row, "root_commentable_url")
    doc["inSpace"] = ctx.space_of(row, ("root_commentable_url",))
    doc["created"] = created(row, notes)
    doc["published"] = date_time(cell(row, "created_at"), notes, "created_at")
    mark_machine_translated(doc, machine)
    url = f"{root}?commentId={ident}" if root and is_url(root) else None
    ctx.platform.provenance(doc, url)
    return [Mapped(entity, ident, doc)]


def decimal_text(value: str | None, notes: Notes, what: str) -> str | None:
    """A decimal amount as the string ``budgetAmount`` takes (``"75303171"``)."""
    if not value:
        return None
    try:
        amount = Decimal(value.replace(" ", "").replace(",", "."))
    except InvalidOperation:
        notes.add(f"{what}: {value[:40]!r} is not an amount")
        return None
    if not amount.is_finite() or amount < 0:
        notes.add(f"{what}: {value[:40]!r} is not a non-negative amount")
        return None
    return format(amount.normalize() if amount == amount.to_integral() else amount, "f")

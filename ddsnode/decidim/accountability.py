"""Mapping of budget projects and accountability results.

* projects -> ``BudgetProject``: amount, selection, votes, the proposals it ``implements``
* results -> ``Result``: status (onto the implementation-status scheme), progress, dates,
  parent result, the proposals and projects it ``implements``, milestones when the source
  gives them (the API's timeline entries; the CSV export has none)
"""

from __future__ import annotations

from ddsnode.decidim.context import Context, Mapped
from ddsnode.decidim.contributions import COMMENT_COLUMNS, decimal_text
from ddsnode.decidim.mapping import (
    Notes,
    Row,
    cell,
    count,
    created,
    date,
    document,
    id_in_url,
    id_list,
    languages,
    mark_machine_translated,
    number,
    place,
    row_id,
    slugify,
)

# Decidim result statuses are defined per component (a key and a name); these words in
# a status key or English name say which shared status it is. Progress decides otherwise.
STATUS_WORDS = (
    ("cancelled", ("cancel", "discard", "abandon", "rejected")),
    ("paused", ("pause", "suspend", "stopped", "on_hold", "on hold")),
    ("completed", ("complete", "finish", "done", "executed", "implemented", "closed")),
    ("inProgress", ("progress", "ongoing", "execution", "started", "running", "working")),
    ("notStarted", ("not_started", "not started", "planned", "pending", "planning",
                    "todo", "to do")),
)


def status(row: Row, progress: float | None) -> tuple[str | None, str | None]:
    """(implementation status word, Decidim's status key or name) of a result."""
    key = cell(row, "status/key", "status")
    name = cell(row, "status/name/en", "status/name")
    text = " ".join(t.lower() for t in (key, name) if t)
    for word, hints in STATUS_WORDS:
        if any(h in text for h in hints) and not (word == "inProgress" and "not" in text):
            return word, key or name
    if progress is not None:
        if progress >= 100:
            return "completed", key or name
        return ("inProgress" if progress > 0 else "notStarted"), key or name
    return None, key or name


def project(ctx: Context, row: Row, notes: Notes) -> list[Mapped]:
    """A budget project."""
    ident = row_id(row)
    iri = ctx.platform.resource("projects", "", ident)
    machine: set[str] = set()
    doc = document(iri, "BudgetProject")
    doc["title"] = languages(row, "title", machine, rich=False, default_lang=ctx.default_lang)
    doc["description"] = languages(row, "description", machine, default_lang=ctx.default_lang)
    doc["budgetAmount"] = decimal_text(cell(row, "budget_amount"), notes, "budget_amount")
    doc["currency"] = ctx.currency if doc["budgetAmount"] else None
    if cell(row, "selected_at") or cell(row, "selected") == "true":
        doc["selected"] = True
    doc["supportCount"] = count(cell(row, "confirmed_votes", "votes"), notes, "confirmed_votes")
    doc["commentCount"] = count(cell(row, *COMMENT_COLUMNS), notes, "comments")
    doc["followCount"] = count(cell(row, "follows_count"), notes, "follows_count")
    linked = [id_in_url(u, "proposals") for u in id_list(cell(row, "related_proposal_urls"))]
    linked += id_list(cell(row, "related_proposals"))
    doc["implements"] = sorted({ctx.platform.proposal(i) for i in linked if i}) or None
    doc["place"] = place(iri, row, notes, ctx.default_lang)
    doc["topic"] = ctx.topics(row, notes) or None
    doc["inSpace"] = ctx.space_of(row, ("url",))
    doc["identifier"] = cell(row, "reference")
    doc["created"] = created(row, notes)
    mark_machine_translated(doc, machine)
    ctx.platform.provenance(doc, cell(row, "url"))
    return [Mapped("projects", ident, doc)]


def result(ctx: Context, row: Row, notes: Notes) -> list[Mapped]:
    """An accountability result."""
    ident = row_id(row)
    iri = ctx.platform.resource("results", "", ident)
    machine: set[str] = set()
    doc = document(iri, "Result")
    doc["title"] = languages(row, "title", machine, rich=False, default_lang=ctx.default_lang)
    doc["description"] = languages(row, "description", machine, default_lang=ctx.default_lang)
    progress = number(cell(row, "progress"), notes, "progress", 0, 100)
    doc["progress"] = progress
    doc["status"], doc["platformState"] = status(row, progress)
    doc["startDate"] = date(cell(row, "start_date"), notes, "start_date")
    doc["endDate"] = date(cell(row, "end_date"), notes, "end_date")
    parent = cell(row, "parent/id", "parent_id")
    doc["parent"] = ctx.platform.resource("results", "", parent) if parent else None
    implements = {ctx.platform.proposal(i) for i in
                  (id_in_url(u, "proposals") for u in id_list(cell(row, "proposal_urls")))
                  if i}
    implements |= {ctx.platform.proposal(i) for i in id_list(cell(row, "proposal_ids"))}
    for url in id_list(cell(row, "project_urls")):
        project_id = id_in_url(url, "projects")
        if project_id:
            implements.add(ctx.platform.resource("projects", "", project_id))
    implements |= {ctx.platform.resource("projects", "", i)
                   for i in id_list(cell(row, "project_ids"))}
    doc["implements"] = sorted(implements) or None
    doc["milestones"] = _milestones(ctx, iri, row, machine, notes) or None
    doc["place"] = place(iri, row, notes, ctx.default_lang)
    doc["topic"] = ctx.topics(row, notes) or None
    doc["inSpace"] = ctx.space_of(row, ("url",))
    doc["identifier"] = cell(row, "reference")
    doc["created"] = created(row, notes)
    doc["commentCount"] = count(cell(row, *COMMENT_COLUMNS), notes, "comments")
    mark_machine_translated(doc, machine)
    ctx.platform.provenance(doc, cell(row, "url"))
    return [Mapped("results", ident, doc)]


def _milestones(ctx: Context, iri: str, row: Row, machine: set[str],
                notes: Notes) -> list[dict[str, object]]:
    """Milestones given as structured entries (API ``timelineEntries``/``milestones``)."""
    entries = row.get("milestones")
    if not isinstance(entries, list):
        return []
    out = []
    for position, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            continue
        ident = slugify(str(entry.get("id") or position))
        milestone = {"id": f"{iri}#milestone-{ident}", "type": "Milestone",
                     "position": position, "milestoneOf": iri,
                     "title": languages(entry, "title", machine, rich=False,
                                        default_lang=ctx.default_lang),
                     "description": languages(entry, "description", machine),
                     "date": date(str(entry.get("entry_date") or entry.get("date") or ""),
                                  notes, "milestone date")}
        if not milestone["title"]:
            milestone["title"] = milestone["description"] or {ctx.default_lang: f"#{ident}"}
        out.append({k: v for k, v in milestone.items() if v is not None})
    return out



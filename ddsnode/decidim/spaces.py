"""Mapping of the platform, its participatory spaces, user groups and taxonomies.

* processes -> ``ParticipatoryProcess``; their steps (from the API) -> ``Phase`` hash IRIs
* assemblies -> ``Assembly``; conferences -> ``ParticipatorySpace``;
  initiatives -> ``CitizenInitiative`` (signatures are supports of kind ``signature``)
* user_groups -> ``Organization`` (a group's name is public; its members never are)
* taxonomies -> one SKOS ``ConceptScheme`` per root taxonomy, concepts as hash IRIs,
  matched onto the shared topics (``closeMatch``, or ``exactMatch`` from the operator's map)
"""

from __future__ import annotations

import re
from typing import Any

from ddsnode.decidim.context import Context, Mapped, Taxonomy
from ddsnode.decidim.mapping import (
    Doc,
    Notes,
    Row,
    cell,
    count,
    created,
    date,
    date_time,
    document,
    flag,
    id_in_url,
    languages,
    mark_machine_translated,
    row_id,
    slugify,
)

SPACE_TYPES = {"participatory_processes": ("process", "ParticipatoryProcess"),
               "assemblies": ("assembly", "Assembly"),
               "conferences": ("conference", "ParticipatorySpace"),
               "initiatives": ("initiative", "CitizenInitiative")}
# Decidim initiative states (Decidim::Initiative::STATES) onto the shared state scheme.
INITIATIVE_STATES = {"created": "notAnswered", "validating": "evaluating",
                     "published": "notAnswered", "accepted": "accepted",
                     "rejected": "rejected", "discarded": "withdrawn"}


def platform_documents(ctx: Context) -> list[Mapped]:
    """The Platform resource and the organisation operating it."""
    p = ctx.platform
    name = ctx.operator_name or p.host
    platform = document(p.iri, "Platform")
    platform.update({"name": name, "homepage": p.origin + "/", "software": "Decidim",
                     "operator": p.operator})
    operator = document(p.operator, "Organization")
    operator.update({"name": name, "homepage": p.origin + "/", "sourcePlatform": p.iri})
    return [Mapped("platform", "platform", platform), Mapped("platform", "operator", operator)]


def space_ident(entity: str, row: Row) -> str | None:
    """The Decidim id of a space row (initiatives have only a URL and a reference)."""
    if entity == "initiatives":
        slug = id_in_url(cell(row, "url"), "initiatives")
        return re.sub(r"^i-", "", slug) if slug else cell(row, "id", "reference")
    return cell(row, "id")


def remember_space(ctx: Context, entity: str, row: Row) -> None:
    """Index a space's slug, so rows that only have a URL find their space."""
    kind = SPACE_TYPES[entity][0]
    ident, slug = space_ident(entity, row), cell(row, "slug")
    if ident and slug:
        ctx.space_slugs[(kind, slug)] = ident
    url = cell(row, "url")
    if ident and url:
        tail = url.rstrip("/").rsplit("/", 1)[-1]
        ctx.space_slugs.setdefault((kind, tail), ident)


def space(ctx: Context, entity: str, row: Row, notes: Notes) -> list[Mapped]:
    """A participatory space document."""
    kind, rdf_type = SPACE_TYPES[entity]
    ident = space_ident(entity, row)
    if not ident:
        raise ValueError("the row has no id")
    iri = ctx.platform.space(kind, ident)
    machine: set[str] = set()
    doc = document(iri, rdf_type)
    doc["title"] = languages(row, "title", machine, rich=False, default_lang=ctx.default_lang)
    doc["description"] = (languages(row, "description", machine, default_lang=ctx.default_lang)
                          or languages(row, "short_description", machine))
    doc["identifier"] = cell(row, "reference", "slug")
    doc["created"] = created(row, notes)
    doc["published"] = date_time(cell(row, "published_at"), notes, "published_at")
    doc["followCount"] = count(cell(row, "follows_count"), notes, "follows_count")
    doc["topic"] = ctx.topics(row, notes) or None
    if entity == "initiatives":
        _initiative(ctx, row, doc, notes)
    else:
        doc["startDate"] = date(cell(row, "start_date", "included_at"), notes, "start_date")
        doc["endDate"] = date(cell(row, "end_date", "closing_date"), notes, "end_date")
        doc["organizer"] = ctx.platform.operator
    parent = cell(row, "parent/id", "parent_id")
    if parent and entity == "assemblies":
        doc["inSpace"] = ctx.platform.space("assembly", parent)
    steps = ctx.steps.get(ident) if entity == "participatory_processes" else None
    if steps:
        doc["phases"], active = _phases(iri, steps, machine, ctx, notes)
        doc["activePhase"] = active
    mark_machine_translated(doc, machine)
    ctx.platform.provenance(doc, cell(row, "url"))
    return [Mapped(entity, ident, doc)]


def _initiative(ctx: Context, row: Row, doc: Doc, notes: Notes) -> None:
    token = (cell(row, "state") or "").lower()
    if token in INITIATIVE_STATES:
        doc["state"] = INITIATIVE_STATES[token]
    elif token:
        notes.add(f"initiative state {token!r} has no shared equivalent; kept as platformState")
    doc["platformState"] = token or None
    doc["startDate"] = date(cell(row, "signature_start_date"), notes, "signature_start_date")
    doc["endDate"] = date(cell(row, "signature_end_date"), notes, "signature_end_date")
    doc["supportCount"] = count(cell(row, "online_votes/total", "signatures"), notes,
                                "signatures")
    doc["supportKind"] = "signature"
    doc["commentCount"] = count(cell(row, "comments_count"), notes, "comments_count")
    first = (cell(row, "authors/id", "author/id") or "").split(",")[0].strip()
    author, _ = ctx.author({"author/id": first}, notes)
    doc["author"] = author


def _phases(iri: str, steps: list[dict[str, Any]], machine: set[str], ctx: Context,
            notes: Notes) -> tuple[list[Doc], str | None]:
    phases, active = [], None
    for position, step in enumerate(steps, start=1):
        ident = str(step.get("id") or position)
        phase: Doc = {"id": f"{iri}#phase-{slugify(ident)}", "type": "Phase",
                      "position": int(step.get("position") or position)}
        phase["title"] = languages(step, "title", machine, rich=False,
                                   default_lang=ctx.default_lang)
        phase["description"] = languages(step, "description", machine)
        phase["startDate"] = date(step.get("start_date"), notes, "step start_date")
        phase["endDate"] = date(step.get("end_date"), notes, "step end_date")
        phases.append({k: v for k, v in phase.items() if v is not None})
        if step.get("active"):
            active = phase["id"]
    return phases, active


def user_group(ctx: Context, row: Row, notes: Notes) -> list[Mapped]:
    """A user group as an organisation: name, public profile; never its members."""
    ident = row_id(row)
    doc = document(ctx.group(ident), "Organization")
    doc["name"] = cell(row, "name")
    nickname = cell(row, "nickname")
    doc["identifier"] = nickname.lstrip("@") if nickname else None
    doc["sourcePlatform"] = ctx.platform.iri
    url = cell(row, "profile_url")
    if url:
        doc["originalUrl"] = url
    if flag(cell(row, "deleted")):
        notes.add("the user group is deleted on the platform")
    return [Mapped("user_groups", ident, doc)]


def remember_taxonomies(ctx: Context, rows: list[Row], notes: Notes) -> None:
    """Index every taxonomy item (id, root, parent, labels) before anything refers to them."""
    parents = {cell(r, "id") or "": cell(r, "parent_id") for r in rows}
    for row in rows:
        ident = cell(row, "id")
        if not ident:
            continue
        chain = [p.strip() for p in (cell(row, "part_of") or "").split(",") if p.strip()]
        root = chain[-1] if chain else ident
        seen = {ident}
        while not chain and parents.get(root):  # older exports: walk parent_id up
            root = parents[root] or root
            if root in seen:
                notes.add(f"taxonomy {ident}: parent_id loops")
                break
            seen.add(root)
        labels = languages(row, "name", set(), rich=False, default_lang=ctx.default_lang) or {}
        ctx.taxonomies[ident] = Taxonomy(ident, root, cell(row, "parent_id"), labels,
                                         count(cell(row, "weight")) or 0)


def taxonomy_schemes(ctx: Context) -> list[Mapped]:
    """One ConceptScheme per root taxonomy, its items nested as concepts."""
    children: dict[str, list[Taxonomy]] = {}
    for item in ctx.taxonomies.values():
        if item.parent and item.ident != item.root:
            children.setdefault(item.parent, []).append(item)
    out = []
    for root in sorted({t.root for t in ctx.taxonomies.values()}, key=_numeric):
        scheme_iri = ctx.taxonomy_scheme(root)
        doc = document(scheme_iri, "ConceptScheme")
        label = ctx.taxonomies[root].labels if root in ctx.taxonomies else {}
        doc["prefLabel"] = label or None
        doc["publisher"] = ctx.platform.operator
        doc["sourcePlatform"] = ctx.platform.iri
        doc["source"] = ctx.platform.source
        doc["topConcepts"] = [_concept(ctx, t, scheme_iri, children, None)
                              for t in _ordered(children.get(root, []))]
        out.append(Mapped("taxonomies", root, _clean(doc)))
    return out


def _concept(ctx: Context, item: Taxonomy, scheme: str, children: dict[str, list[Taxonomy]],
             broader: str | None) -> Doc:
    iri = f"{scheme}#t-{slugify(item.ident)}"
    doc: Doc = {"id": iri, "type": "Concept", "inScheme": scheme, "notation": item.ident,
                "prefLabel": item.labels or {ctx.default_lang: item.ident}}
    if broader:
        doc["broader"] = broader
    word = ctx.shared_topic(item.ident, item.labels)
    if word:
        mapped = item.ident in ctx.topic_map or any(v in ctx.topic_map
                                                     for v in item.labels.values())
        doc["exactMatch" if mapped else "closeMatch"] = f"ddstopic:{word}"
    narrower = [_concept(ctx, c, scheme, children, iri)
                for c in _ordered(children.get(item.ident, []))]
    if narrower:
        doc["narrower"] = narrower
    return doc


def legacy_schemes(ctx: Context) -> list[Mapped]:
    """Schemes for the categories, scopes and areas older exports name in their rows."""
    out = []
    for scheme, concepts in sorted(ctx.legacy.items()):
        iri = ctx.platform.resource("topics", "", scheme)
        doc = document(iri, "ConceptScheme")
        doc["prefLabel"] = {"en": f"{ctx.platform.host} {scheme}s"}
        doc["sourcePlatform"] = ctx.platform.iri
        doc["source"] = ctx.platform.source
        doc["publisher"] = ctx.platform.operator
        tops = []
        for ident in sorted(concepts, key=_numeric):
            labels = concepts[ident] or {ctx.default_lang: ident}
            concept: Doc = {"id": f"{iri}#{slugify(ident)}", "type": "Concept",
                            "inScheme": iri, "notation": ident, "prefLabel": labels}
            word = ctx.shared_topic(ident, labels)
            if word:
                concept["closeMatch"] = f"ddstopic:{word}"
            tops.append(concept)
        doc["topConcepts"] = tops
        out.append(Mapped("legacy_taxonomies", scheme, doc))
    return out


def _ordered(items: list[Taxonomy]) -> list[Taxonomy]:
    return sorted(items, key=lambda t: (t.weight, _numeric(t.ident)))


def _numeric(ident: str) -> tuple[int, str]:
    return (int(ident), "") if ident.isdigit() else (1 << 62, ident)


def _clean(doc: Doc) -> Doc:
    return {k: v for k, v in doc.items() if v is not None}

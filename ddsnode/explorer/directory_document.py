"""The directory as JSON-LD: what ``Accept: application/ld+json`` gets on its pages.

Documents use the shared context's terms (``ontology/context.jsonld``), like the resources
themselves; a peer's organisation keeps its own IRI (origin authority, issue 12).
"""

from __future__ import annotations

import json
from typing import Any

from ddsnode import resources
from ddsnode.explorer.directory import Organisation, Selection


def _org_json(org: Organisation) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": org.iri, "type": "Organization", "name": org.name}
    if org.homepage:
        doc["homepage"] = org.homepage
    if org.descriptions:
        doc["description"] = {k or "und": v for k, v in org.descriptions.items()}
    if org.clusters:
        doc["governanceCluster"] = list(org.clusters)
    place: dict[str, Any] = {}
    if org.lat is not None and org.long is not None:
        place.update(lat=org.lat, long=org.long)
    if org.country or org.city:
        place["address"] = {k: v for k, v in (("countryCode", org.country),
                                              ("postName", org.city)) if v}
    if place:
        doc["place"] = {"type": "Place", **place}
    if org.initiatives:
        doc["initiatives"] = [
            {"id": i.iri, "type": "GovernanceInitiative",
             "title": {k or "und": v for k, v in i.titles.items()},
             **({"governanceCluster": list(i.clusters)} if i.clusters else {}),
             **({"participationLevel": i.level} if i.level else {})}
            for i in org.initiatives]
    return doc


def selection_document(selection: Selection) -> dict[str, Any]:
    """The selected organisations as one JSON-LD document (the shared context's terms).

    Origin authority is kept: a peer's organisation keeps its own IRI."""
    return {"@context": resources.CONTEXT_IRI,
            "@graph": [_org_json(o) for o in selection.organisations]}


def organisation_document(org: Organisation) -> dict[str, Any]:
    """One organisation as JSON-LD."""
    return {"@context": resources.CONTEXT_IRI, **_org_json(org)}


def as_json(document: dict[str, Any]) -> bytes:
    """UTF-8 JSON bytes of a document."""
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")

"""Reading a Decidim platform through its GraphQL API (``{base}/api``), Relay-paged.

Covered: participatory processes (with their steps, which the CSV export lacks) and the
proposals of every Proposals component of those processes, paged with ``first``/``after``
and ``pageInfo { hasNextPage endCursor }``. Each API object is turned into the same row
dict the CSV path produces (``title/en``, ``title/machine_translations/es``,
``author/url`` ...), so one mapping serves both. Authors' names are never requested.

Every request is a POST through the guarded outbound client (:func:`source.fetch`), with
only the API's own origin allowed.
"""

from __future__ import annotations

import json
from typing import Any

from ddsnode.decidim.importer import ApiData
from ddsnode.decidim.source import UnreadableSource, fetch, origin_of
from ddsnode.outbound import OutboundRefused, PeerError

PAGE_SIZE = 50
MAX_PAGES = 100_000

_TEXT = "{ translations { locale text machineTranslated } }"
PROCESSES_QUERY = f"""
query Processes {{
  participatoryProcesses {{
    id slug reference publishedAt startDate endDate followsCount
    title {_TEXT} shortDescription {_TEXT} description {_TEXT}
    steps {{ id position active startDate endDate title {_TEXT} description {_TEXT} }}
    components {{ id __typename }}
  }}
}}"""
PROPOSALS_QUERY = f"""
query Proposals($component: ID!, $first: Int!, $after: String) {{
  component(id: $component) {{
    id
    ... on Proposals {{
      proposals(first: $first, after: $after) {{
        pageInfo {{ hasNextPage endCursor }}
        edges {{ node {{
          id reference state address publishedAt answeredAt withdrawnAt
          title {_TEXT} body {_TEXT} answer {_TEXT}
          coordinates {{ latitude longitude }}
          voteCount endorsementsCount totalCommentsCount
          author {{ id nickname __typename }}
          category {{ id name {_TEXT} }}
          amendments {{ id }}
        }} }}
      }}
    }}
  }}
}}"""


def _post(url: str, query: str, variables: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    body = json.dumps({"query": query, "variables": variables}).encode("utf-8")
    try:
        raw = fetch(url, accept=("application/json",), max_bytes=max_bytes, method="POST",
                    body=body, headers={"content-type": "application/json"}, timeout=120.0)
    except (PeerError, OutboundRefused) as e:
        raise UnreadableSource(f"cannot read the API: {e.detail}") from None
    try:
        answer = json.loads(raw)
    except ValueError:
        raise UnreadableSource(f"{url} did not answer with JSON") from None
    if answer.get("errors"):
        first = answer["errors"][0]
        message = first.get("message", first) if isinstance(first, dict) else first
        raise UnreadableSource(f"{url}: GraphQL error: {str(message)[:200]}")
    data: dict[str, Any] = answer.get("data") or {}
    return data


def _texts(row: dict[str, Any], name: str, value: Any) -> None:
    """Flatten a translated field into ``name/xx`` and ``name/machine_translations/xx``."""
    if not isinstance(value, dict):
        return
    for item in value.get("translations") or []:
        locale, text = item.get("locale"), item.get("text")
        if not locale or not text:
            continue
        key = f"{name}/machine_translations/{locale}" if item.get("machineTranslated") \
            else f"{name}/{locale}"
        row[key] = text


def process_row(node: dict[str, Any], origin: str) -> dict[str, Any]:
    """An API participatory process as a CSV-shaped row."""
    row: dict[str, Any] = {
        "id": str(node.get("id", "")), "slug": node.get("slug") or "",
        "reference": node.get("reference") or "", "published_at": node.get("publishedAt") or "",
        "start_date": node.get("startDate") or "", "end_date": node.get("endDate") or "",
        "follows_count": str(node.get("followsCount") or ""),
        "url": f"{origin}/processes/{node.get('slug')}" if node.get("slug") else "",
    }
    for name in ("title", "short_description", "description"):
        camel = "shortDescription" if name == "short_description" else name
        _texts(row, name, node.get(camel))
    return row


def step_rows(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The steps of an API process as the mapping takes them."""
    out = []
    for step in sorted(node.get("steps") or [], key=lambda s: s.get("position") or 0):
        item: dict[str, Any] = {"id": str(step.get("id", "")), "position": step.get("position"),
                                "active": bool(step.get("active")),
                                "start_date": step.get("startDate") or "",
                                "end_date": step.get("endDate") or ""}
        _texts(item, "title", step.get("title"))
        _texts(item, "description", step.get("description"))
        out.append(item)
    return out


def proposal_row(node: dict[str, Any], origin: str, process: dict[str, Any],
                 component: str) -> dict[str, Any]:
    """An API proposal as a CSV-shaped row (same headers as the export)."""
    ident = str(node.get("id", ""))
    space_url = f"{origin}/processes/{process.get('slug')}"
    row: dict[str, Any] = {
        "id": ident, "reference": node.get("reference") or "",
        "state": node.get("state") or "", "address": node.get("address") or "",
        "published_at": node.get("publishedAt") or "",
        "answered_at": node.get("answeredAt") or "",
        "withdrawn_at": node.get("withdrawnAt") or "",
        "votes": "" if node.get("voteCount") is None else str(node["voteCount"]),
        "endorsements/total_count": str(node.get("endorsementsCount") or 0),
        "comments": str(node.get("totalCommentsCount") or 0),
        "participatory_space/id": str(process.get("id", "")),
        "participatory_space/url": space_url, "component/id": component,
        "url": f"{space_url}/f/{component}/proposals/{ident}",
    }
    coordinates = node.get("coordinates") or {}
    if coordinates.get("latitude") is not None and coordinates.get("longitude") is not None:
        row["latitude"] = str(coordinates["latitude"])
        row["longitude"] = str(coordinates["longitude"])
    for name in ("title", "body", "answer"):
        _texts(row, name, node.get(name))
    author = node.get("author")
    if author and author.get("id"):
        row["author/id"] = str(author["id"])
        nickname = str(author.get("nickname") or "").lstrip("@")
        row["author/url"] = f"{origin}/profiles/{nickname}" if nickname else ""
        row["author/__typename"] = author.get("__typename") or ""
    else:
        row["author/url"] = origin + "/"  # an official proposal: the organisation
    category = node.get("category")
    if category and category.get("id"):
        row["category/id"] = str(category["id"])
        _texts(row, "category/name", category.get("name"))
    return row


def read_api(api_url: str, *, steps_only: bool = False, max_bytes: int = 64 * 1024 * 1024,
             page_size: int = PAGE_SIZE) -> ApiData:
    """Processes (with steps) and, unless ``steps_only``, their proposals, page by page."""
    origin = origin_of(api_url)
    data = _post(api_url, PROCESSES_QUERY, {}, max_bytes)
    processes = data.get("participatoryProcesses") or []
    api = ApiData()
    api.rows["participatory_processes"] = [process_row(p, origin) for p in processes]
    for process in processes:
        steps = step_rows(process)
        if steps:
            api.steps[str(process.get("id"))] = steps
    if steps_only:
        api.rows.clear()
        return api
    proposals: list[dict[str, Any]] = []
    for process in processes:
        for component in process.get("components") or []:
            if component.get("__typename") != "Proposals":
                continue
            proposals.extend(_proposals(api_url, origin, process, str(component["id"]),
                                        max_bytes, page_size))
    api.rows["proposals"] = proposals
    return api


def _proposals(api_url: str, origin: str, process: dict[str, Any], component: str,
               max_bytes: int, page_size: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(MAX_PAGES):
        data = _post(api_url, PROPOSALS_QUERY,
                     {"component": component, "first": page_size, "after": after}, max_bytes)
        connection = ((data.get("component") or {}).get("proposals") or {})
        for edge in connection.get("edges") or []:
            node = edge.get("node") if isinstance(edge, dict) else None
            if node:
                out.append(proposal_row(node, origin, process, component))
        info = connection.get("pageInfo") or {}
        if not info.get("hasNextPage") or not info.get("endCursor"):
            return out
        after = str(info["endCursor"])
    raise UnreadableSource(f"{api_url}: more than {MAX_PAGES} pages of proposals")

"""A small fake Decidim platform on 127.0.0.1, serving the real nightly export over HTTP.

``GET /open-data/download`` answers the export folder as the ZIP Decidim serves.
``POST /api`` answers the two GraphQL queries :mod:`ddsnode.decidim.graphql` sends (it
recognises them by their root field; it is not a GraphQL engine): the participatory
processes, with two steps each made up from the process's dates (the export carries no
steps, so these are synthetic), and the proposals of one component, Relay-paged with
``first``/``after`` and opaque cursors. Answers are built from the export's rows, so an
import through the API can be compared with an import of the files.
"""

from __future__ import annotations

import base64
import csv
import io
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.node import free_port

csv.field_size_limit(1 << 30)


def _rows(folder: Path, entity: str) -> list[dict[str, str]]:
    paths = list(folder.glob(f"*-open-data-{entity}.csv"))
    if not paths:
        return []
    with paths[0].open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter=";"))


def _translated(row: dict[str, str], name: str) -> dict[str, Any]:
    items = []
    for key, value in row.items():
        if not key.startswith(name + "/") or not value:
            continue
        rest = key[len(name) + 1:]
        if rest.startswith("machine_translations/"):
            items.append({"locale": rest.split("/")[1], "text": value,
                          "machineTranslated": True})
        elif "/" not in rest:
            items.append({"locale": rest, "text": value, "machineTranslated": False})
    return {"translations": items}


class FakeDecidim:
    """The fake platform's data and its Starlette app."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.requests: list[str] = []
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.glob("*.csv")):
                archive.write(path, path.name)
        self.zip = buffer.getvalue()
        processes: dict[str, dict[str, str]] = {}
        for row in _rows(folder, "participatory_processes"):
            processes.setdefault(row["id"], row)
        self.processes = processes
        self.proposals: dict[str, list[dict[str, str]]] = {}
        for row in _rows(folder, "proposals"):
            # Decidim's API lists amendable proposals; emendations hang off them.
            if "/processes/" in row.get("participatory_space/url", "") \
                    and row.get("is_amend") != "true":
                self.proposals.setdefault(row["component/id"], []).append(row)
        self.app = Starlette(routes=[Route("/open-data/download", self.download),
                                     Route("/api", self.api, methods=["POST"])])

    async def download(self, request: Request) -> Response:
        """The export ZIP."""
        self.requests.append("download")
        return Response(self.zip, media_type="application/zip")

    async def api(self, request: Request) -> Response:
        """The two GraphQL queries the importer sends."""
        payload = await request.json()
        query, variables = payload.get("query", ""), payload.get("variables") or {}
        self.requests.append("api")
        if "participatoryProcesses" in query:
            return JSONResponse({"data": {"participatoryProcesses": [
                self._process(row) for row in self.processes.values()]}})
        if "component(" in query:
            return JSONResponse({"data": {"component": self._page(
                str(variables["component"]), int(variables["first"]), variables.get("after"))}})
        return JSONResponse({"errors": [{"message": "unknown query"}]})

    def _process(self, row: dict[str, str]) -> dict[str, Any]:
        components = sorted({c for c, rows in self.proposals.items()
                             if rows[0]["participatory_space/id"] == row["id"]})
        steps = [{"id": f"{row['id']}0{n}", "position": n, "active": n == 2,
                  "startDate": row["start_date"] if n == 1 else row["end_date"],
                  "endDate": row["end_date"],
                  "title": {"translations": [{"locale": "en", "text": f"Step {n}",
                                              "machineTranslated": False}]},
                  "description": {"translations": []}} for n in (1, 2)]
        return {"id": row["id"], "slug": row["slug"], "reference": row["reference"],
                "publishedAt": row["published_at"], "startDate": row["start_date"],
                "endDate": row["end_date"], "followsCount": int(row["follows_count"] or 0),
                "title": _translated(row, "title"),
                "shortDescription": _translated(row, "short_description"),
                "description": _translated(row, "description"), "steps": steps,
                "components": [{"id": c, "__typename": "Proposals"} for c in components]}

    def _page(self, component: str, first: int, after: str | None) -> dict[str, Any]:
        rows = self.proposals.get(component, [])
        start = int(base64.b64decode(after).decode()) if after else 0
        chunk = rows[start:start + first]
        end = start + len(chunk)
        edges = [{"cursor": base64.b64encode(str(start + i + 1).encode()).decode(),
                  "node": self._proposal(r)} for i, r in enumerate(chunk)]
        return {"id": component, "proposals": {
            "pageInfo": {"hasNextPage": end < len(rows),
                         "endCursor": base64.b64encode(str(end).encode()).decode()},
            "edges": edges}}

    @staticmethod
    def _proposal(row: dict[str, str]) -> dict[str, Any]:
        url = row.get("author/url", "")
        author = None
        if "/profiles/" in url:
            author = {"id": row["author/id"], "nickname": "@" + url.rsplit("/", 1)[-1],
                      "__typename": "User"}
        coordinates = {"latitude": float(row["latitude"]), "longitude": float(row["longitude"])} \
            if row.get("latitude") and row.get("longitude") else None
        return {"id": row["id"], "reference": row["reference"], "state": row["state"] or None,
                "address": row["address"], "publishedAt": row["published_at"],
                "answeredAt": row["answered_at"] or None, "withdrawnAt": None,
                "title": _translated(row, "title"), "body": _translated(row, "body"),
                "answer": _translated(row, "answer"), "coordinates": coordinates,
                "voteCount": int(row["votes"] or 0),
                "endorsementsCount": int(row["endorsements/total_count"] or 0),
                "totalCommentsCount": int(row["comments"] or 0), "author": author,
                "category": None, "amendments": []}



class Running:
    """A FakeDecidim served by uvicorn in a thread; ``with Running(folder) as fake:``."""

    def __init__(self, folder: Path) -> None:
        self.fake = FakeDecidim(folder)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        config = uvicorn.Config(self.fake.app, host="127.0.0.1", port=self.port,
                                log_level="error", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Running:  # noqa: PYI034 (a plain class, not subclassed)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the fake Decidim did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

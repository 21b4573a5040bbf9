"""The ceiling of our stack: a bare Starlette app on uvicorn returning a fixed 2 KB JSON body.

Run: uvicorn bench.bare_app:app --port 8100 --no-access-log
"""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = json.dumps({"@context": "https://w3id.org/dds/context/v1",
                   "items": [{"id": f"https://node.example/proposals/{i:04d}",
                              "title": {"en": "A proposal title of some length"}}
                             for i in range(22)]}).encode()[:2048]


async def fixed(request: Request) -> Response:
    """Return the fixed body."""
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route("/{path:path}", fixed)])

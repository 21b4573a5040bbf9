"""Election night's intake over HTTP (raw ASGI; docs/election-night.md, Intake).

* ``POST /intake/tallies`` — one station's tally for one contest (JSON-LD ContestResult,
  or an EML 510 fragment with ``?contest=IRI``); token with scope ``write``; headers
  ``Idempotency-Key`` (required), ``Evidence`` (SHA-256 of an uploaded tally sheet),
  ``Correction-Reason`` (a correction; scope ``review``) and ``Revises`` (the event it
  revises). 201 counted or corrected, 202 waiting for a second entry (double entry),
  200 unchanged; a retry with the same key gets the first answer again
  (``Idempotent-Replayed: true``).
* ``POST /intake/evidence`` — a PDF or photo of a tally sheet (scope ``write``);
  ``GET /intake/evidence?sha256=…`` — the stored file (public, immutable).
* ``GET /intake/log?after=N&limit=M`` — the event log, public, in pages.
* ``GET /intake/totals?election=IRI&since=MARK`` — the running totals, public.

Reads are public unless the node keeps ``elections/`` or ``places/`` private; then they
need a read token, like the resources they are computed from.
"""

from __future__ import annotations

from dataclasses import asdict
from functools import partial
from typing import Any
from urllib.parse import urlencode

import anyio.to_thread

from ddsnode import paths
from ddsnode.http.endpoint import FixedMethodsEndpoint
from ddsnode.http.exchange import (
    Headers,
    Receive,
    Scope,
    Send,
    query_params,
    read_body,
    send_response,
)
from ddsnode.http.federation import MAX_SEQ, cursor_param
from ddsnode.intake.desk import Answer, Desk, Submission
from ddsnode.intake.evidence import SHA256
from ddsnode.ldp.access import needs_token
from ddsnode.ldp.representation import dump_json
from ddsnode.problem import BadRequest, NotFound

__all__ = ["EvidenceEndpoint", "LogEndpoint", "TalliesEndpoint", "TotalsEndpoint",
           "intake_routes"]

ACCEPT_TALLY = "application/ld+json, application/xml"


def _text_header(headers: dict[str, str], name: str) -> str:
    """A header sent as UTF-8 (ASGI hands bytes over as latin-1)."""
    raw = headers.get(name, "")
    try:
        return raw.encode("latin-1").decode("utf-8").strip()
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise BadRequest(f"The {name} header is not UTF-8") from None


async def _send_answer(send: Send, answer: Answer | dict[str, Any], *, status: int = 200,
                       head: bool = False, extra: Headers | None = None) -> None:
    body = answer.body if isinstance(answer, Answer) else answer
    code = answer.status if isinstance(answer, Answer) else status
    headers: Headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store"),
                        *(extra or [])]
    if isinstance(answer, Answer):
        if answer.replayed:
            headers.append((b"idempotent-replayed", b"true"))
        if code == 201 and isinstance(body.get("result") or body.get("url"), str):
            headers.append((b"location", str(body.get("result") or body["url"]).encode()))
    await send_response(send, code, headers, dump_json(body), head=head)


class _Endpoint(FixedMethodsEndpoint):
    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def check_reader(self, headers: dict[str, str]) -> None:
        """The log, totals and tally sheets are public when elections and places are; on a
        node that keeps either private (``private_containers``), they need a read token
        like the data they come from (docs/security.md, one read rule)."""
        node = self.desk.node
        if any(needs_token(node.containers.get(path)) for path in ("elections/", "places/")):
            node.authorize("read", headers.get("authorization"))


class TalliesEndpoint(_Endpoint):
    """``POST /intake/tallies``: one tally in."""

    allow = "OPTIONS, POST"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "OPTIONS":
            await send_response(send, 204, [(b"allow", self.allow.encode()),
                                            (b"accept-post", ACCEPT_TALLY.encode())])
            return
        await super().__call__(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        node = self.desk.node
        grant = node.authorize("write", headers.get("authorization"))
        assert grant is not None
        params = query_params(scope)
        body = await read_body(scope, receive, headers,
                               int(node.settings.intake_max_tally_bytes))
        revises = headers.get("revises")
        if revises is not None and (not revises.isascii() or not revises.isdigit()
                                    or len(revises) > 18):
            raise BadRequest("Revises is the sequence number of a logged event")
        evidence = headers.get("evidence", "").strip().removeprefix("sha256:")
        if evidence and not SHA256.match(evidence):
            raise BadRequest("Evidence is the SHA-256 (64 lowercase hex digits) of a tally "
                             "sheet uploaded to /intake/evidence")
        submission = Submission(
            body, headers.get("content-type", ""), headers.get("idempotency-key", "").strip(),
            grant.id, grant.scopes, params.get("contest", ""),
            _text_header(headers, "correction-reason"),
            int(revises) if revises is not None else None, evidence)
        answer = await anyio.to_thread.run_sync(self.desk.submit, submission)
        await _send_answer(send, answer)


class EvidenceEndpoint(_Endpoint):
    """``POST /intake/evidence`` (a tally sheet in); ``GET ?sha256=`` (it, out)."""

    allow = "GET, HEAD, OPTIONS, POST"

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        desk = self.desk
        if method == "POST":
            grant = desk.node.authorize("write", headers.get("authorization"))
            assert grant is not None
            body = await read_body(scope, receive, headers, desk.evidence.max_bytes)
            answer = await anyio.to_thread.run_sync(
                desk.store_evidence, body, headers.get("content-type", ""), grant.id)
            await _send_answer(send, answer)
            return
        self.check_reader(headers)
        digest = query_params(scope).get("sha256", "")
        found = await anyio.to_thread.run_sync(desk.evidence.get, digest) \
            if SHA256.match(digest) else None
        if found is None:
            raise NotFound("No tally sheet with this SHA-256 (?sha256=64 lowercase hex digits)")
        data, media_type = found
        await send_response(send, 200, [
            (b"content-type", media_type.encode()),
            (b"etag", f'"{digest}"'.encode()),
            # The name is the content's hash: it can never change (RFC 8246).
            (b"cache-control", b"public, max-age=31536000, immutable"),
            (b"content-security-policy", b"sandbox"),
            (b"content-disposition", f'inline; filename="{digest[:16]}"'.encode())],
            data, head=method == "HEAD")


class LogEndpoint(_Endpoint):
    """``GET /intake/log?after=N&limit=M``: a page of the public event log."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        self.check_reader(headers)
        params = query_params(scope)
        most = int(self.desk.node.settings.intake_log_max_page)
        after = cursor_param(params, "after", MAX_SEQ, default=0)
        limit = min(max(1, cursor_param(params, "limit", MAX_SEQ, default=100)), most)
        events = await anyio.to_thread.run_sync(partial(self.desk.log.page, after, limit))
        seq, digest = await anyio.to_thread.run_sync(self.desk.log.head)
        base = self.desk.node.base + paths.INTAKE_LOG_PATH
        nxt = f"{base}?{urlencode({'after': events[-1].seq, 'limit': limit})}" \
            if events and events[-1].seq < seq else None
        await _send_answer(send, {"head": {"sequence": seq, "hash": digest},
                                  "events": [e.to_json() for e in events], "next": nxt},
                           head=method == "HEAD")


class TotalsEndpoint(_Endpoint):
    """``GET /intake/totals?election=IRI&since=MARK``: running totals, what changed."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, method: str,
                     headers: dict[str, str]) -> None:
        self.check_reader(headers)
        params = query_params(scope)
        election = params.get("election", "")
        since = cursor_param(params, "since", MAX_SEQ, default=0)
        # off the event loop: the geography is read again when places/ changed
        if election not in await anyio.to_thread.run_sync(self.desk.elections):
            raise NotFound("No election with contests on this node has this IRI "
                           "(?election=IRI)")
        mark, results = await anyio.to_thread.run_sync(self.desk.results, election, since)
        await _send_answer(send, {"election": election, "mark": mark,
                                  "results": [asdict(r) for r in results]},
                           head=method == "HEAD")


def intake_routes(desk: Desk) -> list[tuple[str, Any, str]]:
    """(path, endpoint, name) rows of the routes table."""
    return [("/" + paths.INTAKE_TALLIES_PATH, TalliesEndpoint(desk), "intake-tallies"),
            ("/" + paths.INTAKE_EVIDENCE_PATH, EvidenceEndpoint(desk), "intake-evidence"),
            ("/" + paths.INTAKE_LOG_PATH, LogEndpoint(desk), "intake-log"),
            ("/" + paths.INTAKE_TOTALS_PATH, TotalsEndpoint(desk), "intake-totals")]

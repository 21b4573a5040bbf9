"""Errors that know their HTTP status, and the one renderer of RFC 9457 problem details.

The tree::

    Problem                      500  any error the node answers with a problem document
    ├── BadRequest               400  malformed body, header or query
    │   └── IncompleteBody       400  the client stopped before the end of its body
    ├── Unauthorized             401  no credential, or a bad one
    ├── Forbidden                403  a credential without the needed scope
    ├── NotFound                 404
    ├── MethodNotAllowed         405
    ├── NotAcceptable            406  no representation matches Accept
    ├── Conflict                 409
    ├── Gone                     410  a tombstone: the resource was deleted
    ├── PreconditionFailed       412  If-Match / If-None-Match failed
    ├── RequestTimeout           408  headers or body did not arrive in time
    ├── PayloadTooLarge          413
    ├── URITooLong               414
    ├── UnsupportedMediaType     415
    ├── Unprocessable            422  well-formed but not acceptable (e.g. remote @context)
    │   └── ValidationFailed     422  SHACL violations; carries the report
    ├── TooManyRequests          429
    ├── HeaderFieldsTooLarge     431  too many header lines, or too many header bytes
    ├── UpstreamError            502  a peer answered badly (keeps URL, status, 1 KiB of body)
    └── Unavailable              503
        └── QueryTimeout         503  a SPARQL query hit its time limit and was stopped

Everything here is plain Python: the HTTP layer turns a ``Problem`` into a response with
:func:`problem_body`, the CLI prints ``str(problem)``.
"""

from __future__ import annotations

from typing import Any, ClassVar

PROBLEM_BASE = "https://w3id.org/dds/problems/"
MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    """An error the node reports as an RFC 9457 problem document."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str = "", *, extra: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra or {}
        self.headers = headers or {}

    @property
    def type(self) -> str:
        """The problem type IRI (RFC 9457 3.1.1)."""
        return PROBLEM_BASE + self.slug


class BadRequest(Problem):
    """The request is malformed (RFC 9110 15.5.1)."""

    status, slug, title = 400, "bad-request", "Bad request"


class IncompleteBody(BadRequest):
    """The body ended before its declared length or final chunk (RFC 9112 6.3, 7.1)."""

    slug, title = "incomplete-body", "The request body is incomplete"


class Unauthorized(Problem):
    """No credential or a bad one (RFC 9110 15.5.2)."""

    status, slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(Problem):
    """The credential lacks the needed scope (RFC 9110 15.5.4)."""

    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(Problem):
    """No resource at this IRI (RFC 9110 15.5.5)."""

    status, slug, title = 404, "not-found", "Not found"


class MethodNotAllowed(Problem):
    """The method is not allowed on this resource (RFC 9110 15.5.6)."""

    status, slug, title = 405, "method-not-allowed", "Method not allowed"


class NotAcceptable(Problem):
    """No representation matches the Accept header (RFC 9110 15.5.7)."""

    status, slug, title = 406, "not-acceptable", "Not acceptable"


class Conflict(Problem):
    """The request conflicts with the resource's state (RFC 9110 15.5.10)."""

    status, slug, title = 409, "conflict", "Conflict"


class Gone(Problem):
    """The resource was deleted and left a tombstone (RFC 9110 15.5.11)."""

    status, slug, title = 410, "gone", "Gone"


class PreconditionFailed(Problem):
    """A conditional request's precondition failed (RFC 9110 15.5.13)."""

    status, slug, title = 412, "precondition-failed", "Precondition failed"


class RequestTimeout(Problem):
    """Headers or body did not arrive in time; the connection is closed (RFC 9110 15.5.9)."""

    status, slug, title = 408, "request-timeout", "Request timeout"


class PayloadTooLarge(Problem):
    """The body exceeds the configured limit (RFC 9110 15.5.14)."""

    status, slug, title = 413, "payload-too-large", "Payload too large"


class URITooLong(Problem):
    """The request target exceeds the configured limit (RFC 9110 15.5.15)."""

    status, slug, title = 414, "uri-too-long", "URI too long"


class UnsupportedMediaType(Problem):
    """The body's media type is not accepted here (RFC 9110 15.5.16)."""

    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class Unprocessable(Problem):
    """Well-formed, but not acceptable (RFC 9110 15.5.21)."""

    status, slug, title = 422, "unprocessable", "Unprocessable content"


class ValidationFailed(Unprocessable):
    """The data violates the shapes; ``extra['report']`` holds the SHACL report."""

    slug, title = "validation-failed", "The data does not conform to the shapes"


class TooManyRequests(Problem):
    """Rate limited (RFC 6585 4)."""

    status, slug, title = 429, "too-many-requests", "Too many requests"


class HeaderFieldsTooLarge(Problem):
    """Too many header lines or header bytes (RFC 6585 5)."""

    status, slug, title = 431, "header-fields-too-large", "Request header fields too large"


class UpstreamError(Problem):
    """A peer answered badly; keeps the URL, its status and the first 1 KiB of its body."""

    status, slug, title = 502, "upstream-error", "A peer node answered with an error"

    def __init__(self, detail: str, *, url: str, upstream_status: int | None = None,
                 body: bytes | str = b"") -> None:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        super().__init__(detail, extra={"url": url, "upstreamStatus": upstream_status,
                                        "upstreamBody": text[:1024]})


class Unavailable(Problem):
    """The node cannot answer now (RFC 9110 15.6.4)."""

    status, slug, title = 503, "unavailable", "Service unavailable"


class QueryTimeout(Unavailable):
    """A SPARQL query ran longer than its time limit and was stopped."""

    slug, title = "query-timeout", "The query exceeded the time limit"


def problem_body(problem: Problem, *, instance: str | None = None) -> dict[str, Any]:
    """The RFC 9457 problem document for ``problem`` (members: type, title, status, detail)."""
    body: dict[str, Any] = {"type": problem.type, "title": problem.title,
                            "status": problem.status, "detail": problem.detail}
    if instance:
        body["instance"] = instance
    # Extension members (RFC 9457 3.2) never override the standard ones.
    body.update({k: v for k, v in problem.extra.items() if k not in body})
    return body


def internal_error() -> Problem:
    """The problem reported for an unexpected exception: no internals leak to the client."""
    return Problem("The node hit an unexpected error; the operator's log has the details.")

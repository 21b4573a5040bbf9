"""Content negotiation (RFC 9110 12.5.1): pick a representation from an Accept header.

Representations are named by *offers*: a media type, plus a JSON-LD profile for the
expanded form (JSON-LD 1.1, 9.1: ``application/ld+json;profile=…#expanded``). Parsing is
memoised per header value, so a read does no parsing work for a header seen before.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

JSONLD = "application/ld+json"
EXPANDED_PROFILE = "http://www.w3.org/ns/json-ld#expanded"
JSONLD_EXPANDED = f'{JSONLD};profile="{EXPANDED_PROFILE}"'
JSON = "application/json"
TURTLE = "text/turtle"
NTRIPLES = "application/n-triples"
HTML = "text/html"
# JSON-LD 1.1, 6.1: the Link relation naming the context of a plain JSON document (a
# client reading application/json learns where the context is; ignored for ld+json).
JSONLD_CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"

# Offers of an RDF resource, in the server's order of preference for ties. The default,
# for a missing Accept or */*, is Turtle, as Solid servers answer (Solid Protocol 0.11,
# 5.5 requires Turtle and JSON-LD; generic clients send */* and expect Turtle).
RDF_OFFERS: tuple[str, ...] = (TURTLE, JSONLD, NTRIPLES, HTML, JSONLD_EXPANDED, JSON)

# The Content-Type sent with each offer.
CONTENT_TYPES: dict[str, str] = {
    JSONLD: JSONLD,
    JSONLD_EXPANDED: f'{JSONLD}; profile="{EXPANDED_PROFILE}"',
    JSON: JSON,
    TURTLE: "text/turtle; charset=utf-8",
    NTRIPLES: NTRIPLES,
    HTML: "text/html; charset=utf-8",
}

# Body media types an RDF write may use, and the parser name of each. Not plain
# ``application/json``: JSON is JSON-LD only when a context says so (JSON-LD 1.1, 6.1),
# and parsing a JSON file as JSON-LD yields no triples, which stored the client's bytes
# as an empty resource (issue 9 item 9). A JSON body is a file (LDP 4.4 Non-RDF Source)
# where the container takes files, else 415.
RDF_INPUT: dict[str, str] = {
    JSONLD: "json-ld",
    TURTLE: "turtle",
    NTRIPLES: "nt",
}


MediaRange = tuple[str, str, dict[str, str], float]  # type, subtype, params, q


def _params(parts: Sequence[str]) -> tuple[dict[str, str], float]:
    params: dict[str, str] = {}
    q = 1.0
    for part in parts:
        name, _, value = part.strip().partition("=")
        name, value = name.strip().lower(), value.strip().strip('"')
        if name == "q":
            try:
                q = max(0.0, min(1.0, float(value)))
            except ValueError:
                q = 0.0
        elif name:
            params[name] = value
    return params, q


@lru_cache(maxsize=512)
def parse_accept(header: str) -> tuple[MediaRange, ...]:
    """The media ranges of an Accept header, with their q-values (malformed ones skipped)."""
    ranges = []
    for item in header.split(","):
        pieces = item.split(";")
        kind, _, sub = pieces[0].strip().lower().partition("/")
        if not kind or not sub:
            continue
        params, q = _params(pieces[1:])
        ranges.append((kind, sub, params, q))
    return tuple(ranges)


def media_type_of(content_type: str | None) -> str:
    """The bare media type of a Content-Type (``text/turtle; charset=…`` -> ``text/turtle``)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _offer_parts(offer: str) -> tuple[str, str, dict[str, str]]:
    base, _, rest = offer.partition(";")
    kind, _, sub = base.partition("/")
    params, _ = _params(rest.split(";")) if rest else ({}, 1.0)
    return kind, sub, params


def _quality(offer: str, ranges: Sequence[MediaRange]) -> tuple[float, int]:
    """The q of the most specific range matching ``offer`` (RFC 9110 12.5.1), and how specific."""
    kind, sub, params = _offer_parts(offer)
    best: tuple[int, float] = (-1, 0.0)
    for rkind, rsub, rparams, q in ranges:
        if rkind == "*" and rsub == "*":
            specificity = 0
        elif rkind == kind and rsub == "*":
            specificity = 1
        elif rkind == kind and rsub == sub:
            profile = rparams.get("profile")
            if profile is not None:
                if profile not in params.get("profile", "").split():
                    # A profile the offer does not have: only the expanded one is special.
                    if params.get("profile") or profile == EXPANDED_PROFILE:
                        continue
                    specificity = 2
                else:
                    specificity = 3
            else:
                specificity = 2
        else:
            continue
        if specificity > best[0]:
            best = (specificity, q)
    return best[1], best[0]


@lru_cache(maxsize=1024)
def negotiate(accept: str | None, offers: tuple[str, ...] = RDF_OFFERS) -> str | None:
    """The best offer for ``accept`` (the first offer when Accept is absent), or None (406)."""
    if accept is None or not accept.strip():
        return offers[0]
    ranges = parse_accept(accept)
    if not ranges:
        return offers[0]
    best, best_key = None, (0.0, -1, 0)
    for position, offer in enumerate(offers):
        q, specificity = _quality(offer, ranges)
        if q <= 0:
            continue
        # A profile-carrying offer is chosen only when asked for by that profile.
        if ";" in offer and specificity < 3:
            continue
        key = (q, specificity, -position)
        if best is None or key > best_key:
            best, best_key = offer, key
    return best

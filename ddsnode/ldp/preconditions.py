"""Conditional requests (RFC 9110 13): If-Match, If-None-Match, If-Modified-Since.

Plain Python: the HTTP layer hands in the raw header values, the core checks them
against the current resource (within the same compare-and-swap as the write).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

from ddsnode.problem import BadRequest, PreconditionFailed

# entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE (RFC 9110 8.8.3)
_ETAG = re.compile(r'\s*((?:W/)?"[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)')


def parse_etags(header: str, name: str) -> tuple[str, ...]:
    """``("*",)`` or the entity tags of an If-Match / If-None-Match value; BadRequest if bad."""
    text = header.strip()
    if text == "*":
        return ("*",)
    tags: list[str] = []
    pos = 0
    while pos < len(text):
        match = _ETAG.match(text, pos)
        if not match or match.end() == pos:
            raise BadRequest(f"Malformed {name} header: expected * or a list of quoted entity tags")
        tags.append(match.group(1))
        pos = match.end()
    if not tags:
        raise BadRequest(f"Malformed {name} header: expected * or a list of quoted entity tags")
    return tuple(tags)


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/")


def _any_of(tags: Iterable[str], wanted: set[str]) -> bool:
    """Whether one of ``tags`` is ``wanted``, reading ``tags`` no further than the first."""
    return any(tag in wanted for tag in tags)


@dataclass(frozen=True)
class Preconditions:
    """The preconditions of one request (None: header absent)."""

    if_match: tuple[str, ...] | None = None
    if_none_match: tuple[str, ...] | None = None
    if_modified_since: datetime | None = None

    @classmethod
    def parse(cls, if_match: str | None = None, if_none_match: str | None = None,
              if_modified_since: str | None = None) -> Preconditions:
        """Parse raw header values; BadRequest for a malformed entity-tag list."""
        if if_match is None and if_none_match is None and not if_modified_since:
            return _NONE  # most requests: nothing to parse
        since = None
        if if_modified_since:
            try:
                since = parsedate_to_datetime(if_modified_since)
            except (TypeError, ValueError):
                since = None  # RFC 9110 13.1.3: an invalid date is ignored
        return cls(parse_etags(if_match, "If-Match") if if_match is not None else None,
                   parse_etags(if_none_match, "If-None-Match") if if_none_match is not None
                   else None, since)

    @property
    def given(self) -> bool:
        """Whether the request carries If-Match or If-None-Match."""
        return self.if_match is not None or self.if_none_match is not None

    def check_write(self, current_etags: Iterable[str] | None) -> None:
        """PreconditionFailed unless a state-changing request may proceed (RFC 9110 13.2.2).

        ``current_etags`` are the tags of every representation of the current resource,
        or None when there is none (absent or a tombstone). They are read lazily and only
        until a listed tag matches: the cheap ones come first, and a representation not
        rendered yet is rendered only when no earlier tag decided (issue 9, item 3).
        """
        if self.if_match is not None:
            if current_etags is None:
                raise PreconditionFailed("If-Match: the resource does not exist")
            # Strong comparison (RFC 9110 8.8.3.2): weak tags never match.
            strong = {t for t in self.if_match if not t.startswith("W/")}
            if self.if_match != ("*",) and not _any_of(current_etags, strong):
                raise PreconditionFailed("If-Match: the resource has changed (ETag differs)")
        if self.if_none_match is not None and current_etags is not None:
            if self.if_none_match == ("*",):
                raise PreconditionFailed("If-None-Match: * — the resource already exists")
            if _any_of(current_etags, {_opaque(t) for t in self.if_none_match}):
                raise PreconditionFailed("If-None-Match: the resource matches a listed ETag")

    def check_read(self, etag: str, modified: datetime | None) -> bool:
        """True when a GET/HEAD may answer 304 Not Modified (RFC 9110 13.1.2, 13.1.3)."""
        if self.if_match is not None and self.if_match != ("*",) and etag not in self.if_match:
            raise PreconditionFailed("If-Match: the resource has changed (ETag differs)")
        if self.if_none_match is not None:
            # Weak comparison for If-None-Match.
            return self.if_none_match == ("*",) or any(
                _opaque(t) == etag for t in self.if_none_match)
        if self.if_modified_since is not None and modified is not None:
            return modified.replace(microsecond=0) <= self.if_modified_since
        return False


_NONE = Preconditions()

"""The clerk's tally form as posted: ``multipart/form-data`` read strictly, counts checked.

A browser posts the form as ``multipart/form-data`` (RFC 7578; the tally sheet is a file
field) or, when a client leaves the file out, ``application/x-www-form-urlencoded``
(WHATWG HTML 4.10.21.7). Both are read here with bounds: the body's size is bounded
before it is read (a tally sheet and a tally: ``ClerkPage.max_form_bytes``), the number of fields by
:data:`MAX_FIELDS`, a text field by :data:`MAX_TEXT`; a body cut short, a part without
a name or a missing final boundary is a 400 (RFC 7578 4.1, RFC 2046 5.1.1), never a
half-read form. Numbers are read as a clerk types them (spaces and the narrow spaces
French writes between thousands are dropped) and refused, field by field, when they are not
whole numbers, are negative or are larger than any count can be.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from ddsnode.problem import BadRequest, UnsupportedMediaType

__all__ = ["MAX_COUNT", "MAX_FIELDS", "Posted", "Upload", "number", "read_form"]

MAX_FIELDS = 1000  # a contest has at most a few hundred selections; one field each
MAX_TEXT = 4096  # characters of one text field (a correction's reason is at most 2,000)
MAX_COUNT = 10**9  # more ballots than any polling station holds: a typing error
_BOUNDARY = re.compile(r'boundary="?([0-9A-Za-z\'()+_,./:=? -]{1,70})"?')
_PARAM = re.compile(r';\s*([A-Za-z*]+)="((?:[^"\\]|\\.)*)"')
# Spaces a clerk may type between thousands (French writes a narrow no-break space);
# "." and "," are not dropped: "1.5" is a typing error, not 15.
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]")


@dataclass(frozen=True)
class Upload:
    """A file field: its bytes and the media type the browser declared."""

    data: bytes
    media_type: str
    filename: str


@dataclass
class Posted:
    """The text fields (first value of each name) and files of a posted form."""

    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)

    def text(self, name: str) -> str:
        """A text field, stripped ("" when absent)."""
        return self.fields.get(name, "").strip()


def _add(posted: Posted, name: str, value: str) -> None:
    if len(posted.fields) + len(posted.files) >= MAX_FIELDS:
        raise BadRequest(f"The form has more than {MAX_FIELDS} fields")
    if len(value) > MAX_TEXT:
        raise BadRequest(f"The field {name[:40]!r} is longer than {MAX_TEXT} characters")
    posted.fields.setdefault(name, value)


def read_form(body: bytes, content_type: str) -> Posted:
    """The fields of a posted form; 400 when malformed, 415 when it is not a form."""
    media = content_type.split(";", 1)[0].strip().lower()
    posted = Posted()
    if media == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False,
                              max_num_fields=MAX_FIELDS)
        except (UnicodeDecodeError, ValueError):
            raise BadRequest("The form is not UTF-8 or has too many fields") from None
        for name, value in pairs:
            _add(posted, name, value)
        return posted
    if media != "multipart/form-data":
        raise UnsupportedMediaType("The tally form is multipart/form-data (or "
                                   "application/x-www-form-urlencoded without a file)")
    found = _BOUNDARY.search(content_type)
    if found is None:
        raise BadRequest("multipart/form-data needs a boundary parameter (RFC 2046 5.1.1)")
    delimiter = b"--" + found.group(1).strip().encode("ascii")
    if not body.startswith(delimiter):
        raise BadRequest("The form does not start with its boundary")
    end = body.find(delimiter + b"--")
    if end < 0:
        raise BadRequest("The form ends before its closing boundary (cut short?)")
    if end == 0:
        return posted  # no field at all
    parts = body[len(delimiter):end]
    if not parts.endswith(b"\r\n"):
        raise BadRequest("The form's closing boundary is not on a line of its own")
    for chunk in parts[:-2].split(b"\r\n" + delimiter):
        _part(posted, chunk)
    return posted


def _part(posted: Posted, chunk: bytes) -> None:
    """One body part: CRLF, headers, CRLF CRLF, content (RFC 7578 4.1)."""
    head, sep, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
    if not sep:
        raise BadRequest("A part of the form has no header block")
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").split("\r\n"):
        key, colon, value = line.partition(":")
        if colon:
            headers[key.strip().lower()] = value.strip()
    params = dict((k.lower(), v) for k, v in _PARAM.findall(
        headers.get("content-disposition", "")))
    name = params.get("name", "")
    if not headers.get("content-disposition", "").lower().startswith("form-data") or not name:
        raise BadRequest("A part of the form is not a named form-data field (RFC 7578 4.2)")
    if "filename" in params:
        if len(posted.fields) + len(posted.files) >= MAX_FIELDS:
            raise BadRequest(f"The form has more than {MAX_FIELDS} fields")
        if content and name not in posted.files:
            posted.files[name] = Upload(content, headers.get("content-type", ""),
                                        params["filename"][:200])
        return
    try:
        _add(posted, name, content.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest(f"The field {name[:40]!r} is not UTF-8") from None


def number(text: str) -> tuple[int | None, str]:
    """(the whole number in ``text``, "") or (None, the reason's msgid); (None, "") when
    the field is empty."""
    cleaned = _SPACES.sub("", text)
    if not cleaned:
        return None, ""
    if cleaned.startswith("-") and cleaned[1:].isdigit():
        return None, "error_negative"
    if not cleaned.isascii() or not cleaned.isdigit() or len(cleaned) > 12:
        return None, "error_not_number"
    value = int(cleaned)
    if value > MAX_COUNT:
        return None, "error_too_large"
    return value, ""

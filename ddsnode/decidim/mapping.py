"""The building blocks of the Decidim mapping: IRIs, texts, dates, numbers, places.

A :class:`Platform` knows the node's base IRI and the platform's slug, and mints the IRI
of every imported resource from Decidim's ids: ``{base}proposals/{slug}-{id}``,
``{base}processes/{slug}-assembly-{id}`` ... (see docs/decidim.md). The helpers read a
row by header name and never fail on a missing or odd cell: they return None and leave a
note in :class:`Notes`, which the importer reports as "unexpected data".

Decidim's concept tokens (proposal states, comment alignments, meeting types) are mapped
with the SKOS alignments in ``ontology/alignment.ttl``, not with a table typed here.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from html.parser import HTMLParser
from typing import Any, ClassVar
from urllib.parse import urlsplit

from ddsnode.clock import TIMESTAMP
from ddsnode.rdf.vocab import SKOS, ontology_graph
from ddsnode.resources import CONTEXT_IRI

Row = Mapping[str, Any]
Doc = dict[str, Any]
MACHINE = "machine_translations"
DECIDIM_ALIGNMENT = "https://w3id.org/dds/platform/decidim/"
_LANG = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")


@dataclass
class Notes:
    """Unexpected data met while mapping one row (reported, never fatal)."""

    items: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        """Record one note."""
        self.items.append(text)


def slugify(text: str) -> str:
    """A lower-case ``[a-z0-9-]`` slug (``nightly.decidim.org`` -> ``nightly-decidim-org``)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@cache
def alignment(scheme: str) -> dict[str, str]:
    """Decidim token -> shared concept word, from ``alignment.ttl`` (e.g. ``state``)."""
    graph = ontology_graph()
    prefix = f"{DECIDIM_ALIGNMENT}{scheme}/"
    out: dict[str, str] = {}
    for concept, target in graph.subject_objects(SKOS.exactMatch):
        if str(concept).startswith(prefix):
            notation = graph.value(concept, SKOS.notation)
            token = str(notation) if notation is not None else str(concept)[len(prefix):]
            out[token] = str(target).rstrip("/").rsplit("/", 1)[-1]
    return out


class Platform:
    """One Decidim platform as seen by the node: its slug and the IRIs of its resources."""

    def __init__(self, base: str, host: str, origin: str, source: str) -> None:
        self.base = base
        self.host = host
        self.origin = origin.rstrip("/")
        self.slug = slugify(host)
        self.source = source
        self.iri = f"{base}processes/{self.slug}"
        self.operator = f"{base}organisations/{self.slug}"

    def resource(self, container: str, kind: str, ident: str) -> str:
        """``{base}{container}/{slug}-{kind}-{id}`` (no kind segment when ``kind`` is empty)."""
        middle = f"-{kind}" if kind else ""
        return f"{self.base}{container}/{self.slug}{middle}-{slugify(ident)}"

    def space(self, kind: str, ident: str) -> str:
        """A participatory space: ``process``, ``assembly``, ``conference``, ``initiative``."""
        return self.resource("processes", kind, ident)

    def proposal(self, ident: str) -> str:
        """A proposal or amendment (they share Decidim's id sequence)."""
        return self.resource("proposals", "", ident)

    def is_root(self, url: str | None) -> bool:
        """Whether ``url`` is the platform's home page (Decidim's "official" author)."""
        if not url:
            return False
        return url.rstrip("/") in (self.origin, f"https://{self.host}", f"http://{self.host}")

    def provenance(self, doc: Doc, url: str | None) -> Doc:
        """Add the platform, the primary source and the original URL to ``doc``."""
        doc["sourcePlatform"] = self.iri
        doc["source"] = self.source
        if url and is_url(url):
            doc["originalUrl"] = url
        return doc


# --- cells -----------------------------------------------------------------------------

def cell(row: Row, *names: str) -> str | None:
    """The first non-empty cell among ``names`` (aliases across Decidim versions)."""
    for name in names:
        value = row.get(name)
        if isinstance(value, str):
            value = value.strip()
        if value not in (None, ""):
            return str(value)
    return None


def is_url(value: str) -> bool:
    """An absolute http(s) URL without spaces."""
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value


def id_in_url(url: str | None, segment: str) -> str | None:
    """The id after ``/{segment}/`` in a Decidim URL (``.../proposals/12`` -> ``12``)."""
    if not url:
        return None
    match = re.search(rf"/{segment}/([A-Za-z0-9_-]+)", url)
    return match.group(1) if match else None


def id_list(value: str | None) -> list[str]:
    """The items of a flattened list cell (Decidim joins arrays with ``, ``)."""
    if not value:
        return []
    return [item.strip() for item in re.split(r"[,\s]+", value) if item.strip()]


class _Text(HTMLParser):
    BLOCKS: ClassVar[frozenset[str]] = frozenset({"p", "br", "li", "div", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(value: str) -> str:
    """Decidim's rich text (HTML) as plain text: tags dropped, paragraphs kept as lines."""
    if "<" not in value and "&" not in value:
        return value.strip()
    parser = _Text()
    parser.feed(value)
    parser.close()
    text = html.unescape("".join(parser.parts))
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def languages(row: Row, field_name: str, machine: set[str], *, rich: bool = True,
              default_lang: str | None = None) -> dict[str, str] | None:
    """A language map from ``field/xx`` and ``field/machine_translations/xx`` cells.

    Human text wins; a machine translation is used only for a language with no human
    text, and that language is added to ``machine``. A plain ``field`` cell (no language)
    is taken in ``default_lang``. Structured API values (``{lang: text}``) work too.
    """
    out: dict[str, str] = {}
    auto: dict[str, str] = {}
    prefix = field_name + "/"
    value = row.get(field_name)
    if isinstance(value, dict):
        for lang, text in value.items():
            if isinstance(text, str) and text.strip():
                out[lang] = text
    for name, text in row.items():
        if not name.startswith(prefix) or not isinstance(text, str) or not text.strip():
            continue
        rest = name[len(prefix):]
        if rest.startswith(MACHINE + "/"):
            auto[rest[len(MACHINE) + 1:]] = text
        elif "/" not in rest:
            out[rest] = text
    if not out and isinstance(value, str) and value.strip() and default_lang:
        out[default_lang] = value
    for lang, text in auto.items():
        if lang not in out:
            out[lang] = text
            machine.add(lang)
    result = {}
    for lang, text in out.items():
        if not _LANG.match(lang):
            continue
        cleaned = plain_text(text) if rich else text.strip()
        if cleaned:
            result[lang] = cleaned
    return result or None


# --- dates and numbers -----------------------------------------------------------------

_FORMATS = ("%Y-%m-%d %H:%M:%S %Z", "%Y-%m-%d %H:%M:%S %z", "%Y-%m-%dT%H:%M:%S%z",
            "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S.%f %z", "%Y-%m-%d %H:%M:%S")


def date_time(value: str | None, notes: Notes | None = None, what: str = "") -> str | None:
    """An xsd:dateTime with a timezone (``2025-01-29 11:08:58 UTC`` -> ``...T11:08:58Z``)."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00") if value.strip().endswith("Z") else value.strip()
    for fmt in _FORMATS:
        try:
            moment = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)  # Decidim writes UTC
        moment = moment.astimezone(UTC).replace(microsecond=0)
        return moment.strftime(TIMESTAMP)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        if notes is not None:
            notes.add(f"{what}: {value[:40]!r} is not a date and time")
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).strftime(TIMESTAMP)


def created(row: Row, notes: Notes) -> str | None:
    """``dct:created``: when the participant made it on the platform (``created_at``; the
    API gives only ``published_at``). A resource's own date, kept as sent by the node
    (issue 10 item 3), so a re-import restores it; ``published`` stays Decidim's own."""
    return date_time(cell(row, "created_at", "published_at"), notes, "created_at")


def date(value: str | None, notes: Notes | None = None, what: str = "") -> str | None:
    """An xsd:date (the day of a date or a date and time)."""
    if not value:
        return None
    match = re.match(r"^(\d{4}-\d{2}-\d{2})", value.strip())
    if match:
        try:
            datetime.strptime(match.group(1), "%Y-%m-%d")
            return match.group(1)
        except ValueError:
            pass
    if notes is not None:
        notes.add(f"{what}: {value[:40]!r} is not a date")
    return None


def count(value: str | None, notes: Notes | None = None, what: str = "") -> int | None:
    """A non-negative whole number (``"12"``, ``"12.0"``), or None with a note."""
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        if notes is not None:
            notes.add(f"{what}: {str(value)[:40]!r} is not a number")
        return None
    if number < 0 or number != int(number):
        if notes is not None:
            notes.add(f"{what}: {value!r} is not a non-negative whole number")
        return None
    return int(number)


def number(value: str | None, notes: Notes | None = None, what: str = "",
           low: float | None = None, high: float | None = None) -> float | None:
    """A finite decimal number within [low, high], or None with a note."""
    if value is None or value == "":
        return None
    try:
        found = float(value)
    except (TypeError, ValueError):
        found = float("nan")
    if math.isnan(found) or math.isinf(found):
        if notes is not None:
            notes.add(f"{what}: {str(value)[:40]!r} is not a number")
        return None
    if (low is not None and found < low) or (high is not None and found > high):
        if notes is not None:
            notes.add(f"{what}: {value} is out of range [{low}, {high}]; dropped")
        return None
    return found


def flag(value: str | None) -> bool:
    """Decidim's ``true``/``false`` cells."""
    return (value or "").strip().lower() in ("true", "t", "1", "yes")


def place(iri: str, row: Row, notes: Notes, default_lang: str) -> Doc | None:
    """A Place (``#place``) from ``address``, ``location/xx``, ``latitude``/``longitude``."""
    lat = number(cell(row, "latitude"), notes, "latitude", -90, 90)
    long = number(cell(row, "longitude"), notes, "longitude", -180, 180)
    if (lat is None) != (long is None):
        notes.add("only one of latitude and longitude is given; coordinates dropped")
        lat = long = None
    address = cell(row, "address")
    location = languages(row, "location", set(), rich=False, default_lang=default_lang)
    if lat is None and not address and not location:
        return None
    doc: Doc = {"id": f"{iri}#place", "type": "Place"}
    if lat is not None and long is not None:
        doc["lat"], doc["long"] = lat, long
        doc["wkt"] = f"POINT({long!r} {lat!r})"
    if address:
        doc["address"] = {"type": "Address", "fullAddress": address}
    if location:
        doc["title"] = location
    return doc


def document(iri: str, kind: str) -> Doc:
    """A new JSON-LD document with the shared context."""
    return {"@context": CONTEXT_IRI, "id": iri, "type": kind}


def row_id(row: Row, *columns: str) -> str:
    """The row's Decidim id (first non-empty of ``columns``, default ``id``); a row without
    one cannot be imported (ValueError, reported as a rejected row)."""
    ident = cell(row, *(columns or ("id",)))
    if not ident:
        raise ValueError("the row has no id")
    return ident


def mark_machine_translated(doc: Doc, machine: set[str]) -> None:
    """Name the languages whose texts came only from Decidim's machine translations."""
    if machine:
        doc["machineTranslated"] = sorted(machine)


__all__ = ["Doc", "Notes", "Platform", "Row", "alignment", "cell", "count", "created",
           "date", "date_time", "document", "flag", "id_in_url", "id_list", "is_url", "languages",
           "mark_machine_translated", "number", "place", "plain_text", "row_id", "slugify"]

"""``ddsnode import directory``: a spreadsheet of organisations into the directory.

A spreadsheet export (CSV, comma, semicolon or tab separated, UTF-8) has one row per
organisation; headers are matched in English or French, with a few synonyms, ignoring
case, accents and punctuation (:data:`~ddsnode.explorer.directory_csv.HEADERS`; columns in
``docs/directory.md``). Each row becomes one ``org:Organization`` document with its
place and its initiatives, written through :meth:`ddsnode.ldp.node.Node.write_document` —
the path of an HTTP PUT, with the shapes' validation — so a row is refused for the same
reasons a PUT is, and reported with its line and the shapes' message.

Imports are idempotent: an organisation is keyed on its website (else its name), so a
second import of the same file writes nothing, and an edited row updates the same IRI.

The import is bounded like HTTP: the file (``directory_max_source_bytes``), the rows
(``directory_max_rows``), each cell (``max_literal_bytes``) and each document
(``max_body_bytes``). Cells are data: a cell that starts with ``=``, ``+``, ``-`` or ``@``
(a spreadsheet formula) is stored as the text it is, never evaluated (OWASP "CSV
Injection"); pages escape it like any other value.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rdflib.compare import isomorphic

from ddsnode import resources
from ddsnode.clock import stamp
from ddsnode.explorer.directory import CONTAINER, _local
from ddsnode.explorer.directory_csv import Rejected, Report, SourceRefused, read_rows
from ddsnode.explorer.directory_terms import (
    KIND_SCHEME_PATH,
    KINDS,
    cluster_of,
    fold,
    kind_iri,
    kind_of,
    kind_scheme_document,
    level_of,
)
from ddsnode.ldp.node import Node
from ddsnode.problem import Problem, ValidationFailed
from ddsnode.rdf import rdfio
from ddsnode.rdf.jsonld import parse_rdf
from ddsnode.rdf.vocab import DCTERMS, DDS

LIST_SEPARATORS = re.compile(r"\s*[|;\n]\s*")  # cells that hold several values
COUNTRY = re.compile(r"[A-Za-z]{2}")
LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{1,8})*")
MEDIA_TYPE = "application/ld+json"
SERVER_MANAGED = (DCTERMS.created, DCTERMS.modified, DCTERMS.publisher, DDS.importedAt)


def slug(text: str) -> str:
    """A readable IRI segment from a name (``Ville de Lyon`` -> ``ville-de-lyon``)."""
    return "-".join(fold(text).split())[:60] or "organisation"


def key_of(name: str, website: str | None) -> str:
    """What identifies an organisation across imports: its website, else its name."""
    if website:
        parts = urlsplit(website)
        host = (parts.hostname or "").removeprefix("www.")
        return f"web:{host}{parts.path.rstrip('/')}"
    return f"name:{fold(name)}"


class RowError(ValueError):
    """Why one row is refused (the row is reported and skipped)."""


def _cell(cells: list[str], columns: dict[str, int], column: str, max_bytes: int) -> str:
    if column not in columns:
        return ""
    value = cells[columns[column]].strip()
    if len(value.encode("utf-8")) > max_bytes:
        raise RowError(f"the {column} cell is {len(value.encode('utf-8')):,} bytes, past "
                       f"max_literal_bytes ({max_bytes:,})")
    return value


def _coordinate(text: str, low: float, high: float, column: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise RowError(f"{column} {text[:40]!r} is not a number") from None
    if not low <= value <= high:
        raise RowError(f"{column} {value} is outside {low}..{high}")
    return value


def row_document(cells: list[str], columns: dict[str, int], iri: str, *, lang: str,
                 max_bytes: int, base: str) -> tuple[dict[str, Any], str]:
    """The JSON-LD document of one row and its idempotency key; RowError if refused."""
    def get(column: str) -> str:
        return _cell(cells, columns, column, max_bytes)

    name = get("name")
    if not name:
        raise RowError("no name")
    website = get("website") or None
    if website:
        parts = urlsplit(website if "://" in website else f"https://{website}")
        if parts.scheme not in ("http", "https") or not parts.hostname or " " in website:
            raise RowError(f"website {website[:80]!r} is not an http(s) address")
        website = parts.geturl()
    row_lang = get("language").lower() or lang
    if not LANGUAGE.fullmatch(row_lang):
        raise RowError(f"language {row_lang[:20]!r} is not a language tag (en, fr, ca …)")
    found_clusters = []
    for text in LIST_SEPARATORS.split(get("clusters")):
        if not text:
            continue
        concept = cluster_of(text)
        if concept is None:
            raise RowError(f"unknown cluster {text[:60]!r}; known: " + ", ".join(
                c.word for c in _clusters()))
        found_clusters.append(concept.word)
    if not found_clusters:
        raise RowError("no cluster")
    level_text = get("level")
    level = level_of(level_text)
    if level is None:
        raise RowError(f"unknown IAP2 level {level_text[:40]!r}; known: inform, consult, "
                       "involve, collaborate, empower" if level_text else "no IAP2 level")
    doc: dict[str, Any] = {"@context": resources.CONTEXT_IRI, "id": iri, "type": "Organization",
                           "name": name, "governanceCluster": sorted(set(found_clusters))}
    if website:
        doc["homepage"] = website
    description = get("description")
    if description:
        doc["description"] = {row_lang: description}
    kind_text = get("type")
    if kind_text:
        kind = kind_of(kind_text)
        if kind is None:
            raise RowError(f"unknown type of organisation {kind_text[:60]!r}; known: "
                           + ", ".join(KINDS))
        doc["org:classification"] = {"id": kind_iri(base, kind)}
    place: dict[str, Any] = {}
    country = get("country")
    if country:
        if not COUNTRY.fullmatch(country):
            raise RowError(f"country {country[:40]!r} is not an ISO 3166-1 alpha-2 code "
                           "(FR, ES, GB …)")
        place["address"] = {"id": f"{iri}#address", "type": "Address",
                            "countryCode": country.upper()}
    city = get("city")
    if city:
        place.setdefault("address", {"id": f"{iri}#address", "type": "Address"})
        place["address"]["postName"] = city
    lat = _coordinate(get("latitude"), -90, 90, "latitude")
    long = _coordinate(get("longitude"), -180, 180, "longitude")
    if (lat is None) != (long is None):
        raise RowError("a latitude needs a longitude, and the other way round")
    if lat is not None:
        place.update(lat=lat, long=long)
    if place:
        doc["place"] = {"id": f"{iri}#place", "type": "Place", **place}
    titles = [t for t in LIST_SEPARATORS.split(get("initiatives")) if t] or [name]
    initiatives, used = [], set()
    for title in titles:
        fragment = slug(title)
        while fragment in used or fragment in ("place", "address"):
            fragment += "-2"
        used.add(fragment)
        initiatives.append({"id": f"{iri}#{fragment}", "type": "GovernanceInitiative",
                            "title": {row_lang: title}, "runBy": iri,
                            "governanceCluster": sorted(set(found_clusters)),
                            "participationLevel": level.word})
    doc["initiatives"] = initiatives
    return doc, key_of(name, website)


def _clusters() -> tuple[Any, ...]:
    from ddsnode.explorer.directory_terms import clusters
    return clusters().concepts


def _reason(problem: Problem) -> str:
    if isinstance(problem, ValidationFailed):
        messages = [e["message"] for e in problem.extra.get("errors", [])
                    if e.get("severity") == "Violation"]
        if messages:
            return "; ".join(dict.fromkeys(messages))
    return problem.detail


def _same(stored: str, body: bytes, iri: str) -> bool:
    try:
        new = parse_rdf(body, "json-ld", base=iri)
    except Problem:
        return False
    old = rdfio.graph_from_ntriples(stored)
    for graph in (old, new):
        for predicate in SERVER_MANAGED:
            graph.remove((None, predicate, None))
    return isomorphic(old, new)


def import_directory(node: Node, path: Path, *, lang: str = "en") -> Report:
    """Import the CSV file at ``path`` into ``node``'s directory; returns the report."""
    settings = node.settings
    report = Report(str(path))
    limit = int(settings.directory_max_source_bytes)
    with path.open("rb") as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise SourceRefused(f"{path} is larger than {limit:,} bytes "
                            "(directory_max_source_bytes)")
    columns, rows = read_rows(data, max_rows=int(settings.directory_max_rows), report=report)
    base = node.base
    _write(node, f"{base}{KIND_SCHEME_PATH}", kind_scheme_document(base), report, None)
    known, foreign = _existing(node, int(settings.directory_max_organisations))
    taken = set(known.values()) | set(foreign.values())
    imported_at = stamp()
    seen: dict[str, int] = {}
    for line, cells in rows:
        name = cells[columns["name"]].strip()[:80]
        try:
            probe, key = row_document(cells, columns, base + CONTAINER + "x", lang=lang,
                                      max_bytes=int(settings.max_literal_bytes), base=base)
        except RowError as e:
            report.rejected.append(Rejected(line, name, str(e)))
            continue
        if key in seen:
            report.rejected.append(Rejected(line, name, f"the same organisation as line "
                                                        f"{seen[key]} (same website or name)"))
            continue
        seen[key] = line
        if key in foreign:
            # Written by other means (a PUT, an example): an import must not replace it.
            report.rejected.append(Rejected(line, name, f"{foreign[key]} has the same website "
                                            "or name and was not made by a directory import; "
                                            "not overwritten"))
            continue
        iri = known.get(key)
        if iri is None:
            stem = base + CONTAINER + slug(probe["name"])
            iri, n = stem, 1
            while iri in taken or _live(node, iri):
                n += 1
                iri = f"{stem}-{n}"
            taken.add(iri)
        doc, _ = row_document(cells, columns, iri, lang=lang,
                              max_bytes=int(settings.max_literal_bytes), base=base)
        _write(node, iri, {**doc, "importedAt": imported_at}, report, (line, name))
    return report


def _existing(node: Node, limit: int) -> tuple[dict[str, str], dict[str, str]]:
    """(key -> IRI) of the node's organisations a directory import made (they carry
    ``dds:importedAt``), and of the others."""
    made: dict[str, str] = {}
    other: dict[str, str] = {}
    for org in _local(node.store, node.base, limit):
        stored = node.store.get(org.iri)
        imported = stored is not None and f"<{org.iri}> <{DDS.importedAt}>" in stored.ntriples
        (made if imported else other)[key_of(org.name, org.homepage)] = org.iri
    return made, other


def _live(node: Node, iri: str) -> bool:
    stored = node.store.get(iri)
    return stored is not None and stored.kind != "tombstone"


def _write(node: Node, iri: str, doc: dict[str, Any], report: Report,
           row: tuple[int, str] | None) -> None:
    body = json.dumps(doc, ensure_ascii=False, sort_keys=True).encode("utf-8")
    if len(body) > node.settings.max_body_bytes:
        if row:
            report.rejected.append(Rejected(*row, f"the document would be {len(body):,} bytes, "
                                                  "past max_body_bytes"))
        return
    current = node.store.get(iri)
    live = current is not None and current.kind != "tombstone"
    if live and current is not None and _same(current.ntriples, body, iri):
        if row:
            report.unchanged += 1
        return
    try:
        node.write_document(iri, body, MEDIA_TYPE)
    except Problem as e:
        if row:
            report.rejected.append(Rejected(*row, _reason(e)))
            return
        raise
    if row:
        if live:
            report.updated += 1
        else:
            report.created += 1

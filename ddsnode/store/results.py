"""SPARQL results in the standard formats, cut at the result limit.

Both backends end here: the embedded one with pyoxigraph's query results, the SPARQL one
with the server's answer parsed back into pyoxigraph terms. Cutting at ``limit`` happens
while serialising (``limit + 1`` rows are read to know whether there were more), so a
huge result is never held in memory.

SELECT and ASK: SPARQL 1.1 Query Results JSON, XML, CSV and TSV. CONSTRUCT and DESCRIBE:
Turtle, N-Triples, JSON-LD, RDF/XML.

CSV and TSV open in spreadsheets, and data is text that anyone may have written (an
import keeps Decidim's ``=HYPERLINK(…)`` titles as the text they are): a cell that a
spreadsheet would run as a formula is escaped (OWASP "CSV Injection"; see
:func:`spreadsheet_safe`). In TSV the term syntax has an escape that keeps the value
(``"\u003D…"`` is the same literal as ``"=…"``); CSV has none, so its cell gets the
leading ``'`` spreadsheets show as "text".
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from ddsnode.problem import NotAcceptable
from ddsnode.store.readonly import QueryForm

JSON = "application/sparql-results+json"
XML = "application/sparql-results+xml"
CSV = "text/csv"
TSV = "text/tab-separated-values"
SOLUTION_TYPES = (JSON, XML, CSV, TSV)

GRAPH_TYPES: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
_ALIASES = {"application/json": JSON, "application/xml": XML, "text/xml": XML,
            "text/plain": "application/n-triples"}

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
RDF_DIR_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#dirLangString"

# OWASP CSV Injection: cells starting with these are run as formulas by spreadsheets.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
# ... except a plain number (-5, +1.5E3), which a spreadsheet reads as that number.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def spreadsheet_safe(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet runs: a leading ``'`` before a cell that starts
    with ``=``, ``+``, ``-``, ``@``, tab or CR, unless it is a plain number."""
    if text[:1] in FORMULA_LEADS and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def negotiate(form: QueryForm, accept: Sequence[str]) -> str:
    """The media type to answer a query of ``form`` with, from ``accept`` in preference
    order (media types, parameters allowed); NotAcceptable if none fits."""
    offered = SOLUTION_TYPES if form in ("SELECT", "ASK") else tuple(GRAPH_TYPES)
    if not accept:
        return offered[0]
    for raw in accept:
        media = raw.split(";", 1)[0].strip().lower()
        media = _ALIASES.get(media, media)
        if media in offered:
            return media
        if media == "*/*":
            return offered[0]
        if media.endswith("/*"):
            for o in offered:
                if o.startswith(media[:-1]):
                    return o
    raise NotAcceptable(f"a {form} result is available as {', '.join(offered)}")


def serialize(result: Any, media_type: str, limit: int) -> tuple[bytes, bool]:
    """Serialise a pyoxigraph result (bool, solutions, triples); returns (body, truncated)."""
    if isinstance(result, (bool, ox.QueryBoolean)):
        return serialize_boolean(bool(result), media_type), False
    if isinstance(result, ox.QuerySolutions):
        return serialize_solutions([v.value for v in result.variables], result, media_type,
                                   limit)
    return serialize_triples(result, media_type, limit)


def serialize_triples(triples: Iterable[Any], media_type: str,
                      limit: int) -> tuple[bytes, bool]:
    """Triples (or quads, whose graph is dropped) in an RDF format, at most ``limit``."""
    rows = list(itertools.islice((_triple(t) for t in triples), limit + 1))
    truncated = len(rows) > limit
    body = ox.serialize(rows[:limit], format=GRAPH_TYPES[media_type])
    return (body or b""), truncated


def serialize_boolean(value: bool, media_type: str) -> bytes:
    """An ASK result."""
    if media_type == JSON:
        return json.dumps({"head": {}, "boolean": value}).encode()
    if media_type == XML:
        return (f'<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                f"<head/><boolean>{'true' if value else 'false'}</boolean></sparql>\n").encode()
    # CSV/TSV define no boolean form; answer like Jena does.
    return f"_askResult\r\n{'true' if value else 'false'}\r\n".encode()


def serialize_solutions(variables: list[str], solutions: Iterable[Any], media_type: str,
                        limit: int) -> tuple[bytes, bool]:
    """SELECT solutions, at most ``limit`` of them."""
    rows: list[list[Any]] = []
    truncated = False
    for solution in solutions:
        if len(rows) == limit:
            truncated = True
            break
        rows.append([solution[v] for v in variables])
    if media_type == JSON:
        return _json(variables, rows), truncated
    if media_type == XML:
        return _xml(variables, rows), truncated
    if media_type == CSV:
        return _csv(variables, rows), truncated
    return _tsv(variables, rows), truncated


def _triple(t: Any) -> ox.Triple:
    return ox.Triple(t.subject, t.predicate, t.object) if isinstance(t, ox.Quad) else t


def _json_term(term: Any) -> dict[str, Any]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    return {"type": "triple", "value": {"subject": _json_term(term.subject),
                                        "predicate": _json_term(term.predicate),
                                        "object": _json_term(term.object)}}


def _json(variables: list[str], rows: list[list[Any]]) -> bytes:
    bindings = [{v: _json_term(t) for v, t in zip(variables, row) if t is not None}
                for row in rows]
    return json.dumps({"head": {"vars": variables}, "results": {"bindings": bindings}},
                      ensure_ascii=False, separators=(",", ":")).encode()


def _xml_term(term: Any) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value != XSD_STRING:
            return (f"<literal datatype={quoteattr(term.datatype.value)}>"
                    f"{escape(term.value)}</literal>")
        return f"<literal>{escape(term.value)}</literal>"
    return (f"<triple><subject>{_xml_term(term.subject)}</subject><predicate>"
            f"{_xml_term(term.predicate)}</predicate><object>{_xml_term(term.object)}"
            "</object></triple>")


def _xml(variables: list[str], rows: list[list[Any]]) -> bytes:
    out = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">',
           "<head>", *(f"<variable name={quoteattr(v)}/>" for v in variables),
           "</head><results>"]
    for row in rows:
        out.append("<result>")
        out += [f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>"
                for v, t in zip(variables, row) if t is not None]
        out.append("</result>")
    out.append("</results></sparql>\n")
    return "".join(out).encode()


def _csv(variables: list[str], rows: list[list[Any]]) -> bytes:
    # SPARQL 1.1 CSV: plain values (IRIs and literals without markup), CRLF line ends.
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(variables)
    for row in rows:
        writer.writerow(["" if t is None else spreadsheet_safe(
            "_:" + t.value if isinstance(t, ox.BlankNode)
            else t.value if hasattr(t, "value") else str(t)) for t in row])
    return buf.getvalue().encode()


def _tsv_term(term: Any) -> str:
    """A term in TSV (Turtle syntax); a literal a spreadsheet would run has its first
    character written as a \\u escape: the same literal to an RDF reader (Turtle 6.4,
    UCHAR), text to a spreadsheet. Tab and CR are already escaped by the syntax."""
    text = str(term)
    if isinstance(term, ox.Literal) and term.value[:1] in FORMULA_LEADS[:4] \
            and not _NUMBER.fullmatch(term.value):
        return f'"\\u{ord(term.value[0]):04X}{text[2:]}'
    return text


def _tsv(variables: list[str], rows: list[list[Any]]) -> bytes:
    # SPARQL 1.1 TSV: terms in Turtle/N-Triples syntax, "?var" header.
    lines = ["\t".join("?" + v for v in variables)]
    lines += ["\t".join("" if t is None else _tsv_term(t) for t in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()

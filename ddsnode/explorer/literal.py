"""How a typed literal reads on a page: numbers in the reader's locale, dates as dates,
geometry left to the map.

RDF keeps ``"4.5764E1"^^xsd:double`` and ``"POINT(4.8 45.7)"^^geo:wktLiteral``; a person
should read ``45.764`` (``45,764`` in French) and no WKT at all. The lexical forms are
valid (XSD 1.1 Part 2, 3.3.5 double; GeoSPARQL 1.1, 8.5.1 wktLiteral), just not for
reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import rdflib

XSD = "http://www.w3.org/2001/XMLSchema#"
# XSD 1.1 Part 2, 3.3: the numeric primitive types and the integer types derived from
# decimal (3.4.13-3.4.25).
NUMERIC = {XSD + name for name in (
    "decimal", "double", "float", "integer", "int", "long", "short", "byte",
    "nonNegativeInteger", "positiveInteger", "nonPositiveInteger", "negativeInteger",
    "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte")}
DATES = {XSD + "date", XSD + "dateTime", XSD + "dateTimeStamp"}
# GeoSPARQL 1.1 geometry serialisations: the map draws them; a page does not print them.
GEOMETRY = {"http://www.opengis.net/ont/geosparql#wktLiteral",
            "http://www.opengis.net/ont/geosparql#gmlLiteral",
            "http://www.opengis.net/ont/geosparql#geoJSONLiteral"}
# Property local names that hold coordinates and geometry whatever their datatype.
GEOMETRY_NAMES = {"asWKT", "asGML", "asGeoJSON", "hasGeometry", "geometry"}
MAX_DIGITS = 6  # decimals kept of a double (a coordinate to about 10 cm)


@dataclass(frozen=True)
class Reading:
    """What a page shows of a literal: text, or a number, or a date (ISO, formatted later)."""

    text: str
    number: float | int | None = None
    iso: str | None = None


def reading(literal: rdflib.Literal) -> Reading | None:
    """How ``literal`` reads; None when it is not for reading (a geometry)."""
    datatype = str(literal.datatype) if literal.datatype is not None else ""
    lexical = str(literal)
    if datatype in GEOMETRY:
        return None
    if datatype in NUMERIC:
        return Reading(lexical, number=number(lexical))
    if datatype in DATES and re.match(r"\d{4}-\d\d-\d\d", lexical):
        return Reading(lexical, iso=lexical)
    return Reading(lexical)


def number(lexical: str) -> float | int | None:
    """The value of a numeric lexical form (``4.0E1`` -> 40, ``4.5764E1`` -> 45.764)."""
    try:
        value = float(lexical.strip())
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None  # NaN and infinities read as their lexical form
    if value.is_integer() and abs(value) < 2 ** 53:
        return int(value)
    return round(value, MAX_DIGITS)


def words(name: str) -> str:
    """A camelCase local name as words (``openingHours`` -> ``opening hours``): the last
    resort for a property no vocabulary labels."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ")
    return spaced[:1] + spaced[1:].lower() if spaced else name

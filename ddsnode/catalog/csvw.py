"""CSVW data dictionaries: the W3C metadata document that says what each CSV column is.

A client finds the dictionary of a CSV download from the ``Link: <…>; rel="describedby"``
header the node sends with it (CSVW "Model for Tabular Data" 5.2, Link header), or from
the catalogue, where the CSV distribution ``dct:conformsTo`` it. The documents follow
"Metadata Vocabulary for Tabular Data" (W3C Recommendation 2015): a table with its
``url``, a ``tableSchema`` of ``columns`` (name, titles, datatype, separator for lists),
the primary key, and ``aboutUrl`` so that a CSVW-to-RDF converter names each row by the
resource's own IRI.
"""

from __future__ import annotations

import json
from typing import Any

from ddsnode.catalog.dump import COLUMNS
from ddsnode.catalog.terms import CSVW_CONTEXT

#: Datatypes of the election CSV's columns (``elections.export.csv_text``): the
#: vote-count columns are integers, the rest text.
_ELECTION_TEXT = {"county", "precinct", "office", "district", "party", "candidate"}


def _document(url: str, title: str, columns: list[dict[str, Any]],
              key: str | None, about: str | None) -> bytes:
    schema: dict[str, Any] = {"columns": columns}
    if key:
        schema["primaryKey"] = key
    if about:
        schema["aboutUrl"] = about
    document = {"@context": [CSVW_CONTEXT, {"@language": "en"}], "url": url,
                "dc:title": title, "dialect": {"header": True, "encoding": "utf-8"},
                "tableSchema": schema}
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


def resources_dictionary(url: str, title: str) -> bytes:
    """The dictionary of a dump's CSV (one row per resource, ``dump.COLUMNS``)."""
    columns = []
    for name, datatype, meaning, many in COLUMNS:
        column: dict[str, Any] = {"name": name, "titles": name, "dc:description": meaning,
                                  "datatype": datatype, "required": name == "iri"}
        if many:
            column["separator"] = " "
        columns.append(column)
    return _document(url, title, columns, "iri", "{+iri}")


def election_dictionary(url: str, title: str, header: list[str]) -> bytes:
    """The dictionary of an election's CSV, whose columns depend on the count types in it."""
    columns = []
    for name in header:
        text = name in _ELECTION_TEXT
        columns.append({"name": name, "titles": name,
                        "datatype": "string" if text else "nonNegativeInteger",
                        "dc:description": (f"{name}, as OpenElections names it" if text else
                                           f"votes ({name.replace('_', ' ')})")})
    return _document(url, title, columns, None, None)

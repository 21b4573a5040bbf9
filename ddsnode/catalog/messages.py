"""The catalogue's text in French, English, Catalan and Spanish: the HTML page's words and
the titles and descriptions the DCAT graph gives in each language.

The catalogues are ``ddsnode/catalog/locales/<lang>.json`` (msgid -> text, ``str.format``
fields in braces); English is the fallback for a missing message, and a test keeps the
four catalogues' msgids the same.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "fr", "ca", "es")
#: The languages the catalogue graph's titles and descriptions are given in.
GRAPH_LANGUAGES = ("en", "fr")
CATALOGUES = Path(__file__).resolve().parent / "locales"


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The messages of ``lang`` (English for a language without a catalogue)."""
    code = lang if lang in LANGUAGES else "en"
    data: dict[str, str] = json.loads((CATALOGUES / f"{code}.json").read_text(encoding="utf-8"))
    return data


def message(msgid: str, lang: str, **values: object) -> str:
    """The text of ``msgid`` in ``lang``, else in English, else the msgid, fields filled."""
    text = catalogue(lang).get(msgid) or catalogue("en").get(msgid) or msgid
    return text.format(**values) if values else text


def known(msgid: str, lang: str) -> str | None:
    """The text of ``msgid`` in ``lang`` (else English), or None when no catalogue has it."""
    return catalogue(lang).get(msgid) or catalogue("en").get(msgid) or None


def dataset_title(kind: str, subject_path: str, title: str, lang: str) -> str:
    """The title a dataset of participation data is listed under: a container's name in
    ``lang`` (the catalogue's), else the title the data gives."""
    if kind == "container":
        return known(f"containers.{subject_path.strip('/')}", lang) or title
    return title

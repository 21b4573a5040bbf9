"""The directory's and the map's interface text in French, English, Catalan and Spanish.

The catalogues are ``ddsnode/explorer/locales/directory/<lang>.json`` (msgid -> text,
``str.format`` fields in braces); English is the fallback for a missing message, and a
test keeps the four catalogues' msgids the same.

A field that counts has its plural forms beside the message: ``"map_group": "{count}:
{names}"`` and ``"map_group.count": {"one": "{count} organisation", "other": "{count}
organisations"}``, keyed by CLDR plural category (``one``, ``many``, ``other``: Babel's
``Locale.plural_form``; French ``one`` is 0 and 1). :func:`formatted` writes each such
field in its form for the number.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from babel import Locale
from babel.numbers import format_decimal

from ddsnode.explorer.directory_terms import clusters, levels

LANGUAGES = ("en", "fr", "ca", "es")
CATALOGUES = Path(__file__).resolve().parent / "locales" / "directory"


@cache
def entries(lang: str) -> dict[str, str | dict[str, str]]:
    """The catalogue of ``lang`` as written: messages, and plural forms of counted fields."""
    code = lang if lang in LANGUAGES else "en"
    data: dict[str, str | dict[str, str]] = json.loads(
        (CATALOGUES / f"{code}.json").read_text(encoding="utf-8"))
    return data


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The messages of ``lang`` (English for a language without a catalogue)."""
    return {k: v for k, v in entries(lang).items() if isinstance(v, str)}


def message(msgid: str, lang: str) -> str:
    """The text of ``msgid`` in ``lang``, else in English, else the msgid itself."""
    return catalogue(lang).get(msgid) or catalogue("en").get(msgid) or msgid


def formatted(msgid: str, lang: str, **values: object) -> str:
    """``msgid`` with its fields filled; an integer field with plural forms
    (``msgid.field``, see the module docstring) in its form for the number, the number
    written as the language writes it."""
    code = lang if lang in LANGUAGES else "en"
    filled: dict[str, object] = {}
    for name, value in values.items():
        forms = entries(code).get(f"{msgid}.{name}") or entries("en").get(f"{msgid}.{name}")
        if isinstance(forms, dict) and isinstance(value, int) and not isinstance(value, bool):
            form = forms.get(Locale.parse(code).plural_form(value)) or forms["other"]
            filled[name] = form.format(count=format_decimal(value, locale=code))
        else:
            filled[name] = value
    return message(msgid, lang).format(**filled)


def cluster_label(word: str, lang: str) -> str:
    """A cluster's label: the catalogue's (ca, es), else the scheme file's (en, fr)."""
    concept = clusters().by_word(word)
    return catalogue(lang).get(f"cluster.{word}") or (concept.label(lang) if concept else word)


def level_label(word: str, lang: str) -> str:
    """An IAP2 level's label: the catalogue's (ca, es), else the scheme file's (en, fr)."""
    concept = levels().by_word(word)
    return catalogue(lang).get(f"level.{word}") or (concept.label(lang) if concept else word)

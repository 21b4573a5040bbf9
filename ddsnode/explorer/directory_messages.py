"""The directory's and the map's interface text in French, English, Catalan and Spanish.

The catalogues are ``ddsnode/explorer/locales/directory/<lang>.json`` (msgid -> text,
``str.format`` fields in braces); English is the fallback for a missing message, and a
test keeps the four catalogues' msgids the same.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from ddsnode.explorer.directory_terms import clusters, levels

LANGUAGES = ("en", "fr", "ca", "es")
CATALOGUES = Path(__file__).resolve().parent / "locales" / "directory"


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The messages of ``lang`` (English for a language without a catalogue)."""
    code = lang if lang in LANGUAGES else "en"
    data: dict[str, str] = json.loads((CATALOGUES / f"{code}.json").read_text(encoding="utf-8"))
    return data


def message(msgid: str, lang: str) -> str:
    """The text of ``msgid`` in ``lang``, else in English, else the msgid itself."""
    return catalogue(lang).get(msgid) or catalogue("en").get(msgid) or msgid


def cluster_label(word: str, lang: str) -> str:
    """A cluster's label: the catalogue's (ca, es), else the scheme file's (en, fr)."""
    concept = clusters().by_word(word)
    return catalogue(lang).get(f"cluster.{word}") or (concept.label(lang) if concept else word)


def level_label(word: str, lang: str) -> str:
    """An IAP2 level's label: the catalogue's (ca, es), else the scheme file's (en, fr)."""
    concept = levels().by_word(word)
    return catalogue(lang).get(f"level.{word}") or (concept.label(lang) if concept else word)

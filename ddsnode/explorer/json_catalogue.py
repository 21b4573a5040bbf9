"""Interface text kept as JSON message catalogues, one file per language.

``<folder>/<lang>.json`` maps a msgid to its text, with ``str.format`` fields in braces;
English is the fallback for a missing message (and for a language without a catalogue),
the msgid itself the last one. The directory (``locales/directory``) and the clerk's page
(``locales/clerk``) keep theirs this way, beside the gettext catalogues of the other pages.

A field that counts has its plural forms beside the message: ``"map_group": "{count}:
{names}"`` and ``"map_group.count": {"one": "{count} organisation", "other": "{count}
organisations"}``, keyed by CLDR plural category (``one``, ``many``, ``other``: Babel's
``Locale.plural_form``; French ``one`` is 0 and 1). :meth:`JsonCatalogue.formatted`
writes each such field in its form for the number.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from babel import Locale
from babel.numbers import format_decimal

__all__ = ["LANGUAGES", "JsonCatalogue"]

LANGUAGES = ("en", "fr", "ca", "es")


class JsonCatalogue:
    """The catalogues of one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        # Read once per language (the files ship with the package).
        self.entries = cache(self._entries)
        self.catalogue = cache(self._catalogue)

    def _entries(self, lang: str) -> dict[str, str | dict[str, str]]:
        code = lang if lang in LANGUAGES else "en"
        data: dict[str, str | dict[str, str]] = json.loads(
            (self.folder / f"{code}.json").read_text(encoding="utf-8"))
        return data

    def _catalogue(self, lang: str) -> dict[str, str]:
        return {k: v for k, v in self.entries(lang).items() if isinstance(v, str)}

    def message(self, msgid: str, lang: str) -> str:
        """The text of ``msgid`` in ``lang``, else in English, else the msgid itself."""
        return self.catalogue(lang).get(msgid) or self.catalogue("en").get(msgid) or msgid

    def formatted(self, msgid: str, lang: str, **values: object) -> str:
        """``msgid`` with its fields filled; an integer field with plural forms
        (``msgid.field``) in its form for the number, the number written as the
        language writes it."""
        code = lang if lang in LANGUAGES else "en"
        filled: dict[str, object] = {}
        for name, value in values.items():
            forms = (self.entries(code).get(f"{msgid}.{name}")
                     or self.entries("en").get(f"{msgid}.{name}"))
            if isinstance(forms, dict) and isinstance(value, int) and \
                    not isinstance(value, bool):
                form = forms.get(Locale.parse(code).plural_form(value)) or forms["other"]
                filled[name] = form.format(count=format_decimal(value, locale=code))
            else:
                filled[name] = value
        return self.message(msgid, lang).format(**filled)

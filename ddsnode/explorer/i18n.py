"""The interface's languages: French, English, Catalan, Spanish.

Message catalogues are gettext ``.po`` files in ``ddsnode/explorer/locales/<lang>/``,
read with Babel when the explorer starts (so an editable install and a wheel work the
same, with no compile step). The language of a request is, in order: ``?lang=``, the
``ddsnode_lang`` cookie the switch sets, ``Accept-Language`` (RFC 9110 12.5.4), English.

A message that shows a count has plural forms (``msgid_plural``, ``msgstr[0]``…), chosen
by the catalogue's ``Plural-Forms`` header: CLDR's rules as Babel writes them (French
``one`` is 0 and 1, Catalan and Spanish ``one`` is 1 only, and all three have ``many``
for exact millions: "1 000 000 de résultats"). :meth:`Translator.ngettext` picks the form
through the standard library's gettext, from a catalogue Babel compiles in memory.
"""

from __future__ import annotations

import gettext as gnu
import io
from datetime import date, datetime
from functools import cache, lru_cache
from importlib import resources

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

LANGUAGES = ("fr", "en", "ca", "es")
DEFAULT = "en"
COOKIE = "ddsnode_lang"


@cache
def catalogue(lang: str) -> dict[str, str]:
    """msgid -> translation of ``lang``'s catalogue (empty for English: msgids are English)."""
    path = resources.files("ddsnode.explorer") / "locales" / lang / "messages.po"
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string
            and isinstance(m.id, str) and not m.fuzzy}


@cache
def plurals(lang: str) -> gnu.NullTranslations:
    """``lang``'s catalogue as gettext translations, for messages with plural forms (an
    English or missing message falls back to the msgids: singular for 1, else plural)."""
    path = resources.files("ddsnode.explorer") / "locales" / lang / "messages.po"
    if not path.is_file():
        return gnu.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gnu.GNUTranslations(compiled)


def chosen(param: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The language of a request (see the module docstring)."""
    for explicit in (param, cookie):
        if explicit in LANGUAGES:
            return str(explicit)
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "")[:1024].split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else DEFAULT


def cookie_language(header: str | None) -> str | None:
    """The language the ``ddsnode_lang`` cookie names in a Cookie header, or None: the one
    reader of that cookie, for every page.

    RFC 6265 5.4: the header is ``name=value`` pairs separated by ``;``; a value may be
    in double quotes (4.1.1 cookie-value). Several Cookie fields come joined with ``,``
    (``http.exchange.request_headers``), which no cookie-value holds (4.1.1), so it
    separates pairs too. A pair that is not one, or a value that is no language of the
    interface, is no cookie; of several ``ddsnode_lang`` the first that names a language
    wins (5.4 step 2 lists the cookie of the longest path first)."""
    for part in (header or "").replace(",", ";").split(";"):
        name, equals, value = part.partition("=")
        if not equals or name.strip() != COOKIE:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if value in LANGUAGES:
            return value
    return None


def request_language(param: str | None, headers: dict[str, str]) -> str:
    """The language of a request from its ``lang`` parameter, its language cookie and
    its Accept-Language header (:func:`chosen`)."""
    return chosen(param, cookie_language(headers.get("cookie")),
                  headers.get("accept-language"))


class Translator:
    """The strings, dates and numbers of one language, for templates."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT
        self.messages = catalogue(self.lang)

    def gettext(self, message: str, **values: object) -> str:
        """``message`` in this language, with ``{name}`` placeholders filled."""
        text = self.messages.get(message, message)
        return text.format(**values) if values else text

    def ngettext(self, singular: str, plural: str, count: int, **values: object) -> str:
        """The form of a message for ``count`` in this language (``{count}`` is filled
        with the number as this language writes it, other placeholders from ``values``)."""
        text = plurals(self.lang).ngettext(singular, plural, count)
        return text.format(**{"count": self.number(count), **values})

    def date(self, value: str | None) -> str:
        """An ISO date or dateTime, as this language writes it (long date, time if any)."""
        if not value:
            return ""
        try:
            if len(value) == 10:
                return format_date(date.fromisoformat(value), "long", locale=self.lang)
            moment = datetime.fromisoformat(value)
            return format_datetime(moment, "long", locale=self.lang).rsplit(" ", 1)[0] \
                if moment.tzinfo else format_datetime(moment, "long", locale=self.lang)
        except ValueError:
            return value

    def day(self, value: str | None) -> str:
        """The day of an ISO date or dateTime, as this language writes it (lists show
        days; formatting is cached: a page lists many of the same days)."""
        return _day(value[:10], self.lang) if value else ""

    def number(self, value: float) -> str:
        """A number with this language's separators."""
        return _number(value, self.lang)

    def percent(self, value: float) -> str:
        """A fraction as a percentage with one decimal (``0.554`` -> ``55,4 %``)."""
        return format_percent(value, "#,##0.0%", locale=self.lang)

    @staticmethod
    def language_name(code: str) -> str:
        """A language's own name (``català``), for switches and the language facet."""
        return _language_name(code)


# Babel parses its locale data on every call: a page formats hundreds of facet counts.
@lru_cache(maxsize=16384)
def _number(value: float, lang: str) -> str:
    return str(format_decimal(value, locale=lang))


@lru_cache(maxsize=16384)
def _day(value: str, lang: str) -> str:
    try:
        return str(format_date(date.fromisoformat(value), "long", locale=lang))
    except ValueError:
        return value


@lru_cache(maxsize=1024)
def _language_name(code: str) -> str:
    try:
        return str(Locale.parse(code).get_display_name(code) or code)
    except (ValueError, TypeError, LookupError):
        return code

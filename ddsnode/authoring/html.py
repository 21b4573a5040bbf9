"""HTML building blocks for ``ddsnode ontology docs``: escaped text, links, tables, a page.

Every piece of text from the ontology passes through :func:`esc`; the pages use one
local stylesheet and no script, so the site works offline and fetches nothing.
"""

from __future__ import annotations

from html import escape
from importlib import resources as importlib_resources

# Interface words, per language; a language not listed falls back to English.
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "classes": "Classes", "properties": "Properties", "schemes": "Concept schemes",
        "modules": "Modules", "version": "Version", "iri": "IRI", "subclass_of": "Subclass of",
        "superclasses": "Superclasses", "subclasses": "Subclasses", "domain": "Domain",
        "range": "Range", "subproperty_of": "Subproperty of", "subproperties": "Subproperties",
        "alignment": "Alignment", "shapes": "Shapes", "examples": "Examples",
        "path": "Path", "cardinality": "Cardinality", "values": "Values",
        "severity": "Severity", "message": "Message", "shape": "Shape",
        "used_in_shapes": "Used in shapes", "domain_of": "Properties with this domain",
        "range_of": "Properties with this range", "concepts": "Concepts",
        "notation": "Notation", "label": "Label", "definition": "Definition",
        "defined_in": "Defined in", "index": "Index", "kind": "Kind",
        "version_iri": "Version IRI", "no_entries": "None.", "languages": "Languages",
        "targets": "Target class", "one_of": "one of", "any_of": "any of",
        "not_typed_here": "an IRI not typed in the document",
        "other_shape": "a nested shape", "inherited_from": "from",
        "json_term": "JSON-LD term", "json_type": "JSON-LD type",
        "mapped_from": "Mapped from",
    },
    "fr": {
        "classes": "Classes", "properties": "Propriétés", "schemes": "Schémas de concepts",
        "modules": "Modules", "version": "Version", "iri": "IRI", "subclass_of": "Sous-classe de",
        "superclasses": "Super-classes", "subclasses": "Sous-classes", "domain": "Domaine",
        "range": "Portée", "subproperty_of": "Sous-propriété de",
        "subproperties": "Sous-propriétés", "alignment": "Alignements", "shapes": "Formes",
        "examples": "Exemples", "path": "Chemin", "cardinality": "Cardinalité",
        "values": "Valeurs", "severity": "Gravité", "message": "Message", "shape": "Forme",
        "used_in_shapes": "Utilisée dans les formes",
        "domain_of": "Propriétés ayant cette classe pour domaine",
        "range_of": "Propriétés ayant cette classe pour portée", "concepts": "Concepts",
        "notation": "Notation", "label": "Libellé", "definition": "Définition",
        "defined_in": "Définie dans", "index": "Index", "kind": "Nature",
        "version_iri": "IRI de version", "no_entries": "Aucun.", "languages": "Langues",
        "targets": "Classe cible", "one_of": "l'un de", "any_of": "au choix",
        "not_typed_here": "un IRI sans type dans le document",
        "other_shape": "une forme imbriquée", "inherited_from": "héritée de",
        "json_term": "Terme JSON-LD", "json_type": "Type JSON-LD",
        "mapped_from": "Correspondances depuis",
    },
}
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "de": "Deutsch", "es": "Español",
                  "it": "Italiano", "nl": "Nederlands", "ca": "Català"}


def word(key: str, lang: str) -> str:
    """An interface word in ``lang`` (English when there is no translation)."""
    return WORDS.get(lang, {}).get(key) or WORDS["en"][key]


def esc(text: object) -> str:
    """Text escaped for HTML content and attribute values."""
    return escape(str(text), quote=True)


def link(href: str, text: str, *, external: bool = False) -> str:
    """An ``<a>`` element; ``text`` is escaped here."""
    rel = ' rel="noreferrer"' if external else ""
    return f'<a href="{esc(href)}"{rel}>{esc(text)}</a>'


def table(headers: list[str], rows: list[list[str]], lang: str) -> str:
    """A table; cells are already HTML (escape before), headers are escaped here."""
    if not rows:
        return f"<p>{esc(word('no_entries', lang))}</p>"
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def items(entries: list[str], lang: str) -> str:
    """A list of already-escaped HTML items."""
    if not entries:
        return f"<p>{esc(word('no_entries', lang))}</p>"
    return "<ul>" + "".join(f"<li>{e}</li>" for e in entries) + "</ul>"


def section(title: str, body: str, anchor: str = "") -> str:
    """A titled section; ``title`` is escaped here, ``body`` is HTML."""
    ident = f' id="{esc(anchor)}"' if anchor else ""
    return f"<section{ident}><h2>{esc(title)}</h2>{body}</section>"


def page(*, lang: str, title: str, body: str, root: str, switcher: dict[str, str],
         home: str) -> str:
    """A whole HTML page; ``root`` is the relative path to the site's top folder."""
    others = " · ".join(
        f'<a href="{esc(href)}" hreflang="{esc(code)}" lang="{esc(code)}">'
        f"{esc(LANGUAGE_NAMES.get(code, code))}</a>"
        if code != lang else f"<strong>{esc(LANGUAGE_NAMES.get(code, code))}</strong>"
        for code, href in switcher.items())
    return (
        f'<!DOCTYPE html>\n<html lang="{esc(lang)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n"
        f'<link rel="stylesheet" href="{esc(root)}style.css">\n</head>\n<body>\n'
        f'<header><nav><a href="{esc(home)}">{esc(word("index", lang))}</a>'
        f'<span class="languages" aria-label="{esc(word("languages", lang))}">{others}'
        f"</span></nav></header>\n<main>\n<h1>{esc(title)}</h1>\n{body}\n</main>\n"
        "</body>\n</html>\n")


def stylesheet() -> str:
    """The site's CSS (``ddsnode/authoring/style.css``)."""
    return importlib_resources.files("ddsnode.authoring").joinpath("style.css").read_text(
        encoding="utf-8")

"""The directory's and the map's interface text in French, English, Catalan and Spanish.

The catalogues are ``ddsnode/explorer/locales/directory/<lang>.json``, read as every JSON
catalogue of the explorer is (:mod:`ddsnode.explorer.json_catalogue`: English fallback,
plural forms of counted fields beside their message); a test keeps the four catalogues'
msgids the same.
"""

from __future__ import annotations

from pathlib import Path

from ddsnode.explorer.directory_terms import clusters, levels
from ddsnode.explorer.json_catalogue import JsonCatalogue

CATALOGUES = Path(__file__).resolve().parent / "locales" / "directory"
_TEXT = JsonCatalogue(CATALOGUES)
entries = _TEXT.entries
catalogue = _TEXT.catalogue
message = _TEXT.message
formatted = _TEXT.formatted


def cluster_label(word: str, lang: str) -> str:
    """A cluster's label: the catalogue's (ca, es), else the scheme file's (en, fr)."""
    concept = clusters().by_word(word)
    return catalogue(lang).get(f"cluster.{word}") or (concept.label(lang) if concept else word)


def level_label(word: str, lang: str) -> str:
    """An IAP2 level's label: the catalogue's (ca, es), else the scheme file's (en, fr)."""
    concept = levels().by_word(word)
    return catalogue(lang).get(f"level.{word}") or (concept.label(lang) if concept else word)

"""The contributions the last run read, kept in ``DIR/analysis/contributions.json`` so that
the next run reads from the store only those the change log shows written or deleted since.

Reading 100,000 contributions back from the store and parsing their N-Triples cost an
incremental run 8 s of its 60 (docs/analysis.md); the kept copy loads in a fraction of
that. It is only a cache of the store: a run over a window (``--since``), a backend that
keeps no change log positions, more contributions than ``analysis_max_contributions`` or
another ``analysis_max_text_chars`` read everything from the store, as before, and
deleting the file costs one full read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from ddsnode.analysis import corpus
from ddsnode.analysis.corpus import Contribution
from ddsnode.analysis.published import changed
from ddsnode.files import replace_durably
from ddsnode.store.base import Store


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


FILE = "contributions.json"
# The tokeniser's versions: kept tokens are used only with the lemmatiser that made them
_TOKENS = f"simplemma {_version('simplemma')}; stopwordsiso {_version('stopwordsiso')}"


def _plain(c: Contribution) -> list[Any]:
    return [c.iri, c.kind, c.texts, sorted(c.machine), c.stance, c.reply_to, c.platform,
            list(c.topics), c.created, c.support_count, c.votes_against, c.analysed]


def _contribution(row: list[Any]) -> Contribution:
    iri, kind, texts, machine, stance, reply_to, platform, topics, created, support, \
        against, analysed = row
    return Contribution(iri, kind, dict(texts), set(machine), stance, reply_to, platform,
                        tuple(topics), created, support, against, dict(analysed))


def read(store: Store, base: str, folder: Path, *, max_items: int, max_chars: int, since: str,
         position: int, tick: Callable[[], None] = lambda: None
         ) -> tuple[list[Contribution], bool]:
    """The live contributions of the node (as :func:`corpus.from_store` reads them), and
    whether they may be kept for the next run (all of them read, none left out by a limit).
    ``position``: the change log's position before reading began."""
    if since or not position:
        return list(corpus.from_store(store, base, max_items=max_items, max_chars=max_chars,
                                      since=since, tick=tick)), False
    kept = _load(folder, max_chars)
    if kept is not None:
        after, items = kept
        containers = {base + path for path in corpus.CONTAINERS}
        for iri in sorted(changed(store, containers, after)):
            items.pop(iri, None)
            resource = store.get(iri)
            if resource is not None and resource.kind == "rdf":
                c = corpus.from_ntriples(iri, resource.ntriples, max_chars)
                if c is not None:
                    items[iri] = c
            tick()
        if len(items) < max_items:
            return list(items.values()), True
    items_read = list(corpus.from_store(store, base, max_items=max_items, max_chars=max_chars,
                                        tick=tick))
    return items_read, len(items_read) < max_items


def _load(folder: Path, max_chars: int) -> tuple[int, dict[str, Contribution]] | None:
    try:
        raw = json.loads((folder / FILE).read_text(encoding="utf-8"))
        if int(raw["max_chars"]) != max_chars or int(raw["position"]) <= 0 \
                or raw.get("tokens") != _TOKENS:
            return None
        return int(raw["position"]), {row[0]: _contribution(row) for row in raw["items"]}
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None  # damaged or from another version: the run reads every contribution


def save(folder: Path, position: int, items: list[Contribution], max_chars: int) -> None:
    """Keep ``items``, read from the store from change-log ``position`` on."""
    folder.mkdir(exist_ok=True)
    replace_durably(folder / FILE, json.dumps(
        {"position": position, "max_chars": max_chars, "tokens": _TOKENS,
         "items": [_plain(c) for c in items]}, ensure_ascii=False).encode("utf-8"))


def forget(folder: Path) -> None:
    """Drop the kept copy (the next run reads everything)."""
    (folder / FILE).unlink(missing_ok=True)

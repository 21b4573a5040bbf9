"""What the catalogue's HTML page shows of one page of a build, in the reader's language.

Plain data for the template (``explorer/templates/catalog.html``): the same datasets,
titles and files as the DCAT graph of that page (``catalog.graph``), so a person and a
harvester read the same catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass

from ddsnode.catalog.build import Build, download_url
from ddsnode.catalog.dump import Slice
from ddsnode.catalog.elections import Election, election_title
from ddsnode.catalog.graph import entries
from ddsnode.catalog.messages import dataset_title, message
from ddsnode.catalog.terms import format_of, generation_format


@dataclass(frozen=True)
class FileView:
    """One downloadable file."""

    name: str
    href: str
    label: str
    size: str
    sha256: str


@dataclass(frozen=True)
class DatasetView:
    """One dataset (or an election's series) as the page lists it."""

    title: str
    description: str
    files: list[FileView]
    count: int | None = None
    start: str | None = None
    end: str | None = None
    series: bool = False


def size_text(size: int, lang: str) -> str:
    """A byte count as people read it (kB and MB are 1000 and 1,000,000 bytes)."""
    if size < 1000:
        return message("unit.bytes", lang, n=size)
    if size < 1_000_000:
        return message("unit.kb", lang, n=round(size / 1000, 1))
    return message("unit.mb", lang, n=round(size / 1_000_000, 1))


def _files(build: Build, base: str, names: list[str], lang: str) -> list[FileView]:
    out = []
    for name in names:
        entry = build.files.get(name)
        if entry is not None:
            out.append(FileView(name, download_url(base, name), format_of(name).label,
                                size_text(entry.size, lang), entry.sha256))
    return out


def _slice(build: Build, base: str, name: str, piece: Slice, lang: str) -> DatasetView:
    path = piece.subject[len(base):]
    title = dataset_title(piece.kind, path, piece.title or path or name, lang)
    values = {"name": name, "title": title, "path": path, "count": piece.count}
    return DatasetView(message(f"{piece.kind}.title", lang, **values),
                       message(f"{piece.kind}.description", lang, **values),
                       _files(build, base, piece.files, lang), piece.count, piece.first,
                       piece.last)


def _election(build: Build, base: str, election: Election, lang: str) -> list[DatasetView]:
    title = election_title(election, lang)
    out = [DatasetView(message("series.title", lang, title=title),
                       message("election.description", lang, title=title),
                       _files(build, base, election.files, lang), None,
                       election.start or None, election.end or None, series=True)]
    for generation in election.generations:
        values = {"title": title, "n": generation["number"], "status": generation["status"]}
        files = [FileView(str(f["path"]), generation["url"] + str(f["path"]),
                          generation_format(str(f["path"])).label + f" ({f['path']})",
                          size_text(int(f["size"]), lang), str(f["sha256"]))
                 for f in generation["files"]]
        out.append(DatasetView(message("generation.title", lang, **values),
                               message("generation.description", lang, **values), files,
                               series=True))
    return out


def page_view(build: Build, base: str, name: str, page: int, page_size: int,
              lang: str) -> list[DatasetView]:
    """The datasets of page ``page`` (1-based) of ``build``'s catalogue."""
    start = (page - 1) * page_size
    out = []
    for entry in entries(build)[start:start + page_size]:
        piece = entry.piece
        if isinstance(piece, Election):
            out += _election(build, base, piece, lang)
        else:
            out.append(_slice(build, base, name, piece, lang))
    return out

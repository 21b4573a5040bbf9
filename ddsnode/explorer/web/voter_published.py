"""Results of the voter pages from election night's publication: the current signed
generation of an election (docs/election-night.md), read from the node's archive."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ddsnode.elections.reporting import UnitResult
from ddsnode.publication.archive import Archive, ArchiveError
from ddsnode.publication.parts import read_snapshot


@dataclass(frozen=True)
class Published:
    """The signed generation an election's results on the page come from."""

    election: str
    generation: int
    generated: str
    pointer: str  # URL of ``{election}/results/current``
    manifest: str  # URL of the signed manifest


class PublishedResults:
    """A ResultsFeed over the current signed generation of each election (the snapshot
    ``results.json`` its manifest lists, docs/election-night.md), when there is one."""

    def __init__(self, node: Any) -> None:
        self.node = node
        self.archive = Archive.of(Path(node.settings.node_dir))

    def published(self, election: str) -> Published | None:
        """The election's current generation, or None before the first (or when the
        election is not this node's)."""
        if not election.startswith(self.node.base):
            return None
        try:
            pointer = self.archive.pointer(election[len(self.node.base):])
        except ArchiveError:
            return None
        if pointer is None:
            return None
        results = election + "/results/"
        return Published(election, pointer.generation, pointer.generated,
                         results + "current", results + pointer.manifest)

    def elections(self) -> list[str]:
        """The elections with a published generation."""
        return [self.node.base + e for e in self.archive.elections()]

    def results(self, election: str, since: int = 0) -> tuple[int, list[UnitResult]]:
        """Every unit result of the current generation (``since``: a generation)."""
        found = self.published(election)
        if found is None or found.generation <= since:
            return since, []
        try:
            path, n = election[len(self.node.base):], found.generation
            # results.json and the parts it lists (a large election's stations)
            data = {"results": read_snapshot(lambda p: self.archive.read(path, f"g/{n}/{p}"))}
            records = [UnitResult(
                election, str(r["contest"]), str(r["unit"]), str(r["level"]),
                tuple((str(sel), int(n)) for sel, n in r["counts"]), r.get("ballotsCast"),
                r.get("blank"), r.get("invalid"), r.get("registered"),
                int(r["stationsReported"]), int(r["stationsTotal"]), str(r["status"]),
                str(r["asOf"])) for r in data["results"]]
        except (OSError, ValueError, KeyError, TypeError):
            return since, []  # the page falls back to the stored results
        return found.generation, records

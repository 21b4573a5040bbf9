"""A PMTiles v3 directory, decoded into arrays, and the lookup of a tile in it.

A directory (PMTiles spec v3, "Directories") is a count ``n`` then four columns of ``n``
unsigned LEB128 varints: tile id deltas, run lengths, lengths, offsets (an offset of 0
means "right after the previous entry"; any other is the offset plus one), compressed as
the header's internal compression says. An entry with a run length of 0 points to a
leaf directory; any other to the bytes of ``run_length`` consecutive tiles.

The archive crosses a trust boundary (an operator's file, perhaps downloaded): a
directory is inflated to at most ``max_bytes`` and decoded with numpy in one pass over
its bytes, so a hostile one costs bounded memory and time (a few milliseconds a
megabyte), never a Python loop per varint; anything malformed is a
:class:`CorruptArchive` naming what is wrong. ``pmtiles``' own ``deserialize_directory``
inflates without a bound and loops in Python: the tests check this decoder against it.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Column = npt.NDArray[np.int64]

# Tile ids of zoom 0..31 (the spec's range) are below this: (4**32 - 1) / 3.
MAX_TILE_ID = (4 ** 32 - 1) // 3
NONE, GZIP = 1, 2  # the spec's internal compression codes this reader inflates


class CorruptArchive(ValueError):
    """A PMTiles archive that does not follow the spec (or not the part this node reads)."""


@dataclass(frozen=True)
class Directory:
    """One decoded directory: four columns, sorted by tile id."""

    tile_ids: Column
    run_lengths: Column
    lengths: Column
    offsets: Column

    @property
    def nbytes(self) -> int:
        """Memory its columns take (what a cache of directories weighs)."""
        return 4 * int(self.tile_ids.nbytes)

    def find(self, tile_id: int) -> tuple[int, int, bool] | None:
        """(offset, length, is_leaf) of the entry holding ``tile_id``, or None (the
        spec's lookup: the last entry at or before the id, a leaf or a run covering it)."""
        i = int(np.searchsorted(self.tile_ids, tile_id, side="right")) - 1
        if i < 0:
            return None
        run = int(self.run_lengths[i])
        if run == 0:
            return int(self.offsets[i]), int(self.lengths[i]), True
        if tile_id - int(self.tile_ids[i]) < run:
            return int(self.offsets[i]), int(self.lengths[i]), False
        return None

    def check(self, leaf_section: int, tile_section: int) -> None:
        """CorruptArchive unless every entry lies inside its section of the archive
        (tiles in the tile data, leaves in the leaf directories)."""
        leaf = self.run_lengths == 0
        ends = self.offsets + self.lengths
        if np.any(ends[leaf] > leaf_section) or np.any(ends[~leaf] > tile_section):
            raise CorruptArchive("a directory entry points outside the archive's sections")
        if np.any(self.lengths[leaf] == 0):
            raise CorruptArchive("a directory entry points to an empty leaf directory")


def inflate(raw: bytes, compression: int, max_bytes: int, what: str) -> bytes:
    """``raw`` as stored with the archive's internal ``compression``, inflated to at most
    ``max_bytes`` (CorruptArchive past it, or on a broken stream)."""
    if compression == NONE:
        data = raw
    elif compression == GZIP:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            data = inflater.decompress(raw, max_bytes + 1)
        except zlib.error as e:
            raise CorruptArchive(f"the {what} is not valid gzip ({e})") from None
        if len(data) > max_bytes:
            raise CorruptArchive(f"the {what} inflates to more than {max_bytes} bytes "
                                 "(explorer_map_pmtiles_max_directory_bytes)")
        if not inflater.eof:
            raise CorruptArchive(f"the {what} is a truncated gzip stream")
    else:
        raise CorruptArchive(f"internal compression {compression} is not supported "
                             "(none or gzip)")
    if len(data) > max_bytes:
        raise CorruptArchive(f"the {what} is larger than {max_bytes} bytes "
                             "(explorer_map_pmtiles_max_directory_bytes)")
    return data


def varints(data: bytes) -> Column:
    """Every unsigned LEB128 varint of ``data``, in order (CorruptArchive on a truncated
    one, or one of more than 63 bits: no offset or tile id of an archive needs more)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(raw < 0x80)
    if not ends.size or ends[-1] != raw.size - 1:
        raise CorruptArchive("a directory ends inside a varint")
    starts = np.concatenate(([0], ends[:-1] + 1))
    sizes = ends - starts + 1
    if int(sizes.max()) > 9:
        raise CorruptArchive("a directory holds a varint of more than 63 bits")
    # Each byte's place in its varint: its 7 bits go 7 * place to the left.
    place = np.arange(raw.size, dtype=np.int64) - np.repeat(starts, sizes)
    bits = (raw & 0x7F).astype(np.int64) << (7 * place)
    out: Column = np.add.reduceat(bits, starts)  # bits never overlap: the sum is an OR
    return out


def decode(data: bytes) -> Directory:
    """The directory serialised in ``data`` (already inflated)."""
    values = varints(data)
    n = int(values[0])
    if values.size != 1 + 4 * n or n == 0:
        raise CorruptArchive(f"a directory says {n} entries but holds {values.size - 1} "
                             "values (4 per entry)")
    deltas, runs, lengths, raw = (values[1 + k * n:1 + (k + 1) * n] for k in range(4))
    # Sums in floating point first: a hostile column cannot wrap the int64 sums below.
    if float(deltas.sum(dtype=np.float64)) > MAX_TILE_ID or \
            float(lengths.sum(dtype=np.float64)) > 2.0 ** 62:
        raise CorruptArchive("a directory's tile ids or lengths are out of range")
    if np.any(deltas[1:] == 0):
        raise CorruptArchive("a directory's tile ids are not strictly increasing")
    if raw[0] == 0:
        raise CorruptArchive("a directory's first offset follows no entry")
    tile_ids = np.cumsum(deltas)
    # Offset 0: right after the previous entry, so after the last explicit offset j,
    # offset[i] = offset[j] + lengths[j..i-1] (spec v3, "Directory Serialization").
    before = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    anchor = np.maximum.accumulate(np.where(raw > 0, np.arange(n), 0))
    offsets = raw[anchor] - 1 + before - before[anchor]
    return Directory(tile_ids, runs.copy(), lengths.copy(), offsets)

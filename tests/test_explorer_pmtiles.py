"""The map's tile layer from a PMTiles archive the node serves itself (issue 12,
``explorer_map_pmtiles``): tiny raster archives are written here with the ``pmtiles``
package's own writer, and the node answers ``/explore/tiles/{z}/{x}/{y}`` with the very
bytes written (204 where there is no tile, 400 for coordinates no map has, 503 for a
part of the archive that cannot be read), its pages point Leaflet at that path with the
Content-Security-Policy unchanged (no new origin), and a corrupt, unsupported or hostile
archive stops the node at start with a message naming the setting and the fault.
"""

from __future__ import annotations

import gzip
import json
import random
import re
from collections.abc import Callable, Iterator
from html import unescape
from pathlib import Path

import numpy as np
import pytest
from pmtiles.tile import (
    Compression,
    Entry,
    TileType,
    deserialize_directory,
    deserialize_header,
    serialize_directory,
    serialize_header,
)

from ddsnode.explorer.tile_archive import TileArchive
from ddsnode.explorer.tile_directory import CorruptArchive, decode, inflate, varints
from ddsnode.explorer.tiles import map_layer
from ddsnode.http.app import create_app
from ddsnode.settings import Settings
from tests.support.inprocess import LocalNode, local_node
from tests.support.tiles import png, write_archive

HTML = {"Accept": "text/html"}
TEMPLATE = "/explore/tiles/{z}/{x}/{y}"
TILES = {(0, 0, 0): png((200, 60, 60)), (1, 0, 0): png((60, 160, 60)),
         (1, 1, 1): png((60, 60, 200)), (2, 2, 1): png((220, 200, 40), grid=64)}
CREDIT = "© Rivemont <b>maps</b>"


def _load(node: LocalNode) -> None:
    core = node.app.node  # type: ignore[attr-defined]
    for slug, lat in (("near", 45.76), ("far", 48.85)):
        _, raw = node.example("a-proposal-school-streets")
        doc = json.loads(raw)
        doc["id"] = node.url(f"proposals/{slug}")
        doc["place"]["id"] = doc["id"] + "#place"
        doc["place"]["lat"], doc["place"]["long"] = lat, 2.35
        core.write_document(doc["id"], json.dumps(doc).encode(), "application/ld+json")


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_archive(tmp_path_factory.mktemp("tiles") / "rivemont.pmtiles", TILES,
                         metadata={"attribution": "<a href='https://x.example'>Ignored</a>"},
                         bounds=(-10.0, 40.0, 12.5, 52.0))


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, archive: Path) -> Iterator[LocalNode]:
    with local_node(tmp_path_factory.mktemp("pmtiles"), settings={
            "explorer_peer_sync_seconds": 0,
            "explorer_map_pmtiles": f"{archive} {CREDIT}"}) as running:
        _load(running)
        yield running


def test_every_tile_is_the_bytes_written(node: LocalNode) -> None:
    with node.client() as http:
        for (z, x, y), written in TILES.items():
            r = http.get(f"/explore/tiles/{z}/{x}/{y}")
            assert r.status_code == 200, r.text
            assert r.content == written
            assert r.headers["content-type"] == "image/png"
            assert r.headers["cache-control"] == "public, max-age=86400"
            assert r.headers["x-content-type-options"] == "nosniff"
            again = http.get(f"/explore/tiles/{z}/{x}/{y}",
                             headers={"If-None-Match": r.headers["etag"]})
            assert again.status_code == 304 and again.content == b""
            head = http.head(f"/explore/tiles/{z}/{x}/{y}")
            assert head.status_code == 200 and head.content == b""
            assert head.headers["content-length"] == str(len(written))
        # Tiles of the same colour share bytes, never an ETag with another colour.
        tags = {http.get(f"/explore/tiles/{z}/{x}/{y}").headers["etag"] for z, x, y in TILES}
        assert len(tags) == len(set(TILES.values()))


@pytest.mark.parametrize("path", ["1/1/0", "2/0/0", "2/3/3", "3/0/0", "12/100/200"])
def test_a_tile_the_archive_lacks_is_204(node: LocalNode, path: str) -> None:
    with node.client() as http:
        r = http.get(f"/explore/tiles/{path}")
    assert r.status_code == 204 and r.content == b""
    assert "content-length" not in r.headers  # RFC 9110 8.6
    assert r.headers["cache-control"].startswith("public")


@pytest.mark.parametrize(("path", "reason"), [
    ("32/0/0", "Zoom 32"), ("1/2/0", "does not exist at zoom 1"),
    ("0/0/1", "does not exist at zoom 0"), ("3/8/8", "(0 to 7)"),
    ("1/0", "whole numbers"), ("1/0/0/0", "whole numbers"), ("1/0/0.png", "whole numbers"),
    ("-1/0/0", "whole numbers"), ("1/+0/0", "whole numbers"), ("a/b/c", "whole numbers"),
    ("1/0/%20", "whole numbers"), ("", "whole numbers"), ("9999/0/0", "whole numbers"),
    ("30/99999999999/0", "whole numbers"),
])
def test_coordinates_no_map_has_are_400_problems(node: LocalNode, path: str,
                                                 reason: str) -> None:
    with node.client() as http:
        r = http.get(f"/explore/tiles/{path}")
    assert r.status_code == 400, (path, r.status_code)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert reason in r.json()["detail"]


def test_writes_are_refused_with_allow(node: LocalNode) -> None:
    with node.client() as http:
        r = http.put("/explore/tiles/0/0/0", content=b"x", headers=node.auth())
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD, OPTIONS"


def test_pages_point_leaflet_at_the_node_and_the_policy_adds_no_origin(
        node: LocalNode) -> None:
    with node.client() as http:
        for path, params in (("/", {}), ("/explore", {"q": "school"})):
            r = http.get(path, params=params, headers=HTML)
            assert r.status_code == 200
            found = re.search(r"<figure class=\"dds-map-figure\"[^>]*>", r.text)
            assert found is not None, path
            figure = found.group(0)
            assert f'data-dds-tiles="{TEMPLATE}"' in figure
            assert 'data-dds-tiles-zooms="0 2"' in figure
            assert ('data-dds-tiles-bounds="40.0000000,-10.0000000,52.0000000,12.5000000"'
                    in figure)
            # The setting's credit, not the metadata's; text, escaped.
            assert unescape(re.search(r'data-dds-attribution="([^"]*)"', figure)
                            .group(1)) == CREDIT  # type: ignore[union-attr]
            assert '<script src="/explore/static/leaflet.js" defer></script>' in r.text
            policy = r.headers["content-security-policy"]
            assert "img-src 'self';" in policy  # the node's own origin only
            assert "https:" not in policy and "http:" not in policy


def test_without_the_setting_no_tile_path_is_served(tmp_path: Path) -> None:
    with local_node(tmp_path) as running, running.client() as http:
        r = http.get("/explore/tiles/0/0/0")
    assert r.status_code == 404


def test_the_credit_comes_from_the_metadata_when_the_setting_has_none(
        tmp_path: Path) -> None:
    path = write_archive(tmp_path / "a b.pmtiles", TILES, metadata={
        "attribution": '<a href="https://www.openstreetmap.org/copyright">© OpenStreetMap'
                       '</a> &amp; <script>x</script>contributors'})
    drawn, archive = map_layer(Settings({"explorer_map_pmtiles": f"  {path}  "}))
    assert archive is not None and archive.path == path  # a space in the path is kept
    assert drawn.enabled and drawn.tiles == TEMPLATE and drawn.origin is None
    assert drawn.credit == "© OpenStreetMap & x contributors"
    # A relative path is read from the node directory, as settings.toml is.
    drawn, archive = map_layer(Settings({"explorer_map_pmtiles": "a b.pmtiles  Me,  2026"},
                                        tmp_path))
    assert archive is not None and archive.path == tmp_path / "a b.pmtiles"
    assert drawn.credit == "Me, 2026"


def test_leaf_directories_are_read_as_the_reference_reader_reads_them(
        tmp_path: Path) -> None:
    """30,000 tiles at zoom 9 in random places: the writer puts them in leaf
    directories; every tile is found through them, and each directory decodes to the
    entries the pmtiles package decodes."""
    rng = random.Random(12)
    places = rng.sample([(x, y) for x in range(512) for y in range(512)], 30_000)
    tiles = {(9, x, y): rng.randbytes(rng.randint(1, 300)) for x, y in places}
    path = write_archive(tmp_path / "leaves.pmtiles", tiles)
    archive = TileArchive(path)
    raw = path.read_bytes()
    header = deserialize_header(raw[:127])
    assert header["leaf_directory_length"] > 0  # leaves there are
    root = raw[header["root_offset"]:header["root_offset"] + header["root_length"]]
    leaves = [e for e in deserialize_directory(root) if e.run_length == 0]
    assert len(leaves) > 1
    for entry in [None, *leaves]:
        if entry is None:
            blob = root
        else:
            start = header["leaf_directory_offset"] + entry.offset
            blob = raw[start:start + entry.length]
        ours = decode(inflate(blob, 2, 1 << 23, "directory"))
        theirs = deserialize_directory(blob)
        for column, field in ((ours.tile_ids, "tile_id"), (ours.run_lengths, "run_length"),
                              (ours.lengths, "length"), (ours.offsets, "offset")):
            assert column.tolist() == [getattr(e, field) for e in theirs]
    sample = rng.sample(sorted(tiles), 3000)
    # Nothing is in memory yet but the root: the file must be read for any of these.
    assert archive.peek(archive.tile_id(*sample[0])) == (False, None)
    for zxy in sample:
        assert archive.tile(archive.tile_id(*zxy)) == tiles[zxy]
        assert archive.peek(archive.tile_id(*zxy)) == (True, tiles[zxy])  # now from memory
    absent = next((9, x, y) for x in range(512) for y in range(512) if (9, x, y) not in tiles)
    assert archive.tile(archive.tile_id(*absent)) is None
    assert archive.tile_id(10, 0, 0) is None and archive.peek(None) == (True, None)


def test_a_leaf_found_corrupt_after_start_is_a_503_problem(tmp_path: Path) -> None:
    rng = random.Random(3)
    places = rng.sample([(x, y) for x in range(512) for y in range(512)], 30_000)
    tiles = {(9, x, y): rng.randbytes(rng.randint(1, 300)) for x, y in places}
    path = write_archive(tmp_path / "leaves.pmtiles", tiles)
    with local_node(tmp_path, settings={"explorer_map_pmtiles": str(path)}) as running:
        raw = bytearray(path.read_bytes())
        header = deserialize_header(bytes(raw[:127]))
        start = header["leaf_directory_offset"]
        raw[start:start + header["leaf_directory_length"]] = \
            b"\x1f\x8b" + b"\xff" * (header["leaf_directory_length"] - 2)
        path.write_bytes(bytes(raw))  # the same inode, rewritten under the running node
        with running.client() as http:
            r = http.get("/explore/tiles/9/{}/{}".format(*places[0]))
            assert r.status_code == 503, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            assert "cannot be read" in r.json()["detail"]


def test_a_tile_over_the_size_bound_is_a_503_problem(tmp_path: Path, archive: Path) -> None:
    with local_node(tmp_path, settings={"explorer_map_pmtiles": str(archive),
                                        "explorer_map_pmtiles_max_tile_bytes": 100}) as node, \
            node.client() as http:
        r = http.get("/explore/tiles/0/0/0")
    assert r.status_code == 503
    assert "explorer_map_pmtiles_max_tile_bytes" in r.json()["detail"]


def _handmade(root: bytes, metadata: bytes = b"", data: bytes = b"0123456789",
              leaves: bytes = b"", **fields: object) -> bytes:
    """An archive laid out by hand: header, root directory, metadata, leaves, tile data."""
    at = 127 + len(root) + len(metadata)
    header = {"root_offset": 127, "root_length": len(root),
              "metadata_offset": 127 + len(root), "metadata_length": len(metadata),
              "leaf_directory_offset": at, "leaf_directory_length": len(leaves),
              "tile_data_offset": at + len(leaves), "tile_data_length": len(data),
              "clustered": True, "internal_compression": Compression.GZIP,
              "tile_compression": Compression.NONE, "tile_type": TileType.PNG,
              "min_zoom": 0, "max_zoom": 0, **fields}
    return (serialize_header(header) + root + metadata  # type: ignore[arg-type]
            + leaves + data)


def _patched(good: bytes, at: int, value: int) -> bytes:
    return good[:at] + bytes([value]) + good[at + 1:]


GOOD_ROOT = serialize_directory([Entry(0, 0, 10, 1)])
BOMB = gzip.compress(b"\x00" * (3 << 20), mtime=0)


def test_a_leaf_directory_that_points_to_itself_is_a_503_not_a_loop(tmp_path: Path) -> None:
    length = 0
    while True:  # a leaf whose one entry is itself: its length written inside it
        leaf = serialize_directory([Entry(0, 0, length, 0)])
        if len(leaf) == length:
            break
        length = len(leaf)
    path = tmp_path / "cycle.pmtiles"
    path.write_bytes(_handmade(serialize_directory([Entry(0, 0, length, 0)]), leaves=leaf))
    with local_node(tmp_path, settings={"explorer_map_pmtiles": str(path)}) as node, \
            node.client() as http:
        r = http.get("/explore/tiles/0/0/0")
    assert r.status_code == 503
    assert "nested too deep" in r.json()["detail"]


@pytest.mark.parametrize(("name", "make", "reason"), [
    ("not-an-archive", lambda good: png((1, 2, 3)), "not a PMTiles archive"),
    ("empty", lambda good: b"", "not a PMTiles archive"),
    ("truncated", lambda good: good[:len(good) // 2], "truncated"),
    ("version-2", lambda good: _patched(good, 7, 2), "another version than 3"),
    ("brotli", lambda good: _patched(good, 97, 3), "internal compression 3"),
    ("unknown-code", lambda good: _patched(good, 97, 9), "unknown compression"),
    ("gzipped-tiles", lambda good: _patched(good, 98, 2), "compressed again"),
    ("zooms", lambda good: _patched(_patched(good, 100, 5), 101, 2), "zoom levels 5..2"),
    ("bad-gzip", lambda good: _handmade(b"\x1f\x8b" + b"\x00" * 20), "gzip"),
    ("bomb", lambda good: _handmade(BOMB), "more than 1048576 bytes"),
    ("metadata", lambda good: _handmade(GOOD_ROOT, gzip.compress(b"{not json")), "JSON"),
    ("metadata-list", lambda good: _handmade(GOOD_ROOT, gzip.compress(b"[1]")), "object"),
    ("outside", lambda good: _handmade(serialize_directory([Entry(0, 5, 50, 1)])),
     "outside the archive's sections"),
    ("count", lambda good: _handmade(gzip.compress(b"\x05\x01\x01\x01\x01")), "5 entries"),
])
def test_a_corrupt_archive_stops_the_node_at_start(tmp_path: Path, name: str,
                                                   make: Callable[[bytes], bytes],
                                                   reason: str) -> None:
    good = (tmp_path / "good.pmtiles")
    write_archive(good, TILES)
    path = tmp_path / f"{name}.pmtiles"
    path.write_bytes(make(good.read_bytes()))
    settings = Settings({"explorer_map_pmtiles": f"{path} credit",
                         "explorer_map_pmtiles_max_directory_bytes": 1 << 20}, tmp_path)
    with pytest.raises(ValueError, match="explorer_map_pmtiles") as refused:
        create_app(settings)
    assert reason in str(refused.value), str(refused.value)
    assert str(path) in str(refused.value)


def test_vector_tiles_and_bad_settings_are_refused(tmp_path: Path) -> None:
    vector = write_archive(tmp_path / "v.pmtiles", {(0, 0, 0): b"\x1a\x00"},
                           tile_type=TileType.MVT)
    cases = [({"explorer_map_pmtiles": str(vector)}, "MVT vector tiles"),
             ({"explorer_map_pmtiles": str(tmp_path / "none.pmtiles")}, "cannot be opened"),
             ({"explorer_map_pmtiles": str(tmp_path / "tiles.mbtiles")}, ".pmtiles file"),
             ({"explorer_map_pmtiles": str(vector),
               "explorer_map_leaflet": "https://tile.example.org/{z}/{x}/{y}.png credit"},
              "keep one")]
    for values, reason in cases:
        with pytest.raises(ValueError, match="explorer_map_pmtiles") as refused:
            create_app(Settings(values, tmp_path))
        assert reason in str(refused.value)


@pytest.mark.parametrize(("data", "reason"), [
    (b"\x01\x01\x01\x01\x81", "ends inside a varint"),
    (b"\x01" + b"\xff" * 9 + b"\x01\x01\x01\x01", "more than 63 bits"),
    (b"\x02\x01\x01\x01\x01", "2 entries"),
    (b"\x00", "0 entries"),
    (b"\x02\x01\x00\x01\x01\x05\x05\x01\x00", "strictly increasing"),
    (b"\x01\x00\x01\x05\x00", "follows no entry"),
    (b"\x02\xff\xff\xff\xff\xff\xff\xff\xff\x7f\xff\xff\xff\xff\xff\xff\xff\xff\x7f"
     b"\x01\x01\x01\x01\x01\x00", "out of range"),
])
def test_hostile_directories_are_refused_by_name(data: bytes, reason: str) -> None:
    with pytest.raises(CorruptArchive, match=re.escape(reason)):
        decode(data)


def test_varints_decode_as_the_reference_writes_them() -> None:
    rng = random.Random(5)
    entries = sorted({rng.randrange(1 << 40) for _ in range(2000)})
    directory = [Entry(t, rng.randrange(1 << 30), rng.randrange(1, 1 << 20),
                       rng.choice([0, 1, 1, 3])) for t in entries]
    ours = decode(inflate(serialize_directory(directory), 2, 1 << 23, "directory"))
    assert ours.tile_ids.tolist() == entries
    assert ours.offsets.tolist() == [e.offset for e in directory]
    assert varints(bytes([0x80, 0x01, 0x7F, 0xFF, 0xFF, 0x03])).tolist() == [128, 127, 65535]
    assert ours.tile_ids.dtype == np.int64

"""Where a Decidim export comes from: a folder of CSV files, the ZIP, or a platform's URL.

Decidim names its open-data files ``{host}-open-data-{entity}.csv`` (in the ZIP served at
``/open-data/download``, and once unpacked). :func:`open_source` turns the operator's
SOURCE argument into an :class:`Export`: the platform's host, and for each entity a way
to read the file's bytes. A URL is fetched through the one guarded outbound client
(:class:`ddsnode.outbound.OutboundClient`); the operator naming it counts as permission,
so its origin is the only allowed one. Anything unreadable raises
:class:`UnreadableSource` with a one-line message.

A ZIP comes from someone else's server, so its members are bounded before anything is
inflated (:class:`ZipLimits`): a member whose declared size, or the sum of the members'
sizes, passes ``import_max_unzipped_bytes``, or one that inflates more than
``import_max_zip_ratio`` times, is refused and listed in ``Export.refused`` (the report
says why); the other files are read. The declared size is a real bound: ``zipfile``
stops inflating a member at its declared ``file_size`` and fails its CRC check if the
data goes on (``zipfile.ZipExtFile._read1``), so a lying header costs one damaged file.
"""

from __future__ import annotations

import asyncio
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from ddsnode.outbound import OutboundClient, OutboundRefused, PeerError

FILE_NAME = re.compile(r"^(?:(?P<host>.+)-)?open-data-(?P<entity>[a-z0-9_]+)\.csv$")
DOWNLOAD_PATH = "open-data/download"
ZIP_TYPES = ("application/zip", "application/x-zip-compressed", "application/octet-stream")
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
# Below this, a member's ratio is not checked: even at the highest ratio it inflates to
# little (small CSV files of repeated values do compress very well).
RATIO_FLOOR = 1024 * 1024


@dataclass(frozen=True)
class ZipLimits:
    """How far an export ZIP may inflate (settings ``import_max_unzipped_bytes`` and
    ``import_max_zip_ratio``)."""

    max_unzipped_bytes: int = 1024 * 1024 * 1024
    max_ratio: int = 100


class UnreadableSource(ValueError):
    """SOURCE is not a readable Decidim export (printed as one line, exit status 2)."""


@dataclass
class Export:
    """The files of one export: entity name -> a function opening the file (binary)."""

    host: str
    origin: str  # https://host (or the URL's scheme and authority)
    source: str  # the primary source IRI: the export download URL or the API
    files: dict[str, Callable[[], IO[bytes]]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # entity -> file name
    sizes: dict[str, int] = field(default_factory=dict)
    api_url: str | None = None  # set when the API is to be read (URL sources)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (file name, why)

    def open(self, entity: str) -> IO[bytes]:
        """An entity's file, opened for reading line by line (the caller closes it)."""
        return self.files[entity]()


def _opener(path: Path) -> Callable[[], IO[bytes]]:
    return lambda: path.open("rb")


def _member(archive: zipfile.ZipFile, name: str) -> Callable[[], IO[bytes]]:
    return lambda: archive.open(name)


def _collect(export: Export, name: str, size: int, reader: Callable[[], IO[bytes]],
             hosts: set[str]) -> None:
    match = FILE_NAME.match(name.rsplit("/", 1)[-1])
    if not match:
        return
    entity = match.group("entity")
    if match.group("host"):
        hosts.add(match.group("host"))
    export.files[entity] = reader
    export.names[entity] = name.rsplit("/", 1)[-1]
    export.sizes[entity] = size


def _finish(export: Export, hosts: set[str], what: str, host_hint: str | None,
            fallback: str | None = None) -> Export:
    if not export.files:
        raise UnreadableSource(f"{what} holds no Decidim open-data files "
                               "(named {host}-open-data-{entity}.csv)")
    if len(hosts) > 1:
        raise UnreadableSource(f"{what} mixes exports of several platforms: "
                               f"{', '.join(sorted(hosts))}")
    host = host_hint or (hosts.pop() if hosts else "") or fallback or ""
    if not host:
        raise UnreadableSource(f"{what}: the file names do not say which platform they come "
                               "from; pass --platform-url")
    export.host = host
    export.origin = export.origin or f"https://{host}"
    export.source = export.source or f"{export.origin}/{DOWNLOAD_PATH}"
    return export


def from_folder(path: Path, host_hint: str | None = None) -> Export:
    """An export unpacked into a folder."""
    export, hosts = Export("", "", ""), set[str]()
    for file in sorted(path.iterdir()):
        if file.is_file():
            _collect(export, file.name, file.stat().st_size, _opener(file), hosts)
    return _finish(export, hosts, str(path), host_hint)


def from_zip(data: bytes | Path, what: str, host_hint: str | None = None,
             origin: str = "", source: str = "", fallback: str | None = None,
             limits: ZipLimits = ZipLimits()) -> Export:
    """An export as the ZIP Decidim serves (files may sit in a folder inside it); a file
    is opened where it lies, a download is read from memory."""
    try:
        archive = zipfile.ZipFile(data if isinstance(data, Path) else io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise UnreadableSource(f"{what} is not a readable ZIP file ({e})") from None
    export, hosts = Export("", origin, source), set[str]()
    total = 0
    for info in infos:
        if info.is_dir() or not FILE_NAME.match(info.filename.rsplit("/", 1)[-1]):
            continue
        why = _too_large(info, total, limits)
        if why:
            export.refused.append((info.filename.rsplit("/", 1)[-1], why))
            continue
        total += info.file_size
        _collect(export, info.filename, info.file_size, _member(archive, info.filename),
                 hosts)
    if not export.files and export.refused:
        raise UnreadableSource(f"{what}: every file is refused ({export.refused[0][1]})")
    return _finish(export, hosts, what, host_hint, fallback)


def _too_large(info: zipfile.ZipInfo, total: int, limits: ZipLimits) -> str | None:
    """Why a ZIP member may not be inflated, or None."""
    if info.file_size > limits.max_unzipped_bytes - total:
        return (f"it inflates to {info.file_size:,} bytes, past the "
                f"{limits.max_unzipped_bytes:,} bytes of import_max_unzipped_bytes "
                f"({total:,} taken by earlier files)")
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > RATIO_FLOOR and ratio > limits.max_ratio:
        return (f"it inflates {ratio:,.0f} times ({info.compress_size:,} -> "
                f"{info.file_size:,} bytes), past import_max_zip_ratio = {limits.max_ratio}")
    return None


def fetch(url: str, *, accept: tuple[str, ...], max_bytes: int, method: str = "GET",
          body: bytes | None = None, headers: dict[str, str] | None = None,
          timeout: float = 300.0) -> bytes:
    """GET or POST ``url`` through the guarded client, allowing only the URL's own origin."""
    origin = origin_of(url)

    async def run() -> bytes:
        async with OutboundClient(allowed_origins={origin}, max_bytes=max_bytes,
                                  total_timeout=timeout, read_timeout=60.0,
                                  user_agent="ddsnode-import") as client:
            result = await client.fetch(url, accept=accept, method=method, body=body,
                                        headers=headers, sign=False)
            return result.body

    return asyncio.run(run())


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def from_url(url: str, *, download: bool = True, api: bool = False,
             max_bytes: int = DEFAULT_MAX_BYTES, host_hint: str | None = None,
             limits: ZipLimits = ZipLimits()) -> Export:
    """A platform's base URL: its export downloaded from /open-data/download, and/or its API."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnreadableSource(f"{url} is not an http(s) URL")
    origin = origin_of(url)
    base = url if url.endswith("/") else url + "/"
    if base.endswith("/open-data/download/"):
        base = base[: -len("open-data/download/")]
    api_url = base + "api" if api else None
    if not download:
        # No file names to say which organisation this is: the URL's host (and port) is.
        return Export(host_hint or parts.netloc, origin, api_url or base, api_url=api_url)
    target = base + DOWNLOAD_PATH
    try:
        data = fetch(target, accept=ZIP_TYPES, max_bytes=max_bytes)
    except (PeerError, OutboundRefused) as e:
        raise UnreadableSource(f"cannot download the export: {e.detail}") from None
    # The file names carry the organisation's own host; the URL's is the fallback.
    export = from_zip(data, target, host_hint, origin, target, fallback=parts.netloc,
                      limits=limits)
    export.api_url = api_url
    return export


def open_source(source: str, *, host_hint: str | None = None, download: bool = True,
                api: bool = False, max_bytes: int = DEFAULT_MAX_BYTES,
                limits: ZipLimits = ZipLimits()) -> Export:
    """The export that SOURCE names (folder, ZIP file or URL); UnreadableSource otherwise."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", source):
        return from_url(source, download=download, api=api, max_bytes=max_bytes,
                        host_hint=host_hint, limits=limits)
    path = Path(source)
    if path.is_dir():
        return from_folder(path, host_hint)
    if path.is_file():
        return from_zip(path, str(path), host_hint, limits=limits)
    raise UnreadableSource(f"{source}: no such file, folder or URL")

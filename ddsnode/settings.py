"""Settings as data: one table of (name, default, help) rows.

A value comes, from weakest to strongest, from the default here, the node directory's
``settings.toml``, a ``DDS_<NAME>`` environment variable, then a command-line flag.
``docs/settings.md`` and the README's table are checked against this table by a test.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

SETTINGS_FILE = "settings.toml"


@dataclass(frozen=True)
class Setting:
    """One row of the settings table."""

    name: str
    default: Any
    help: str

    @property
    def env(self) -> str:
        """The environment variable that sets it."""
        return "DDS_" + self.name.upper()

    def parse(self, raw: Any) -> Any:
        """Coerce a raw value (a string from the environment, or TOML) to the default's type."""
        kind = type(self.default)
        if isinstance(raw, kind) and not (kind is int and isinstance(raw, bool)):
            return raw
        text = str(raw).strip()
        if kind is bool:
            if text.lower() in {"1", "true", "yes", "on"}:
                return True
            if text.lower() in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(f"{self.env}: expected true or false, got {text!r}")
        if kind is int:
            try:
                return int(text)
            except ValueError:
                raise ValueError(f"{self.env}: expected a whole number, got {text!r}") from None
        if kind is float:
            try:
                return float(text)
            except ValueError:
                raise ValueError(f"{self.env}: expected a number, got {text!r}") from None
        return text


SETTINGS: tuple[Setting, ...] = (
    Setting("base_url", "http://127.0.0.1:8000/",
            "Public base IRI of the node; every resource IRI starts with it"),
    Setting("host", "127.0.0.1", "Interface `ddsnode serve` binds to"),
    Setting("port", 8000, "TCP port `ddsnode serve` listens on"),
    Setting("name", "ddsnode", "Human name of the node, shown in its description"),
    Setting("operator", "", "Name of the institution that operates the node"),
    Setting("operator_url", "", "Home page (IRI) of the operator"),
    Setting("license", "https://creativecommons.org/licenses/by/4.0/",
            "Licence of the published data (dct:license)"),
    Setting("store", "embedded", "Storage backend: `embedded` (SQLite + pyoxigraph in DIR), `postgresql` or `sparql`"),
    Setting("database_url", "",
            "PostgreSQL connection URL when store = postgresql (`postgresql:///dds`: local "
            "socket, no password; `postgresql://dds@db.internal/dds`, password in ~/.pgpass)"),
    Setting("database_pool_size", 10,
            "Most connections one node process opens to PostgreSQL (requests wait 10 s for "
            "one, then 503)"),
    Setting("database_connect_timeout", 5.0,
            "Seconds a connection to PostgreSQL may take to open (503 after)"),
    Setting("workers", 1,
            "Processes `ddsnode serve` runs (more than 1 needs store = postgresql)"),
    Setting("loop_lease_seconds", 2.0,
            "With several processes: seconds between checks that the background loops' "
            "owner still holds its lease, and between others' tries to take it over"),
    Setting("sparql_query_url", "", "SPARQL 1.1 Query endpoint when store = sparql"),
    Setting("sparql_update_url", "", "SPARQL 1.1 Update endpoint when store = sparql"),
    Setting("sparql_user", "", "User name for the SPARQL endpoints (never in their URLs)"),
    Setting("sparql_password", "",
            "Password for the SPARQL endpoints (prefer the environment variable to the file)"),
    Setting("sparql_auth", "basic", "How the SPARQL endpoints authenticate: `basic` or `digest`"),
    Setting("max_body_bytes", 4 * 1024 * 1024, "Largest request body accepted (413 above)"),
    Setting("header_timeout", 10.0,
            "Seconds a client has to send a request's headers (408 and close after)"),
    Setting("body_timeout", 30.0,
            "Longest silence, in seconds, between two pieces of a request body (408 and "
            "close after; nothing of the body is written)"),
    Setting("max_url_bytes", 32 * 1024, "Longest request target (path and query) in bytes (414 above)"),
    Setting("max_header_bytes", 16 * 1024,
            "Most bytes of request header lines, all together (431 above)"),
    Setting("max_header_count", 100, "Most request header lines (431 above)"),
    Setting("shutdown_timeout", 10.0,
            "Seconds `ddsnode serve` waits for requests in flight after SIGTERM before it "
            "stops them"),
    Setting("jsonld_max_depth", 64,
            "Deepest nesting of a JSON-LD document (objects and arrays) parsed (413 above)"),
    Setting("jsonld_max_values", 200_000,
            "Most JSON values (objects, arrays, scalars) in a JSON-LD document (413 above)"),
    Setting("page_size", 50, "Default number of members in a container page"),
    Setting("max_page_size", 500, "Largest page a client may ask for"),
    Setting("sparql_timeout", 5.0, "Seconds a query on /sparql may run"),
    Setting("sparql_result_limit", 10000, "Most rows or triples /sparql returns"),
    Setting("patch_solution_limit", 10000,
            "Most WHERE solutions one PATCH may use (422 above); its time limit is "
            "sparql_timeout and its result may be no larger than max_body_bytes"),
    Setting("patch_memory_mb", 512,
            "Memory (MiB) the process evaluating a PATCH may use beyond its start (413 above)"),
    Setting("max_literal_bytes", 1024 * 1024,
            "Largest single value (literal, UTF-8 bytes) an import writes; the row is skipped above"),
    Setting("import_max_unzipped_bytes", 1024 * 1024 * 1024,
            "Most bytes the CSV files of one export ZIP may inflate to, all members together"),
    Setting("import_max_zip_ratio", 100,
            "Highest inflated/compressed size ratio of a ZIP member over 1 MiB (a zip bomb above)"),
    Setting("elections_max_source_bytes", 256 * 1024 * 1024,
            "Largest election file (NIST CDF, OpenElections CSV) an import or verify reads"),
    Setting("elections_trusted_certificates", "",
            "PEM bundle of the authorities trusted to sign EML count files: a signed file's "
            "certificate must be one of them or issued by one (relative to the node directory; "
            "empty: any valid certificate)"),
    Setting("elections_require_signature", False,
            "Refuse EML count files that come without a detached signature"),
    Setting("elections_max_rows", 2_000_000,
            "Most data rows of one OpenElections CSV (the rest is refused, nothing imported)"),
    Setting("directory_max_source_bytes", 8 * 1024 * 1024,
            "Largest directory spreadsheet (CSV) `ddsnode import directory` reads"),
    Setting("directory_max_rows", 10_000,
            "Most rows of one directory spreadsheet (above: refused, nothing imported)"),
    Setting("directory_max_organisations", 5_000,
            "Most organisations (own and peers') the directory pages read per request"),
    Setting("directory_max_map_points", 10_000,
            "Most points a directory map or its GeoJSON carries (the rest are left out)"),
    Setting("voter_containers", "places/ elections/ organisations/",
            "Containers the voter lookup is computed from (stations, units, contests, "
            "parties; space-separated); their public resources only"),
    Setting("voter_grid_degrees", 0.01,
            "Cell size, in degrees, of the voter lookup's precomputed grid of nearest "
            "stations (0.01 is about 1 km)"),
    Setting("voter_max_grid_cells", 4_000_000,
            "Most cells of that grid; a wider area is not gridded and point lookups are "
            "refused (rebuild cost and table size)"),
    Setting("voter_max_query_chars", 200,
            "Longest address or postcode the voter lookup takes (`/explore/vote?q=`; "
            "400 above)"),
    Setting("voter_max_stations", 20,
            "Most polling stations one voter lookup answer lists"),
    Setting("voter_max_choices", 100,
            "Most addresses an address picker lists (a postcode split between stations)"),
    Setting("voter_refresh_seconds", 5.0,
            "How often, at most, the voter pages check whether the lookup table must be "
            "rebuilt (the data it was computed from changed)"),
    Setting("explorer_max_query_chars", 200,
            "Longest search text the explorer takes (`/explore?q=`; 400 above)"),
    Setting("explorer_max_terms", 12, "Most words in one explorer search (400 above)"),
    Setting("explorer_max_values", 10,
            "Most values of one facet in an explorer search URL (400 above)"),
    Setting("explorer_page_size", 20, "Results per explorer page when `size` is not given"),
    Setting("explorer_max_page_size", 100, "Largest `size` an explorer search accepts"),
    Setting("explorer_peer_sync_seconds", 2.0,
            "How often (at most) an explorer request indexes newly cached peer resources"),
    Setting("explorer_home_latest", 10, "Latest contributions listed on the explorer home"),
    Setting("explorer_map_points", 200,
            "Most markers on the map of the explorer's home and search pages (results with "
            "a place are grouped on a coarser grid until they fit; clusters count them all)"),
    Setting("explorer_map_leaflet", "", "Leaflet maps: '' no, 'on', or 'https://HOST/{z}/{x}/{y}.png CREDIT'"),
    Setting("explorer_map_pmtiles", "",
            "Leaflet maps on tiles the node serves itself at /explore/tiles/{z}/{x}/{y}: the "
            "path of a raster PMTiles v3 archive (PNG, JPEG, WebP), then its credit "
            "('/srv/region.pmtiles © OpenStreetMap contributors'); '' none"),
    Setting("explorer_map_pmtiles_max_directory_bytes", 4_194_304,
            "Largest directory or metadata (bytes, stored and inflated) read from the "
            "PMTiles archive; the archive is refused at start, or a tile answers 503, past it"),
    Setting("explorer_map_pmtiles_max_tile_bytes", 2_097_152,
            "Largest tile (bytes) served from the PMTiles archive; a larger one answers 503"),
    Setting("explorer_map_pmtiles_cache_bytes", 33_554_432,
            "Memory (bytes) for the PMTiles archive's decoded leaf directories and "
            "recently served tiles"),
    Setting("explorer_max_comments", 200,
            "Most comments a resource page shows in its thread"),
    Setting("explorer_page_cache_bytes", 33554432,
            "Memory (bytes) for rendered explorer pages (search, resource, home, container "
            "pages) kept with their ETags, half for search pages and half for the others; "
            "least recently used go first, 0 keeps none"),
    Setting("private_containers", "", "Comma-separated container paths readable only with a token"),
    Setting("open_containers", "",
            "Comma-separated container paths with no shape that anyone may read and write "
            "(e.g. `open/` for conformance tests)"),
    Setting("render_cache_mb", 64,
            "Memory (MiB) for rendered representations; each is rendered on first read"),
    Setting("render_timeout", 2.0,
            "Seconds a read waits for a first render (JSON-LD, HTML …) of a resource; past it "
            "503 with Retry-After, and the render goes on to the cache"),
    Setting("explorer_warm_lemmas", True,
            "After start-up, load the fr/en/ca/es lemma dictionaries in the background, "
            "so the first search with words does not wait for them (seconds of CPU)"),
    Setting("gc_freeze", True,
            "After start-up, keep what it built (ontology, shapes, templates, caches) out of "
            "the garbage collector's full passes (gc.freeze), which stall every request"),
    Setting("render_workers", 8,
            "Most first renders running at once, each on its own thread off the event loop "
            "(503 above)"),
    Setting("validation_engine", "fast", "Validator for writes: `fast` or `pyshacl` (same results)"),
    Setting("peer_poll_seconds", 30.0,
            "Seconds between reads of each followed peer's change feed (besides its pushes)"),
    Setting("peer_sync_concurrency", 16,
            "Resources fetched from peers at once while syncing"),
    Setting("peer_cache_max_entries", 100_000,
            "Most peer resources cached in all (the least recently fetched are evicted)"),
    Setting("peer_cache_max_per_peer", 20_000,
            "Most resources cached from any one peer (its least recently fetched are evicted)"),
    Setting("peer_key_refetch_seconds", 60.0,
            "Least seconds between two refetches of one peer's description to find a new key"),
    Setting("peer_revalidate_seconds", 1.0,
            "Least seconds between two revalidations of one cached peer resource for readers"),
    Setting("peer_max_document_bytes", 4 * 1024 * 1024,
            "Largest peer document (resource, description, feed page) the node reads"),
    Setting("peer_timeout_seconds", 30.0,
            "Seconds one request to a peer may take in all, body included (slow peers)"),
    Setting("inbox_max_bytes", 256 * 1024,
            "Largest notification the LDN inbox accepts (413 above)"),
    Setting("trace_max_depth", 6,
            "Most links followed from the start of a trace (`/trace`, `ddsnode trace`)"),
    Setting("trace_max_resources", 200,
            "Most resources a trace describes (the chain is marked truncated above)"),
    Setting("trace_max_fetches", 30,
            "Most peer resources one trace fetches (the others are read from the cache)"),
    # issue 13: `ddsnode analyse` (ddsnode.analysis, docs/analysis.md)
    Setting("analysis_max_contributions", 200_000,
            "Most contributions one analysis run reads (proposals, then comments, each newest "
            "first; the rest are left out)"),
    Setting("analysis_max_text_chars", 20_000,
            "Characters of one contribution's text the analysis looks at (the rest is cut)"),
    Setting("analysis_topics", 0,
            "Topic clusters a full analysis fits (0: about the square root of n/2, 2 to 40)"),
    Setting("analysis_duplicate_threshold", 0.45,
            "Least TF-IDF cosine similarity (0 to 1) for a duplicate candidate whose statements "
            "ask for the same measure (0.45: just above the thresholds tuned on each half of the "
            "labelled pairs, docs/analysis.md)"),
    Setting("analysis_summary_statements", 6,
            "Most statements of an extractive thread summary (stratified by stance, platform)"),
    Setting("analysis_every_minutes", 0.0,
            "`ddsnode serve` analyses in the background at most this often, when proposals "
            "or comments changed (0: never; docs/analysis.md)"),
    Setting("analysis_max_seconds", 1800.0,
            "A background analysis run taking longer is killed (its outputs are not written)"),
    Setting("analysis_max_memory_mb", 4096,
            "Address space of a background analysis run's process, in MiB (0: no limit)"),
    Setting("analysis_refit_ratio", 0.5,
            "Refit the topic model when new or changed contributions exceed this share of "
            "those it was fitted on (else they are assigned to the fitted topics)"),
    Setting("analysis_llm_url", "",
            "OpenAI-compatible chat-completions URL of a language model (empty: no model, "
            "nothing leaves the machine); the outbound guard allows exactly this URL"),
    Setting("analysis_llm_model", "", "Model name sent to `analysis_llm_url`"),
    Setting("analysis_llm_model_hash", "",
            "Hash of the model's weights, recorded in each run's provenance"),
    Setting("analysis_llm_temperature", 0.0, "Sampling temperature asked of the model"),
    Setting("analysis_llm_timeout_seconds", 60.0,
            "Seconds one model answer may take, body included (then tier 1 output only)"),
    Setting("analysis_llm_max_bytes", 256 * 1024,
            "Largest model answer read (larger: refused, nothing stored)"),
    Setting("analysis_llm_max_requests", 20,
            "Most model requests one analysis run makes (one per thread summarised)"),
    Setting("analysis_embeddings", False,
            "Analysis tier 2: multilingual e5 embeddings for duplicates across languages "
            "(needs `pip install ddsnode[embeddings]`; the node refuses to start without it; "
            "the model is in the package, nothing leaves the machine)"),
    Setting("analysis_embeddings_threshold", 1.02,
            "Least margin for a duplicate candidate across languages whose statements ask "
            "for the same measure: the pair's e5 cosine over the mean of each one's 4 "
            "nearest cosines in other languages (1.02: above the thresholds tuned on each "
            "half of the 30 labelled pairs across languages, 1.011 and 1.019; "
            "docs/analysis.md)"),
    Setting("analysis_embeddings_max_texts", 2000,
            "Most texts one analysis run embeds (about 5 to 10 a second here); the rest are "
            "embedded by the next runs"),
    Setting("analysis_embeddings_max_vectors", 200_000,
            "Most embedding vectors kept on disk in DIR/analysis/embeddings/ (1.5 KiB each; "
            "those of the latest run first)"),
    # Election night: publication (docs/election-night.md)
    Setting("publication_elections", "",
            "Elections whose results this node publishes as signed generations: `*` (every "
            "election in `elections/`) or comma-separated paths (`elections/municipal-2026`); "
            "empty: none"),
    Setting("publication_interval_seconds", 10.0,
            "Least time between two generations of one election's results (P)"),
    Setting("publication_part_units", 1000,
            "A station level (polling places) of one contest with more units than this is "
            "published in parts (16, 256 or 4,096 by its size, by a hash of the station), so "
            "that a generation rebuilds only the parts whose stations changed "
            "(docs/election-night.md, Parts)"),
    Setting("publication_rehearsal", "",
            "Elections published as a rehearsal, signed with the test key: `*` or "
            "comma-separated election paths"),
    Setting("publication_production", False,
            "Production: never sign, list or mirror anything signed with a rehearsal key"),
    Setting("publication_cache_mb", 64,
            "Memory for generation files served from memory (LRU of recent generations)"),
    Setting("publication_changes_max_generations", 1_000,
            "Most generations one `results/changes?since=` answer spans (400 above: read the "
            "snapshot); each answer reads that many diffs once"),
    Setting("publication_follow", "",
            "Mirror: comma-separated election URLs of publishing nodes to follow and re-serve"),
    Setting("publication_follow_jwks", "",
            "Mirror: file of the origin's JWKS to trust (empty: pinned on first use)"),
    Setting("publication_mirror_poll_seconds", 2.0,
            "Mirror: seconds between two reads of each origin's pointer"),
    Setting("publication_mirror_max_manifest_bytes", 8 * 1024 * 1024,
            "Mirror: largest manifest (or pointer, or JWKS) read from an origin"),
    Setting("publication_mirror_max_file_bytes", 64 * 1024 * 1024,
            "Mirror: largest generation file read from an origin"),
    Setting("publication_mirror_max_generation_bytes", 1024 * 1024 * 1024,
            "Mirror: most bytes one generation's files may add up to"),
    Setting("publication_mirror_timeout_seconds", 30.0,
            "Mirror: seconds one fetch from an origin may take, body included"),
    Setting("publication_mirror_max_catchup", 10_000,
            "Mirror: most manifests checked in one poll to chain back to the last verified "
            "generation (more behind: refused)"),
    Setting("intake_max_tally_bytes", 256 * 1024,
            "Largest tally a polling station may submit to /intake/tallies (JSON-LD or EML), "
            "in bytes (413 above)"),
    Setting("intake_evidence_max_bytes", 10 * 1024 * 1024,
            "Largest tally-sheet photo or PDF accepted by /intake/evidence, in bytes (413 above)"),
    Setting("intake_double_entry", "",
            "Elections whose tallies count only when two submissions from different tokens "
            "agree (double entry): `*` (all) or comma-separated election paths "
            "(`elections/municipal-2026`); empty: none. A mismatch is logged and reported"),
    Setting("intake_log_max_page", 1000,
            "Most events one page of GET /intake/log returns"),
    Setting("catalog_rebuild_seconds", 30.0,
            "Open-data files (/catalog): seconds without a write before they are rebuilt "
            "(debounce; 0: never rebuilt by the server, only by `ddsnode catalog build`)"),
    Setting("catalog_max_wait_seconds", 600.0,
            "Open-data files: longest they lag behind the data while writes never pause"),
    Setting("catalog_page_size", 100,
            "Datasets (an election with its series counts as one) per /catalog page"),
    Setting("catalog_max_processes", 200,
            "Participatory processes given their own dataset in /catalog (the next ones "
            "are in the node's and containers' files only)"),
    Setting("catalog_contact_email", "",
            "E-mail address of the contact point the catalogue gives for every dataset"),
    Setting("catalog_spatial", "",
            "IRI of the area the node's data covers (dct:spatial), e.g. a NUTS or GeoNames IRI"),
    Setting("cors_origins", "*", "Origins allowed to read cross-origin (comma-separated, or *)"),
    Setting("log_level", "info", "Log level of the server"),
)

_BY_NAME = {s.name: s for s in SETTINGS}


class Settings:
    """Resolved settings of one node; attribute access by setting name."""

    def __init__(self, values: Mapping[str, Any], node_dir: Path | None = None) -> None:
        unknown = set(values) - set(_BY_NAME)
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        self._values = {s.name: s.parse(values.get(s.name, s.default)) for s in SETTINGS}
        self.node_dir = node_dir
        if not str(self._values["base_url"]).endswith("/"):
            self._values["base_url"] = self._values["base_url"] + "/"

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def as_dict(self) -> dict[str, Any]:
        """Every setting with its resolved value."""
        return dict(self._values)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some values changed."""
        return Settings({**self._values, **changes}, self.node_dir)

    @classmethod
    def load(cls, node_dir: Path | None = None, *, env: Mapping[str, str] | None = None,
             overrides: Mapping[str, Any] | None = None) -> Settings:
        """Resolve settings: defaults < DIR/settings.toml < DDS_* environment < overrides."""
        values: dict[str, Any] = {}
        if node_dir is not None and (node_dir / SETTINGS_FILE).is_file():
            with (node_dir / SETTINGS_FILE).open("rb") as f:
                try:
                    values.update(tomllib.load(f))
                except tomllib.TOMLDecodeError as e:
                    raise ValueError(f"{node_dir / SETTINGS_FILE}: {e}") from None
        environ = os.environ if env is None else env
        for s in SETTINGS:
            if s.env in environ:
                values[s.name] = environ[s.env]
        values.update({k: v for k, v in (overrides or {}).items() if v is not None})
        return cls(values, node_dir)


def write_settings_file(path: Path, values: Mapping[str, Any]) -> None:
    """Write a settings.toml listing every setting, set ones active and the rest commented."""
    lines = ["# ddsnode settings. Each may also be set by a DDS_<NAME> environment variable.", ""]
    for s in SETTINGS:
        lines.append(f"# {s.help}")
        value = values.get(s.name, s.default)
        rendered = _toml_value(value)
        lines.append(f"{s.name} = {rendered}" if s.name in values else f"# {s.name} = {rendered}")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def settings_table_markdown() -> str:
    """The settings table as Markdown (name, environment variable, default, meaning)."""
    rows = ["| name | environment | default | meaning |", "|---|---|---|---|"]
    for s in SETTINGS:
        rows.append(f"| `{s.name}` | `{s.env}` | `{s.default}` | {s.help} |")
    return "\n".join(rows)


def require_node_dir(path: Path) -> Path:
    """``path`` if it is a node directory made by ``ddsnode init``; ValueError otherwise."""
    if not (path / SETTINGS_FILE).is_file():
        raise ValueError(f"{path} is not a node directory (no {SETTINGS_FILE}); "
                         f"create one with: ddsnode init {path}")
    Settings.load(path)  # a broken settings file is reported now, in one line
    return path

"""Every fixed path of a node, once: relative to its base IRI, without a leading slash.

The routes table (``ddsnode/http/routes.py``) serves them; the node description
advertises them (``ldp/description.py``); peers find each other's through it
(``federation/peers.py``). Everything else under the base is an LDP resource.
"""

from __future__ import annotations

WELL_KNOWN_SOLID = ".well-known/solid"  # Solid Protocol 4.1.2, storage description
WELL_KNOWN_VOID = ".well-known/void"  # VoID 7.2, dataset description
SPARQL_PATH = "sparql"  # SPARQL 1.1 Protocol, read-only
ONTOLOGY_PATH = "ns"  # the shared ontology, served by every node
SHAPES_PATH = "shapes"  # the shared SHACL shapes
CONTEXT_PATH = "context/v1"  # the shared JSON-LD context, readable with nothing but the node
INBOX_PATH = "inbox"  # LDN inbox (signed notifications from peers)
FEED_PATH = "feed"  # ActivityStreams change feed
TRACE_PATH = "trace"  # traceability walk
CACHE_PATH = "federation/resource"  # a peer's resource, from the cache
REACTIONS_PATH = "federation/reactions"  # reactions to a resource, across nodes
EXPLORE_PATH = "explore"  # the public explorer
VOTE_PATH = "explore/vote"  # where do I vote, candidates, results at my station (docs/voter.md)
# Files of the node directory (not IRIs): the voter lookup, computed ahead of time.
VOTER_TABLE = "voter.db"  # SQLite: stations, address ranges, postcodes, grid (ddsnode/voter)
VOTER_SEGMENTS_DIR = "voter-segments"  # one JSON file of VIP street segments per feed
CATALOG_PATH = "catalog"  # the open-data portal: DCAT-AP catalogue (docs/catalog.md)
CATALOG_FILES_PATH = "catalog/files"  # its bulk dumps, ?name=<file>
# Election night's intake (docs/election-night.md): tallies in, the public event log
INTAKE_TALLIES_PATH = "intake/tallies"
INTAKE_EVIDENCE_PATH = "intake/evidence"
INTAKE_LOG_PATH = "intake/log"
INTAKE_TOTALS_PATH = "intake/totals"
INTAKE_DB = "intake.db"  # a file of the node directory (not a URL path): the event log
JWKS_PATH = ".well-known/jwks.json"  # RFC 7517 5: the keys results manifests are signed with
PUBLICATION_DIR = "publication"  # in the node directory: published results (docs/election-night.md)

__all__ = ["CACHE_PATH", "CATALOG_FILES_PATH", "CATALOG_PATH", "CONTEXT_PATH", "EXPLORE_PATH", "FEED_PATH", "INBOX_PATH",
           "INTAKE_DB", "INTAKE_EVIDENCE_PATH", "INTAKE_LOG_PATH", "INTAKE_TALLIES_PATH",
           "INTAKE_TOTALS_PATH",
           "JWKS_PATH", "ONTOLOGY_PATH", "PUBLICATION_DIR", "REACTIONS_PATH", "SHAPES_PATH",
           "SPARQL_PATH", "TRACE_PATH",
           "VOTER_SEGMENTS_DIR", "VOTER_TABLE", "VOTE_PATH",
           "WELL_KNOWN_SOLID", "WELL_KNOWN_VOID"]

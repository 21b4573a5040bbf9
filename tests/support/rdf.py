"""Parsing response bodies in tests: the node's own parser (bundled contexts only)."""

from __future__ import annotations

from ddsnode.rdf.jsonld import parse_rdf

__all__ = ["parse_rdf"]

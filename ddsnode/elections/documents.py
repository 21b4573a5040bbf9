"""The documents an election import writes, their IRIs, and the NIST code tables.

Every importer turns its source into :class:`Document` items: one JSON-LD document per
election, contest (its selections and candidates inline as hash resources), party,
office, reporting unit and contest result (its vote counts inline), each carrying the
source's identifier (``identifier``) and provenance (``sourceDigest``, the SHA-256 of
the source file). IRIs are ``{base}{container}/{slug}-{kind}-{source id}``, so the same
source file imported twice names the same resources (the ledger key is the source id).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

CONTEXT = "https://w3id.org/dds/context/v1"

#: NIST CountItemType (SP 1500-100 v2) <-> the count-type scheme (schemes/count-type.ttl).
#: ``absentee-fwab`` has no concept of its own: it becomes ``other`` (docs/elections.md
#: lists this as a loss). ``seats`` counts seats won, not ballots (plausibility.NOT_BALLOTS).
COUNT_TYPES = {
    "total": "total", "election-day": "electionDay", "early": "early",
    "absentee": "absentee", "absentee-mail": "absenteeMail",
    "absentee-in-person": "absenteeInPerson", "provisional": "provisional",
    "write-in": "writeIn", "uocava": "uocava", "other": "other",
    "absentee-fwab": "other", "seats": "seats",
}
NIST_COUNT_TYPES = {ours: nist for nist, ours in COUNT_TYPES.items() if nist != "absentee-fwab"}

#: NIST ResultsStatus <-> the results-status scheme.
STATUSES = {
    "pre-election": "preElection", "unofficial-partial": "unofficialPartial",
    "unofficial-complete": "unofficialComplete", "certified": "certified",
    "recount": "recount", "correction": "correction",
}
NIST_STATUSES = {ours: nist for nist, ours in STATUSES.items()}


def slugify(text: str) -> str:
    """``text`` as a path segment: ASCII letters, digits and dashes, lower case."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")
    return slug[:80] or "x"


@dataclass(frozen=True)
class Naming:
    """How one source's resources are named on one node."""

    base: str  # the node's base IRI, ending in "/"
    slug: str  # the source's slug, e.g. "nist-va-2013" or "oe-20181106-nh-general"

    def iri(self, container: str, kind: str, ident: str) -> str:
        """``{base}{container}/{slug}-{kind}-{ident}``."""
        return f"{self.base}{container}/{self.slug}-{kind}-{slugify(ident)}"


@dataclass
class Document:
    """One resource to write: its ledger kind and source id, IRI, JSON-LD and origin."""

    kind: str  # ledger kind: election, contest, party, office, unit, result
    ident: str  # the source's identifier (NIST @id; OpenElections key columns)
    iri: str
    doc: dict[str, Any]
    file: str = ""
    line: int = 0  # first line of the source it came from (0: the whole file)


def document(iri: str, type_: str, **terms: Any) -> dict[str, Any]:
    """A JSON-LD document in the shared context; None values are left out."""
    doc: dict[str, Any] = {"@context": CONTEXT, "id": iri, "type": type_}
    doc.update({k: v for k, v in terms.items() if v not in (None, [], {}, "")})
    return doc

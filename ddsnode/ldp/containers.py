"""The container registry: which containers a node has, what each accepts, who may use it.

Every node has the same top-level containers, one per kind of resource (LDP 5.2, basic
containers), plus the free-form containers an operator lists in ``open_containers``
(no shape, anyone may write: e.g. ``open/`` for the Solid conformance suite) and the
``private_containers`` that need a token to read. Only open containers may hold
nested containers (Solid Protocol 0.11, 3.1: a path ending in ``/`` is a container).

This module also holds the IRI path rules every write goes through: a path is checked
(no ``.``/``..`` segment, valid UTF-8 after percent-decoding), a ``Slug`` is sanitised.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from urllib.parse import unquote_to_bytes

import rdflib

from ddsnode.problem import BadRequest
from ddsnode.rdf.vocab import DCAT, DCTERMS, DDS, FOAF, ORG, SHAPES_NS, SKOS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Container:
    """One top-level container: its path, the classes it accepts and the shapes governing it."""

    path: str  # relative to the base IRI, ends with "/"
    title: str
    classes: tuple[rdflib.URIRef, ...] = ()
    shapes: tuple[rdflib.URIRef, ...] = ()
    binary: bool = False  # accepts LDP Non-RDF Sources (any media type)
    rdf: bool = True  # accepts RDF sources
    open: bool = False  # no shape, no type check, anyone may write, nested containers
    private: bool = False  # reads need a token with scope "read"

    def accepts_type(self, types: Iterable[rdflib.term.Node]) -> bool:
        """Whether a main resource with these rdf:types may live here."""
        return self.open or any(t in self.classes for t in types)


# (path, title, classes as (namespace, local name), accepts binaries, accepts RDF)
_DDS = "dds"
_TABLE: tuple[tuple[str, str, tuple[tuple[str, str], ...], bool, bool], ...] = (
    ("processes/", "Participatory spaces and processes",
     ((_DDS, "ParticipatorySpace"), (_DDS, "ParticipatoryProcess"), (_DDS, "Assembly"),
      (_DDS, "CitizenInitiative"), (_DDS, "GovernanceInitiative"), (_DDS, "Platform")),
     False, True),
    ("proposals/", "Proposals, amendments and debates",
     ((_DDS, "Proposal"), (_DDS, "Amendment"), (_DDS, "Debate")), False, True),
    ("comments/", "Comments", ((_DDS, "Comment"),), False, True),
    ("reactions/", "Supports, endorsements and follows",
     ((_DDS, "Reaction"), (_DDS, "Support"), (_DDS, "Endorsement"), (_DDS, "Follow")),
     False, True),
    ("meetings/", "Meetings", ((_DDS, "Meeting"),), False, True),
    ("decisions/", "Decisions", ((_DDS, "Decision"),), False, True),
    ("projects/", "Budget projects", ((_DDS, "BudgetProject"),), False, True),
    ("results/", "Results, milestones, trace links and election results",
     ((_DDS, "Result"), (_DDS, "Milestone"), (_DDS, "TraceLink"), (_DDS, "ContestResult"),
      (_DDS, "VoteCount")), False, True),
    ("organisations/", "Organisations and parties",
     (("org", "Organization"), (_DDS, "Party"),
      ("foaf", "Person"), ("org", "Membership")), False, True),  # Popolo (issue 14)
    ("topics/", "Topics and category schemes",
     (("skos", "ConceptScheme"), ("skos", "Concept")), False, True),
    ("places/", "Places, administrative areas, districts and polling stations",
     (("dct", "Location"), (_DDS, "AdministrativeArea"), (_DDS, "GpUnit"),
      (_DDS, "ElectoralDistrict"), (_DDS, "PollingStation")), False, True),
    ("participants/", "Participants", ((_DDS, "Participant"),), False, True),
    ("elections/", "Elections, contests, candidates and ballot selections",
     ((_DDS, "Election"), (_DDS, "Contest"), (_DDS, "CandidateContest"),
      (_DDS, "BallotMeasureContest"), (_DDS, "Candidate"), (_DDS, "Office"),
      (_DDS, "BallotSelection"), (_DDS, "CandidateSelection"),
      (_DDS, "BallotMeasureSelection"), (_DDS, "PartySelection")), False, True),
    # issue 13: what `ddsnode analyse` writes (ddsnode.analysis), each output with its run
    ("analysis/", "Analysis runs, topic clusters, duplicate links and summaries",
     ((_DDS, "AnalysisRun"), (_DDS, "TopicCluster"), (_DDS, "DuplicateLink"),
      (_DDS, "Summary")), False, True),
    ("documents/", "Documents (PDF, images …) with their descriptions",
     (("dcat", "Distribution"),), True, False),
)

_NAMESPACES = {"org": ORG, "skos": SKOS, "dct": DCTERMS, "dcat": DCAT, "foaf": FOAF}


def _term(prefix: str, name: str) -> rdflib.URIRef | None:
    if prefix == _DDS:
        try:
            return DDS[name]
        except KeyError:
            # tests/test_http_containers.py fails on this; the node still starts.
            log.warning("container table names dds:%s, which ontology/ does not declare", name)
            return None
    return rdflib.URIRef(_NAMESPACES[prefix][name])


def shape_for(cls: rdflib.URIRef) -> rdflib.URIRef:
    """The node shape that governs instances of ``cls`` (``ddsh:<LocalName>Shape``)."""
    local = str(cls).rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return rdflib.URIRef(f"{SHAPES_NS}{local}Shape")


@cache
def _declared_shapes() -> frozenset[rdflib.URIRef]:
    try:
        from ddsnode.validation.shapes import shapes_graph
        return frozenset(s for s in shapes_graph().subjects() if isinstance(s, rdflib.URIRef))
    except Exception:  # no shapes yet: constrainedBy lists none
        log.warning("could not load shapes/; containers advertise no ldp:constrainedBy")
        return frozenset()


def unresolved_terms() -> list[str]:
    """Names in the table that the ontology does not declare (a test keeps this empty)."""
    return [f"{p}:{n}" for _, _, classes, _, _ in _TABLE for p, n in classes
            if _term(p, n) is None]


def _paths(csv: str) -> list[str]:
    out = []
    for raw in csv.split(","):
        p = raw.strip().strip("/")
        if p:
            check_segment(p)
            out.append(p + "/")
    return out


class ContainerRegistry:
    """The containers of one node, looked up by the first segment of a path."""

    def __init__(self, *, open_containers: str = "", private_containers: str = "") -> None:
        opened, private = _paths(open_containers), set(_paths(private_containers))
        declared = _declared_shapes()
        self._by_path: dict[str, Container] = {}
        for path, title, names, binary, rdf in _TABLE:
            classes = tuple(c for c in (_term(p, n) for p, n in names) if c is not None)
            shapes = tuple(s for s in map(shape_for, classes) if s in declared)
            self._by_path[path] = Container(path, title, classes, shapes, binary, rdf,
                                            private=path in private)
        for path in opened:
            self._by_path[path] = Container(path, "Open container (free-form RDF and files)",
                                            binary=True, open=True, private=path in private)
        for path in private - set(self._by_path):
            self._by_path[path] = Container(path, "Private container", binary=True, open=True,
                                            private=True)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_path.values())

    def __len__(self) -> int:
        return len(self._by_path)

    def get(self, path: str) -> Container | None:
        """The top-level container holding ``path`` (relative to the base), if any."""
        head, sep, _ = path.partition("/")
        return self._by_path.get(head + "/") if sep else None

    def for_class(self, cls: rdflib.URIRef) -> Container | None:
        """The container where instances of ``cls`` live (for the type index)."""
        return next((c for c in self._by_path.values() if cls in c.classes), None)


# --- IRI paths ---------------------------------------------------------------------------

_PCHAR = re.compile(r"^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$")
_ESCAPED_CONTROL = re.compile(r"%(?:[01][0-9A-Fa-f]|7[Ff])")
_DOT_SEGMENT = re.compile(r"(?:^|/)\.{1,2}(?:/|$)")
_SLUG_DROP = re.compile(r"[^a-z0-9-]+")
_SLUG_DROP_OPEN = re.compile(r"[^A-Za-z0-9._-]+")
SLUG_MAX = 80


def check_segment(segment: str) -> None:
    """BadRequest unless ``segment`` is a plain path (no dot segments, printable ASCII)."""
    check_path(segment + "/")


def check_path(path: str) -> None:
    """BadRequest for a request path that is not a clean IRI path.

    ``path`` is the raw (still percent-encoded) path without the leading ``/``. Dot
    segments are refused rather than resolved (RFC 3986 5.2.4 would make two IRIs name
    one resource), as are empty segments, control characters and percent-escapes that
    are not UTF-8. This runs on every request, so the common case (no ``%``) is cheap.
    """
    if not _PCHAR.match(path):
        raise BadRequest("The request path has characters that are not allowed in an IRI path")
    decoded = path
    if "%" in path:
        if _ESCAPED_CONTROL.search(path):
            raise BadRequest("The request path has control characters")
        try:
            decoded = unquote_to_bytes(path).decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("The request path is not UTF-8 once percent-decoded") from None
    dotted = "." in decoded and _DOT_SEGMENT.search(decoded)
    if "//" in decoded or decoded.startswith("/") or dotted:
        raise BadRequest("The request path has an empty, '.' or '..' segment")


def parent_path(path: str) -> str | None:
    """The container path of ``path`` ("a/b/c" -> "a/b/", "a/" -> ""), None for the root."""
    if not path:
        return None
    trimmed = path.removesuffix("/")
    cut = trimmed.rfind("/")
    return trimmed[:cut + 1] if cut >= 0 else ""


def sanitise_slug(slug: str | None, *, free_form: bool = False) -> str:
    """A ``Slug`` header (RFC 5023 9.7) as a safe path segment; a random id when empty.

    Lowercase, ``[a-z0-9-]`` only, at most 80 characters. In a free-form (open) container
    case, dots and underscores are kept too (``test.ttl``), as Solid servers do. A slug
    with a path separator is refused (BadRequest) rather than silently flattened.
    """
    if slug is None:
        return new_id()
    text = unquote_to_bytes(slug.strip()).decode("utf-8", "replace")
    if "/" in text or "\\" in text:
        raise BadRequest("The Slug header must not contain a path separator")
    if free_form:
        cleaned = _SLUG_DROP_OPEN.sub("-", text).strip("-.")[:SLUG_MAX].strip("-.")
    else:
        cleaned = _SLUG_DROP.sub("-", text.lower()).strip("-")[:SLUG_MAX].strip("-")
    return cleaned or new_id()


def new_id() -> str:
    """A short random id for a server-minted IRI."""
    return secrets.token_hex(5)

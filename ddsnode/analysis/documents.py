"""Analysis outputs as JSON-LD documents of the shared context, at stable IRIs.

IRIs are derived from what an output is about, not from the run (a duplicate link from
its two contributions, a summary from its proposal, a topic from the fit it first
appeared in, kept across refits by member overlap: lineage.py), so a rerun on the same
input rewrites nothing and links from elsewhere stay valid.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from functools import lru_cache
from typing import Any

import pyoxigraph

from ddsnode.analysis.duplicates import Candidate
from ddsnode.analysis.summaries import Statement, ThreadSummary
from ddsnode.analysis.topics import Cluster

CONTEXT = "https://w3id.org/dds/context/v1"
CONTAINER = "analysis/"
REVIEW = "ddsreview:"

# "Support, not consensus": where a platform records only supports nobody could disagree
# (issue 13), so the number says how many support, never how many agree.
_SUPPORT_NOTE = {
    "en": "{n} supports. The platform records supports only, so this measures support, "
          "not consensus.",
    "fr": "{n} soutiens. La plateforme n'enregistre que des soutiens : ce chiffre mesure un "
          "soutien, pas un consensus.",
    "ca": "{n} suports. La plataforma només registra suports: aquesta xifra mesura un suport, "
          "no un consens.",
    "es": "{n} apoyos. La plataforma solo registra apoyos: esta cifra mide un apoyo, "
          "no un consenso.",
}


def _short(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def run_iri(base: str, started: datetime, input_hash: str) -> str:
    """The IRI of a run started at ``started`` (UTC, to the microsecond) on ``input_hash``."""
    return f"{base}{CONTAINER}run-{started.strftime('%Y%m%dt%H%M%S%fz')}-{input_hash[:8]}"


def topic_iri(base: str, name: str) -> str:
    """The IRI of the topic named ``name`` (kept across refits: lineage.py)."""
    return f"{base}{CONTAINER}topic-{name}"


def duplicate_iri(base: str, a: str, b: str) -> str:
    """The IRI of the duplicate link between ``a`` and ``b`` (order does not matter)."""
    return f"{base}{CONTAINER}duplicate-{_short(*sorted((a, b)))}"


def summary_iri(base: str, subject: str, *, draft: bool = False) -> str:
    """The IRI of the (extractive, or model's draft) summary of ``subject``'s thread."""
    return f"{base}{CONTAINER}{'draft' if draft else 'summary'}-{_short(subject)}"


def topic_doc(base: str, name: str, cluster: Cluster) -> dict[str, Any]:
    """A TopicCluster document for the topic named ``name``."""
    doc: dict[str, Any] = {
        "@context": CONTEXT, "id": topic_iri(base, name),
        "type": "TopicCluster", "prefLabel": cluster.labels, "keyword": cluster.keywords,
        "member": cluster.members, "representativeMember": cluster.members[:3],
        "share": cluster.share}
    if cluster.close_matches:
        doc["closeMatch"] = cluster.close_matches
    return doc


def duplicate_doc(base: str, candidate: Candidate, status: str = "candidate",
                  reviewer: str | None = None) -> dict[str, Any]:
    """A DuplicateLink document (``status`` a word of the review-status scheme)."""
    doc: dict[str, Any] = {
        "@context": CONTEXT, "id": duplicate_iri(base, candidate.a, candidate.b),
        "type": "DuplicateLink", "contributions": [candidate.a, candidate.b],
        "similarityScore": candidate.score, "method": candidate.method,
        "viaMachineTranslation": candidate.machine_translated,
        "reviewStatus": REVIEW + status}
    if candidate.language:  # tier 2 compares two languages directly: none to name
        doc["comparedLanguage"] = candidate.language
    if reviewer:
        doc["reviewedBy"] = reviewer
    return doc


def _statement(iri: str, n: int, s: Statement) -> dict[str, Any]:
    out: dict[str, Any] = {"id": f"{iri}#s{n}", "type": "Statement",
                           "text": {s.language or "und": s.text}, "supportedBy": s.supported_by}
    if s.quote:
        out["quotedSpan"] = {s.language or "und": s.quote}
    if s.stance:
        out["stance"] = s.stance
    return out


def summary_doc(base: str, summary: ThreadSummary, *, draft: bool = False) -> dict[str, Any]:
    """A Summary document: extractive ones are published, a model's are drafts."""
    iri = summary_iri(base, summary.subject, draft=draft)
    doc: dict[str, Any] = {
        "@context": CONTEXT, "id": iri, "type": "Summary", "summarises": summary.subject,
        "method": summary.method, "reviewStatus": REVIEW + ("draft" if draft else "published"),
        "statements": [_statement(iri, i, s) for i, s in enumerate(summary.statements, 1)]}
    if summary.support_count is not None:
        doc["supportCount"] = summary.support_count
        if summary.supports_only:
            doc["agreementNote"] = {lang: text.format(n=summary.support_count)
                                    for lang, text in _SUPPORT_NOTE.items()}
    return doc


def run_doc(base: str, iri: str, *, scope: str, analysed: list[str], count: int,
            input_hash: str, methods: list[str], parameters: dict[str, Any], software: str,
            started: str, ended: str, dropped: int, model: dict[str, Any] | None
            ) -> dict[str, Any]:
    """The AnalysisRun document (prov:Activity)."""
    doc: dict[str, Any] = {
        "@context": CONTEXT, "id": iri, "type": "AnalysisRun", "analysed": analysed,
        "analysisScope": scope, "inputCount": count, "inputHash": input_hash,
        "method": methods, "parameters": json.dumps(parameters, sort_keys=True),
        "softwareVersion": software, "droppedStatements": dropped,
        "startedAt": started, "endedAt": ended}
    if model:
        doc.update({k: v for k, v in model.items() if v not in ("", None)})
    return doc


def digest(doc: dict[str, Any]) -> str:
    """SHA-256 of a document as written, less its run: unchanged outputs are not rewritten."""
    body = {k: v for k, v in doc.items() if k != "generatedBy"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()
                          ).hexdigest()


# --- duplicate links as N-Triples --------------------------------------------------------
# An incremental run on 100,000 contributions writes about 4,500 new links, and the JSON-LD
# parse was 40% of each write (docs/analysis.md). A link is written as N-Triples instead,
# through the same Node.write_document (the same checks, shapes and index): the triples are
# those the JSON-LD parser makes of the link's document, taken from a template document
# the real parser reads once per kind of link, with the values put in its place
# (tests/test_analysis_incremental.py compares the two for every kind and many scores).
_SENTINEL = "http://sentinel.invalid/"
_SCORE = 0.123456789


@lru_cache(maxsize=64)
def _link_template(base: str, method: str, machine: bool, status: str, language: bool,
                   reviewer: bool) -> tuple[str, str] | None:
    """The N-Triples of a link of this kind with sentinel values (its score a placeholder),
    and the score's datatype; None when the score is not found in them."""
    from ddsnode.rdf import jsonld, rdfio
    candidate = Candidate(_SENTINEL + "a", _SENTINEL + "b", _SCORE,
                          "xx-sentinel" if language else "", machine, method)
    doc = duplicate_doc(base, candidate, status, _SENTINEL + "reviewer" if reviewer else None)
    doc["id"] = _SENTINEL + "link"
    doc["generatedBy"] = _SENTINEL + "run"
    graph = jsonld.parse_document(json.dumps(doc), doc["id"])
    text = rdfio.ntriples(graph).decode("utf-8")
    scores = [o for o in graph.objects() if _is_score(o)]
    if len(scores) != 1:
        return None
    datatype = str(getattr(scores[0], "datatype", ""))
    token = _score_token(_SCORE, datatype)
    if text.count(token) != 1:
        return None
    return text.replace(token, "\x00score\x00"), datatype


def _is_score(term: Any) -> bool:
    try:
        return abs(float(term) - _SCORE) < 1e-12
    except (TypeError, ValueError):
        return False


@lru_cache(maxsize=16_384)
def _score_token(score: float, datatype: str) -> str:
    """``score`` as the JSON-LD parser writes a number coerced to ``datatype``."""
    found = pyoxigraph.parse(json.dumps({
        "@context": {"p": {"@id": "urn:x:p", "@type": datatype}}, "@id": "urn:x:s",
        "p": score}), format=pyoxigraph.RdfFormat.JSON_LD)
    return str(next(iter(found)).object)


def duplicate_ntriples(base: str, candidate: Candidate, status: str, reviewer: str | None,
                       run: str) -> bytes | None:
    """The N-Triples of :func:`duplicate_doc`'s document with ``generatedBy`` ``run``; None
    when the template cannot be made (write the JSON-LD then)."""
    template = _link_template(base, candidate.method, candidate.machine_translated,
                              status, bool(candidate.language), bool(reviewer))
    if template is None:
        return None
    text, datatype = template
    text = (text.replace("\x00score\x00", _score_token(candidate.score, datatype))
            .replace(f"<{_SENTINEL}link>", f"<{duplicate_iri(base, candidate.a, candidate.b)}>")
            .replace(f"<{_SENTINEL}a>", f"<{candidate.a}>")
            .replace(f"<{_SENTINEL}b>", f"<{candidate.b}>")
            .replace(f"<{_SENTINEL}run>", f"<{run}>")
            .replace('"xx-sentinel"', json.dumps(candidate.language)))
    if reviewer:
        text = text.replace(f"<{_SENTINEL}reviewer>", f"<{reviewer}>")
    return None if _SENTINEL in text or "xx-sentinel" in text else text.encode("utf-8")

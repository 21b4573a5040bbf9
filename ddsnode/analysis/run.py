"""One analysis run: read, analyse, write the outputs through the node's write path.

Tier 1 always runs; tier 3 (a model) only when ``analysis_llm_url`` is set, and a failing
model never stops the run: its error is recorded and the tier 1 outputs are written. All
writes of a run are one store transaction (a crash leaves the previous run's outputs),
each through :meth:`ddsnode.ldp.node.Node.write_document`, the path of an HTTP PUT, so the
shapes judge them like any write. Outputs whose contributions are gone (deleted,
withdrawn) are deleted (tombstones, 410), except reviewed duplicate links whose two
contributions are still there: a reviewer's verdict outlives the scores.
"""

from __future__ import annotations

import fcntl
import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from ddsnode.analysis import (
    corpus,
    documents,
    duplicates,
    labels,
    lineage,
    published,
    snapshot,
    summaries,
    topics,
)
from ddsnode.analysis.progress import Progress
from ddsnode.analysis.state import DIRECTORY, State, load_model, save_model
from ddsnode.analysis.verifier import verified
from ddsnode.ldp.node import Node
from ddsnode.problem import Conflict, Problem
from ddsnode.settings import Settings

MEDIA_TYPE = "application/ld+json"
NTRIPLES = "application/n-triples"
_PACKAGES = ("scikit-learn", "numpy", "scipy", "simplemma", "stopwordsiso", "py3langid")


@dataclass
class RunReport:
    """What a run did."""

    run: str
    contributions: int
    refitted: bool
    topics: int = 0
    duplicates: int = 0
    summaries: int = 0
    drafts: int = 0
    dropped: int = 0
    embedded: int = 0  # tier 2: texts the model embedded (the rest came from the cache)
    written: int = 0
    unchanged: int = 0
    deleted: int = 0
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        """One paragraph for the terminal."""
        lines = [f"run {self.run}",
                 (f"{self.contributions:,} contributions; {self.topics} topics"
                 f" ({'refitted' if self.refitted else 'assigned to the fitted model'}),"
                 f" {self.duplicates} duplicate links, {self.summaries} summaries,"
                 f" {self.drafts} model drafts ({self.dropped} statements dropped)"),
                 f"written {self.written}, unchanged {self.unchanged}, deleted {self.deleted}"]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def software_version() -> str:
    """ddsnode's version and the analysis packages' (dds:softwareVersion)."""
    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "?"
    return "; ".join(f"{n} {version(n)}" for n in ("ddsnode", *_PACKAGES))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _kept_score(candidate: duplicates.Candidate, stored: published.StoredLink | None
                ) -> duplicates.Candidate:
    """``candidate`` with the stored link's score when it moved by less than
    ``duplicates.SCORE_TOLERANCE`` (same method): new contributions shift every TF-IDF
    weight a little, and rewriting each link for its fourth decimal made an incremental
    run rewrite nearly all of them (docs/analysis.md). The link keeps the score of the
    run that wrote it, its ``generatedBy``."""
    if stored is None or stored.score is None or stored.method != candidate.method \
            or stored.score == candidate.score:
        return candidate
    if abs(stored.score - candidate.score) < duplicates.SCORE_TOLERANCE:
        return replace(candidate, score=stored.score)
    return candidate


def analyse(settings: Settings, node_dir: Path, *, scope: str = "local", since: str = "",
            full: bool = False, progress: Progress | None = None) -> RunReport:
    """Run the analysis on the node at ``node_dir``; returns what it did.

    One run at a time per node (Conflict otherwise): two would race on the state and
    delete each other's outputs. ValueError when tier 2 is on and not installed."""
    from ddsnode.analysis.embeddings import require
    require(settings)
    folder = node_dir / DIRECTORY
    folder.mkdir(exist_ok=True)
    with open(folder / "run.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict(f"another analysis of {node_dir} is running") from None
        return _analyse(settings, node_dir, scope, since, full,
                        progress or Progress(enabled=False))


def _analyse(settings: Settings, node_dir: Path, scope: str, since: str, full: bool,
             progress: Progress) -> RunReport:
    started_at = datetime.now(UTC)
    started = started_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    node = Node.open(settings)
    try:
        base = node.base
        container = base + documents.CONTAINER
        # Before reading: what others write from here on is read back at the next run.
        start = published.position(node.store, [container] + [
            base + path for path in corpus.CONTAINERS])
        progress.stage("reading", node.store.count_children(base + "proposals/")
                       + node.store.count_children(base + "comments/"))
        if full:  # recompute everything: the kept contributions (and tokens) too
            snapshot.forget(node_dir / DIRECTORY)
        read, keep = snapshot.read(
            node.store, base, node_dir / DIRECTORY, max_items=settings.analysis_max_contributions,
            max_chars=settings.analysis_max_text_chars, since=since, position=start,
            tick=progress.advance)
        found = {c.iri: c for c in read}
        if scope == "federation":
            for c in corpus.from_peer_cache(node_dir, max_items=settings.analysis_max_contributions,
                                            max_chars=settings.analysis_max_text_chars,
                                            since=since):
                found.setdefault(c.iri, c)
        items = [found[iri] for iri in sorted(found)]
        digests = {c.iri: c.digest() for c in items}  # once: 100,000 texts hashed
        input_hash = corpus.input_hash(items, digests)
        run = documents.run_iri(base, started_at, input_hash)
        report = RunReport(run, len(items), refitted=False)
        state = State.load(node_dir)
        known = load_model(node_dir)
        # The previous run's topics, for a refit to keep their names (lineage.py), even
        # a cold one (--full): only when the model and the state are of the same fit.
        history = (known.names, {iri: int(v[1]) for iri, v in state.contributions.items()
                                 if v[1] is not None}) \
            if known is not None and known.model_id == state.model_id else ([], {})
        if full:  # forget the model and the assignments, not the outputs (to remove stale ones)
            state = State(outputs=state.outputs, links=state.links, position=state.position,
                          pending=state.pending)
        outputs = published.Published(node.store, state, container)

        progress.stage("topics", len(items))
        docs: dict[str, dict[str, Any]] = {}
        model = None if full else known
        changed = [c for c in items
                   if state.contributions.get(c.iri, [None])[0] != digests[c.iri]]
        changed_iris = {c.iri for c in changed}
        seeded_from = ""
        refit = (model is None or model.model_id != state.model_id
                 or len(changed) > settings.analysis_refit_ratio * max(1, state.fitted_on))
        if refit:
            previous = model  # seeds the refit: topics follow the data, not reshuffled
            model = topics.fit(items, settings.analysis_topics, previous)
            seeded_from = previous.model_id if previous is not None and model is not None \
                and model.size == previous.size else ""
            state.fitted_on, state.model_id = len(items), model.model_id if model else ""
            report.refitted = True
            assignment = topics.assign(model, items) if model else {}
            if model is not None:
                model.names = lineage.inherited_names(
                    model.model_id, model.size, {i: t for i, (t, _) in assignment.items()},
                    *history)
        else:
            assert model is not None
            assignment = {c.iri: (int(state.contributions[c.iri][1]),
                                  float(state.contributions[c.iri][2]))
                          for c in items if c.iri not in changed_iris
                          and state.contributions.get(c.iri, [None, None])[1] is not None}
            assignment.update(topics.assign(model, changed))
        progress.advance(len(items))
        state.contributions = {c.iri: [digests[c.iri], *assignment.get(c.iri, (None, None))]
                               for c in items}
        if model is not None:
            made_clusters = topics.clusters(model, assignment, found)
            labels.complete(made_clusters, found)  # languages only translations carry
            for cluster in made_clusters:
                doc = documents.topic_doc(base, model.names[cluster.index], cluster)
                docs[doc["id"]] = doc
                report.topics += 1

        progress.stage("duplicates")
        threshold = settings.analysis_duplicate_threshold
        # All pairs on a refit (or --full, or a new threshold); else only those touching a
        # new or changed contribution, and the published links scored again (duplicates.py)
        every_pair = refit or full or threshold != state.threshold
        pairs = duplicates.scores(
            items, threshold, changed=None if every_pair else changed_iris,
            known={(f[0], f[1]): f[4] for iri, f in state.links.items()
                   if f[3] == duplicates.METHOD and iri in state.outputs})
        state.threshold = threshold
        model_info: dict[str, Any] | None = None
        methods = ["tfidf-nmf", duplicates.METHOD, summaries.METHOD, "stance-arguments"]
        from ddsnode.analysis import embeddings
        if settings.analysis_embeddings:  # tier 2: pairs across languages (embeddings.py)
            progress.stage("embeddings", len(items))
            tier2 = embeddings.cross_language(settings, node_dir / DIRECTORY / embeddings.FOLDER,
                                              items, tick=progress.advance)
            pairs = embeddings.merged(pairs, tier2.candidates, found)
            report.embedded = tier2.embedded
            report.notes += tier2.notes
            report.notes.append(f"{embeddings.status(settings)}: {tier2.embedded} texts "
                                f"embedded, {tier2.cached} from the cache, "
                                f"{len(tier2.candidates)} links across languages")
            model_info = tier2.provenance
            methods.insert(2, embeddings.METHOD)
        else:
            report.notes.append(embeddings.status(settings))
        links: dict[str, list[Any]] = {}  # iri -> its fields (published.fields)
        for candidate in pairs.values():
            iri = documents.duplicate_iri(base, candidate.a, candidate.b)
            stored = outputs.link(iri)
            if not full:  # --full recomputes every output, scores included
                candidate = _kept_score(candidate, stored)
            links[iri] = published.fields(candidate, stored.review if stored else None)
            report.duplicates += 1

        progress.stage("summaries")
        made = summaries.summarise(items, settings.analysis_summary_statements)
        for summary in made:
            kept, dropped = verified(summary.statements, found)
            report.dropped += len(dropped)
            summary.statements = kept
            if kept:
                doc = documents.summary_doc(base, summary)
                docs[doc["id"]] = doc
                report.summaries += 1

        if settings.analysis_llm_url:
            from ddsnode.analysis import llm
            progress.stage("model drafts", min(len(made), settings.analysis_llm_max_requests))
            outcome = llm.drafts(settings, made, found, tick=progress.advance)
            model_info = _both(model_info, outcome.provenance)
            report.dropped += outcome.dropped
            report.notes += outcome.notes
            methods.append(llm.METHOD)
            for draft in outcome.summaries:
                doc = documents.summary_doc(base, draft, draft=True)
                docs[doc["id"]] = doc
                report.drafts += 1

        progress.stage("writing", len(docs) + len(links) + 1)
        end, mine = _write(node, state, outputs, docs, links, run, report, progress, found)
        # The next run reads back what others wrote in analysis/ after this run's last
        # write, and while it ran (a reviewer's verdict on a link it did not rewrite).
        state.position = end if start and end else 0
        contributions = {base + path for path in corpus.CONTAINERS}
        during = published.changed(node.store, {container, *contributions}, start, end) \
            if state.position else set()
        state.pending = sorted(iri for iri in during - mine if iri.startswith(container))
        # The contributions as read are those of the store at ``start``; at ``end`` too
        # when none was written meanwhile (then the next run need not scan this run's writes)
        read_at = end if state.position and during <= {*mine, *state.pending} else start
        parameters = {"duplicate_threshold": threshold,
                      "duplicate_score_tolerance": 0 if full else duplicates.SCORE_TOLERANCE,
                      "topics": model.size if model else 0,
                      "summary_statements": settings.analysis_summary_statements,
                      "seed": topics.SEED, "since": since, "refit": report.refitted,
                      "model_id": model.model_id if model else "",
                      "seeded_from": seeded_from,  # the model a refit was anchored to
                      "anchor_per_document": topics.ANCHOR_PER_DOCUMENT if seeded_from else 0}
        if settings.analysis_embeddings:
            parameters["embeddings_threshold"] = settings.analysis_embeddings_threshold
            parameters["embeddings_neighbours"] = embeddings.NEIGHBOURS
        analysed = [base + path for path in corpus.CONTAINERS]
        run_document = documents.run_doc(
            base, run, scope=scope, analysed=analysed, count=len(items), input_hash=input_hash,
            methods=methods, parameters=parameters, software=software_version(),
            started=started, ended=_now(), dropped=report.dropped, model=model_info)
        with node.store.transaction():
            node.write_document(run, json.dumps(run_document).encode(), MEDIA_TYPE)
        progress.close()
    finally:
        node.close()
    if model is not None and refit:
        save_model(node_dir, model)
    if keep:  # the store's contributions as read: the next run reads only what changed
        snapshot.save(node_dir / DIRECTORY, read_at, read, settings.analysis_max_text_chars)
    state.save(node_dir)
    return report


def _both(embedding: dict[str, Any] | None, language: dict[str, Any]) -> dict[str, Any]:
    """The run's model fields with tier 2 and tier 3 both on: each field holds one string
    (the shapes' ``maxCount 1``), so the two models' are joined, the embeddings' first."""
    if not embedding:
        return language
    joined = dict(language)
    for name in ("modelName", "modelHash"):
        joined[name] = "; ".join(str(v) for v in (embedding.get(name), language.get(name))
                                 if v not in ("", None))
    return joined


def _write(node: Node, state: State, outputs: published.Published,
           docs: dict[str, dict[str, Any]], links: dict[str, list[Any]], run: str,
           report: RunReport, progress: Progress, found: dict[str, corpus.Contribution]
           ) -> tuple[int, set[str]]:
    """Write changed outputs, delete stale ones; one transaction. A link whose fields are
    those the state kept, and that nobody wrote since, is unchanged without a document.
    Returns the change-log position of the last write to analysis/ (0: the backend keeps
    none) and the outputs written or deleted."""
    mine: set[str] = set()
    written: dict[str, str] = {}
    kept_links: dict[str, list[Any]] = {}
    with node.store.transaction():
        for iri in sorted(docs.keys() | links.keys()):
            progress.advance()
            if iri in links:
                if outputs.unchanged(iri) and state.links.get(iri) == links[iri]:
                    written[iri], kept_links[iri] = state.outputs[iri], links[iri]
                    report.unchanged += 1
                    continue
                a, b, score, method, language, mt, status, reviewer = links[iri]
                candidate = duplicates.Candidate(a, b, score, language, mt, method)
                doc = documents.duplicate_doc(node.base, candidate, status, reviewer)
            else:
                doc, candidate = docs[iri], None
            digest = documents.digest(doc)
            if state.outputs.get(iri) == digest and outputs.live(iri):
                report.unchanged += 1
            else:
                # a link as N-Triples (the same triples, cheaper to parse: documents.py)
                body, media = (documents.duplicate_ntriples(node.base, candidate, status,
                                                            reviewer, run)
                               if candidate is not None else None), NTRIPLES
                if body is None:
                    body = json.dumps({**doc, "generatedBy": run},
                                      ensure_ascii=False).encode("utf-8")
                    media = MEDIA_TYPE
                try:
                    with node.store.savepoint():
                        node.write_document(iri, body, media)
                except Problem as exc:  # one refused output must not lose the others
                    report.notes.append(f"not written {iri}: {exc.detail}"[:500])
                    continue
                report.written += 1
                mine.add(iri)
            written[iri] = digest
            if iri in links:
                kept_links[iri] = links[iri]
        for iri in sorted(set(state.outputs) - set(written)):
            if not outputs.live(iri):
                continue
            stored = outputs.link(iri) if "/duplicate-" in iri else None
            if stored is not None and stored.review is not None \
                    and len(stored.pair) == 2 and all(p in found for p in stored.pair):
                # a reviewed duplicate link stays while both its contributions are there
                written[iri], kept_links[iri] = state.outputs[iri], stored.fields()
                continue
            node.delete(iri)
            mine.add(iri)
            report.deleted += 1
        # In the transaction: no one else's write can come between the last one and this
        end = node.store.container_stamp(node.base + documents.CONTAINER) or 0
    state.outputs, state.links = written, kept_links
    return end, mine

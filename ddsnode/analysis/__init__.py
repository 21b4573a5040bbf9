"""Automatic analysis of contributions (issue 13): topics, duplicates, summaries, arguments.

Tier 1 is always on, offline and deterministic: classical methods (scikit-learn TF-IDF and
NMF, simplemma lemmas, stopwords-iso, py3langid) over the node's own contributions, so the
same input and versions give the same output. Every output is a resource of the node's
``analysis/`` container, written through the one validated write path, and points at the
exact contributions it rests on. Tier 3 (a language model) runs only when an operator sets
``analysis_llm_url``; its statements pass :mod:`.verifier` and stay drafts until a reviewer
publishes them. See docs/analysis.md.

Modules: ``corpus`` (contributions read from the store), ``text`` (languages, lemmas),
``topics``, ``duplicates``, ``summaries`` (extractive, with arguments from stances),
``verifier``, ``llm`` (the model client, through the outbound guard), ``documents``
(outputs as JSON-LD), ``state`` (what the last run fitted and wrote), ``run``, ``progress``,
``trigram`` (PostgreSQL pg_trgm similarity, Decidim's method, as a baseline).
"""

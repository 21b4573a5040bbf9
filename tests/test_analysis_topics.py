"""Topic refits seeded from the previous model (issue 13): the topics follow the data
without being reshuffled, deterministically."""

from __future__ import annotations

import numpy as np

from ddsnode.analysis import topics
from ddsnode.analysis.corpus import Contribution
from tests.support.analysis_corpus import PROPOSALS


def contributions(slugs: list[str]) -> list[Contribution]:
    return [Contribution(f"https://node.example/proposals/{slug}", "Proposal",
                         texts={lang: f"{PROPOSALS[slug]['title'][lang]} "
                                      f"{PROPOSALS[slug]['body'].get(lang, '')}"
                                for lang in PROPOSALS[slug]["title"]})
            for slug in slugs]


def test_a_seeded_refit_keeps_every_unchanged_contribution_in_its_topic() -> None:
    slugs = sorted(PROPOSALS)
    first = contributions(slugs[:-1])
    cold = topics.fit(first, 3)
    assert cold is not None and cold.size == 3
    before = {iri: t for iri, (t, _) in topics.assign(cold, first).items()}
    assert len(set(before.values())) > 1  # a test with one topic would prove nothing
    everyone = contributions(slugs)
    seeded = topics.fit(everyone, 3, previous=cold)
    assert seeded is not None and seeded.model_id != cold.model_id
    after = {iri: t for iri, (t, _) in topics.assign(seeded, everyone).items()}
    # The same topic numbers: the seeded topics are the previous ones, moved by the data.
    assert {iri: after[iri] for iri in before} == before
    # Unseeded, the same refit moves some of them (what the seed is for).
    unseeded = topics.fit(everyone, 3)
    assert unseeded is not None
    moved = {iri: t for iri, (t, _) in topics.assign(unseeded, everyone).items()}
    assert {iri: moved.get(iri) for iri in before} != before
    again = topics.fit(everyone, 3, previous=cold)
    assert again is not None
    assert np.array_equal(again.components, seeded.components)  # deterministic


def test_a_refit_of_another_size_starts_cold() -> None:
    slugs = sorted(PROPOSALS)
    cold = topics.fit(contributions(slugs), 3)
    assert cold is not None
    other = topics.fit(contributions(slugs), 2, previous=cold)
    fresh = topics.fit(contributions(slugs), 2)
    assert other is not None and fresh is not None
    assert np.array_equal(other.components, fresh.components)

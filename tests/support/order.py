"""The order in which pytest-xdist hands modules to its workers: the longest first.

With ``--dist loadscope`` a module runs whole on one worker, and pytest-xdist hands modules
out in collection order, or by number of tests when it reorders (its default). Either way
the few long modules (one README test of four minutes, the multi-process scenarios) came
last and the run ended with one worker busy for ten minutes while the other idled. Sorted
longest first, the long modules start at once on both workers and the many short ones
fill in behind them (longest-processing-time-first scheduling).

The seconds are what each module took in a CI run (``./scripts/test --durations=80``,
2 workers, a loaded machine: read them as weights, not timings); a module not listed
weighs its number of tests times ``PER_TEST``.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

MEASURED = {
    "test_multiprocess": 264,
    "test_readme": 250,
    "test_decidim_import": 99,
    "test_pilot": 95,
    "test_browser_pages": 89,
    "test_store_crash": 77,
    "test_http_solid_crud": 71,
    "test_federation_cluster": 60,
    "test_decidim_variants": 60,
    "test_federation_follow": 57,
    "test_explorer_browser": 50,
    "test_store_counts": 41,
    "test_multiprocess_machines": 41,
    "test_vip": 40,
    "test_hostile_transport": 40,
    "test_election_night_machines": 39,
    "test_analysis_schedule": 35,
    "test_explorer_people_browser": 33,
    "test_publication_static": 25,
    "test_mirror_nodes": 24,
    "test_hostile_jsonld": 23,
    "test_render_budget": 22,
    "test_ontology_check": 22,
    "test_browser_explorer": 21,
    # many short parametrised cases: measured alone, serially, on the same loaded machine
    "test_validation_differential": 38,
    "test_compaction": 30,
}
PER_TEST = 0.05  # seconds: about the mean of the modules not listed


def longest_first(items: list[pytest.Item]) -> None:
    """Reorder ``items`` in place: modules by weight, heaviest first; a module's own
    tests keep their order (its fixtures and the tests that read what earlier ones wrote
    rely on it)."""
    modules: dict[str, list[pytest.Item]] = defaultdict(list)
    for item in items:
        modules[item.nodeid.split("::", 1)[0]].append(item)

    def weight(path: str) -> float:
        name = path.rsplit("/", 1)[-1].removesuffix(".py")
        return MEASURED.get(name, PER_TEST * len(modules[path]))

    items[:] = [item for path in sorted(modules, key=weight, reverse=True)
                for item in modules[path]]

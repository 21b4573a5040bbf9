"""A resource's traceability timeline (ddsnode/explorer/timeline.py): only what is linked
to it, grouped by stage, with dates — on a synthetic chain and on the example scenario's
pages (in process).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape

import pytest

from ddsnode import resources
from ddsnode.commands.demo import rebase
from ddsnode.explorer.timeline import STEP_ORDER, related
from tests.support.inprocess import LocalNode, local_node

HTML = {"Accept": "text/html"}
R = {name: STEP_ORDER.index(name) for name in STEP_ORDER}


def chain() -> tuple[dict[str, int | None], list[tuple[str, str]]]:
    """Proposal P answered by decision D (which answers P2 too and adopts J and J2);
    J implements P, J2 implements P2; R implements J, R2 implements J2; M is R's
    milestone, M2 R2's; R has a parent result PLAN; P has amendment A and was discussed
    at meeting MT (with P2); S is the space of them all (context, no stage)."""
    ranks: dict[str, int | None] = {
        "P": R["Proposal"], "P2": R["Proposal"], "A": R["Amendment"], "MT": R["Meeting"],
        "D": R["Decision"], "J": R["BudgetProject"], "J2": R["BudgetProject"],
        "R": R["Result"], "R2": R["Result"], "PLAN": R["Result"], "M": R["Milestone"],
        "M2": R["Milestone"], "S": None}
    links = [("D", "P"), ("D", "P2"), ("D", "J"), ("D", "J2"), ("J", "P"), ("J2", "P2"),
             ("R", "J"), ("R2", "J2"), ("R", "M"), ("R2", "M2"), ("R", "PLAN"),
             ("A", "P"), ("P", "MT"), ("P2", "MT"), ("P", "S"), ("P2", "S"), ("J", "S")]
    return ranks, links


@pytest.mark.parametrize(("start", "expected"), [
    ("P", {"P", "A", "MT", "D", "J", "R", "PLAN", "M"}),
    ("P2", {"P2", "MT", "D", "J2", "R2", "M2"}),
    # Upstream, a proposal's own history comes along (its amendment, its meeting).
    ("R", {"R", "PLAN", "M", "J", "D", "P", "A", "MT"}),
    ("J", {"J", "D", "P", "R", "PLAN", "M", "A", "MT"}),
    ("D", {"D", "P", "P2", "J", "J2", "R", "R2", "PLAN", "M", "M2", "A", "MT"}),
    ("S", {"S"}),
])
def test_only_what_is_linked(start: str, expected: set[str]) -> None:
    ranks, links = chain()
    assert set(related(start, ranks, links)) == expected


def test_a_chain_with_a_cycle_and_self_links_ends() -> None:
    ranks: dict[str, int | None] = {"P": 0, "D": 4, "J": 5}
    links = [("P", "P"), ("P", "D"), ("D", "J"), ("J", "P"), ("J", "D")]
    assert set(related("P", ranks, links)) == {"P", "D", "J"}


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    with local_node(tmp_path_factory.mktemp("explorer-timeline"),
                    settings={"explorer_peer_sync_seconds": 0}) as running:
        core = running.app.node  # type: ignore[attr-defined]
        for path in sorted(resources.examples_dir().glob("*.jsonld")):
            text = rebase(path.read_text(encoding="utf-8"), running.base)
            core.write_document(json.loads(text)["id"], text.encode(), "application/ld+json")
        yield running


def timeline(node: LocalNode, path: str) -> list[tuple[str, list[str]]]:
    """(stage, [step text]) of the page's timeline."""
    with node.client() as http:
        r = http.get(path, headers=HTML)
    assert r.status_code == 200, r.text
    found = re.search(r'<ol class="govuk-list dds-timeline">(.*?)</ol>', r.text, re.S)
    if found is None:
        return []
    out = []
    for stage in re.findall(r'<li class="dds-stage">(.*?)</ul>\s*</li>', found.group(1), re.S):
        label = re.search(r"<h3[^>]*>(.*?)</h3>", stage, re.S)
        assert label is not None
        steps = [" ".join(unescape(re.sub(r"<[^>]+>", " ", s)).split())
                 for s in re.findall(r'<li class="dds-step[^"]*"[^>]*>(.*?)</li>', stage, re.S)]
        out.append((label.group(1).strip(), steps))
    return out


def test_a_proposal_shows_its_own_story_by_stage(node: LocalNode) -> None:
    stages = timeline(node, "/proposals/protected-bike-lanes")
    labels = [label for label, _ in stages]
    assert labels == ["Proposal", "Amendment", "Meeting", "Decision", "Budget project",
                      "Result", "Milestone"]
    steps = dict(stages)
    # Itself only among proposals: not the riverside lane, not node B's school crossing.
    assert steps["Proposal"] == ["March 4, 2026 · Protected bike lanes on the Quai des "
                                 "Tanneurs"]
    assert steps["Decision"][0].startswith("July 9, 2026 · Adoption of the winning projects")
    assert any("40 % done" in s for s in steps["Result"])
    # Steps are dated and in date order within a stage.
    results = [s.split(" · ")[0] for s in steps["Result"]]
    assert results == ["January 1, 2026", "September 14, 2026"]


def test_a_sibling_proposal_does_not_bring_the_others_amendment(node: LocalNode) -> None:
    steps = dict(timeline(node, "/proposals/tanneurs-school-crossing"))
    assert "Amendment" not in steps
    assert steps["Proposal"] == ["March 18, 2026 · Make the crossing in front of the "
                                 "Tanneurs school safe"]
    assert "Budget project" in steps and "Decision" in steps


def test_a_result_goes_back_to_the_proposals_it_implements(node: LocalNode) -> None:
    steps = dict(timeline(node, "/results/protected-bike-lanes-tanneurs"))
    assert len(steps["Proposal"]) == 2  # the project implements both
    assert "Decision" in steps


def test_a_proposal_linked_to_nothing_has_no_timeline(node: LocalNode) -> None:
    assert timeline(node, "/proposals/quai-bike-lane") == []

"""The Decidim mapping without a node: texts, dates, authors, pseudonyms, statuses."""

from __future__ import annotations

from ddsnode.decidim.accountability import status
from ddsnode.decidim.context import Context
from ddsnode.decidim.contributions import comment, decimal_text, proposal
from ddsnode.decidim.mapping import Notes, Platform, date, date_time, languages, plain_text
from ddsnode.decidim.pseudonym import Pseudonymiser, load_key

BASE = "https://node.example/"


def context(key: bytes = b"k" * 32) -> Context:
    platform = Platform(BASE, "decidim.example.org", "https://decidim.example.org",
                        "https://decidim.example.org/open-data/download")
    return Context(platform, Pseudonymiser(key, platform.host))


def test_machine_translations_only_where_no_human_text() -> None:
    machine: set[str] = set()
    row = {"title/en": "Bike lanes", "title/es": "Carriles bici",
           "title/machine_translations/es": "Carriles para bicicletas",
           "title/machine_translations/fr": "Pistes cyclables"}
    assert languages(row, "title", machine) == {"en": "Bike lanes", "es": "Carriles bici",
                                                "fr": "Pistes cyclables"}
    assert machine == {"fr"}


def test_rich_text_becomes_plain_text() -> None:
    assert plain_text("<p>One &amp; two</p><p>Three<br>four</p>") == "One & two\n\nThree\nfour"


def test_dates_and_times() -> None:
    assert date_time("2025-01-29 11:08:58 UTC") == "2025-01-29T11:08:58Z"
    assert date_time("2025-01-29T12:08:58.123+01:00") == "2025-01-29T11:08:58Z"
    notes = Notes()
    assert date_time("next tuesday", notes, "start_time") is None and notes.items
    assert date("2025-01-29 11:08:58 UTC") == "2025-01-29"


def test_authors_are_organisation_meeting_group_or_pseudonym() -> None:
    ctx = context()
    ctx.groups["8"] = "A residents' association"
    notes = Notes()
    root = {"author/id": "1", "author/url": "https://decidim.example.org/"}
    assert ctx.author(root, notes) == (ctx.platform.operator, None)
    meeting = {"author/id": "19", "author/url": "https://decidim.example.org/processes/p/f/1/meetings/19"}
    assert ctx.author(meeting, notes) == (None, f"{BASE}meetings/decidim-example-org-19")
    assert ctx.author({"author/id": "8"}, notes)[0] == f"{BASE}organisations/decidim-example-org-group-8"
    person, _ = ctx.author({"author/id": "42", "author/name": "Someone Real"}, notes)
    assert person is not None and person.startswith(f"{BASE}participants/decidim-example-org-")
    participant = ctx.pending[0].doc
    assert participant["nickname"].startswith("participant-") and participant["id"] == person
    assert "Someone Real" not in str(ctx.pending)


def test_pseudonyms_are_stable_per_platform_and_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    key = load_key(tmp_path)
    assert load_key(tmp_path) == key and (tmp_path / "pseudonym.key").stat().st_mode & 0o777 == 0o600
    one, other = Pseudonymiser(key, "a.example"), Pseudonymiser(key, "b.example")
    assert one.digest("42") == one.digest("42") != other.digest("42")
    assert Pseudonymiser(b"x" * 32, "a.example").digest("42") != one.digest("42")


def test_proposal_state_and_answer() -> None:
    ctx = context()
    row = {"id": "9", "title/en": "T", "body/en": "B", "state": "accepted",
           "answer/en": "<p>We will do it.</p>", "answered_at": "2025-02-01 10:00:00 UTC",
           "url": "https://decidim.example.org/processes/p/f/3/proposals/9",
           "participatory_space/id": "4",
           "participatory_space/url": "https://decidim.example.org/processes/p"}
    mapped = proposal(ctx, row, Notes())
    doc, answer = mapped[0].doc, mapped[1].doc
    assert doc["state"] == "accepted" and doc["answeredBy"] == answer["id"]
    assert answer["outcome"] == "accepted" and answer["body"] == {"en": "We will do it."}
    assert doc["inSpace"] == f"{BASE}processes/decidim-example-org-process-4"
    withdrawn = proposal(ctx, {**row, "withdrawn": "true"}, Notes())[0].doc
    assert withdrawn["state"] == "withdrawn"
    notes = Notes()
    custom = proposal(ctx, {**row, "state": "in_discussion"}, notes)[0].doc
    assert custom["state"] is None and custom["platformState"] == "in_discussion" and notes.items


def test_comment_stance_from_alignment() -> None:
    ctx = context()
    base = {"id": "5", "body": "Yes", "locale": "ca", "commentable_id": "9",
            "commentable_type": "Decidim::Proposals::Proposal", "author/id": "3"}
    stances = {a: comment(ctx, "proposal_comments", {**base, "alignment": a}, Notes())[0]
               .doc["stance"] for a in ("1", "0", "-1")}
    assert stances == {"1": "inFavour", "0": "neutral", "-1": "against"}
    doc = comment(ctx, "proposal_comments", base, Notes())[0].doc
    assert doc["body"] == {"ca": "Yes"}


def test_result_status_and_amounts() -> None:
    assert status({"status/key": "finished"}, 80.0)[0] == "completed"
    assert status({"status/key": "status_3"}, 0.0)[0] == "notStarted"
    assert status({"status/key": "status_3"}, 100.0)[0] == "completed"
    assert status({"status/name/en": "Not started"}, None)[0] == "notStarted"
    assert decimal_text("75303171", Notes(), "budget") == "75303171"
    assert decimal_text("1500.50", Notes(), "budget") == "1500.50"
    assert decimal_text("lots", Notes(), "budget") is None


def test_result_links_and_milestones() -> None:
    from ddsnode.decidim.accountability import result
    ctx = context()
    row = {"id": "12", "title/en": "Lanes built", "progress": "40.0", "parent/id": "3",
           "proposal_urls": "https://decidim.example.org/processes/p/f/3/proposals/9, "
                            "https://decidim.example.org/processes/p/f/3/proposals/10",
           "project_urls": "https://decidim.example.org/processes/p/f/4/budgets/1/projects/2",
           "milestones": [{"id": 1, "title": {"en": "Works start"}, "entry_date": "2025-03-01"}]}
    doc = result(ctx, row, Notes())[0].doc
    assert doc["implements"] == [f"{BASE}projects/decidim-example-org-2",
                                 f"{BASE}proposals/decidim-example-org-10",
                                 f"{BASE}proposals/decidim-example-org-9"]
    assert doc["parent"] == f"{BASE}results/decidim-example-org-3"
    assert doc["progress"] == 40.0 and doc["status"] == "inProgress"
    milestone = doc["milestones"][0]
    assert milestone["type"] == "Milestone" and milestone["date"] == "2025-03-01"
    assert milestone["milestoneOf"] == doc["id"] and milestone["title"] == {"en": "Works start"}


def test_taxonomies_become_schemes_matched_onto_shared_topics() -> None:
    from ddsnode.decidim.spaces import remember_taxonomies, taxonomy_schemes
    ctx = context()
    ctx.topic_map = {"Mobilitat": "mobility"}
    rows = [{"id": "1", "name/en": "Categories", "parent_id": "", "part_of": "1"},
            {"id": "2", "name/ca": "Mobilitat", "parent_id": "1", "part_of": "2, 1"},
            {"id": "3", "name/en": "Housing", "parent_id": "1", "part_of": "3, 1"},
            {"id": "4", "name/en": "Bike lanes", "parent_id": "2", "part_of": "4, 2, 1"}]
    remember_taxonomies(ctx, rows, Notes())
    scheme = taxonomy_schemes(ctx)[0].doc
    top = {c["notation"]: c for c in scheme["topConcepts"]}
    assert top["2"]["exactMatch"] == "ddstopic:mobility"  # the operator's map
    assert top["3"]["closeMatch"] == "ddstopic:housing"  # the shared topic's label
    assert top["2"]["narrower"][0]["broader"] == top["2"]["id"]
    topics = ctx.topics({"taxonomies/ids": "3"}, Notes())
    assert topics == ["ddstopic:housing", f"{scheme['id']}#t-3"]

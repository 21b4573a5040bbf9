"""What the importer knows about each export file's columns, across Decidim versions.

Headers are compared as patterns: a language segment becomes ``*`` (``title/en`` and
``title/machine_translations/es`` are both ``title/*``), a number ``#``. A column whose
pattern is not listed here is *unknown*: accepted, ignored and counted in the report. An
*expected* column that is missing is reported once per file; rows still import with
whatever they have (a missing title makes a row fail validation, and it is reported).

The lists are the Decidim 0.30 export (``../shared/data/decidim-nightly``) plus the
older names the mapping reads as aliases: ``endorsements`` (before likes),
``category/*`` and ``scope/*`` (before taxonomies), ``comments_count`` and others.
"""

from __future__ import annotations

import re

_SPACE = ("id title/* slug reference created_at updated_at published_at follows_count "
          "hashtag short_description/* description/* promoted url subtitle/* "
          "remote_hero_image_url remote_banner_image_url announcement announcement/* "
          "start_date end_date developer_group/* local_area/* meta_scope/* "
          "participatory_scope/* participatory_structure/* target/* area/id area/name/* "
          "scope/id scope/name/* scopes_enabled decidim_scope_id taxonomies/ids "
          "category/id category/name/*")
_COMMENT = ("id created_at body body/* locale author/id author/name alignment depth "
            "user_group/id user_group/name user_group/name/* commentable_id commentable_type "
            "root_commentable_url")
_LEGACY = "category/id category/name/* scope/id scope/name/* area/id area/name/*"

KNOWN: dict[str, str] = {
    "participatory_processes": _SPACE + " participatory_process_group/id "
    "participatory_process_group/title/* participatory_process_group/description/* "
    "participatory_process_group/remote_hero_image_url participatory_process_type/id "
    "participatory_process_type/title/*",
    "assemblies": _SPACE + " assembly_type/id assembly_type/title/* purpose_of_action/* "
    "composition/* duration included_at closing_date created_by creation_date "
    "closing_date_reason/* internal_organisation/* is_transparent special_features/* "
    "twitter_handler instagram_handler facebook_handler youtube_handler github_handler "
    "created_by_other/* parent/id parent_id",
    "conferences": _SPACE + " slogan/* location objectives/*",
    "initiatives": "reference title/* url description/* state created_at updated_at "
    "published_at signature_start_date signature_end_date signature_type signatures answer "
    "answer/* answered_at answer_url hashtag first_progress_notification_at "
    "second_progress_notification_at online_votes/# online_votes/total offline_votes/# "
    "offline_votes/total comments_count follows_count scope/id scope/name/* type/id "
    "type/title/* authors/id authors/name area/id area/name/* id",
    "proposals": "id author/id author/name author/url taxonomies/ids participatory_space/id "
    "participatory_space/url component/id title/* body/* address latitude longitude state "
    "state_published_at reference answer/* answer answered_at votes supports "
    "endorsements/total_count endorsements/user_endorsements endorsements endorsements_count "
    "likes likes_count likes/total_count likes/user_likes comments comments_count "
    "attachments follows_count published_at url meeting_urls related_proposals is_amend "
    "original_proposal/title original_proposal/title/* original_proposal/url withdrawn "
    "withdrawn_at created_at updated_at created_in_meeting coauthorships_count cost "
    "cost_report execution_period merged_into split_from " + _LEGACY,
    "debates": "id author/id author/name author/url title/* description/* instructions/* "
    "start_time end_time information_updates information_updates/* taxonomies/ids "
    "participatory_space/id participatory_space/url component/id reference comments "
    "comments_count follows_count url last_comment_at last_comment_by/id "
    "last_comment_by/name last_comment_by/url comments_enabled conclusions conclusions/* "
    "closed_at created_at updated_at endorsements_count likes_count " + _LEGACY,
    "meetings": "id author/id author/name author/url participatory_space/id "
    "participatory_space/url taxonomies/ids component/id title/* description/* start_time "
    "end_time attendees attendees_count contributions contributions_count organizations "
    "address location location/* reference attachments url related_proposals "
    "related_results published withdrawn withdrawn_at location_hints location_hints/* "
    "created_at updated_at latitude longitude follows_count private_meeting transparent "
    "registration_form_enabled comments/start_time comments/end_time comments/enabled "
    "comments/count online_meeting_url closing_visible closing_report closing_report/* "
    "attending_organizations registration_url decidim_user_group_id decidim_author_type "
    "video_url audio_url closed_at registration_terms/* available_slots "
    "registrations_enabled customize_registration_email type_of_meeting "
    "iframe_access_level iframe_embed_type reserved_slots registration_type " + _LEGACY,
    "projects": "id taxonomies/ids participatory_space/id participatory_space/url "
    "component/id title/* description/* budget/id budget/title/* budget/url budget_amount "
    "confirmed_votes comments created_at url address updated_at selected_at reference "
    "follows_count latitude longitude related_proposals related_proposal_titles "
    "related_proposal_urls " + _LEGACY,
    "results": "id taxonomies/ids taxonomies/#/* parent/id parent_id title/* description/* "
    "start_date end_date status/id status/key status/name/* progress created_at updated_at "
    "url component/id proposal_urls project_urls reference children_count comments_count "
    "address latitude longitude " + _LEGACY,
    "taxonomies": "id name/* parent_id weight children_count taxonomizations_count "
    "created_at updated_at filters_count filter_items_count part_of is_root",
    "user_groups": "id name nickname avatar_url profile_url deleted badge members_count "
    "members/id members/name",
    "comments": _COMMENT,
}

EXPECTED: dict[str, tuple[str, ...]] = {
    "participatory_processes": ("id", "title/*", "url"),
    "assemblies": ("id", "title/*", "url"),
    "conferences": ("id", "title/*", "url"),
    "initiatives": ("title/*", "url"),
    "proposals": ("id", "title/*", "body/*", "state", "url", "participatory_space/url"),
    "debates": ("id", "title/*", "url"),
    "meetings": ("id", "title/*", "start_time", "url"),
    "projects": ("id", "title/*", "budget_amount", "url"),
    "results": ("id", "title/*", "progress", "url"),
    "taxonomies": ("id", "name/*", "parent_id"),
    "user_groups": ("id", "name"),
    "comments": ("id", "body", "commentable_id", "commentable_type", "alignment"),
}

# Columns that carry people's names or contact data: never read, whatever the entity.
PERSONAL = re.compile(r"(^|/)(user_endorsements|user_likes|members/name|authors/name|"
                      r"last_comment_by/name|email|phone)(/|$)")


def pattern(header: str) -> str:
    """The pattern of a header (``title/machine_translations/es`` -> ``title/*``)."""
    out = []
    for part in header.split("/"):
        if part == "machine_translations":
            continue
        if re.fullmatch(r"[a-z]{2}(-[A-Za-z]{2,4})?", part) and part != "id":
            out.append("*")
        elif part.isdigit():
            out.append("#")
        else:
            out.append(part)
    return "/".join(out)


def family(entity: str) -> str:
    """The column family of an entity (every ``*_comments`` file is ``comments``)."""
    return "comments" if entity.endswith("comments") else entity


def unknown_columns(entity: str, header: list[str]) -> list[str]:
    """Headers of a file that the importer does not know (accepted and ignored)."""
    known = set(KNOWN.get(family(entity), "").split())
    return [h for h in header if h and pattern(h) not in known]


def missing_columns(entity: str, header: list[str]) -> list[str]:
    """Expected columns that a file lacks."""
    have = {pattern(h) for h in header}
    return [c for c in EXPECTED.get(family(entity), ()) if c not in have]

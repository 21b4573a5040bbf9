"""What a person reads on the explorer's pages (in process): no raw RDF values — no WKT,
no ``4.5764E1``, no ``host:port`` for a publisher, no slugs where a title or a ballot
choice's name belongs — and containers as lists of cards with previous/next links.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest

from ddsnode import resources
from ddsnode.commands.demo import rebase
from tests.support.inprocess import LocalNode, local_node

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
HOSTILE = '<script>alert("x")</script>'


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    with local_node(tmp_path_factory.mktemp("explorer-readable"),
                    settings={"name": "Rivemont participe", "explorer_peer_sync_seconds": 0,
                              "private_containers": "private/", "page_size": 2}) as running:
        core = running.app.node  # type: ignore[attr-defined]
        for path in sorted(resources.examples_dir().glob("*.jsonld")):
            text = rebase(path.read_text(encoding="utf-8"), running.base)
            core.write_document(json.loads(text)["id"], text.encode(), "application/ld+json")
        yield running


def text_of(html: str) -> str:
    """The words of ``<main>``, as a reader sees them."""
    main = re.search(r"<main.*?</main>", html, re.S)
    assert main is not None
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", main.group(0))).split())


def page(node: LocalNode, path: str, lang: str = "en") -> str:
    with node.client() as http:
        r = http.get(path, params={"lang": lang}, headers=HTML)
    assert r.status_code == 200, r.text
    return r.text


RAW = [
    (re.compile(r"POINT\s*\("), "WKT"),
    (re.compile(r"\d[.,]?\d*E[+-]?\d"), "a double's lexical form"),
    (re.compile(r"(?<!//)127\.0\.0\.1:\d+"), "a node shown as host:port"),
]


@pytest.mark.parametrize("path", [
    "/places/bureau-101", "/places/rivemont", "/results/protected-bike-lanes-tanneurs",
    "/results/municipal-2026-council-secteur-1-seq-1", "/organisations/party-ar",
    "/proposals/protected-bike-lanes", "/elections/municipal-2026", "/proposals/",
])
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_no_raw_values_on_a_page(node: LocalNode, path: str, lang: str) -> None:
    words = text_of(page(node, path, lang))
    for pattern, what in RAW:
        found = pattern.search(words)
        assert found is None, f"{what} on {path}: …{words[max(0, found.start() - 60):][:120]}"


def test_numbers_and_dates_read_in_the_readers_locale(node: LocalNode) -> None:
    en = text_of(page(node, "/places/bureau-101", "en"))
    fr = text_of(page(node, "/places/bureau-101", "fr"))
    assert "45.766" in en and "45,766" in fr  # latitude 4.57655E1
    assert "Rivemont participe" in en  # the publisher: this node, by its name
    progress = text_of(page(node, "/results/protected-bike-lanes-tanneurs", "en"))
    assert re.search(r"\b40\b", progress)  # progress 4.0E1
    proposal = text_of(page(node, "/proposals/protected-bike-lanes", "en"))
    assert "2026-12" not in proposal and "T15:" not in proposal  # no ISO timestamps


def test_titles_instead_of_slugs(node: LocalNode) -> None:
    place = page(node, "/places/bureau-101")
    assert re.search(r"<h1[^>]*>Bureau 101 – École des Tanneurs</h1>", unescape(place))
    party = page(node, "/organisations/party-ar")
    assert re.search(r"<h1[^>]*>Avenir Rivemont</h1>", party)
    result = unescape(page(node, "/results/municipal-2026-council-secteur-1-seq-1"))
    assert re.search(r"<h1[^>]*>Rivemont municipal council – Secteur 1 – Presqu'île et "
                     r"Tanneurs</h1>", result)
    assert "<title>Rivemont municipal council" in result


def test_vote_choices_are_named_from_the_contest(node: LocalNode) -> None:
    council = text_of(page(node, "/results/municipal-2026-council-secteur-1-seq-1"))
    assert "Camille Peuplier (Rivemont en commun) 8,391 52.3%" in council
    assert "Hugo Tilleul (Avenir Rivemont) 4,630 28.9%" in council
    assert "list-rc" not in council and "list-ar" not in council
    # Shown once, in the votes table: not again as "registered voters 41250" in Details.
    assert "41250" not in council and council.count("41,250") == 1
    referendum_fr = text_of(page(node, "/results/municipal-2026-referendum-rivemont-seq-1",
                                 "fr"))
    assert re.search(r"Oui 24\s315 57,5", referendum_fr)
    assert re.search(r"Non 17\s943 42,5", referendum_fr)
    referendum_en = text_of(page(node, "/results/municipal-2026-referendum-rivemont-seq-1"))
    assert "Yes 24,315 57.5%" in referendum_en


def cards(html: str) -> list[str]:
    return re.findall(r'<li class="dds-result" data-iri="([^"]+)"', html)


def test_a_container_is_a_list_of_cards_with_paging(node: LocalNode) -> None:
    """Every member once, newest first, two per page (page_size), walking next then
    back with previous; titles, not slugs."""
    with node.client() as http:
        first = http.get("/proposals/", headers=HTML)
        assert first.status_code == 200 and first.headers["content-type"].startswith(
            "text/html")
        seen = cards(first.text)
        assert len(seen) == 2
        assert "Proposals, amendments and debates" in text_of(first.text)
        assert "<table" not in text_of(first.text)
        pages = [seen]
        current = first.text
        while (nxt := re.search(r'href="([^"]+)" rel="next"', current)) is not None:
            current = http.get(unescape(nxt.group(1)), headers=HTML).text
            pages.append(cards(current))
        members = [iri for p in pages for iri in p]
        assert len(members) == len(set(members)) == 5
        words = text_of(first.text)
        assert "5 resources" in words
        # Back to the start through the previous links, the same pages in reverse.
        back = [cards(current)]
        while (prev := re.search(r'href="([^"]+)" rel="prev"', current)) is not None:
            current = http.get(unescape(prev.group(1)), headers=HTML).text
            back.append(cards(current))
        assert back[::-1] == pages
        assert "Protected bike lanes on the Quai des Tanneurs" in " ".join(
            text_of(http.get(unescape(u), headers=HTML).text) for u in
            ["/proposals/", *re.findall(r'href="(/proposals/\?[^"]+)" rel="next"', first.text)])


def test_container_pages_refuse_what_the_listing_refuses(node: LocalNode) -> None:
    with node.client() as http:
        for query in ("cursor=zz", "bogus=1", "limit=0", "limit=100000",
                      "cursor=" + "A" * 5000):
            r = http.get("/proposals/?" + query, headers=HTML)
            assert r.status_code == 400, (query, r.status_code)
            assert r.headers["content-type"].startswith("application/problem+json")


def test_a_private_container_stays_behind_its_token(node: LocalNode) -> None:
    with node.client() as http:
        r = http.get("/private/", headers=HTML)
        assert r.status_code == 401
        assert "dds-result" not in r.text


def test_hostile_titles_in_a_container_are_text(node: LocalNode) -> None:
    _, raw = node.example("a-proposal-school-streets")
    doc = json.loads(raw)
    doc["id"] = node.url("proposals/hostile")
    doc["title"] = {"en": HOSTILE}
    doc["place"]["id"] = doc["id"] + "#place"
    doc["created"] = "2027-01-01T00:00:00Z"  # the newest: on the first page
    with node.client() as http:
        r = http.put(doc["id"], content=json.dumps(doc).encode(),
                     headers={"Content-Type": "application/ld+json", **node.auth()})
        assert r.status_code in (201, 204), r.text
        listing = http.get("/proposals/", headers=HTML).text
        assert HOSTILE not in listing and "&lt;script&gt;" in listing
        assert doc["id"] in cards(listing)
        r = http.delete(doc["id"], headers=node.auth())
        assert r.status_code == 204


def test_every_term_of_the_examples_is_named_in_catalan_and_spanish(node: LocalNode) -> None:
    """Classes, properties and concepts the example scenario uses, wherever the ontology
    names them in English, are named in Catalan and Spanish too: their pages show no
    English fallback."""
    import rdflib

    from ddsnode.explorer.labels import vocabulary_labels
    from ddsnode.rdf.rdfio import graph_from_ntriples

    core = node.app.node  # type: ignore[attr-defined]
    vocab = vocabulary_labels()
    used: set[str] = set()
    for change in core.store.changes(after=0, limit=10_000):
        resource = core.store.get(change.iri)
        if resource is None or not resource.ntriples or resource.kind != "rdf":
            continue
        for _, p, o in graph_from_ntriples(resource.ntriples):
            if p != rdflib.RDF.type:  # never shown: the kind is named instead
                used.add(str(p))
            if isinstance(o, rdflib.URIRef):
                used.add(str(o))
    named = [iri for iri in used if "en" in vocab.get(iri, {})]
    assert len(named) > 100
    missing = sorted(f"{iri} ({lang})" for iri in named for lang in ("ca", "es")
                     if lang not in vocab[iri])
    assert missing == []


@pytest.mark.parametrize(("lang", "words", "english"), [
    ("ca", ["Tema", "mobilitat i transport", "Àmbit territorial", "Proposta"],
     ["Spatial Coverage", "mobility and transport", "Subject"]),
    ("es", ["Tema", "movilidad y transporte", "Ámbito territorial", "Propuesta"],
     ["Spatial Coverage", "mobility and transport", "Subject"]),
])
def test_a_proposal_page_in_catalan_and_spanish(node: LocalNode, lang: str, words: list[str],
                                                english: list[str]) -> None:
    text = text_of(page(node, "/proposals/protected-bike-lanes", lang))
    for word in words:
        assert word in text
    for word in english:
        assert word not in text


def test_a_party_page_lists_its_candidacies_with_the_latest_result(node: LocalNode) -> None:
    """Candidates are fragments of their contest: the party's page finds the contest
    through them and reads the votes of the latest publication (sequence 2, not 1)."""
    html = page(node, "/organisations/party-rc")
    table = re.search(r'<table class="govuk-table dds-candidacies">(.*?)</table>', html, re.S)
    assert table is not None
    rows = [" ".join(unescape(re.sub(r"<[^>]+>", " ", r)).split())
            for r in re.findall(r'<tr class="govuk-table__row">(.*?)</tr>', table.group(1),
                                re.S)][1:]
    assert rows == ["Rivemont municipal council Camille Peuplier 11,052 (Secteur 1 – "
                    "Presqu'île et Tanneurs, correction) 51.4%"]
    assert 'href="/elections/municipal-2026-council?lang=en"' in table.group(1)
    assert 'href="/results/municipal-2026-council-secteur-1-seq-2?lang=en"' in table.group(1)
    other = text_of(page(node, "/organisations/party-ar", "fr"))
    assert "Hugo Tilleul" in other and "Camille Peuplier" not in other
    assert "Listes et candidats" in other


def test_every_class_and_property_of_the_context_is_named_in_four_languages() -> None:
    """Not only the example scenario's terms: whatever a page shows (an imported person,
    a membership, a node's description, provenance such as ``importedAt``) is named by
    the ontology in French, English, Catalan and Spanish (issue 12, item 1)."""
    from ddsnode.explorer.labels import vocabulary_labels
    from ddsnode.explorer.view import term

    vocab = vocabulary_labels()
    names = [n for n in resources.context_document()["@context"]
             if not n.startswith("@") and n not in ("id", "type")]
    terms = {term(n) for n in names} - {term(n) for n in names
                                        if term(n).endswith(("/", "#"))}  # prefixes
    assert len(terms) > 300
    missing = sorted(f"{iri} ({lang})" for iri in terms
                     for lang in ("en", "fr", "ca", "es") if lang not in vocab.get(iri, {}))
    assert missing == []


@pytest.mark.parametrize(("label", "shown"), [
    ("answered by", "Answered by"), ("état sur la plateforme", "État sur la plateforme"),
    ("dans l'espace", "Dans l'espace"), ("roleName", "Role name"),
    ("NonRDFSource", "Non RDF source"), ("endpoint URL", "Endpoint URL"), ("", ""),
])
def test_a_label_starts_a_row_with_a_capital(label: str, shown: str) -> None:
    from ddsnode.explorer.labels import heading

    assert heading(label) == shown


def rows(html: str) -> list[str]:
    """The labels of a page's summary lists (Counts, Details), in order."""
    return [unescape(k) for k in re.findall(
        r'<dt class="govuk-summary-list__key">([^<]*)</dt>', html)]


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", ["Amendment count", "Answered by", "In phase", "Discussed at", "Support count"]),
    ("fr", ["Nombre d'amendements", "A reçu pour réponse", "Dans la phase", "Débattu lors de",
            "Nombre de soutiens"]),
    ("ca", ["Nombre d'esmenes", "Ha rebut resposta de", "A la fase", "Debatut a",
            "Nombre de suports"]),
    ("es", ["Número de enmiendas", "Ha recibido respuesta de", "En la fase", "Debatido en",
            "Número de apoyos"]),
])
def test_property_rows_read_as_the_ontology_names_them(node: LocalNode, lang: str,
                                                       expected: list[str]) -> None:
    """Every row of a proposal's Counts and Details is the ontology's label in the
    reader's language, starting with a capital, in the order of the labels."""
    from ddsnode.explorer.labels import term_label
    from ddsnode.explorer.view import term

    shown = rows(page(node, "/proposals/protected-bike-lanes", lang))
    for label in expected:
        assert label in shown, (label, shown)
    assert all(label[:1].isupper() for label in shown), shown
    assert term_label(term("answeredBy"), lang) in shown
    english = {term_label(term(n), "en") for n in ("answeredBy", "inPhase", "amendmentCount")}
    assert lang == "en" or not english & set(shown)
    counts = [label for label in shown if label in {term_label(term(n), lang) for n in (
        "amendmentCount", "commentCount", "followCount", "supportCount", "likeCount")}]
    assert len(counts) == 5 and counts == sorted(counts, key=str.casefold), counts


def test_provenance_of_an_import_is_named_in_the_readers_language(node: LocalNode) -> None:
    """An imported resource carries ``importedAt``; its row reads "Importé le",
    "Importat el", "Importado el", "Imported at", and its value is a date."""
    iri, raw = node.example("a-proposal-school-streets")
    doc = json.loads(raw)
    doc["id"] = iri = node.url("proposals/imported-school-streets")
    doc["place"]["id"] = iri + "#place"
    doc["importedAt"] = "2026-11-02T08:00:00Z"
    with node.client() as http:
        r = http.put(iri, content=json.dumps(doc).encode(),
                     headers={"Content-Type": "application/ld+json", **node.auth()})
        assert r.status_code in (201, 204), r.text
        try:
            for lang, label, day in (("en", "Imported at", "November 2, 2026"),
                                     ("fr", "Importé le", "2 novembre 2026"),
                                     ("ca", "Importat el", "2 de novembre del 2026"),
                                     ("es", "Importado el", "2 de noviembre de 2026")):
                html = page(node, "/proposals/imported-school-streets", lang)
                row = re.search(r'<dt class="govuk-summary-list__key">' + re.escape(label)
                                + r"</dt><dd[^>]*>(.*?)</dd>", unescape(html), re.S)
                assert row is not None, (lang, rows(html))
                assert day in row.group(1), (lang, row.group(1))
        finally:
            assert http.delete(iri, headers=node.auth()).status_code == 204


PLURAL = {  # "{count} result(s)" for 0, 1, 2, 5 (CLDR: French 'one' is 0 and 1)
    "en": ["0 results", "1 result", "2 results", "5 results"],
    "fr": ["0 résultat", "1 résultat", "2 résultats", "5 résultats"],
    "ca": ["0 resultats", "1 resultat", "2 resultats", "5 resultats"],
    "es": ["0 resultados", "1 resultado", "2 resultados", "5 resultados"],
}


def plural_messages(lang: str) -> list[object]:
    from babel.messages.pofile import read_po

    with (Path(resources.__file__).parent / "explorer" / "locales" / lang /
          "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    return [catalog] + [m for m in catalog if isinstance(m.id, tuple)]


@pytest.mark.parametrize("lang", ["en", "fr", "ca", "es"])
def test_counts_take_the_languages_plural_forms(lang: str) -> None:
    """Every message showing a count has the language's CLDR plural forms, each with the
    msgid's placeholders, and the form shown for 0, 1, 2, 5 is the one CLDR names."""
    from babel import Locale
    from babel.messages.plurals import get_plural

    from ddsnode.explorer.i18n import Translator

    catalog, *messages = plural_messages(lang)
    rule = get_plural(lang)
    assert catalog.plural_forms == f"nplurals={rule.num_plurals}; plural={rule.plural_expr};"  # type: ignore[attr-defined]
    assert len(messages) >= 7
    t = Translator(lang)
    categories = {"en": ["one", "other"]}.get(lang, ["one", "many", "other"])
    for m in messages:
        singular, plural = m.id  # type: ignore[attr-defined]
        forms = m.string  # type: ignore[attr-defined]
        assert len(forms) == rule.num_plurals and all(forms), (lang, singular)
        fields = set(re.findall(r"\{(\w+)\}", plural))
        # A form may spell its number ("One possible duplicate…": shown for 1 only).
        assert all(set(re.findall(r"\{(\w+)\}", f)) <= fields for f in forms), (lang, forms)
        values = {f: f"<{f}>" for f in fields - {"count"}}
        for n in (0, 1, 2, 5):
            shown = t.ngettext(singular, plural, n, **values)
            form = forms[categories.index(Locale.parse(lang).plural_form(n))] \
                if lang != "en" else (singular if n == 1 else plural)
            assert shown == form.format(count=n, **values), (lang, n, shown)
    assert [t.ngettext("{count} result", "{count} results", n) for n in (0, 1, 2, 5)] \
        == PLURAL[lang]


@pytest.mark.parametrize("lang", ["en", "fr", "ca", "es"])
def test_pages_show_counts_in_their_plural_form(node: LocalNode, lang: str) -> None:
    """A search finding none, one, and the container of five, as each language says it;
    the election results say how many polling stations reported without agreeing a
    noun with a number ("1 bureaux sur 1" was the bug)."""
    with node.client() as http:
        def count(params: dict[str, str]) -> str:
            r = http.get("/explore", params={**params, "lang": lang}, headers=HTML)
            found = re.search(r'id="result-count"[^>]*>([^<]*)<', r.text)
            assert found is not None
            return unescape(found.group(1))
        assert count({"q": "zzzyxnothing"}) == PLURAL[lang][0]
        assert count({"q": "delivery bays saturday market"}) == PLURAL[lang][1]
        assert count({"kind": "https://w3id.org/dds/ns#Result"}) == PLURAL[lang][2]
        container = http.get("/proposals/", params={"lang": lang}, headers=HTML).text
        listed = re.search(r'id="result-count">([^<]*)<', container)
        assert listed is not None and listed.group(1).split()[0] == "5"
        assert listed.group(1) == {"en": "5 resources", "fr": "5 ressources",
                                   "ca": "5 recursos", "es": "5 recursos"}[lang]
        results = http.get("/explore/vote/results", params={
            "unit": node.url("places/rivemont-secteur-1"), "lang": lang}).text
        captions = [unescape(c) for c in re.findall(r"<caption[^>]*>(.*?)</caption>", results,
                                                    re.S)]
        reported = {"en": "polling stations reported: 1 of 1",
                    "fr": "bureaux de vote ayant remonté leurs résultats : 1 sur 1",
                    "ca": "col·legis que han informat: 1 de 1",
                    "es": "colegios que han informado: 1 de 1"}[lang]
        assert any(reported in c for c in captions), captions


def test_a_party_links_the_persons_standing_for_it_and_back(node: LocalNode) -> None:
    """Candidacies → person pages (``dds:person`` of the candidate), and the person's
    page back to the party, the contest and the result (issue 12, item 3); the demo's
    persons and memberships are the examples' (``e-person-*``, ``e-membership-*``)."""
    party = page(node, "/organisations/party-rc")
    table = re.search(r'<table class="govuk-table dds-candidacies">(.*?)</table>', party, re.S)
    assert table is not None
    assert re.search(r'<a class="govuk-link" href="/organisations/person-camille-peuplier'
                     r'\?lang=en">Camille Peuplier</a>', table.group(1))
    person = page(node, "/organisations/person-camille-peuplier", "fr")
    standings = re.search(r'<table class="govuk-table dds-standings">(.*?)</table>', person,
                          re.S)
    assert standings is not None
    for href in ("/organisations/party-rc", "/elections/municipal-2026-council",
                 "/results/municipal-2026-council-secteur-1-seq-2"):
        assert f'href="{href}?lang=fr"' in standings.group(1), href
    members = text_of(person)
    assert "Rivemont en commun tête de liste novembre 2025" in members
    assert "conseillère métropolitaine juillet 2020 22 mars 2026" in members
    contest = page(node, "/elections/municipal-2026-council")
    for slug in ("camille-peuplier", "hugo-tilleul", "ines-saule"):
        assert f'href="/organisations/person-{slug}?lang=en"' in contest


def test_every_message_of_the_pages_is_in_every_catalogue() -> None:
    """Each ``_("…")``, ``gettext("…")`` and ``ngettext("…", "…", n)`` of the explorer's
    templates and web modules has its French, Catalan and Spanish text (a missing one
    would show English on a French page), plural ones in every plural form."""
    from ddsnode.explorer.i18n import catalogue, plurals
    from ddsnode.explorer.view import DATE_LABELS

    root = Path(resources.__file__).parent / "explorer"
    single: set[str] = set(DATE_LABELS.values())  # _(d.label) on a resource page
    plural: set[tuple[str, str]] = set()
    for source in [*(root / "templates").rglob("*.html"), *(root / "web").glob("*.py")]:
        text = source.read_text(encoding="utf-8")
        single |= set(re.findall(r'(?:(?<![\w.])_|(?<!n)gettext)\(\s*"((?:[^"\\]|\\.)*)"', text))
        plural |= set(re.findall(r'ngettext\(\s*"((?:[^"\\]|\\.)*)",\s*"((?:[^"\\]|\\.)*)"',
                                 text))
    assert len(single) > 150 and len(plural) >= 7
    for lang in ("fr", "ca", "es"):
        assert sorted(m for m in single if m not in catalogue(lang)) == [], lang
        forms = plurals(lang)
        assert [p for p in plural if any(forms.ngettext(*p, n) in p for n in (1, 2))] \
            == [], lang


def test_a_party_lists_its_members_linked_to_their_pages(node: LocalNode) -> None:
    """Memberships naming the party (``org:organization``) list the persons, oldest
    first, each linked; an organisation's page does the same."""
    html = page(node, "/organisations/party-ar", "fr")
    table = re.search(r'<table class="govuk-table dds-members">(.*?)</table>', html, re.S)
    assert table is not None
    listed = [" ".join(unescape(re.sub(r"<[^>]+>", " ", r)).split())
              for r in re.findall(r'<tr class="govuk-table__row">(.*?)</tr>', table.group(1),
                                  re.S)][1:]
    assert listed == ["Hugo Tilleul président septembre 2019",
                      "Hugo Tilleul tête de liste décembre 2025"]
    assert 'href="/organisations/person-hugo-tilleul?lang=fr"' in table.group(1)
    council = text_of(page(node, "/organisations/conseil-metropolitain"))
    assert "Members Person Role From To Camille Peuplier conseillère métropolitaine " \
        "July 2020 March 22, 2026" in council

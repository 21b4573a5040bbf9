"""``ddsnode import vip``: the Maricopa County 2020 VIP 6.0 feed, and variants derived from it.

The file is ``../shared/data/elections/vip/vipfeed-04013-2020-11-03.xml`` (see
SOURCES.md): one state, one county, 748 precincts, 560 polling locations (vote centres,
early voting places and drop boxes, all serving the whole county) and their hours; no
coordinates, no street segments, no contests. The variant adds what the real file lacks
(street segments with odd/even ranges, precincts with their own polling places, an
electoral district, a candidate contest with parties, a ballot measure) as VIP 6.0
elements, so every mapping is exercised on the real feed's ids.

The fast tests import a slice of the real feed (:func:`sliced`: its first precincts and
polling places, the places of ZIP 85050 and those the variant names, every other element
whole); their expected counts are read from the slice. The whole feed is imported by the
slow tests.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from ddsnode.cli import main
from ddsnode.commands.node import init_node
from ddsnode.ldp.node import Node
from ddsnode.settings import Settings
from ddsnode.voter.lookup import Lookup
from ddsnode.voter.table import rebuild, table_path

VIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "elections" / "vip" / \
    "vipfeed-04013-2020-11-03.xml"
BASE = "http://127.0.0.1:8000/"

#: What a fuller feed has, on the real feed's ids (appended before </VipObject>).
EXTRA = """
  <Precinct id="prT1"><ElectoralDistrictIds>ed1</ElectoralDistrictIds><LocalityId>loc04013</LocalityId>
    <Name>TEST EVEN</Name><PollingLocationIds>pl10042_0</PollingLocationIds></Precinct>
  <Precinct id="prT2"><LocalityId>loc04013</LocalityId><Name>TEST ODD</Name>
    <PollingLocationIds>pl10074_0</PollingLocationIds></Precinct>
  <ElectoralDistrict id="ed1"><Name>CONGRESSIONAL DISTRICT 6</Name><Type>congressional</Type></ElectoralDistrict>
  <StreetSegment id="ss1"><City>PHOENIX</City><OddEvenBoth>even</OddEvenBoth><PrecinctId>prT1</PrecinctId>
    <StartHouseNumber>19000</StartHouseNumber><EndHouseNumber>19098</EndHouseNumber><State>AZ</State>
    <StreetDirection>N</StreetDirection><StreetName>32ND</StreetName><StreetSuffix>ST</StreetSuffix><Zip>85050</Zip></StreetSegment>
  <StreetSegment id="ss2"><City>PHOENIX</City><OddEvenBoth>odd</OddEvenBoth><PrecinctId>prT2</PrecinctId>
    <StartHouseNumber>19001</StartHouseNumber><EndHouseNumber>19099</EndHouseNumber><State>AZ</State>
    <StreetDirection>N</StreetDirection><StreetName>32ND</StreetName><StreetSuffix>ST</StreetSuffix><Zip>85050</Zip></StreetSegment>
  <StreetSegment id="ss3"><City>MESA</City><IncludesAllAddresses>true</IncludesAllAddresses><PrecinctId>prT1</PrecinctId>
    <State>AZ</State><StreetName>PEÑA</StreetName><StreetSuffix>AVE</StreetSuffix><Zip>85201</Zip></StreetSegment>
  <Party id="pa1"><Abbreviation>DEM</Abbreviation><Name><Text language="en">Democratic</Text></Name></Party>
  <Party id="pa2"><Abbreviation>REP</Abbreviation><Name><Text language="en">Republican</Text></Name></Party>
  <Candidate id="ca1"><BallotName><Text language="en">Hiral Tipirneni</Text></BallotName><PartyId>pa1</PartyId></Candidate>
  <Candidate id="ca2"><BallotName><Text language="en">David Schweikert</Text></BallotName><PartyId>pa2</PartyId></Candidate>
  <CandidateSelection id="cs1"><CandidateIds>ca1</CandidateIds></CandidateSelection>
  <CandidateSelection id="cs2"><CandidateIds>ca2</CandidateIds></CandidateSelection>
  <CandidateContest id="cc1"><BallotSelectionIds>cs1 cs2</BallotSelectionIds>
    <BallotTitle><Text language="en">U.S. Representative, District 6</Text></BallotTitle>
    <ElectoralDistrictId>ed1</ElectoralDistrictId><Name>US REP 6</Name><VotesAllowed>1</VotesAllowed></CandidateContest>
  <BallotMeasureSelection id="bms1"><Selection><Text language="en">Yes</Text></Selection></BallotMeasureSelection>
  <BallotMeasureSelection id="bms2"><Selection><Text language="en">No</Text></Selection></BallotMeasureSelection>
  <BallotMeasureContest id="bm1"><BallotSelectionIds>bms1 bms2</BallotSelectionIds>
    <BallotTitle><Text language="en">Proposition 207</Text></BallotTitle>
    <ElectoralDistrictId>loc04013</ElectoralDistrictId><Name>PROP 207</Name>
    <FullText><Text language="en">Smart and Safe Arizona Act</Text></FullText></BallotMeasureContest>
"""


#: How many precincts and polling places of the real feed a slice keeps (document order).
SLICE = 40
#: Places a slice keeps whatever their position: those of ZIP 85050 (the lookup tests'
#: postcode) are found by address; these two are named by :data:`EXTRA`.
NAMED_PLACES = {"pl10042_0", "pl10074_0"}


@cache  # the same bytes for every test that asks
def sliced() -> bytes:
    """A slice of the real feed: the first :data:`SLICE` precincts and polling places, the
    places in ZIP 85050 and :data:`NAMED_PLACES`, the hours those places name, and every
    other element whole (the county's list of places cut to those kept)."""
    root = ElementTree.fromstring(VIP.read_bytes())
    places = [e for e in root if e.tag == "PollingLocation"]
    kept = {e.get("id") for e in places[:SLICE]} | NAMED_PLACES | {
        e.get("id") for e in places if "85050" in ElementTree.tostring(e, encoding="unicode")}
    kept_precincts = [e.get("id") for e in root if e.tag == "Precinct"][:SLICE]
    hours = {h.text for e in places if e.get("id") in kept for h in e.iter("HoursOpenId")}
    for element in list(root):
        ident = element.get("id")
        if element.tag == "PollingLocation" and ident not in kept or \
                element.tag == "Precinct" and ident not in kept_precincts or \
                element.tag == "HoursOpen" and ident not in hours:
            root.remove(element)
    for ids in root.iter("PollingLocationIds"):
        ids.text = " ".join(i for i in (ids.text or "").split() if i in kept)
    assert kept_precincts and {"db12812_0", *NAMED_PLACES} <= kept
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def counted(data: bytes, *tags: str) -> int:
    """How many elements of ``tags`` the feed ``data`` has."""
    return sum(1 for e in ElementTree.fromstring(data) if e.tag in tags)


def fuller() -> bytes:
    """A slice of the real feed with :data:`EXTRA` and a directions text on one place."""
    text = sliced().decode("utf-8")
    text = text.replace("</VipObject>", EXTRA + "</VipObject>")
    place = '<PollingLocation id="pl10042_0">'
    assert place in text
    return text.replace(place, place + "<Directions><Text language=\"en\">Enter by the "
                        "north door, step-free</Text></Directions>").encode("utf-8")


def import_vip(tmp: Path, data: bytes, *extra: str) -> tuple[int, Path, dict[str, Any]]:
    """Import ``data`` into a node under ``tmp``: (status, node dir, report or {})."""
    node_dir = tmp / "node"
    if not node_dir.exists():
        init_node(node_dir, base_url=BASE)
    source = tmp / "vipfeed.xml"
    source.write_bytes(data)
    out = tmp / "report.json"
    out.unlink(missing_ok=True)
    status = main(["import", "vip", str(node_dir), str(source), "--slug", "maricopa",
                   "--report", str(out), "--quiet", *extra])
    return status, node_dir, json.loads(out.read_text()) if out.exists() else {}


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A node holding a slice of the real feed, and the report of its import."""
    status, node_dir, report = import_vip(tmp_path_factory.mktemp("vip"), sliced())
    assert status == 0
    return node_dir, report


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Path:
    status, node_dir, report = import_vip(tmp_path_factory.mktemp("vipfull"), fuller())
    assert status == 0 and report["totals"]["rejected"] == 0, report["rejected"][:3]
    return node_dir


def lookup(node_dir: Path) -> Lookup:
    return Lookup(table_path(Settings.load(node_dir)))


def test_real_feed_imports_whole(real: tuple[Path, dict[str, Any]]) -> None:
    _, report = real
    data = sliced()
    created = {k: v["created"] for k, v in report["counts"].items()}
    # state + county + precincts; polling locations; the election
    assert created == {"unit": counted(data, "State", "Locality", "Precinct"),
                       "station": counted(data, "PollingLocation"), "election": 1}
    assert report["totals"]["rejected"] == 0
    assert any("SpatialBoundary" in n for n in report["notes"])


def test_reimport_changes_nothing(real: tuple[Path, dict[str, Any]]) -> None:
    status, _, again = import_vip(real[0].parent, sliced())
    assert status == 0
    assert again["totals"]["unchanged"] == real[1]["totals"]["created"] > 0
    assert again["totals"]["created"] == 0


@pytest.mark.slow  # the whole real feed (1,311 resources); the slice above checks the rules
def test_the_whole_real_feed(tmp_path: Path) -> None:
    status, node_dir, report = import_vip(tmp_path, VIP.read_bytes())
    assert status == 0
    created = {k: v["created"] for k, v in report["counts"].items()}
    # 1 state + 1 county + 748 precincts; 560 polling locations; 1 election
    assert created == {"unit": 750, "station": 560, "election": 1}
    assert report["totals"]["rejected"] == 0
    status, _, again = import_vip(tmp_path, VIP.read_bytes())
    assert status == 0
    assert again["totals"]["unchanged"] == 1311 and again["totals"]["created"] == 0
    answer = lookup(node_dir).by_postcode("85050")
    assert [s["name"] for s in answer.stations[:3]] == ["SHILOH COMMUNITY CHURCH"] * 3
    assert answer.unit == BASE + "places/maricopa-unit-loc04013"


def test_stations_carry_address_hours_and_facts(real: tuple[Path, dict[str, Any]]) -> None:
    node_dir, _ = real
    node = Node.open(Settings.load(node_dir))
    try:
        stored = node.store.get(BASE + "places/maricopa-unit-db12812-0")
        assert stored is not None
        triples = stored.ntriples
    finally:
        node.close()
    assert "19021 N 32ND ST, PHOENIX, AZ 85050" in triples
    assert '"85050"' in triples
    assert "https://w3id.org/dds/ns#dropBox" in triples and '"true"' in triples
    assert "https://w3id.org/dds/ns#servesUnit> <" + BASE + "places/maricopa-unit-loc04013>" \
        in triples
    # its HoursOpen hodb12812_0 has schedules: each day a string
    assert "https://schema.org/openingHours" in triples


def test_postcode_on_the_real_feed(real: tuple[Path, dict[str, Any]]) -> None:
    node_dir, _ = real
    answer = lookup(node_dir).by_postcode("85050")
    # vote centres: every place of the county serves it; those in 85050 come first,
    # polling day before early voting before the drop box
    assert answer.unit == BASE + "places/maricopa-unit-loc04013"
    first = [(s["name"], s["dropBox"], s["earlyVoting"]) for s in answer.stations[:3]]
    assert first == [("SHILOH COMMUNITY CHURCH", False, False),
                     ("SHILOH COMMUNITY CHURCH", False, True),
                     ("SHILOH COMMUNITY CHURCH", True, False)]
    assert [lv[2] for lv in answer.levels] == ["county", "state"]
    by_address = lookup(node_dir).by_address("19021 North 32nd Street, Phoenix AZ 85050")
    assert by_address.unit == answer.unit and by_address.stations[0]["postcode"] == "85050"


def test_address_ranges_odd_and_even(full: Path) -> None:
    find = lookup(full)
    even = find.by_address("19020 North 32nd Street, Phoenix AZ 85050")
    odd = find.by_address("19021 n 32ND st phoenix 85050")
    assert even.unit == BASE + "places/maricopa-unit-prt1"
    assert odd.unit == BASE + "places/maricopa-unit-prt2"
    assert [s["iri"] for s in even.stations] == [BASE + "places/maricopa-unit-pl10042-0"]
    assert [s["iri"] for s in odd.stations] == [BASE + "places/maricopa-unit-pl10074-0"]
    assert even.stations[0]["directions"] == {"en": "Enter by the north door, step-free"}
    # a street with every address in one precinct, typed without its accent
    assert find.by_address("7 Pena Avenue, Mesa AZ 85201").unit == even.unit


def test_postcode_split_gives_a_picker(full: Path) -> None:
    answer = lookup(full).by_postcode("85050")
    assert answer.is_picker
    assert {(c.label, c.unit) for c in answer.choices} == {
        ("N 32ND ST 19000–19098 (even), PHOENIX", BASE + "places/maricopa-unit-prt1"),
        ("N 32ND ST 19001–19099 (odd), PHOENIX", BASE + "places/maricopa-unit-prt2")}


def test_picker_is_bounded_and_the_form_fields_combine(full: Path) -> None:
    short = Lookup(table_path(Settings.load(full)), max_choices=1)
    picker = short.by_postcode("85050")
    assert len(picker.choices) == 1 and picker.more_choices
    # an address typed without its postcode, the postcode in the other field
    assert lookup(full).ask(q="19021 N 32nd St", postcode="85050").unit == \
        BASE + "places/maricopa-unit-prt2"


def test_ballots_follow_the_districts(full: Path) -> None:
    find = lookup(full)
    even = find.by_unit(BASE + "places/maricopa-unit-prt1")
    odd = find.by_unit(BASE + "places/maricopa-unit-prt2")
    # prT1 is in district ed1 (the House seat) and the county (the proposition); prT2
    # only in the county
    assert sorted(b["name"] if "name" in b else b["title"]["en"] for b in even.ballots) == \
        ["Proposition 207", "U.S. Representative, District 6"]
    assert [b["title"]["en"] for b in odd.ballots] == ["Proposition 207"]
    house = find.contest(BASE + "elections/maricopa-contest-cc1")
    people = [(c["name"]["en"], sel["parties"][0]["abbreviation"])
              for sel in house["selections"] for c in sel["candidates"]]
    assert people == [("Hiral Tipirneni", "DEM"), ("David Schweikert", "REP")]


def test_rebuild_is_idempotent(full: Path) -> None:
    before = lookup(full).by_postcode("85050").choices
    summary = rebuild(Settings.load(full))
    assert summary.segments == 3 and summary.stations == counted(sliced(), "PollingLocation")
    assert lookup(full).by_postcode("85050").choices == before


@pytest.mark.parametrize("data, reason", [
    (b'<?xml version="1.0"?><!DOCTYPE VipObject [<!ENTITY a "aaaaaaaaaa">'
     b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><VipObject schemaVersion="6.0">&b;'
     b'</VipObject>', "DTD or entities"),
    (b'<VipObject schemaVersion="5.1"><Election id="e"/></VipObject>', "schemaVersion"),
    (b'<ElectionReport/>', "not a VIP feed"),
    (b'<VipObject schemaVersion="6.0"><State id="st04"><Name>ARIZ', "not well-formed"),
    (b'<VipObject schemaVersion="6.0"><State id="st04"><Name>A</Name></State></VipObject>',
     "0 Election"),
    (b'<VipObject schemaVersion="6.0"><Election id="e"/><StreetSegment id="s"><City>X</City>'
     b'<PrecinctId>p</PrecinctId><StartHouseNumber>1; DROP TABLE</StartHouseNumber>'
     b'<EndHouseNumber>9</EndHouseNumber><State>AZ</State></StreetSegment></VipObject>',
     "not a whole number"),
    (b'<VipObject schemaVersion="6.0"><Election id="e"/><PollingLocation id="p">'
     b'<AddressLine>1 A St</AddressLine><LatLng><Latitude>91</Latitude><Longitude>0'
     b'</Longitude></LatLng></PollingLocation></VipObject>', "out of range"),
], ids=["entities", "version", "not-vip", "cut-short", "no-election", "bad-number",
        "bad-latlng"])
def test_hostile_feeds_are_refused_whole(tmp_path: Path, data: bytes, reason: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    status, node_dir, report = import_vip(tmp_path, data)
    assert status == 2 and report == {}
    assert reason in capsys.readouterr().err
    node = Node.open(Settings.load(node_dir))
    try:  # nothing half-imported
        assert node.store.children(BASE + "places/").items == []
    finally:
        node.close()


def test_too_large_is_refused_before_reading(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    node_dir = tmp_path / "node"
    init_node(node_dir, base_url=BASE, extra={"elections_max_source_bytes": 100_000})
    status, _, _ = import_vip(tmp_path, VIP.read_bytes())
    assert status == 2
    assert "elections_max_source_bytes" in capsys.readouterr().err


@pytest.mark.slow  # an import of the whole feed beside a running node's loops
def test_a_running_node_answers_from_the_new_table(tmp_path: Path) -> None:
    """``ddsnode import vip`` into a served node: its pages answer from the rebuilt table
    at the next check (the command rebuilt it; the server sees a new file)."""
    from tests.support.inprocess import local_node
    with local_node(tmp_path, settings={"voter_refresh_seconds": 0}) as node:
        with node.client() as http:
            assert http.get("/explore/vote.json", params={"postcode": "85050"}
                            ).status_code == 404
            status = main(["import", "vip", str(node.dir), str(VIP), "--slug", "maricopa",
                           "--quiet"])
            assert status == 0
            answer = http.get("/explore/vote.json", params={"postcode": "85050"})
    assert answer.status_code == 200
    assert answer.json()["stations"][0]["name"] == "SHILOH COMMUNITY CHURCH"

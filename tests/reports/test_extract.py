import datetime as dt
import json

import pytest
from test_text import NOISY_PAGE

from sitewatch.errors import DataWarning, ReportError
from sitewatch.reports import claims_document, extract_claims, read_report
from sitewatch.reports.schema import load_claims

QASRAK = "iswnews-2025-12-07-qasrak.txt"
AIN = "almayadeen-2025-04-20-ain-al-asad.txt"


@pytest.fixture(scope="module")
def shared_claims(shared_dir):
    return extract_claims(shared_dir / "reports")


def pick(claims, *, file=None, site=None, event=None, start=None, end=None):
    out = []
    for c in claims:
        if file and c.source["file"] != file:
            continue
        if site and c.site != site:
            continue
        if event and c.event != event:
            continue
        if start and c.when.get("start") != start:
            continue
        if end and c.when.get("end") != end:
            continue
        out.append(c)
    return out


@pytest.mark.e2e
def test_sources_carry_index_metadata(shared_claims):
    c = pick(shared_claims, file=QASRAK)[0]
    assert c.source["published"] == "2025-12-07"
    assert c.source["url"] == "https://english.iswnews.com/?p=39285"


@pytest.mark.e2e
def test_quotes_point_into_the_report_text(shared_dir, shared_claims):
    texts = {f: read_report(shared_dir / "reports" / f).text for f in (QASRAK, AIN)}
    for c in shared_claims:
        text = texts[c.source["file"]]
        assert text[c.quote["start"] : c.quote["end"]] == c.quote["text"]
        assert "\n\n" not in c.quote["text"]


@pytest.mark.e2e
def test_qasrak_pads_with_sizes(shared_claims):
    pads = [
        c
        for c in pick(shared_claims, file=QASRAK, site="qasrak", event="construction")
        if any(q["kind"] == "dimensions" for q in c.quantities)
    ]
    assert len(pads) == 1
    dims = sorted((q["length_m"], q["width_m"]) for q in pads[0].quantities if q["kind"] == "dimensions")
    assert dims == [(84.0, 60.0), (193.0, 94.0)]
    assert "leveled" in pads[0].quote["text"]
    assert (pads[0].when["start"], pads[0].when["end"]) == ("2025-01-01", "2025-04-30")  # "early 2025"


@pytest.mark.e2e
def test_qasrak_runway_length_and_base_area(shared_claims):
    qs = [q for c in pick(shared_claims, file=QASRAK, site="qasrak") for q in c.quantities]
    assert any(q["kind"] == "length" and q["value"] == 1700.0 and q.get("noun") == "runway" for q in qs)
    assert any(q["kind"] == "area" and q["value"] == pytest.approx(1.8e6) for q in qs)
    # distances to Hasakah and the border are not sizes of the base
    assert {q["value"] for q in qs if q["kind"] == "distance"} >= {30000.0, 33000.0}


@pytest.mark.e2e
def test_base_built_late_2017_early_2018(shared_claims):
    c = pick(shared_claims, site="qasrak", event="construction", start="2017-09-01", end="2018-04-30")
    assert c and c[0].site_match == "coreference"


@pytest.mark.e2e
@pytest.mark.parametrize("day", ["2025-05-24", "2025-07-23", "2025-10-18"])
def test_qasrak_aircraft_dates(shared_claims, day):
    assert pick(shared_claims, file=QASRAK, site="qasrak", event="air_activity", start=day, end=day)


@pytest.mark.e2e
@pytest.mark.parametrize("day", ["2025-09-28", "2025-10-18"])
def test_qasrak_convoy_dates(shared_claims, day):
    assert pick(shared_claims, file=QASRAK, site="qasrak", event="arrival", start=day, end=day)


@pytest.mark.e2e
def test_qasrak_expansion_from_july_2025(shared_claims):
    c = pick(shared_claims, site="qasrak", event="construction", start="2025-07-01", end="2025-12-07")
    assert c and not c[0].negated and not c[0].hedged
    assert c[0].when["text"] == "from July 2025 onward"


@pytest.mark.e2e
@pytest.mark.parametrize("site", ["conoco", "al-omar", "green-village"])
def test_withdrawals_january_to_october_2025(shared_claims, site):
    c = pick(shared_claims, site=site, event="withdrawal", start="2025-01-01", end="2025-10-31")
    assert len(c) == 1 and c[0].site_match == "exact" and not c[0].negated


@pytest.mark.e2e
def test_planned_transfer_is_hedged(shared_claims):
    plans = [
        c for c in pick(shared_claims, site="al-omar", event="withdrawal") if "intended" in c.quote["text"]
    ]
    assert plans and all(c.hedged and c.planned for c in plans)
    arrivals = [c for c in pick(shared_claims, event="arrival") if "intended" in c.quote["text"]]
    assert {c.site for c in arrivals} == {"qasrak", "al-shaddadi"}


@pytest.mark.e2e
def test_these_sites_excludes_the_growing_base(shared_claims):
    c = [x for x in shared_claims if x.site_text == "these sites"]
    assert {x.site for x in c} == {"conoco", "al-omar", "green-village"}


@pytest.mark.e2e
def test_ain_al_asad_convoy_on_saturday(shared_claims):
    c = pick(
        shared_claims, file=AIN, site="ain-al-asad", event="arrival", start="2025-04-19", end="2025-04-19"
    )
    assert c and c[0].hedged and "reportedly" in c[0].cues
    assert c[0].site_kind == "place"  # a gazetteer entry, not a watched site


@pytest.mark.e2e
def test_no_claims_from_photo_captions(shared_claims):
    assert not [c for c in shared_claims if "file photo" in c.quote["text"]]


@pytest.mark.e2e
def test_al_walid_is_not_forced_onto_a_base(shared_claims):
    for c in shared_claims:
        if "al-Walid" in c.site_text or "Al-Waleed" in c.site_text:
            assert c.site == "al-walid-crossing"


OWN = """Coalition extends airstrip at Rumeilan

Engineers have extended the runway at the Rmeilan airfield by roughly 600 m, sources told our \
correspondent on Monday. The work began in mid-April, days after a drone attack on the nearby oil facilities.

Officials denied that any troops had withdrawn from the Conoco gas plant. A spokesman said the \
reshuffle "should not be interpreted as a withdrawal" from Koniko.

Meanwhile, a new 120 x 80 m concrete pad was reportedly laid at Qasruk base last month.
The Kharab Ishk base saw about 50 trucks arrive this week.
"""


@pytest.fixture
def own_claims(tmp_path):
    path = tmp_path / "own.txt"
    path.write_text(OWN, encoding="utf-8")
    return extract_claims(path, published=dt.date(2024, 6, 3))


def test_own_text_runway_work_and_relative_dates(own_claims):
    # "sources told our correspondent on Monday": Monday is the day of the telling, not of the work.
    runway = [c for c in pick(own_claims, site="rmelan", event="construction") if c.when["start"] is None]
    told = [c for c in runway if "sources told" in c.quote["text"]]
    assert told and told[0].hedged and told[0].when["end"] == "2024-06-03"
    began = pick(own_claims, site="rmelan", event="construction", start="2024-04-11", end="2024-04-20")
    assert began and began[0].site_match == "adjacent_sentence"  # Rmelan is named in the sentence before
    attack = pick(own_claims, site="rmelan", event="attack")
    assert attack and attack[0].when["end"] <= "2024-04-20"


def test_own_text_denials_are_negated(own_claims):
    # Both denials say the same (no withdrawal from Conoco): one claim, the second passage in `also`.
    (denial,) = pick(own_claims, site="conoco", event="withdrawal")
    assert denial.site_text == "Conoco gas plant" and denial.negated
    assert [a["text"] for a in denial.also if "Koniko" in a["text"]]


def test_own_text_fuzzy_spelling_and_last_month(own_claims):
    c = pick(own_claims, site="qasrak", event="construction")
    assert len(c) == 1 and c[0].site_match == "fuzzy" and c[0].site_text == "Qasruk base"
    assert (c[0].when["start"], c[0].when["end"]) == ("2024-05-01", "2024-05-31")
    assert c[0].hedged
    assert [(q["length_m"], q["width_m"]) for q in c[0].quantities if q["kind"] == "dimensions"] == [
        (120.0, 80.0)
    ]


def test_own_text_unknown_place_kept_as_null(own_claims):
    c = [x for x in own_claims if x.site is None]
    assert len(c) == 1 and c[0].site_text == "Kharab Ishk base" and c[0].site_match == "unknown"
    assert c[0].event == "arrival"
    assert c[0].quantities[0]["kind"] == "count" and c[0].quantities[0]["value"] == 50


def test_html_capture_noise_makes_no_claims(tmp_path):
    path = tmp_path / "page.html"
    path.write_bytes(NOISY_PAGE.encode("cp1252"))
    claims = extract_claims(path, published=dt.date(2024, 2, 20))
    assert {c.site for c in claims} == {"green-village"}
    c = pick(claims, event="construction", start="2024-02-14")
    assert c and c[0].hedged  # "according to residents"
    assert [q["kind"] for q in c[0].quantities] == ["dimensions"]
    assert not pick(claims, event="attack")  # "was bombed" lives in the comments


def test_report_naming_no_known_place(tmp_path):
    path = tmp_path / "paris.txt"
    path.write_text(
        "Weather in Paris was mild on Tuesday; the Louvre reopened after renovation in early 2024."
    )
    assert extract_claims(path, published=dt.date(2024, 6, 3)) == []


def test_contradictory_dates_are_flagged(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text(
        "Satellite images show that between October 2025 and March 2025 the Conoco base was evacuated."
    )
    (c,) = extract_claims(path, published=dt.date(2025, 12, 1))
    assert (c.when["start"], c.when["end"]) == ("2025-03-01", "2025-10-31")
    assert "ends before it starts" in c.when["note"]


def test_no_publication_date_leaves_relative_dates_open(tmp_path):
    path = tmp_path / "undated.txt"
    path.write_text("Engineers expanded the Qasrak base this year.")
    with pytest.warns(DataWarning, match="no publication date"):
        (c,) = extract_claims(path)
    assert c.when["start"] is None and c.when["end"] is None and c.when["open"]
    assert "no publication date" in c.when["note"]


def test_empty_file_gives_zero_claims_and_a_warning(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("")
    with pytest.warns(DataWarning, match="empty"):
        assert extract_claims(path) == []


def test_binary_file_is_an_error(tmp_path):
    path = tmp_path / "x.txt"
    path.write_bytes(bytes(range(256)) * 100)
    with pytest.raises(ReportError, match="binary"):
        extract_claims(path)


@pytest.mark.e2e
def test_claims_round_trip_through_the_validated_file(tmp_path, shared_claims):
    path = tmp_path / "claims.json"
    path.write_text(json.dumps(claims_document(shared_claims)))
    assert load_claims(path) == shared_claims


MORE = """Turkish drones struck the vicinity of the Hemo base west of Qamishli on Tuesday night, \
according to local sources. No casualties were reported.

A U.S. Army spokesperson said that troops had not left the al-Tanf garrison and that no drawdown was planned.

Satellite imagery from Maxar dated March 3 shows new hangars under construction at Ain al Asad, where the \
runway was extended by 300 meters in 2023.

The SDF handed over Tell Brak to coalition forces earlier this month. Residents said dozens of trucks loaded \
with cement blocks entered the Shaddadi base over the weekend.

Two C-130 transport planes landed at Qasraq airstrip on 2 March, a week after bulldozers began clearing land \
east of the runway. The cleared area is roughly 400 meters long and 150 meters wide.
"""


@pytest.fixture
def more_claims(tmp_path):
    path = tmp_path / "more.txt"
    path.write_text(MORE, encoding="utf-8")
    return extract_claims(path, published=dt.date(2024, 3, 10))


def test_more_phrasings(more_claims):
    (attack,) = pick(more_claims, site="hemo", event="attack")
    assert attack.when["start"] == "2024-03-05" and attack.hedged
    (left,) = pick(more_claims, site="al-tanf", event="withdrawal")
    assert left.negated
    assert not pick(more_claims, site="al-tanf", event="presence")  # "garrison" is part of the name
    hangars = pick(more_claims, site="ain-al-asad", event="construction", start="2024-03-03")
    assert hangars and not any(q["kind"] == "count" for q in hangars[0].quantities)  # "March 3" is no count
    assert pick(more_claims, site="ain-al-asad", event="construction", start="2023-01-01", end="2023-12-31")
    assert pick(more_claims, site="tell-brak", event="withdrawal", start="2024-03-01", end="2024-03-10")
    (trucks,) = pick(more_claims, site="al-shaddadi", event="arrival")
    assert (trucks.when["start"], trucks.when["end"]) == ("2024-03-09", "2024-03-10")
    assert trucks.quantities[0]["qualifier"] == "approx"
    assert pick(more_claims, site="qasrak", event="air_activity", start="2024-03-02")
    (clearing,) = pick(more_claims, site="qasrak", event="construction")
    assert clearing.when["end"] < "2024-03-02"  # "a week after bulldozers began": they came first
    dims = [q for q in clearing.quantities if q["kind"] == "dimensions"]
    assert [(d["length_m"], d["width_m"]) for d in dims] == [(400.0, 150.0)]


def test_extractor_survives_odd_text(tmp_path):
    odd = (
        "In 2025. May. 31 May 2099 and 2,000,000 m. Between and. From to onward. Qasrak Qasrak Qasrak.\n"
        "the base the base these sites. ((( ))) — – … \u200b\u00a0\ufeff 3 by by 4 m. "
        "12 x 0 m pad at Qasrak. "
    ) + "Z" * 5000
    path = tmp_path / "odd.txt"
    path.write_text(odd)
    claims = extract_claims(path, published=dt.date(2025, 1, 1))
    assert all(c.site in (None, "qasrak") for c in claims)


DENIALS = """No new construction was observed at the Conoco base in 2024.
There has been no sign of a withdrawal from al-Omar, officials said on 3 May 2024.
Rumors that Green Village was evacuated in April 2024 are false, the coalition said.
Qasrak remains fully operational despite the drawdown elsewhere.
Satellite images do not show any expansion at Tal Baydar since January 2024.
Although troops withdrew from Hemo in March 2024, the base near Tell Brak was expanded.
"""


def test_negations_hedges_and_clauses(tmp_path):
    path = tmp_path / "denials.txt"
    path.write_text(DENIALS)
    claims = extract_claims(path, published=dt.date(2024, 6, 1))
    by_site = {c.site: c for c in claims}
    assert by_site["conoco"].negated and by_site["conoco"].event == "construction"
    assert by_site["al-omar"].negated and by_site["al-omar"].event == "withdrawal"
    assert by_site["green-village"].negated and "are false" in by_site["green-village"].cues
    assert by_site["qasrak"].event == "presence" and not by_site["qasrak"].negated  # no drawdown at Qasrak
    assert by_site["tal-baydar"].negated
    assert (by_site["tal-baydar"].when["start"], by_site["tal-baydar"].when["end"]) == (
        "2024-01-01",
        "2024-06-01",
    )
    assert by_site["hemo"].event == "withdrawal" and by_site["hemo"].when["start"] == "2024-03-01"
    # the date of the contrasting clause does not leak onto Tell Brak
    assert by_site["tell-brak"].event == "construction" and by_site["tell-brak"].when["start"] is None


def test_sources_record_every_file_read(tmp_path):
    from sitewatch.reports import extract_reports

    (tmp_path / "a.txt").write_text("Engineers expanded the Qasrak base on 3 May 2025.")
    (tmp_path / "b.txt").write_text("")
    (tmp_path / "c.txt").write_text("Nothing about any known place.")
    with pytest.warns(DataWarning, match="empty"):
        claims, sources = extract_reports(tmp_path, published="2025-06-01")
    assert len(claims) == 1
    by_file = {s["file"]: s for s in sources}
    assert set(by_file) == {"a.txt", "b.txt", "c.txt"}
    assert by_file["a.txt"]["claims"] == 1 and by_file["a.txt"]["published_from"] == "option"
    assert by_file["b.txt"]["claims"] == 0 and "empty" in by_file["b.txt"]["warnings"][0]
    assert by_file["c.txt"]["claims"] == 0 and by_file["c.txt"]["warnings"] == []
    doc = claims_document(claims, sources)
    assert [s["file"] for s in doc["sources"]] == ["a.txt", "b.txt", "c.txt"]

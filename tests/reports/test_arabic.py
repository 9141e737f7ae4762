"""Arabic reports end to end: folding, dates, places, events, denials, hedges, in several outlets' styles."""

import datetime as dt
from pathlib import Path

import pytest

from sitewatch.aoi import list_places
from sitewatch.reports import PlaceMatcher, extract_claims, find_dates, read_report
from sitewatch.reports.language import detect_language, fold_arabic

DATA = Path(__file__).parent / "data"


def pick(claims, **kw):
    out = []
    for c in claims:
        if all((c.when.get(k) if k in ("start", "end") else getattr(c, k)) == v for k, v in kw.items()):
            out.append(c)
    return out


# -- folding -------------------------------------------------------------------------------------


def test_fold_agrees_with_pyarabic_on_every_word_of_the_reports():
    araby = pytest.importorskip("pyarabic.araby")
    words = set()
    for path in DATA.glob("ar-*.txt"):
        words.update(path.read_text(encoding="utf-8").split())
    words.update(["إِخْلاءُ", "آذار", "أيـــار", "مؤقّت", "طائرة", "مستشفى", "قاعدةٌ", "ٱلقرية"])
    checked = 0
    for word in words:
        if not any("\u0600" <= ch <= "\u06ff" for ch in word):
            continue
        ref = araby.strip_tatweel(araby.strip_diacritics(word))
        ref = araby.normalize_teh(araby.normalize_hamza(ref, method="tasheel"))
        ref = ref.replace("ى", "ي").replace("ٱ", "ا")
        ref = ref.translate(str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789")).replace("،", ",").replace("؟", "?")
        assert fold_arabic(word).text == ref, word
        checked += 1
    assert checked > 200


def test_fold_keeps_the_way_back_to_the_text_as_written():
    written = "وصلَ رتلٌ إلى قـــاعدة قَسْرَك"
    folded = fold_arabic(written)
    start = folded.text.index("قسرك")
    a, b = folded.span(start, start + 4)
    assert written[a:b] == "قَسْرَك"
    assert fold_arabic("Qasrak 2025").index is None  # nothing dropped: no map needed


def test_language_of_mixed_text():
    assert detect_language("انسحبت القوات من قاعدة C-130") == "ar"
    assert detect_language("Convoys reached Qasrak, known locally as قسرك.") == "en"


# -- dates ---------------------------------------------------------------------------------------

PUB = dt.date(2025, 6, 12)  # a Thursday


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("في 3 أيار/مايو 2025", "2025-05-03", "2025-05-03"),
        ("في ٣ أيار ٢٠٢٥", "2025-05-03", "2025-05-03"),
        ("في ۳ تموز ۲۰۲۴", "2024-07-03", "2024-07-03"),  # Persian digits
        ("صباح 7 حزيران/يونيو", "2025-06-07", "2025-06-07"),
        ("في 19 تشرين الأول/أكتوبر 2024", "2024-10-19", "2024-10-19"),
        ("في كانون الثاني 2025", "2025-01-01", "2025-01-31"),
        ("في يناير 2025", "2025-01-01", "2025-01-31"),
        ("في جانفي 2025", "2025-01-01", "2025-01-31"),  # Maghreb month names (CLDR)
        ("أيار (مايو) 2025", "2025-05-01", "2025-05-31"),
        ("بين كانون الثاني وتشرين الأول 2025", "2025-01-01", "2025-10-31"),
        ("في أواخر عام 2024", "2024-09-01", "2024-12-31"),
        ("النصف الأول من عام 2025", "2025-01-01", "2025-06-30"),
        ("مطلع العام الجاري", "2025-01-01", "2025-04-30"),
        ("أواخر العام الماضي", "2024-09-01", "2024-12-31"),
        ("الشهر الماضي", "2025-05-01", "2025-05-31"),
        ("منذ مطلع أيار الماضي", "2025-05-01", "2025-06-12"),
        ("منذ تمّوز الماضي", "2024-07-01", "2025-06-12"),  # last July, seen from June
        ("يوم الثلاثاء", "2025-06-10", "2025-06-10"),
        ("اليوم الخميس", "2025-06-12", "2025-06-12"),
        ("أمس", "2025-06-11", "2025-06-11"),
        ("الأسبوع الماضي", "2025-06-02", "2025-06-08"),
        ("قبل ثلاثة أيام", "2025-06-09", "2025-06-09"),
        ("في 2025/3/4", "2025-03-04", "2025-03-04"),
    ],
)
def test_arabic_dates(text, start, end):
    (d,) = find_dates(fold_arabic(text).text, published=PUB, language="ar")
    assert (str(d.start), str(d.end)) == (start, end)


def test_arabic_relative_spans_and_plans():
    (two_weeks,) = find_dates(fold_arabic("منذ أسبوعين").text, published=PUB, language="ar")
    assert two_weeks.start <= dt.date(2025, 5, 29) <= two_weeks.end <= PUB
    (coming,) = find_dates(fold_arabic("خلال الأسابيع المقبلة").text, published=PUB, language="ar")
    assert coming.start == PUB and "future" in coming.note
    (recent,) = find_dates(fold_arabic("خلال الأيام الماضية").text, published=PUB, language="ar")
    assert recent.end == PUB and recent.start >= PUB - dt.timedelta(days=10)
    assert find_dates(fold_arabic("منذ أسبوعين").text, language="ar")[0].start is None  # no anchor: open


def test_words_that_are_no_dates():
    for text in ("قال أب الضحية", "مارس الجنود تدريباتهم", "نحو 2500 متر", "وصل 40 شاحنة"):
        assert find_dates(fold_arabic(text).text, published=PUB, language="ar") == [], text


# -- places --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def matcher():
    return PlaceMatcher(list_places())


@pytest.mark.parametrize(
    ("text", "site", "written"),
    [
        ("وصل رتل إلى قاعدة قسرك", "qasrak", "قاعدة قسرك"),
        ("نقلت المعدات لقسرك", "qasrak", "قسرك"),
        ("في قاعدة قصرك الأمريكية", "qasrak", "قاعدة قصرك"),
        ("انسحبت من حقل العمر النفطي", "al-omar", "حقل العمر النفطي"),
        ("وصلت إلى الشدادي", "al-shaddadi", "الشدادي"),
        ("ونقلت معداتها إلى قاعدة الشدادي", "al-shaddadi", "قاعدة الشدادي"),
        ("والشدادي", "al-shaddadi", "الشدادي"),
        ("في قاعدة القرية الخضراء", "green-village", "قاعدة القرية الخضراء"),
        ("مطار رميلان", "rmelan", "رميلان"),
        ("خراب الجير", "rmelan", "خراب الجير"),
        ("قاعدة عين الاسد", "ain-al-asad", "قاعدة عين الاسد"),
        ("معمل غاز كونيكو", "conoco", "معمل غاز كونيكو"),
    ],
)
def test_arabic_names_with_clitics_and_variants(matcher, text, site, written):
    folded = fold_arabic(text)
    (m,) = [x for x in matcher.find(folded.text, language="ar") if x.place is not None]
    assert m.place.name == site
    a, b = folded.span(m.offset, m.end)
    assert text[a:b] == written


def test_arabic_transliteration_not_listed_is_fuzzy_and_unknown_stays_unknown(matcher):
    (m,) = matcher.find(fold_arabic("في قاعدة قصروك").text, language="ar")
    assert m.place is not None and m.place.name == "qasrak" and m.how == "fuzzy"
    (u,) = matcher.find(fold_arabic("وصلت إلى قاعدة خراب عشق").text, language="ar")
    assert u.place is None and u.how == "unknown"
    assert matcher.find(fold_arabic("بدأ بناء قاعدة عسكرية جديدة في ريف الحسكة").text, language="ar") == []


def test_a_name_that_fits_two_places_keeps_both_candidates():
    from sitewatch.types import Place

    places = [
        Place("tal-hamid-north", "Tal Hamid North base", aliases=("Tal Hamid", "تل حميد")),
        Place("tall-hamid", "Tall Hamid camp", aliases=("Tal Hamid", "تل حميد")),
        Place("qasrak", "Qasrak base", aliases=("Qasrak",)),
    ]
    m = PlaceMatcher(places)
    (en,) = m.find("A convoy reached Tal Hamid on Monday.")
    assert en.how == "ambiguous" and en.place is None
    assert {p.name for p in en.candidates} == {"tal-hamid-north", "tall-hamid"}
    (ar,) = m.find(fold_arabic("وصل رتل إلى تل حميد").text, language="ar")
    assert ar.how == "ambiguous" and len(ar.candidates) == 2
    # a misspelling as close to two places is ambiguous too, not forced onto one
    two = PlaceMatcher([Place("tell-aaaa", "Tell Samer"), Place("tell-bbbb", "Tell Samar")])
    (fz,) = two.find("Trucks entered Tell Samir base.")
    assert fz.how == "ambiguous"


def test_ambiguous_claims_keep_their_candidates(tmp_path):
    from sitewatch.types import Place

    places = [
        Place("tal-hamid-north", "Tal Hamid North base", aliases=("Tal Hamid",)),
        Place("tall-hamid", "Tall Hamid camp", aliases=("Tal Hamid",)),
    ]
    path = tmp_path / "r.txt"
    path.write_text("Engineers levelled land at Tal Hamid on 3 May 2025.")
    (c,) = extract_claims(path, published="2025-06-01", places=places)
    assert (
        c.site is None
        and c.site_match == "ambiguous"
        and set(c.candidates) == {"tal-hamid-north", "tall-hamid"}
    )
    assert c.event == "construction"


# -- reports in several outlets' styles ----------------------------------------------------------


def test_local_monitor_style(tmp_path):
    claims = extract_claims(DATA / "ar-monitor-qasrak.txt", published="2025-06-02")
    assert all(c.language == "ar" for c in claims)
    (convoy,) = pick(claims, site="qasrak", event="arrival", start="2025-06-01")  # مساء الأحد
    assert convoy.quantities[0]["value"] == 45 and convoy.gloss["place"] == "Qasrak base"
    assert "قَسْرَك" in convoy.site_text  # as written, diacritics kept
    assert pick(claims, site="qasrak", event="air_activity", start="2025-05-24", end="2025-05-24")
    (works,) = pick(claims, site="qasrak", event="construction")
    assert (works.when["start"], works.when["end"]) == ("2025-01-01", "2025-06-02")  # منذ مطلع العام الجاري
    assert set(works.works) == {"surface", "levelling"} and works.hedged  # بحسب مصادر المرصد
    dims = sorted((q["length_m"], q["width_m"]) for q in works.quantities if q["kind"] == "dimensions")
    assert dims == [(84.0, 60.0), (193.0, 94.0)]
    (denied,) = pick(claims, site="al-shaddadi", event="withdrawal")
    assert denied.negated
    report = read_report(DATA / "ar-monitor-qasrak.txt")
    for c in claims:
        assert report.text[c.quote["start"] : c.quote["end"]] == c.quote["text"]


def test_arabic_edition_of_a_syrian_outlet():
    claims = extract_claims(DATA / "ar-syrian-edition-deir.txt", published="2025-08-20")
    omar = pick(claims, site="al-omar", event="withdrawal")
    assert omar and omar[0].hedged and omar[0].when["start"] <= "2025-08-06" <= omar[0].when["end"]
    assert pick(claims, site="al-shaddadi", event="arrival")  # ونقلها إلى قاعدة الشدادي
    assert pick(claims, site="conoco", event="withdrawal", start="2025-07-01", end="2025-07-31")
    (gv,) = pick(claims, site="green-village", event="withdrawal")
    assert gv.planned and gv.hedged and gv.when["start"] == "2025-08-20"
    (qasrak,) = pick(claims, site="qasrak", event="withdrawal")
    assert qasrak.negated  # نفى ... وجود أي خطط للانسحاب


def test_kurdish_administration_media_office():
    claims = extract_claims(DATA / "ar-kurdish-office-hemo.txt", published="2025-01-10")
    (strike,) = pick(claims, site="hemo", event="attack")
    assert strike.when["start"] == "2024-12-12" and strike.gloss["event"] == "strike"
    handover = pick(claims, site="tal-baydar", event="withdrawal")
    assert handover and all(c.negated for c in handover)  # تنفي ... عارية عن الصحة
    assert pick(claims, site="rmelan", event="construction", start="2024-11-01", end="2024-11-30")


def test_arabic_wire_copy():
    claims = extract_claims(DATA / "ar-wire-tanf.txt", published="2025-03-10")
    assert pick(claims, site="al-tanf", event="withdrawal", start="2025-03-03")  # نقلت ... من قاعدة التنف
    assert pick(claims, site="ain-al-asad", event="arrival", start="2025-03-03")  # ... إلى قاعدة عين الأسد
    (air,) = pick(claims, site="ain-al-asad", event="air_activity")
    assert air.when["end"] == "2025-03-10" and air.hedged is False


def test_the_issue_report_naming_qasrak_and_al_omar_gives_claims(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text(
        "وصلت تعزيزات عسكرية أمريكية إلى قاعدة قسرك في 3 أيار 2025، "
        "بعد انسحاب القوات من حقل العمر في 28 نيسان 2025.",
        encoding="utf-8",
    )
    claims = extract_claims(path, published="2025-05-10")
    assert pick(claims, site="qasrak", event="arrival", start="2025-05-03")
    assert pick(claims, site="al-omar", event="withdrawal", start="2025-04-28")


# -- bad input -----------------------------------------------------------------------------------


def test_mixed_language_page(tmp_path):
    path = tmp_path / "mixed.html"
    path.write_text(
        "<html><head><meta charset='utf-8'><title>Monitor</title></head><body><article>"
        "<p>On 3 May 2025 a convoy reached the Qasrak base, residents said.</p>"
        "<p>وفي 5 أيار 2025 انسحبت القوات الأمريكية من قاعدة حقل العمر، بحسب مصادر محلية.</p>"
        "<p>Engineers also levelled land at the Conoco gas plant in April 2025.</p>"
        "</article></body></html>",
        encoding="utf-8",
    )
    claims = extract_claims(path, published="2025-05-10")
    (qasrak,) = pick(claims, site="qasrak", event="arrival")
    (omar,) = pick(claims, site="al-omar", event="withdrawal")
    (conoco,) = pick(claims, site="conoco", event="construction")
    assert (qasrak.language, omar.language, conoco.language) == ("en", "ar", "en")
    assert omar.when["start"] == "2025-05-05" and omar.hedged


@pytest.mark.parametrize("encoding", ["cp1256", "iso8859_6"])
def test_arabic_report_in_a_legacy_encoding(tmp_path, encoding):
    text = (DATA / "ar-wire-tanf.txt").read_text(encoding="utf-8").replace("–", "-")
    path = tmp_path / "legacy.txt"
    path.write_bytes(text.encode(encoding))
    utf8 = tmp_path / "utf8.txt"
    utf8.write_text(text, encoding="utf-8")
    legacy = extract_claims(path, published="2025-03-10")
    clean = extract_claims(utf8, published="2025-03-10")
    assert [(c.site, c.event, c.when["start"]) for c in legacy] == [
        (c.site, c.event, c.when["start"]) for c in clean
    ]
    assert legacy


def test_arabic_html_in_windows_1256_declared(tmp_path):
    body = (DATA / "ar-article.txt").read_text(encoding="utf-8")
    paras = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1256"></head>'
        f"<body><article>{paras}</article></body></html>"
    )
    path = tmp_path / "page.html"
    path.write_bytes(page.encode("cp1256"))
    claims = extract_claims(path, published="2020-02-07")
    assert pick(claims, site="tell-brak", event="construction", start="2020-02-03")


def test_headline_only_page(tmp_path):
    from sitewatch.errors import DataWarning

    path = tmp_path / "headline.html"
    path.write_text(
        "<html><head><title>رتل أمريكي يصل إلى قاعدة قسرك</title></head>"
        "<body><nav>الرئيسية</nav></body></html>",
        encoding="utf-8",
    )
    with pytest.warns(DataWarning, match="only a headline"):
        claims = extract_claims(path, published="2025-05-10")
    (c,) = claims
    assert c.site == "qasrak" and c.event == "arrival" and c.when["end"] == "2025-05-10"

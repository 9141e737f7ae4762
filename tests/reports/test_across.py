"""Claims across sentences, and captured pages that give the same claims as the clean article."""

from pathlib import Path

import pytest

from sitewatch.reports import extract_claims

DATA = Path(__file__).parent / "data"


def triples(claims):
    return sorted(
        (c.site or "", c.event, c.when.get("start") or "", c.when.get("end") or "", c.negated) for c in claims
    )


def test_the_issues_tell_brak_example(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text(
        "On 3 February, the US forces began building a new military base in rural al-Hasakeh. The US forces "
        "chose the village of Tell Brak, about 40 km from al-Hasakah city."
    )
    claims = extract_claims(path, published="2020-02-10")
    (c,) = [c for c in claims if c.event == "construction"]
    assert (c.site, c.site_match, c.when["start"]) == ("tell-brak", "adjacent_sentence", "2020-02-03")
    assert c.quote["text"].startswith("On 3 February") and c.quote["text"].endswith("al-Hasakah city.")
    assert c.site_text == "Tell Brak"


def test_place_in_the_previous_sentence(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text(
        "Coalition engineers arrived at Tal Baydar last week. They levelled ground for a new apron on 2 May."
    )
    claims = extract_claims(path, published="2025-05-10")
    (c,) = [c for c in claims if c.event == "construction"]
    assert (c.site, c.site_match, c.when["start"]) == ("tal-baydar", "adjacent_sentence", "2025-05-02")


@pytest.mark.parametrize(
    "text",
    [
        # the next sentence has its own event: the place is its, not the first one's
        "Engineers began building a new airstrip on 3 May. Convoys reached Qasrak the same day.",
        # an event across a whole country is no one place's
        "US forces withdrew from several bases in Syria on 3 May. Qasrak is the largest remaining base.",
        # the place is two sentences away
        "Engineers began building a new airstrip on 3 May. Nobody commented. Qasrak is near Tal Tamer.",
        # another paragraph
        "Engineers began building a new airstrip on 3 May.\n\nQasrak is near Tal Tamer.",
    ],
)
def test_no_place_borrowed_where_it_does_not_belong(tmp_path, text):
    path = tmp_path / "r.txt"
    path.write_text(text)
    claims = extract_claims(path, published="2025-05-10")
    assert not [
        c for c in claims if c.site_match == "adjacent_sentence" and c.event in ("construction", "withdrawal")
    ]


def test_arabic_place_in_the_next_sentence():
    claims = extract_claims(DATA / "ar-article.txt", published="2020-02-07")
    (c,) = [c for c in claims if c.event == "construction"]
    assert (c.site, c.site_match, c.when["start"], c.language) == (
        "tell-brak",
        "adjacent_sentence",
        "2020-02-03",
        "ar",
    )
    assert c.site_text == "تل براك" and c.gloss == {"event": "building", "place": "Tell Brak base"}


@pytest.mark.parametrize(
    ("capture", "clean"),
    [("en-capture.html", "en-article.txt"), ("ar-capture.txt", "ar-article.txt")],
)
def test_a_captured_page_gives_the_claims_of_its_article(capture, clean):
    page = extract_claims(DATA / capture, published="2020-02-07")
    article = extract_claims(DATA / clean, published="2020-02-07")
    assert triples(page) == triples(article)
    assert not {c.site for c in page} & {
        "hemo",
        "green-village",
        "rmelan",
        "al-omar",
        "ain-al-asad",
        "qasrak",
    }


def test_an_arabic_html_capture_gives_the_claims_of_its_article(tmp_path):
    body = (DATA / "ar-article.txt").read_text(encoding="utf-8").split("\n\n")
    page = (
        "<html dir='rtl' lang='ar'><head><meta charset='utf-8'><title>"
        + body[0]
        + " | المرصد</title></head><body>"
        "<ul class='menu'><li>الرئيسية</li><li>أخبار</li><li>سوريا</li></ul>"
        "<div class='urgent'>عاجل: رتل أمريكي يصل إلى قاعدة قسرك</div>"
        f"<article><h1>{body[0]}</h1><div class='social'>شارك: فيسبوك تويتر واتساب</div>"
        f"<p>{body[1]}</p><p>اقرأ أيضاً: طائرات مسيرة تستهدف قاعدة هيمو</p><p>{body[2]}</p></article>"
        "<section><h3>الأكثر قراءة</h3><ul><li>رتل من 40 شاحنة يصل إلى حقل العمر</li>"
        "<li>توسيع قاعدة عين الأسد</li></ul></section>"
        "<div id='respond'><h3>أضف تعليقاً</h3><p>قاعدة قسرك تعرضت للقصف أمس.</p></div></body></html>"
    )
    path = tmp_path / "page.html"
    path.write_text(page, encoding="utf-8")
    assert triples(extract_claims(path, published="2020-02-07")) == triples(
        extract_claims(DATA / "ar-article.txt", published="2020-02-07")
    )

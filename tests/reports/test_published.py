"""The publication date a report states about itself: datelines, bylines, signatures, file names."""

import datetime as dt
import json
import warnings

import pytest

from sitewatch.reports import extract_reports
from sitewatch.reports.published import find_publication_date

BODY = (
    "Residents said a convoy of trucks carrying prefabricated rooms and generators reached the base "
    "and unloaded near the eastern gate, before leaving again toward the border crossing at dusk."
)
BODY_AR = (
    "وقالت مصادر محلية إن رتلاً من الشاحنات المحملة بغرف مسبقة الصنع ومولدات كهربائية وصل إلى القاعدة "
    "وأفرغ حمولته قرب البوابة الشرقية قبل أن يغادر باتجاه المعبر الحدودي مساءً."
)


@pytest.mark.parametrize(
    ("text", "expected", "source"),
    [
        # wire copy: the year comes from elsewhere in the report
        (
            f"QAMISHLI, Syria, March 3 (Reuters) - {BODY} It was the first since 2025 began.",
            "2025-03-03",
            "dateline",
        ),
        (f"Headline\n\nPosted on 2025-03-05 by admin\n\n{BODY}", "2025-03-05", "dateline"),
        (f"Headline\nPublished: 5 March 2025 | 10:32\n{BODY}", "2025-03-05", "dateline"),
        (f"Headline\nUpdated Tuesday, 4 March 2025 10:32 GMT\n{BODY}", "2025-03-04", "dateline"),
        (f"Headline\nSunday 7 December 2025 - 10:04\n{BODY}", "2025-12-07", "dateline"),
        (f"عنوان الخبر\nالحسكة - 3 آذار 2025\n{BODY_AR}", "2025-03-03", "dateline"),
        (f"عنوان الخبر\n\nدير الزور – ٢٠ تشرين الأول/أكتوبر ٢٠٢٥ – {BODY_AR}", "2025-10-20", "dateline"),
        (f"عنوان الخبر\nتاريخ النشر: ٥ آذار ٢٠٢٥\n{BODY_AR}", "2025-03-05", "dateline"),
        # a media office's signature at the end; numeric dates day first, as the region writes them
        (f"Statement\n{BODY}\n\nHasakah, 12/04/2025", "2025-04-12", "signature"),
        (f"بيان\n{BODY_AR}\n\nالمكتب الإعلامي - الحسكة 12/04/2025", "2025-04-12", "signature"),
        (f"Statement\n{BODY}\n\nHasakah, 04/25/2025", "2025-04-25", "signature"),
    ],
)
def test_dateline_byline_and_signature(text, expected, source):
    found = find_publication_date(text)
    assert found is not None, text
    assert (found.date.isoformat(), found.source) == (expected, source)


@pytest.mark.parametrize(
    "text",
    [
        f"Headline\nOn March 3, 2025, U.S. forces left the base. {BODY}",  # an event's date, not a dateline
        f"Headline\n\nQAMISHLI, Syria, March 3 (Reuters) - {BODY}",  # no year anywhere: no guessing
        f"Headline\n{BODY}\n\nOn 12 April 2025 the convoy left again, residents said.",
        f"عنوان\n{BODY_AR}\nفي 3 آذار 2025 دخل رتل إلى القاعدة.",
    ],
)
def test_an_event_date_is_no_publication_date(text):
    assert find_publication_date(text) is None


def test_wire_dateline_year_from_the_file_name():
    found = find_publication_date(
        f"DEIR EZ-ZOR, Syria, Feb 14 (Wire) - {BODY}", filename="wire-2025-02-14.txt"
    )
    assert found is not None and found.date == dt.date(2025, 2, 14) and "file name" in found.note


def test_file_name_is_the_last_resort():
    found = find_publication_date(BODY, filename="sohr_20250305_omar.txt")
    assert found is not None and (found.date, found.source) == (dt.date(2025, 3, 5), "filename")
    assert find_publication_date(BODY, filename="report-2025-13-45.txt") is None


def _extract(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return extract_reports(path, **kw)


def test_relative_dates_count_from_the_dateline_and_the_source_is_recorded(tmp_path):
    report = tmp_path / "wire-omar.txt"
    report.write_text(
        "U.S. troops leave Syrian oil field base\n\n"
        "DEIR EZ-ZOR, Syria, March 8, 2025 (Wire) - U.S. forces pulled out of their base at the Omar oil "
        "field on Thursday, two local officials said.\n",
        encoding="utf-8",
    )
    claims, sources = _extract(report)
    assert sources[0]["published"] == "2025-03-08" and sources[0]["published_from"] == "dateline"
    (omar,) = [c for c in claims if c.site == "al-omar" and c.event == "withdrawal"]
    assert omar.when["start"] == "2025-03-06"  # the Thursday before publication
    assert omar.source["published_from"] == "dateline"


def test_precedence_option_index_dateline_signature_filename(tmp_path):
    text = (
        "Headline\nPublished: 5 March 2025\n\n"
        "U.S. forces pulled out of their base at the Omar oil field on Thursday, officials said.\n\n"
        "Hasakah, 09/03/2025\n"
    )
    report = tmp_path / "omar-2025-03-01.txt"
    report.write_text(text, encoding="utf-8")
    assert _extract(report)[1][0]["published_from"] == "dateline"
    assert _extract(report, published="2025-03-07")[1][0]["published_from"] == "option"
    (tmp_path / "index.json").write_text(
        json.dumps({"reports": [{"file": report.name, "published": "2025-03-06"}]}), encoding="utf-8"
    )
    src = _extract(report)[1][0]
    assert (src["published"], src["published_from"]) == ("2025-03-06", "index")
    (tmp_path / "index.json").unlink()
    report.write_text(text.replace("Published: 5 March 2025\n", ""), encoding="utf-8")
    src = _extract(report)[1][0]
    assert (src["published"], src["published_from"]) == ("2025-03-09", "signature")
    report.write_text(text.replace("Published: 5 March 2025\n", "").replace("Hasakah, 09/03/2025\n", ""))
    src = _extract(report)[1][0]
    assert (src["published"], src["published_from"]) == ("2025-03-01", "filename")


@pytest.mark.parametrize("encoding", ["windows-1256", "iso-8859-6"])
def test_dateline_of_an_arabic_report_in_a_legacy_encoding(tmp_path, encoding):
    report = tmp_path / "monitor.txt"
    text = (
        "رتل أمريكي يصل إلى قاعدة قسرك\n\n"
        "الحسكة - 3 آذار 2025\n\n"
        "وصل رتل عسكري أمريكي إلى قاعدة قسرك يوم السبت قادماً من معبر الوليد.\n"
    )
    report.write_bytes(text.encode(encoding))
    claims, sources = _extract(report)
    assert (sources[0]["published"], sources[0]["published_from"]) == ("2025-03-03", "dateline")
    (arrival,) = [c for c in claims if (c.site, c.event) == ("qasrak", "arrival") and c.when["start"]]
    assert arrival.when["start"] == "2025-03-01"  # the Saturday before publication

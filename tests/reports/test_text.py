import datetime as dt
import json

import pytest

from sitewatch.errors import DataWarning, ReportError
from sitewatch.reports.text import load_index, read_report

NOISY_PAGE = """<!DOCTYPE html>
<html><head><title>Bulldozers at Green Village base</title></head>
<body>
<header><nav class="main-menu"><a href="/">Home</a> | <a href="/w">World</a> |
<a>Qasrak base explained</a></nav>
<div class="ticker">BREAKING: Convoy reaches Ain al-Asad air base</div></header>
<article>
<h1>Bulldozers at Green Village base</h1>
<p class="byline">By a staff writer – Deir ez-Zor</p>
<p>On 14 February 2024, bulldozers levelled a 200 by 150 metre area at the Green Village base,
according to residents.</p>
<p>Locals said the work continued for several days and that the site’s café was closed.</p>
</article>
<aside class="most-read"><h3>Most Read</h3><ul><li>Helicopters land at al-Tanf garrison</li>
<li>Convoy of 40 trucks reaches Conoco</li></ul></aside>
<section id="comments"><h3>Leave a Reply</h3><p>Green Village was bombed last night, says a reader.</p>
<form><textarea></textarea><button>Post Comment</button></form></section>
<footer>© 2024 News Site · <a>Privacy</a></footer>
</body></html>
"""


def test_html_capture_keeps_the_article_and_drops_page_furniture(tmp_path):
    path = tmp_path / "page.html"
    path.write_bytes(NOISY_PAGE.encode("cp1252"))  # non-UTF-8, no declared charset
    report = read_report(path, published="2024-02-20")
    assert report.kind == "html"
    assert "bulldozers levelled a 200 by 150 metre area" in report.text
    assert "site’s café" in report.text  # cp1252 bytes decoded right
    for noise in (
        "Most Read",
        "Convoy reaches Ain al-Asad",
        "Leave a Reply",
        "was bombed",
        "Privacy",
        "World",
    ):
        assert noise not in report.text
    assert report.published == dt.date(2024, 2, 20)


def test_legacy_encoding_plain_text(tmp_path):
    path = tmp_path / "latin.txt"
    text = "Le 3 mars 2024, des engins ont nivelé le terrain près de la base de Qasrak. Déjà vu à l’été."
    path.write_bytes(text.encode("cp1252"))
    report = read_report(path)
    assert "nivelé" in report.text and "l’été" in report.text
    assert report.encoding.lower().replace("-", "").replace("_", "") in {
        "cp1252",
        "windows1252",
        "latin1",
        "iso88591",
    }


def test_utf16_with_bom(tmp_path):
    path = tmp_path / "u16.txt"
    path.write_bytes("Convoys reached Qasrak on 3 May 2025.".encode("utf-16"))
    assert "Qasrak" in read_report(path).text


def test_binary_file_is_refused(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 50)
    with pytest.raises(ReportError, match="binary"):
        read_report(path)


def test_empty_file_warns(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.warns(DataWarning, match="empty"):
        report = read_report(path)
    assert report.text == ""


def test_missing_file(tmp_path):
    with pytest.raises(ReportError, match="does not exist"):
        read_report(tmp_path / "nope.txt")


def test_large_file_is_read_only_up_to_the_limit(tmp_path):
    path = tmp_path / "big.txt"
    line = "Trucks reached Qasrak base on 3 May 2025 while engineers levelled land nearby.\n"
    path.write_text(line * 20_000, encoding="utf-8")  # ~1.6 MB
    with pytest.warns(DataWarning, match="only its first"):
        report = read_report(path, max_bytes=100_000)
    assert report.truncated and len(report.text) <= 100_000


def test_index_gives_metadata_and_option_wins(tmp_path):
    (tmp_path / "index.json").write_text(
        json.dumps({"reports": [{"file": "a.txt", "publisher": "P", "url": "u", "published": "2025-01-02"}]})
    )
    (tmp_path / "a.txt").write_text("Qasrak base.")
    assert read_report(tmp_path / "a.txt").meta["publisher"] == "P"
    assert read_report(tmp_path / "a.txt").published == dt.date(2025, 1, 2)
    assert read_report(tmp_path / "a.txt", published=dt.date(2025, 3, 4)).published == dt.date(2025, 3, 4)


def test_bad_index_is_a_report_error(tmp_path):
    (tmp_path / "index.json").write_text('{"reports": [{"file": "a.txt", "published": "yesterday"}]}')
    with pytest.raises(ReportError, match="published"):
        load_index(tmp_path)


def test_dateline_gives_publication_date(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("Headline about Qasrak\n\nSunday 7 December 2025 - 10:04\n\nBody text.")
    report = read_report(path)
    assert report.published == dt.date(2025, 12, 7)
    assert report.meta["published_from"] == "dateline"


def test_page_metadata_gives_publication_date_and_publisher(tmp_path):
    page = NOISY_PAGE.replace(
        "<title>",
        '<meta property="article:published_time" content="2024-02-18T10:00:00Z">'
        '<meta property="og:site_name" content="Example News"><title>',
    )
    path = tmp_path / "meta.html"
    path.write_text(page, encoding="utf-8")
    report = read_report(path)
    assert report.published == dt.date(2024, 2, 18)
    assert report.meta["published_from"] == "page metadata" and report.meta["publisher"] == "Example News"
    # without such metadata no date is guessed from the body
    plain = tmp_path / "plain.html"
    plain.write_text(NOISY_PAGE, encoding="utf-8")
    assert read_report(plain).published is None


TEXT_CAPTURE = """Home | World | Middle East | Opinion | Video
Engineers levelled land at the Qasrak base on 3 May 2025, residents said.
Read more: Convoy reaches Ain al-Asad air base
Most Read
1. Helicopters land at al-Tanf garrison
2. Drones strike Hemo base

The work continued for a week.
Share it:
Leave a Reply
Green Village was bombed, says a reader.
"""


def test_plain_text_capture_furniture_is_blanked_in_place(tmp_path):
    path = tmp_path / "capture.txt"
    path.write_text(TEXT_CAPTURE)
    text = read_report(path).text
    assert len(text) == len(TEXT_CAPTURE)  # offsets stay those of the file
    assert "Engineers levelled land at the Qasrak base" in text and "The work continued" in text
    for noise in ("Home | World", "Read more", "Most Read", "al-Tanf", "Hemo", "Leave a Reply", "bombed"):
        assert noise not in text


def test_utf16_without_bom_is_text_not_binary(tmp_path):
    english = "Convoys reached Qasrak on 3 May 2025.\nEngineers levelled land nearby."
    arabic = "وصل رتل إلى قاعدة قسرك في 3 أيار 2025.\nوبدأت أعمال تسوية الأرض."
    for name, text, enc in (("le.txt", english, "utf-16-le"), ("be.txt", arabic, "utf-16-be")):
        path = tmp_path / name
        path.write_bytes(text.encode(enc))
        report = read_report(path)
        assert report.text == text and report.encoding == enc


def test_real_binary_with_nuls_is_still_refused(tmp_path):
    import random

    rng = random.Random(3)
    for i, blob in enumerate(
        [
            bytes(rng.randrange(256) for _ in range(4000)),
            b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(4000)),
            (b"\x00\x01\x02\x03" * 2000),
        ]
    ):
        path = tmp_path / f"b{i}.txt"
        path.write_bytes(blob)
        with pytest.raises(ReportError, match="binary"):
            read_report(path)


@pytest.mark.parametrize("encoding", ["cp1256", "iso8859_6"])
def test_arabic_legacy_encodings(tmp_path, encoding):
    text = "انسحبت القوات الأمريكية من قاعدة حقل العمر في 3 أيار 2025 بحسب مصادر محلية."
    path = tmp_path / "ar.txt"
    path.write_bytes(text.encode(encoding))
    report = read_report(path)
    assert report.text == text
    assert report.encoding.replace("-", "_").lower() in {encoding, "windows_1256", "iso8859_6", "cp1256"}


def test_trafilatura_that_cannot_import_is_an_error_not_a_silent_downgrade(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "trafilatura", None)  # what an install without lxml_html_clean gives
    path = tmp_path / "page.html"
    path.write_text(NOISY_PAGE, encoding="utf-8")
    with pytest.raises(ReportError, match="trafilatura"):
        read_report(path)

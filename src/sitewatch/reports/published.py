"""When a report was published, read from the report itself: datelines, bylines, signatures, file names.

A report's relative dates ("on Tuesday", "last month", "منذ أسبوعين") count from its
publication date, so a report read without one loses most of its dates. When neither the
caller (``--published``), an ``index.json`` nor the page's own metadata says it, the text
usually does, in one of a few places every outlet uses:

``dateline``
    A line near the top: a wire dateline ("QAMISHLI, Syria, March 3 (Reuters) - ..."), a
    local one ("الحسكة - 3 آذار 2025", "Hasakah – 3 March 2025 –"), a labelled one
    ("Posted on 2025-03-05", "Published: 5 March 2025 | 10:32", "تاريخ النشر: 5 آذار 2025"),
    or a line holding only a date (with a weekday or a time).
``signature``
    A line at the end: a media office's place and date ("Hasakah, 12/04/2025",
    "المكتب الإعلامي - الحسكة 12/04/2025").
``filename``
    A date in the file's name ("sohr-2025-03-05-omar.txt", "20250305_report.html").

:func:`find_publication_date` tries them in that order (the caller puts ``--published``,
the index and the page's metadata first). A date must stand where a dateline stands: before
it only a label, a weekday or a place followed by a separator, after it only a time, an
agency in brackets, a dash, or the end of the line; "On March 3, 2025, US forces ..." is an
event's date, not a dateline. A wire dateline gives no year: it is taken from the file
name's date, else from the latest year the text names (the note says so), else the dateline
is not used. Numeric dates are read day first (12/04/2025 is 12 April), as the region and
its outlets write them, unless only the other reading is a date.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from sitewatch.reports.dates import find_dates
from sitewatch.reports.language import detect_language
from sitewatch.textnorm import fold_arabic

__all__ = ["PUBLICATION_SOURCES", "PublicationDate", "PublishedFrom", "find_publication_date"]

PublishedFrom = Literal["option", "index", "page metadata", "dateline", "signature", "filename"]
#: Where a publication date can come from, in order of precedence (the first found wins).
PUBLICATION_SOURCES: tuple[str, ...] = (
    "option",
    "index",
    "page metadata",
    "dateline",
    "signature",
    "filename",
)

#: How far into the text a dateline may stand (characters, and non-empty lines).
DATELINE_CHARS = 2000
DATELINE_LINES = 12
#: How many non-empty lines at the end are read for a signature, and how long such a line may be.
SIGNATURE_LINES = 6
SIGNATURE_MAX_CHARS = 90
#: At most this much text before the date on a dateline ("QAMISHLI, Syria, " / a label).
_MAX_LEAD_CHARS = 48
#: A line this long is body text: the dateline is looked for no further down.
_BODY_LINE_CHARS = 150

_LABEL = re.compile(
    r"^\W*(?:(?:first\s+)?(?:posted|published|updated|last\s+updated|date|dated|released|issued)"
    r"(?:\s+(?:on|at))?|on|نشر(?:\s+في)?|تاريخ\s+النشر|تاريخ|اخر\s+تحديث|تحديث|بتاريخ|في)\s*[:\-–—|]?\s*$",
    re.I,
)
_WEEKDAY = re.compile(
    r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|(?:يوم\s+)?(?:الاثنين|الثلاثاء|الاربعاء|الخميس|الجمعه|السبت|الاحد))"
    r"\s*[,،]?\s*$",
    re.I,
)
# A place (a few capitalised or Arabic words) ending in a separator: "QAMISHLI, Syria, ", "الحسكة - ".
_WORD = r"(?:[A-Z][\w.'’\-]*|[\u0600-\u06ff][\u0600-\u06ff\-]*|\((?:[A-Z]\w*|[\u0600-\u06ff]+)\))"
_PLACE_LEAD = re.compile(rf"^\W*{_WORD}(?:[\s,،/\-–—]+{_WORD}){{0,4}}\s*[,،\-–—|:/]\s*$")
# A signature's place needs no separator before its date ("Hasakah 12/04/2025").
_SIGNATURE_LEAD = re.compile(rf"^\W*{_WORD}(?:[\s,،/\-–—]+{_WORD}){{0,5}}\s*[,،\-–—|:/]?\s*$")
_TRAIL = re.compile(
    r"^\s*(?:[,،]?\s*(?:at\s+)?\d{1,2}[:.]\d\d(?:\s*(?:[AaPp]\.?[Mm]\.?|GMT|UTC|ص|م))?(?:\s*\(?(?:GMT|UTC)"
    r"[+\-\d:]*\)?)?)?\s*(?:\([^()]{1,40}\)\s*)?(?:$|[\-–—|]|(?:by|بقلم)\s+\S)"
)
_NUMERIC = re.compile(r"(?<!\d)(?P<a>\d{1,4})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{2,4})(?!\d)")
_FILENAME_DATE = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d\d)[-_.]?(?P<m>[01]\d)[-_.]?(?P<d>[0-3]\d)(?!\d)")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")


@dataclass(frozen=True)
class PublicationDate:
    """A publication date found in a report, with where and how.

    Parameters
    ----------
    date : datetime.date
    source : {"dateline", "signature", "filename"}
        Where in the report it was found.
    text : str
        The line (or file name) it was read from.
    note : str
        Anything assumed (a year taken from elsewhere, a day-first reading).
    span : tuple of int or None
        ``(start, end)`` of the date in the report text (None for a file name's): a
        dateline's date is the report's, never an event's.
    """

    date: dt.date
    source: PublishedFrom
    text: str
    note: str = ""
    span: tuple[int, int] | None = None


def _numeric(text: str) -> tuple[dt.date, str, int, int] | None:
    """A numeric date (ISO first, else day first): (date, note, start, end)."""
    for m in _NUMERIC.finditer(text):
        a, b, c = m.group("a"), m.group("b"), m.group("c")
        note = ""
        if len(a) == 4:
            y, mo, d = int(a), int(b), int(c)
        elif len(c) == 4:
            y, d, mo = int(c), int(a), int(b)
            if mo > 12 and d <= 12:
                d, mo = mo, d
                note = "numeric date read month first (the other reading is no date)"
            elif d <= 12 and mo <= 12 and d != mo:
                note = "numeric date read day first, as the region writes it"
        else:
            continue
        try:
            return dt.date(y, mo, d), note, m.start(), m.end()
        except ValueError:
            continue
    return None


def _date_in_line(line: str, year_hint: tuple[int | None, str]) -> tuple[dt.date, str, int, int] | None:
    """The first single-day date of a line (offsets in the folded line) and a note."""
    numeric = _numeric(line)
    language = detect_language(line)
    anchor = dt.date(year_hint[0], 12, 31) if year_hint[0] else None
    best: tuple[dt.date, str, int, int] | None = None
    for mention in find_dates(line, published=anchor, language=language):
        if mention.start is None or mention.start != mention.end:
            continue
        note = f"no year on the dateline: {year_hint[1]}" if "no year" in mention.note else ""
        best = (mention.start, note, mention.offset, mention.offset + mention.length)
        break
    if numeric is not None and (best is None or numeric[2] < best[2]):
        return numeric
    return best


def _dateline_fits(line: str, start: int, end: int, *, at_top: bool) -> bool:
    """Whether a date at ``line[start:end]`` stands where a dateline's or a signature's stands."""
    lead, trail = line[:start], line[end:]
    if len(lead) > _MAX_LEAD_CHARS:
        return False
    lead_ok = not lead.strip() or bool(_LABEL.match(lead) or _WEEKDAY.search(lead) or _PLACE_LEAD.match(lead))
    if not lead_ok:
        # "Hasakah, Tuesday 4 March 2025" / "Posted on Tuesday, 4 March 2025"
        w = _WEEKDAY.search(lead)
        before = lead[: w.start()] if w is not None else ""
        lead_ok = w is not None and bool(
            not before.strip() or _LABEL.match(before) or _PLACE_LEAD.match(before)
        )
    if not lead_ok and not at_top:
        lead_ok = bool(_SIGNATURE_LEAD.match(lead))
    if not lead_ok:
        return False
    if at_top:
        return bool(_TRAIL.match(trail))
    return not re.search(r"\w", trail)


def _year_hint(text: str, filename: str | None) -> tuple[int | None, str]:
    """The year of a yearless dateline: the file name's, else the latest the text names."""
    if filename:
        m = _FILENAME_DATE.search(filename)
        if m:
            return int(m.group("y")), "the file name's year"
    years = [int(y) for y in _YEAR.findall(text)]
    return (max(years), "the latest year the text names") if years else (None, "")


def _from_lines(
    lines: list[tuple[int, str]], source: PublishedFrom, hint: tuple[int | None, str]
) -> PublicationDate | None:
    for offset, raw in lines:
        folded = fold_arabic(raw)
        found = _date_in_line(folded.text, hint)
        if found is None:
            continue
        day, note, start, end = found
        if _dateline_fits(folded.text, start, end, at_top=source == "dateline"):
            a, b = folded.span(start, end)
            return PublicationDate(day, source, raw.strip(), note, (offset + a, offset + b))
    return None


def find_publication_date(text: str, *, filename: str | None = None) -> PublicationDate | None:
    """The publication date a report states about itself, or None.

    Parameters
    ----------
    text : str
        The report's clean text.
    filename : str, optional
        The report file's name (its date is the last resort).

    Returns
    -------
    PublicationDate or None

    Examples
    --------
    >>> find_publication_date("QAMISHLI, Syria, March 3, 2025 (Reuters) - U.S. forces ...").date
    datetime.date(2025, 3, 3)
    >>> find_publication_date("On March 3, 2025, U.S. forces left.") is None
    True
    >>> find_publication_date("...", filename="sohr-2025-03-05-omar.txt").source
    'filename'
    """
    lines = [(m.start(), m.group(0)) for m in re.finditer(r"[^\n]*\S[^\n]*", text)]
    top: list[tuple[int, str]] = []
    for off, ln in lines[:DATELINE_LINES]:
        top.append((off, ln))
        body = len(ln) > _BODY_LINE_CHARS or bool(re.search(r"[.!?؟]\s*$", ln))
        if body or off + len(ln) > DATELINE_CHARS:
            break  # the article has begun: a dateline opens its first paragraph at the latest
    hint = _year_hint(text, filename)
    found = _from_lines(top, "dateline", hint)
    if found is not None:
        return found
    bottom = lines[len(top) :][-SIGNATURE_LINES:]
    bottom = [(off, ln) for off, ln in bottom if len(ln.strip()) <= SIGNATURE_MAX_CHARS]
    found = _from_lines(list(reversed(bottom)), "signature", (None, ""))
    if found is not None:
        return found
    if filename:
        m = _FILENAME_DATE.search(filename)
        if m:
            try:
                day = dt.date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
            except ValueError:
                return None
            return PublicationDate(day, "filename", filename, "date in the file name")
    return None

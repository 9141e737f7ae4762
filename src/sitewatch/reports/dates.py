"""Time expressions in report text, resolved to date intervals.

Every expression becomes an interval ``[start, end]`` (both inclusive, either may be
None = open) with the text it came from and a note when something had to be
assumed. Absolute dates ("September 28, 2025", "20 Apr 2025"), months and parts
of years ("early 2025", "mid-May", "summer 2024"), ranges ("between January and
October 2025", "from July 2025 onward") and relative expressions ("this year",
"on Saturday", "days earlier", "in recent months") are resolved; relative ones
need an anchor (the publication date, or the date the text spoke of just before).
Without an anchor the interval is left open and the note says so: no guessing.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["DateMention", "find_dates", "month_number"]

_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip
_WEEKDAYS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "several": 3, "a few": 3, "few": 3}  # fmt: skip

_M = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
)
_Y = r"(?:19[5-9]\d|20\d\d)"
_PART = r"(?:early|mid|late|the\s+end\s+of|the\s+beginning\s+of|the\s+start\s+of|the\s+middle\s+of|end\s+of)"
_SEASON = r"(?:spring|summer|autumn|fall|winter)"
_HALF = r"(?:the\s+)?(?:first|second)\s+half\s+of"
_QUARTER = r"(?:the\s+)?(?:first|second|third|fourth)\s+quarter\s+of|Q[1-4]"

# Order matters: longer, more specific forms first; matched spans are then masked.
_ATOMS: list[tuple[str, re.Pattern[str]]] = [
    ("iso", re.compile(rf"\b(?P<y>{_Y})-(?P<m>[01]\d)-(?P<d>[0-3]\d)\b")),
    (
        "mdy",
        re.compile(
            rf"\b(?P<mon>{_M})\s+(?P<d>[0-3]?\d)(?:st|nd|rd|th)?\b(?!\s*(?:km|kilomet|met|m\b|%|troops|trucks))"
            rf"(?:,?\s+(?P<y>{_Y})\b)?",
            re.I,
        ),
    ),
    (
        "dmy",
        re.compile(
            rf"\b(?P<d>[0-3]?\d)(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>{_M})(?![a-z])(?:,?\s+(?P<y>{_Y})\b)?",
            re.I,
        ),
    ),
    (
        "season",
        re.compile(rf"\b(?P<part>{_PART}|{_SEASON}|{_HALF}|{_QUARTER})[\s-]+(?:of\s+)?(?P<y>{_Y})\b", re.I),
    ),
    (
        "month",
        re.compile(rf"\b(?:(?P<part>{_PART})[\s-]+)?(?P<mon>{_M})(?![a-z])(?:,?\s+(?P<y>{_Y})\b)?", re.I),
    ),
    (
        "year",
        re.compile(
            rf"\b(?P<y>{_Y})\b(?!\s*(?:troops|soldiers|personnel|forces|men|trucks|vehicles|m\b|km))", re.I
        ),
    ),
]

_RELATIVE: list[tuple[str, re.Pattern[str]]] = [
    (
        "part_year",
        re.compile(rf"\b(?P<part>{_PART}|{_SEASON})[\s-]+(?:of\s+)?(?P<which>this|last|next)\s+year\b", re.I),
    ),
    ("earlier_this", re.compile(r"\b(?P<which>earlier|later)\s+this\s+(?P<unit>year|month|week)\b", re.I)),
    ("this", re.compile(r"\b(?P<which>this|last|past|previous|next)\s+(?P<unit>year|month|week)\b", re.I)),
    ("today", re.compile(r"\b(?P<which>today|yesterday|tonight|last\s+night|this\s+morning)\b", re.I)),
    (
        "recent",
        re.compile(
            r"\b(?:in|over|during|for)\s+(?:the\s+)?(?:recent|past\s+(?:few|several|two|three)|last\s+(?:few|several))"
            r"\s+(?P<unit>days|weeks|months|years)\b|\brecent\s+(?P<unit2>days|weeks|months)\b",
            re.I,
        ),
    ),
    (
        "coming",
        re.compile(
            r"\b(?:in\s+)?the\s+(?:coming|next\s+few|next)\s+(?P<unit>days|weeks|months|years)\b", re.I
        ),
    ),
    (
        "ago",
        re.compile(
            r"\b(?P<n>\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|several|a\s+few|few)?\s*"
            r"(?P<unit>days?|weeks?|months?|years?)\s+(?P<dir>ago|earlier|before|later|after)\b",
            re.I,
        ),
    ),
    (
        "weekday",
        re.compile(
            r"\b(?:(?P<which>last|this|on|since|past)\s+)?(?P<wd>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b",
            re.I,
        ),
    ),
    ("recently", re.compile(r"\b(?:recently|lately)\b", re.I)),
    ("weekend", re.compile(r"\b(?P<which>over\s+the|this|last|past|at\s+the)\s+weekend\b", re.I)),
]

_RANGE_LEFT = re.compile(r"\b(between|from)\s*$", re.I)
_RANGE_MID = re.compile(r"^\s*(and|to|until|till|through|thru|-|–|—)\s*$", re.I)
_OPEN_AFTER = re.compile(r"\b(since|from|after|starting(?:\s+in)?|beginning(?:\s+in)?)\s*$", re.I)
_ONWARD = re.compile(
    r"^\s*(?:on(?:wards?)?\b|and\s+(?:after|later|since)\b|to\s+(?:date|the\s+present|now)\b)", re.I
)
_OPEN_BEFORE = re.compile(r"\b(until|till|by|before|prior\s+to|up\s+to)\s*$", re.I)


def month_number(name: str) -> int | None:
    """Return 1..12 for an English month name or abbreviation, else None.

    Examples
    --------
    >>> month_number("Sept.")
    9
    """
    return _MONTHS.get(name.lower().rstrip("."))


@dataclass(frozen=True)
class DateMention:
    """A time expression found in text, and the interval it stands for.

    Parameters
    ----------
    start, end : datetime.date or None
        The interval, inclusive; None where open.
    text : str
        The expression as written.
    offset : int
        Where the expression starts in the text searched.
    length : int
        Its length in characters.
    kind : {"absolute", "relative"}
        Whether it needed an anchor.
    note : str
        What was assumed, or why the interval is open ("" when nothing).
    """

    start: dt.date | None
    end: dt.date | None
    text: str
    offset: int
    length: int
    kind: str = "absolute"
    note: str = ""

    @property
    def is_open(self) -> bool:
        """True when either bound is unknown."""
        return self.start is None or self.end is None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (ISO dates)."""
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "text": self.text,
            "kind": self.kind,
            "open": self.is_open,
            "note": self.note,
        }


@dataclass
class _Atom:
    start: int
    end: int
    y: int | None
    m: int | None = None
    d: int | None = None
    part: str | None = None

    def interval(self, year: int | None = None) -> tuple[dt.date, dt.date] | None:
        y = self.y if self.y is not None else year
        if y is None:
            return None
        if self.m is None:
            return _year_part(y, self.part)
        last = calendar.monthrange(y, self.m)[1]
        if self.d is not None:
            day = dt.date(y, self.m, min(self.d, last))
            return day, day
        part = (self.part or "").lower()
        if part == "early" or "beginning" in part or "start" in part:
            return dt.date(y, self.m, 1), dt.date(y, self.m, 10)
        if part.startswith("mid") or "middle" in part:
            return dt.date(y, self.m, 11), dt.date(y, self.m, 20)
        if part == "late" or "end" in part:
            return dt.date(y, self.m, 21), dt.date(y, self.m, last)
        return dt.date(y, self.m, 1), dt.date(y, self.m, last)


def _year_part(y: int, part: str | None) -> tuple[dt.date, dt.date]:
    p = re.sub(r"\s+", " ", (part or "").lower())
    table = {
        "early": ((1, 1), (4, 30)),
        "mid": ((5, 1), (8, 31)),
        "the middle of": ((5, 1), (8, 31)),
        "late": ((9, 1), (12, 31)),
        "the end of": ((10, 1), (12, 31)),
        "end of": ((10, 1), (12, 31)),
        "the beginning of": ((1, 1), (3, 31)),
        "the start of": ((1, 1), (3, 31)),
        "spring": ((3, 1), (5, 31)),
        "summer": ((6, 1), (8, 31)),
        "autumn": ((9, 1), (11, 30)),
        "fall": ((9, 1), (11, 30)),
        "first half of": ((1, 1), (6, 30)),
        "the first half of": ((1, 1), (6, 30)),
        "second half of": ((7, 1), (12, 31)),
        "the second half of": ((7, 1), (12, 31)),
    }
    if p == "winter":
        # "winter 2025" is read as the winter that ends in 2025 (Dec 2024 - Feb 2025).
        return dt.date(y - 1, 12, 1), dt.date(y, 2, calendar.monthrange(y, 2)[1])
    quarter = re.match(r"(?:the )?(first|second|third|fourth) quarter of|q([1-4])", p)
    if quarter:
        q = (
            ("first", "second", "third", "fourth").index(quarter.group(1)) + 1
            if quarter.group(1)
            else int(quarter.group(2))
        )
        m0 = 3 * (q - 1) + 1
        return dt.date(y, m0, 1), dt.date(y, m0 + 2, calendar.monthrange(y, m0 + 2)[1])
    if p in table:
        (m0, d0), (m1, d1) = table[p]
        return dt.date(y, m0, d0), dt.date(y, m1, d1)
    return dt.date(y, 1, 1), dt.date(y, 12, 31)


_PREP_BEFORE_BARE = re.compile(
    r"\b(in|since|from|until|till|by|between|and|to|through|during|of|before|after|early|mid|late|last|"
    r"throughout|around|as\s+of)[\s-]*$",
    re.I,
)


def _find_atoms(text: str) -> list[_Atom]:
    taken = [False] * len(text)
    atoms: list[_Atom] = []
    for kind, pattern in _ATOMS:
        for m in pattern.finditer(text):
            if any(taken[m.start() : m.end()]):
                continue
            g = m.groupdict()
            if kind in ("month", "year"):
                before = text[max(0, m.start() - 25) : m.start()]
                # "May" is also a verb, a bare year also a number: ask for a preposition before it
                # unless the year is given with the month.
                if kind == "year" and not _PREP_BEFORE_BARE.search(before):
                    continue
                if (
                    kind == "month"
                    and not g.get("y")
                    and not g.get("part")
                    and not _PREP_BEFORE_BARE.search(before)
                ):
                    continue
                bare_may = (g.get("mon") or "").lower() == "may" and not (g.get("y") or g.get("part"))
                if (
                    kind == "month"
                    and bare_may
                    and not re.search(
                        r"\b(in|since|from|until|by|of|during|early|mid|late)\s*$", before, re.I
                    )
                ):
                    continue
            y = int(g["y"]) if g.get("y") else None
            mon = g.get("mon")
            month = int(g["m"]) if g.get("m") else (month_number(mon) if mon else None)
            day = int(g["d"]) if g.get("d") else None
            if day is not None and not 1 <= day <= 31:
                continue
            atoms.append(_Atom(m.start(), m.end(), y, month, day, g.get("part")))
            for i in range(m.start(), m.end()):
                taken[i] = True
    atoms.sort(key=lambda a: a.start)
    return atoms


def _shift_months(day: dt.date, months: int) -> dt.date:
    idx = day.year * 12 + (day.month - 1) + months
    y, m = divmod(idx, 12)
    return dt.date(y, m + 1, min(day.day, calendar.monthrange(y, m + 1)[1]))


def _infer_year(atom: _Atom, published: dt.date | None) -> tuple[int | None, str]:
    if atom.y is not None:
        return atom.y, ""
    if published is None:
        return None, "no year given and no publication date to take it from: interval left open"
    y = published.year
    probe = atom.interval(y)
    if probe and probe[0] > published + dt.timedelta(days=7):
        return y - 1, f"no year given; {y - 1} assumed (the date would fall after publication in {y})"
    return y, f"no year given; {y} (the publication year) assumed"


def _relative(
    kind: str, m: re.Match[str], anchor: dt.date, context: dt.date | None
) -> tuple[dt.date | None, dt.date | None, str]:
    g = {k: (v.lower() if isinstance(v, str) else v) for k, v in m.groupdict().items()}
    day = dt.timedelta(days=1)
    if kind == "part_year":
        year = anchor.year + {"this": 0, "last": -1, "next": 1}[g["which"]]
        s, e = _year_part(year, g["part"])
        note = "a future period" if s > anchor else ""
        return s, e, note
    if kind == "earlier_this":
        unit, which = g["unit"], g["which"]
        first = {"year": anchor.replace(month=1, day=1), "month": anchor.replace(day=1),
                 "week": anchor - dt.timedelta(days=anchor.weekday())}[unit]  # fmt: skip
        if which == "earlier":
            return first, anchor, ""
        last = {"year": anchor.replace(month=12, day=31), "month": _shift_months(first, 1) - day,
                "week": first + dt.timedelta(days=6)}[unit]  # fmt: skip
        return anchor, last, "a future period (a plan or forecast)"
    if kind == "this":
        unit, which = g["unit"], g["which"]
        if unit == "year":
            if which == "this":
                return anchor.replace(month=1, day=1), anchor, ""
            if which == "next":
                return dt.date(anchor.year + 1, 1, 1), dt.date(anchor.year + 1, 12, 31), "a future period"
            if which == "past":
                return anchor - dt.timedelta(days=365), anchor, ""
            return dt.date(anchor.year - 1, 1, 1), dt.date(anchor.year - 1, 12, 31), ""
        if unit == "month":
            first = anchor.replace(day=1)
            if which == "this":
                return first, anchor, ""
            if which == "next":
                nxt = _shift_months(first, 1)
                return nxt, _shift_months(nxt, 1) - day, "a future period"
            if which == "past":
                return anchor - dt.timedelta(days=31), anchor, ""
            prev = _shift_months(first, -1)
            return prev, first - day, ""
        monday = anchor - dt.timedelta(days=anchor.weekday())
        if which == "this":
            return monday, anchor, ""
        if which == "next":
            return monday + dt.timedelta(days=7), monday + dt.timedelta(days=13), "a future period"
        if which == "past":
            return anchor - dt.timedelta(days=7), anchor, ""
        return monday - dt.timedelta(days=7), monday - day, ""
    if kind == "today":
        which = re.sub(r"\s+", " ", g["which"])
        if which in ("yesterday", "last night"):
            return anchor - day, anchor - day, ""
        return anchor, anchor, ""
    if kind == "recent":
        unit = str(g.get("unit") or g.get("unit2"))
        span = {"days": 7, "weeks": 6 * 7, "months": 183, "years": 3 * 365}[unit]
        return (
            anchor - dt.timedelta(days=span),
            anchor,
            f"'recent {unit}' read as the {span} days before publication",
        )
    if kind == "coming":
        unit = g["unit"]
        span = {"days": 10, "weeks": 8 * 7, "months": 183, "years": 3 * 365}[unit]
        return anchor, anchor + dt.timedelta(days=span), "a future period (a plan or forecast)"
    if kind == "ago":
        unit = g["unit"].rstrip("s")
        n_text = re.sub(r"\s+", " ", g.get("n") or "")
        vague = not n_text or n_text in ("several", "few", "a few")
        n = int(n_text) if n_text.isdigit() else _NUMBERS.get(n_text, 3)
        direction = g["dir"]
        base = anchor
        note = ""
        if direction in ("earlier", "before", "later", "after"):
            if context is None:
                note = f"'{m.group(0)}' counted from the publication date (no earlier date in the text)"
            else:
                base = context
        sign = 1 if direction in ("later", "after") else -1
        if unit == "day":
            lo, hi = (1, 10) if vague else (n, n)
            a, b = base + sign * dt.timedelta(days=lo), base + sign * dt.timedelta(days=hi)
        elif unit == "week":
            lo, hi = (7, 28) if vague else (7 * n - 3, 7 * n + 3)
            a, b = base + sign * dt.timedelta(days=lo), base + sign * dt.timedelta(days=hi)
        elif unit == "month":
            lo, hi = (1, 6) if vague else (n, n)
            a, b = (
                _shift_months(base, sign * lo) - dt.timedelta(days=15),
                _shift_months(base, sign * hi) + dt.timedelta(days=15),
            )
        else:
            lo, hi = (1, 5) if vague else (n, n)
            a, b = (
                _shift_months(base, sign * 12 * lo) - dt.timedelta(days=183),
                _shift_months(base, sign * 12 * hi) + dt.timedelta(days=183),
            )
        lo_d, hi_d = min(a, b), max(a, b)
        if sign < 0:
            hi_d = min(hi_d, base)
        return lo_d, hi_d, note
    if kind == "weekday":
        wd = _WEEKDAYS[g["wd"]]
        back = (anchor.weekday() - wd) % 7
        which = g.get("which") or ""
        if which == "last" and back == 0:
            back = 7
        d = anchor - dt.timedelta(days=back)
        return d, d, f"the {g['wd'].title()} on or before {anchor.isoformat()}"
    if kind == "weekend":
        # The last Saturday-Sunday that began on or before the anchor.
        saturday = anchor - dt.timedelta(days=(anchor.weekday() - 5) % 7)
        return saturday, min(saturday + day, anchor), "the weekend on or before publication"
    if kind == "recently":
        return (
            anchor - dt.timedelta(days=92),
            anchor,
            "'recently' read as the three months before publication",
        )
    raise AssertionError(kind)  # pragma: no cover


def find_dates(
    text: str,
    *,
    published: dt.date | None = None,
    context: dt.date | None = None,
) -> list[DateMention]:
    """Find the time expressions in a piece of text and resolve them to intervals.

    Parameters
    ----------
    text : str
        A sentence or short passage.
    published : datetime.date, optional
        Publication date: the anchor of relative expressions ("this year", "on
        Saturday") and the end of open ranges ("from July 2025 onward").
    context : datetime.date, optional
        The date the text spoke of just before, the anchor of "days earlier" /
        "two weeks later".

    Returns
    -------
    list of DateMention
        In text order. Ranges ("between January and October 2025") come back as one mention.

    Examples
    --------
    >>> [m.as_dict()["start"] for m in find_dates("between January and October 2025")]
    ['2025-01-01']
    >>> find_dates("on Saturday", published=dt.date(2025, 4, 20))[0].start
    datetime.date(2025, 4, 19)
    """
    atoms = _find_atoms(text)
    out: list[DateMention] = []
    used: set[int] = set()
    taken = [False] * len(text)
    i = 0
    while i < len(atoms):
        a = atoms[i]
        b = atoms[i + 1] if i + 1 < len(atoms) else None
        is_range = False
        if b is not None and _RANGE_MID.match(text[a.end : b.start]):
            joiner = text[a.end : b.start].strip().lower()
            left = text[max(0, a.start - 12) : a.start]
            is_range = (
                joiner != "and" or bool(_RANGE_LEFT.search(left)) or bool(re.search(r"\bin\s*$", left, re.I))
            )
        if is_range and b is not None:
            wrapped = False
            if a.y is None and b.y is not None:
                # "between January and October 2025": the year is written once, on the second end.
                wrapped = (a.m or 0) > (b.m or 12)
                a.y = b.y - 1 if wrapped else b.y
            y_b, note_b = _infer_year(b, published)
            if a.y is None and y_b is not None:
                a.y = y_b
            y_a, note_a = _infer_year(a, published)
            ia, ib = a.interval(y_a), b.interval(y_b)
            left_word = _RANGE_LEFT.search(text[: a.start])
            s0 = a.start - len(left_word.group(0)) if left_word else a.start
            span_text = text[s0 : b.end]
            note = note_a or note_b
            if wrapped:
                note = f"the range crosses a year end; its start read as {a.y}"
            start = ia[0] if ia else None
            end = ib[1] if ib else None
            if start and end and end < start:
                note = f"the range ends before it starts; read as {min(start, ib[0])}..{max(end, ia[1])}"  # type: ignore[index]
                start, end = min(start, ib[0]), max(end, ia[1])  # type: ignore[index]
            out.append(DateMention(start, end, span_text, s0, b.end - s0, "absolute", note))
            for k in range(s0, b.end):
                taken[k] = True
            used.update((i, i + 1))
            i += 2
            continue
        y, note = _infer_year(a, published)
        iv = a.interval(y)
        start, end = iv if iv else (None, None)
        s0, e0 = a.start, a.end
        before = text[: a.start]
        after = text[a.end :]
        after_m = _ONWARD.match(after)
        open_after = _OPEN_AFTER.search(before)
        open_before = _OPEN_BEFORE.search(before)
        if after_m or open_after:
            if open_after:
                s0 = open_after.start()
            if after_m:
                e0 = a.end + after_m.end()
            if open_after and open_after.group(1).lower() == "after" and end is not None:
                start = end + dt.timedelta(days=1)
            if published is not None:
                end = published
            else:
                end = None
                note = (note + "; " if note else "") + "open-ended and no publication date: end left open"
        elif open_before:
            s0 = open_before.start()
            word = open_before.group(1).lower()
            if word in ("before", "prior to") and start is not None:
                end = start - dt.timedelta(days=1)
            start = None
            note = (note + "; " if note else "") + "no start given: start left open"
        if iv and published is not None and iv[0] > published:
            note = (note + "; " if note else "") + f"after the publication date {published.isoformat()}"
        out.append(DateMention(start, end, text[s0:e0], s0, e0 - s0, "absolute", note))
        for k in range(s0, e0):
            taken[k] = True
        i += 1

    anchor = published
    for kind, pattern in _RELATIVE:
        for m in pattern.finditer(text):
            if any(taken[m.start() : m.end()]):
                continue
            if kind == "weekday":
                nxt = re.match(r"[\s,]*", text[m.end() :])
                k = m.end() + (nxt.end() if nxt else 0)
                if k < len(text) and taken[k]:
                    continue  # "Sunday 7 December 2025": the weekday only names the written date
            mirrored = None
            if kind == "ago" and m.group("dir").lower() in ("earlier", "before", "later", "after"):
                base = context or anchor
                prev = [d for d in out if d.kind == "absolute" and d.start is not None and d.end is not None]
                prev = [d for d in prev if re.fullmatch(r"[\s,]*", text[d.offset + d.length : m.start()])]
                if prev and m.group("dir").lower() in ("after", "later"):
                    # "in mid-April, days after a drone attack": the event after "after" came first.
                    mirrored = prev[-1]
            else:
                base = anchor
            if mirrored is not None and mirrored.start is not None and mirrored.end is not None:
                s_rel, e_rel, _ = _relative(kind, m, mirrored.start, mirrored.start)
                s_rel = s_rel or mirrored.start
                e_rel = e_rel or mirrored.start
                lo = mirrored.start - (e_rel - mirrored.start)
                hi = mirrored.end - (s_rel - mirrored.start)
                note = f"'{m.group(0)}' {mirrored.text}: the event it introduces came that long before"
                out.append(DateMention(lo, hi, m.group(0), m.start(), m.end() - m.start(), "relative", note))
                for k in range(m.start(), m.end()):
                    taken[k] = True
                continue
            if base is None:
                out.append(
                    DateMention(
                        None,
                        None,
                        m.group(0),
                        m.start(),
                        m.end() - m.start(),
                        "relative",
                        f"'{m.group(0)}' is relative and no publication date is known: interval left open "
                        "(pass --published or an index.json)",
                    )
                )
            else:
                s, e, note = _relative(kind, m, base, context)
                out.append(DateMention(s, e, m.group(0), m.start(), m.end() - m.start(), "relative", note))
            for k in range(m.start(), m.end()):
                taken[k] = True
    out.sort(key=lambda d: d.offset)
    return out

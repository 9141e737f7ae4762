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

from sitewatch.reports.date_lexicon import DateLexicon
from sitewatch.reports.dates_ar import arabic_dates
from sitewatch.reports.dates_en import ENGLISH_DATES

__all__ = ["DateLexicon", "DateMention", "find_dates", "lexicon_for"]

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


def lexicon_for(language: str) -> DateLexicon:
    """The date lexicon of a language (``"en"`` or ``"ar"``).

    Parameters
    ----------
    language : {"en", "ar"}

    Returns
    -------
    DateLexicon
    """
    if language == "ar":
        return arabic_dates()
    return ENGLISH_DATES


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
    rel: str | None = None  # "last" / "next" written after a month ("أيار الماضي")

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


def _find_atoms(text: str, lex: DateLexicon) -> list[_Atom]:
    taken = [False] * len(text)
    atoms: list[_Atom] = []
    for kind, pattern in lex.atoms:
        for m in pattern.finditer(text):
            if any(taken[m.start() : m.end()]):
                continue
            g = m.groupdict()
            if not lex.accept(kind, g, text[max(0, m.start() - 25) : m.start()]):
                continue
            y = int(g["y"]) if g.get("y") else None
            mon = g.get("mon")
            month = int(g["m"]) if g.get("m") else (lex.month_names.get(lex.word(mon)) if mon else None)
            if mon and month is None:
                continue
            day = int(g["d"]) if g.get("d") else None
            if g.get("m") and month is not None and day is not None and month > 12 >= day:
                month, day = day, month  # "05/14/2025": no month is 14, so it was written month first
            if month is not None and not 1 <= month <= 12:
                continue
            if day is not None and not 1 <= day <= 31:
                continue
            part = lex.word(g["part"]) if g.get("part") else None
            rel = lex.word(g["rel"]) if g.get("rel") else None
            atoms.append(_Atom(m.start(), m.end(), y, month, day, part, rel))
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
    if atom.rel in ("last", "past", "previous") and probe and probe[1] >= published:
        return y - 1, f"'last' month: {y - 1} (the month of {y} has not passed at publication)"
    if atom.rel == "next" and probe and probe[1] < published:
        return y + 1, f"'next' month: {y + 1} assumed"
    if probe and probe[0] > published + dt.timedelta(days=7):
        return y - 1, f"no year given; {y - 1} assumed (the date would fall after publication in {y})"
    return y, f"no year given; {y} (the publication year) assumed"


# Relative expressions that "since" can open ("since last month"), unlike durations ("since two weeks").
_SINCE_KINDS = ("part_year", "part_month", "this", "weekday", "today")


def _canonical(m: re.Match[str], lex: DateLexicon) -> dict[str, Any]:
    """A match's groups in the engine's English values; a dual ("أسبوعين") gives ``n`` and ``unit``."""
    g: dict[str, Any] = {k: (lex.word(v, k) if isinstance(v, str) else v) for k, v in m.groupdict().items()}
    for key in ("unit", "unit2"):
        dual = re.fullmatch(r"(\d+) (\w+)", str(g.get(key) or ""))
        if dual:
            g["n"], g[key] = dual.group(1), dual.group(2)
    if isinstance(g.get("n"), str) and g["n"] not in _NUMBERS and not g["n"].isdigit():
        g["n"] = lex.word(g["n"])
    return g


_Resolved = tuple[dt.date | None, dt.date | None, str]
_DAY = dt.timedelta(days=1)
_THIS_LAST_NEXT = {"this": 0, "last": -1, "next": 1}


def _relative(
    kind: str, g: dict[str, Any], written: str, anchor: dt.date, context: dt.date | None
) -> _Resolved:
    """The interval of a relative expression of ``kind`` against ``anchor`` (and ``context``)."""
    resolve = _RESOLVERS.get(kind)
    if resolve is None:  # pragma: no cover - every kind of the lexicons has a resolver
        raise AssertionError(kind)
    return resolve(g, written, anchor, context)


def _part_year(g: dict[str, Any], written: str, anchor: dt.date, context: dt.date | None) -> _Resolved:
    s, e = _year_part(anchor.year + _THIS_LAST_NEXT[g["which"]], g["part"])
    return s, e, "a future period" if s > anchor else ""


def _season(g: dict[str, Any], written: str, anchor: dt.date, context: dt.date | None) -> _Resolved:
    # "in the spring" with no year: the last such season that began by the anchor.
    s, e = _year_part(anchor.year, g["part"])
    if s > anchor:
        s, e = _year_part(anchor.year - 1, g["part"])
    return s, e, f"no year given: the {g['part']} up to {anchor.isoformat()}"


def _part_month(g: dict[str, Any], written: str, anchor: dt.date, context: dt.date | None) -> _Resolved:
    first = _shift_months(anchor.replace(day=1), _THIS_LAST_NEXT[g["which"]])
    s, e = _Atom(0, 0, first.year, first.month, None, g["part"]).interval() or (first, first)
    return s, e, "a future period" if s > anchor else ""


def _unit_start(unit: str, anchor: dt.date) -> dt.date:
    """The first day of the year, month or week (Monday) that holds ``anchor``."""
    if unit == "year":
        return anchor.replace(month=1, day=1)
    if unit == "month":
        return anchor.replace(day=1)
    return anchor - dt.timedelta(days=anchor.weekday())


def _earlier_this(g: dict[str, Any], written: str, anchor: dt.date, context: dt.date | None) -> _Resolved:
    unit, first = g["unit"], _unit_start(g["unit"], anchor)
    if g["which"] == "earlier":
        return first, anchor, ""
    last = {"year": anchor.replace(month=12, day=31), "month": _shift_months(first, 1) - _DAY,
            "week": first + dt.timedelta(days=6)}[unit]  # fmt: skip
    return anchor, last, "a future period (a plan or forecast)"


def _this(g: dict[str, Any], written: str, anchor: dt.date, context: dt.date | None) -> _Resolved:
    """The year, month or week called 'this', 'last', 'past' or 'next'."""
    unit, which = g["unit"], g["which"]
    first = _unit_start(unit, anchor)
    if which == "this":
        return first, anchor, ""
    if which == "past":  # "the past year": the span before the anchor, not the calendar unit
        return anchor - dt.timedelta(days={"year": 365, "month": 31, "week": 7}[unit]), anchor, ""
    if unit == "week":
        step = dt.timedelta(days=7 if which == "next" else -7)
        s, e = first + step, first + step + dt.timedelta(days=6)
    else:
        months = 12 if unit == "year" else 1
        s = _shift_months(first, months if which == "next" else -months)
        e = _shift_months(s, months) - _DAY
    return s, e, "a future period" if which == "next" else ""


def _today(g: dict[str, Any], written: str, anchor: dt.date, context: dt.date | None) -> _Resolved:
    if re.sub(r"\s+", " ", g["which"]) in ("yesterday", "last night"):
        return anchor - _DAY, anchor - _DAY, ""
    return anchor, anchor, ""


def _recent(g: dict[str, Any], written: str, anchor: dt.date, context: dt.date | None) -> _Resolved:
    unit = str(g.get("unit") or g.get("unit2"))
    span = {"days": 7, "weeks": 6 * 7, "months": 183, "years": 3 * 365}[unit]
    return (
        anchor - dt.timedelta(days=span),
        anchor,
        f"'recent {unit}' read as the {span} days before publication",
    )


def _coming(g: dict[str, Any], written: str, anchor: dt.date, context: dt.date | None) -> _Resolved:
    span = {"days": 10, "weeks": 8 * 7, "months": 183, "years": 3 * 365}[g["unit"]]
    return anchor, anchor + dt.timedelta(days=span), "a future period (a plan or forecast)"


def _ago(g: dict[str, Any], written: str, anchor: dt.date, context: dt.date | None) -> _Resolved:
    """'two weeks ago', 'days earlier', 'a month later': counted from the anchor or the context date."""
    unit = g["unit"].rstrip("s")
    n_text = re.sub(r"\s+", " ", g.get("n") or "")
    vague = not n_text or n_text in ("several", "few", "a few")
    n = int(n_text) if n_text.isdigit() else _NUMBERS.get(n_text, 3)
    base, note = anchor, ""
    if g["dir"] in ("earlier", "before", "later", "after"):
        if context is None:
            note = f"'{written}' counted from the publication date (no earlier date in the text)"
        else:
            base = context
    sign = 1 if g["dir"] in ("later", "after") else -1
    a, b = _ago_span(unit, n, vague, base, sign)
    lo_d, hi_d = min(a, b), max(a, b)
    if sign < 0:
        hi_d = min(hi_d, base)
    return lo_d, hi_d, note


def _ago_span(unit: str, n: int, vague: bool, base: dt.date, sign: int) -> tuple[dt.date, dt.date]:
    """The two ends of 'n units' before (sign -1) or after (+1) ``base``, with a margin by unit."""
    if unit in ("day", "week"):
        # A number of weeks is read +/- 3 days; a vague one ("several days") as 1-10 days or 1-4 weeks.
        lo, hi = (
            ((1, 10) if vague else (n, n))
            if unit == "day"
            else ((7, 28) if vague else (7 * n - 3, 7 * n + 3))
        )
        return base + sign * dt.timedelta(days=lo), base + sign * dt.timedelta(days=hi)
    per, margin = (1, 15) if unit == "month" else (12, 183)
    lo, hi = ((1, 6) if unit == "month" else (1, 5)) if vague else (n, n)
    return (
        _shift_months(base, sign * per * lo) - dt.timedelta(days=margin),
        _shift_months(base, sign * per * hi) + dt.timedelta(days=margin),
    )


def _weekday(g: dict[str, Any], written: str, anchor: dt.date, context: dt.date | None) -> _Resolved:
    back = (anchor.weekday() - _WEEKDAYS[g["wd"]]) % 7
    if (g.get("which") or "") == "last" and back == 0:
        back = 7
    d = anchor - dt.timedelta(days=back)
    return d, d, f"the {g['wd'].title()} on or before {anchor.isoformat()}"


def _weekend(g: dict[str, Any], written: str, anchor: dt.date, context: dt.date | None) -> _Resolved:
    # The last Saturday-Sunday that began on or before the anchor.
    saturday = anchor - dt.timedelta(days=(anchor.weekday() - 5) % 7)
    return saturday, min(saturday + _DAY, anchor), "the weekend on or before publication"


def _recently(g: dict[str, Any], written: str, anchor: dt.date, context: dt.date | None) -> _Resolved:
    return anchor - dt.timedelta(days=92), anchor, "'recently' read as the three months before publication"


_RESOLVERS = {
    "part_year": _part_year,
    "season": _season,
    "part_month": _part_month,
    "earlier_this": _earlier_this,
    "this": _this,
    "today": _today,
    "recent": _recent,
    "coming": _coming,
    "ago": _ago,
    "weekday": _weekday,
    "weekend": _weekend,
    "recently": _recently,
}


def find_dates(
    text: str,
    *,
    published: dt.date | None = None,
    context: dt.date | None = None,
    language: str = "en",
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
    language : {"en", "ar"}
        The text's language. Arabic is read folded (see
        :func:`~sitewatch.reports.language.fold_arabic`): months of every regional usage
        ("أيار", "مايو", "أيار/مايو"), Arabic-Indic digits, "مطلع العام الجاري", "منذ أسبوعين".

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
    lex = lexicon_for(language)
    out, taken = _absolute(text, _find_atoms(text, lex), lex, published)
    _add_relative(text, lex, out, taken, published, context)
    out.sort(key=lambda d: d.offset)
    return out


def _range(text: str, a: _Atom, b: _Atom, lex: DateLexicon, published: dt.date | None) -> DateMention:
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
    left_word = lex.range_left.search(text[: a.start])
    s0 = a.start - len(left_word.group(0)) if left_word else a.start
    note = note_a or note_b
    if wrapped:
        note = f"the range crosses a year end; its start read as {a.y}"
    start = ia[0] if ia else None
    end = ib[1] if ib else None
    if start and end and ia and ib and end < start:
        note = f"the range ends before it starts; read as {min(start, ib[0])}..{max(end, ia[1])}"
        start, end = min(start, ib[0]), max(end, ia[1])
    return DateMention(start, end, text[s0 : b.end], s0, b.end - s0, "absolute", note)


def _single(text: str, a: _Atom, lex: DateLexicon, published: dt.date | None) -> DateMention:
    y, note = _infer_year(a, published)
    iv = a.interval(y)
    start, end = iv if iv else (None, None)
    s0, e0 = a.start, a.end
    before = text[: a.start]
    after_m = lex.onward.match(text[a.end :])
    open_after = lex.open_after.search(before)
    open_before = lex.open_before.search(before)
    if after_m or open_after:
        if open_after:
            s0 = open_after.start()
        if after_m:
            e0 = a.end + after_m.end()
        if open_after and lex.word(open_after.group(1)) == "after" and end is not None:
            start = end + dt.timedelta(days=1)
        if published is not None:
            end = published
        else:
            end = None
            note = (note + "; " if note else "") + "open-ended and no publication date: end left open"
    elif open_before:
        s0 = open_before.start()
        if lex.word(open_before.group(1)) in ("before", "prior to") and start is not None:
            end = start - dt.timedelta(days=1)
        start = None
        note = (note + "; " if note else "") + "no start given: start left open"
    if iv and published is not None and iv[0] > published:
        note = (note + "; " if note else "") + f"after the publication date {published.isoformat()}"
    return DateMention(start, end, text[s0:e0], s0, e0 - s0, "absolute", note)


def _absolute(
    text: str, atoms: list[_Atom], lex: DateLexicon, published: dt.date | None
) -> tuple[list[DateMention], list[bool]]:
    out: list[DateMention] = []
    taken = [False] * len(text)
    i = 0
    while i < len(atoms):
        a = atoms[i]
        b = atoms[i + 1] if i + 1 < len(atoms) else None
        is_range = False
        if b is not None and lex.range_mid.match(text[a.end : b.start]):
            joiner = lex.word(text[a.end : b.start])
            left = text[max(0, a.start - 12) : a.start]
            is_range = (
                joiner not in lex.and_words
                or bool(lex.range_left.search(left))
                or bool(lex.range_in.search(left))
            )
        mention = (
            _range(text, a, b, lex, published)
            if is_range and b is not None
            else _single(text, a, lex, published)
        )
        out.append(mention)
        for k in range(mention.offset, mention.offset + mention.length):
            taken[k] = True
        i += 2 if is_range else 1
    return out, taken


def _add_relative(
    text: str,
    lex: DateLexicon,
    out: list[DateMention],
    taken: list[bool],
    published: dt.date | None,
    context: dt.date | None,
) -> None:
    for kind, pattern in lex.relative:
        for m in pattern.finditer(text):
            if any(taken[m.start() : m.end()]):
                continue
            if kind == "weekday":
                nxt = re.match(r"[\s,]*", text[m.end() :])
                k = m.end() + (nxt.end() if nxt else 0)
                if k < len(text) and taken[k]:
                    continue  # "Sunday 7 December 2025": the weekday only names the written date
            g = _canonical(m, lex)
            written = m.group(0)
            mirrored = None
            base = published
            if kind == "ago" and g.get("dir") in ("earlier", "before", "later", "after"):
                base = context or published
                prev = [d for d in out if d.kind == "absolute" and d.start is not None and d.end is not None]
                prev = [d for d in prev if re.fullmatch(r"[\s,]*", text[d.offset + d.length : m.start()])]
                if prev and g["dir"] in ("after", "later"):
                    # "in mid-April, days after a drone attack": the event after "after" came first.
                    mirrored = prev[-1]
            if mirrored is not None and mirrored.start is not None and mirrored.end is not None:
                s_rel, e_rel, _ = _relative(kind, g, written, mirrored.start, mirrored.start)
                s_rel = s_rel or mirrored.start
                e_rel = e_rel or mirrored.start
                lo = mirrored.start - (e_rel - mirrored.start)
                hi = mirrored.end - (s_rel - mirrored.start)
                note = f"'{written}' {mirrored.text}: the event it introduces came that long before"
                out.append(DateMention(lo, hi, written, m.start(), m.end() - m.start(), "relative", note))
            elif base is None:
                note = (f"'{written}' is relative and no publication date is known: interval left open "
                        "(pass --published or an index.json)")  # fmt: skip
                out.append(DateMention(None, None, written, m.start(), m.end() - m.start(), "relative", note))
            else:
                # "left on 2 August ..., and arrived two days later": counted from the date told before it.
                told = [d for d in out if d.offset < m.start() and d.start and d.kind == "absolute"]
                here = told[-1].start if kind == "ago" and told else context
                s, e, note = _relative(kind, g, written, base, here)
                since = lex.open_after.search(text[: m.start()])
                if (
                    since
                    and kind in _SINCE_KINDS
                    and s is not None
                    and published is not None
                    and s <= published
                ):
                    # "since early this year", "منذ مطلع العام الجاري": from then up to publication.
                    begin = since.start()
                    e = published
                    note = (note + "; " if note else "") + "open-ended: up to publication"
                    out.append(
                        DateMention(s, e, text[begin : m.end()], begin, m.end() - begin, "relative", note)
                    )
                else:
                    out.append(DateMention(s, e, written, m.start(), m.end() - m.start(), "relative", note))
            for k in range(m.start(), m.end()):
                taken[k] = True

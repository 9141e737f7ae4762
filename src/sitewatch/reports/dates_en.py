"""English time expressions: the patterns the date engine (:mod:`sitewatch.reports.dates`) reads.

Group names are the engine's: ``y``, ``m``, ``d``, ``mon`` (a month name), ``part``
("early", "mid", a season, a half or a quarter), ``which`` ("this", "last", "next"),
``unit``, ``n``, ``dir``, ``wd`` (a weekday). English words are already the engine's
canonical values, so no translation table is needed.
"""

from __future__ import annotations

import re
from typing import Any

from sitewatch.reports.date_lexicon import DateLexicon

__all__ = ["ENGLISH_DATES", "month_number"]

_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip
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
    # "14.05.2025", "14/05/2025": day first, as the region's press writes it ("05/14/2025" is read
    # month first by the engine, since no month is 14).
    ("num_dmy", re.compile(rf"(?<![\d.])(?P<d>[0-3]?\d)[/.](?P<m>[01]?\d)[/.](?P<y>{_Y})(?![\d.]\d)")),
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
    (
        "season",
        re.compile(
            rf"\b(?:in|during|over|through)\s+(?:the\s+)?(?P<part>{_SEASON})\b(?![\s-]+(?:of\s+)?\d)", re.I
        ),
    ),
    ("weekend", re.compile(r"\b(?P<which>over\s+the|this|last|past|at\s+the)\s+weekend\b", re.I)),
]
_RELATIVE.insert(
    1,
    (
        "part_month",
        re.compile(rf"\b(?P<part>{_PART})[\s-]+(?:of\s+)?(?P<which>this|last|next)\s+month\b", re.I),
    ),
)

_RANGE_LEFT = re.compile(r"\b(between|from)\s*$", re.I)
_RANGE_MID = re.compile(r"^\s*(and|to|until|till|through|thru|-|–|—)\s*$", re.I)
# "imagery from 18 July" is imagery of that day, not "from 18 July on".
_OPEN_AFTER = re.compile(
    r"\b(since|(?<!imagery )(?<!images )(?<!image )(?<!photos )(?<!footage )(?<!video )(?<!pictures )from|"
    r"after|starting(?:\s+in)?|beginning(?:\s+in)?)\s*$",
    re.I,
)
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


_PREP_BEFORE_BARE = re.compile(
    r"\b(in|since|from|until|till|by|between|and|to|through|during|of|before|after|early|mid|late|last|"
    r"throughout|around|as\s+of)[\s-]*$",
    re.I,
)


def _accept(kind: str, groups: dict[str, Any], before: str) -> bool:
    """A bare month or year is a date after a preposition ("May" is also a verb, a year also a number)."""
    if kind not in ("month", "year"):
        return True
    if kind == "year":
        return bool(_PREP_BEFORE_BARE.search(before))
    if not groups.get("y") and not groups.get("part") and not _PREP_BEFORE_BARE.search(before):
        return False
    bare_may = (groups.get("mon") or "").lower() == "may" and not (groups.get("y") or groups.get("part"))
    return not bare_may or bool(
        re.search(r"\b(in|since|from|until|by|of|during|early|mid|late)\s*$", before, re.I)
    )


#: The English lexicon of the date engine.
ENGLISH_DATES = DateLexicon(
    atoms=tuple(_ATOMS),
    relative=tuple(_RELATIVE),
    range_left=_RANGE_LEFT,
    range_mid=_RANGE_MID,
    range_in=re.compile(r"\bin\s*$", re.I),
    open_after=_OPEN_AFTER,
    onward=_ONWARD,
    open_before=_OPEN_BEFORE,
    and_words=frozenset({"and"}),
    month_names={k: v for k, v in _MONTHS.items()},
    canon={},
    accept=_accept,
)

"""Quantities in report text: lengths, areas, dimensions and counts, normalised to SI.

Lengths come back in metres, areas in square metres; "193 by 94 meters" is a pair of
dimensions (and its area); "about 50 trucks" and "fewer than 1,000 troops" are
counts with a qualifier. A length followed by "from", "away" or a compass
direction is a distance between places, not the size of anything on the ground,
and is labelled so.
"""

from __future__ import annotations

import re
from typing import Literal

from sitewatch.reports.quantities_ar import find_arabic_quantities
from sitewatch.reports.quantity import Qualifier, Quantity

__all__ = ["Qualifier", "Quantity", "find_quantities"]


_LENGTH_UNITS = {
    "m": 1.0, "meter": 1.0, "meters": 1.0, "metre": 1.0, "metres": 1.0,
    "km": 1000.0, "kilometer": 1000.0, "kilometers": 1000.0, "kilometre": 1000.0, "kilometres": 1000.0,
    "mile": 1609.344, "miles": 1609.344, "mi": 1609.344,
    "ft": 0.3048, "foot": 0.3048, "feet": 0.3048, "yard": 0.9144, "yards": 0.9144, "yd": 0.9144,
}  # fmt: skip
_AREA_UNITS = {
    "square meters": 1.0, "square metres": 1.0, "square meter": 1.0, "square metre": 1.0, "sq m": 1.0,
    "sqm": 1.0, "m2": 1.0, "m²": 1.0,
    "square kilometers": 1e6, "square kilometres": 1e6, "square kilometer": 1e6, "square kilometre": 1e6,
    "sq km": 1e6, "km2": 1e6, "km²": 1e6,
    "hectares": 1e4, "hectare": 1e4, "ha": 1e4, "acres": 4046.8564224, "acre": 4046.8564224,
    "square miles": 2_589_988.110336, "square mile": 2_589_988.110336, "sq mi": 2_589_988.110336,
    "square feet": 0.09290304, "sq ft": 0.09290304, "dunams": 1000.0, "dunums": 1000.0, "donums": 1000.0,
}  # fmt: skip
_WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "hundred": 100, "a hundred": 100, "dozens": 24, "dozen": 12,
    "hundreds": 200, "thousands": 2000, "a dozen": 12, "a thousand": 1000,
}  # fmt: skip
_COUNT_NOUNS = (
    r"trucks?|lorries|vehicles?|armou?red\s+vehicles|tanks?|convoys?|troops?|soldiers|personnel|"
    r"service\s?members|marines|forces|fighters|men|aircraft|planes?|jets?|helicopters?|drones?|"
    r"flights?|sorties|tents?|buildings?|hangars?|shelters?|containers?|warehouses?|barracks|"
    r"towers?|bunkers?|launchers?|pads?|sites?|points?|structures?|facilities|bases?|trailers?|"
    r"tankers?|cars|pickups?|humvees|bulldozers?|excavators?|cranes?|rockets?|missiles?|shells?"
)

_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
_WORDNUM = (
    r"(?:a\s+hundred|a\s+thousand|a\s+dozen|" + "|".join(sorted(_WORD_NUMBERS, key=len, reverse=True)) + ")"
)
_QUAL = (
    r"(?P<qual>about|approximately|approx\.?|roughly|around|some|nearly|almost|close\s+to|an\s+estimated|"
    r"estimated|fewer\s+than|less\s+than|under|below|more\s+than|over|above|at\s+least|at\s+most|"
    r"up\s+to|no\s+more\s+than|no\s+fewer\s+than|upwards\s+of|in\s+excess\s+of|exactly|just\s+over|"
    r"just\s+under)\s+"
)
_LEN_UNIT = r"(?P<unit>kilomet(?:er|re)s?|met(?:er|re)s?|km|m|miles?|mi|feet|foot|ft|yards?|yd)"
_AREA_UNIT = (
    r"(?P<aunit>square\s+(?:kilomet(?:er|re)s?|met(?:er|re)s?|miles?|feet)|sq\.?\s?(?:km|m|mi|ft)|"
    r"km2|km²|m2|m²|hectares?|ha|acres?|dunams|dunums|donums)"
)

_DIMS = re.compile(
    rf"(?:{_QUAL})?(?P<a>{_NUM})\s*(?:{_LEN_UNIT.replace('?P<unit>', '?P<unit_a>')})?\s*(?:by|x|×|\*)\s*"
    rf"(?P<b>{_NUM})[\s-]*{_LEN_UNIT}\b",
    re.I,
)
_LONG_WIDE = re.compile(
    rf"(?:{_QUAL})?(?P<a>{_NUM})[\s-]*{_LEN_UNIT.replace('?P<unit>', '?P<unit_a>')}[\s-]+long,?\s+(?:and\s+)?"
    rf"(?:{_QUAL.replace('?P<qual>', '?:')})?(?P<b>{_NUM})[\s-]*{_LEN_UNIT}[\s-]+wide\b",
    re.I,
)
_AREA = re.compile(rf"(?:{_QUAL})?(?P<v>{_NUM})[\s-]*{_AREA_UNIT}(?![a-z])", re.I)
_LENGTH = re.compile(rf"(?:{_QUAL})?(?P<v>{_NUM})[\s-]*{_LEN_UNIT}(?![a-z0-9²])", re.I)
_COUNT = re.compile(
    rf"(?:{_QUAL})?(?P<v>{_NUM}|{_WORDNUM})\s+(?P<adj>(?:[A-Za-z.-]+\s+){{0,3}}?)(?P<noun>{_COUNT_NOUNS})\b",
    re.I,
)
_ANY_NUMBER = re.compile(r"\d|\b(?:" + _WORDNUM + r")\b", re.I)
_BARE_COUNT = re.compile(
    rf"{_QUAL}(?P<v>{_NUM})\b(?![\d,.]|\s*(?:%|percent|km|m\b|kilomet|met|mile|feet|ft|sq|square|hectare|acre))",
    re.I,
)
_DISTANCE_AFTER = re.compile(
    r"^\s*(?:\(\s*[^)]{0,30}\)\s*)?(?:from|away|off|outside|short\s+of|north|south|east|west|"
    r"northeast|northwest|southeast|southwest|northern|southern|eastern|western|inside|into|beyond|"
    r"along|of\s+(?:the\s+)?border|to\s+the|toward)\b",
    re.I,
)
_NOUN_AFTER = re.compile(r"^[\s-]*(?:long\s+|wide\s+|-long\s+)?(?P<noun>[A-Za-z]+(?:\s+[A-Za-z]+)?)")
_QUAL_MAP: dict[str, Qualifier] = {
    "about": "approx", "approximately": "approx", "approx": "approx", "approx.": "approx",
    "roughly": "approx",
    "around": "approx", "some": "approx", "nearly": "approx", "almost": "approx", "close to": "approx",
    "an estimated": "approx", "estimated": "approx", "fewer than": "lt", "less than": "lt", "under": "lt",
    "below": "lt", "just under": "lt", "more than": "gt", "over": "gt", "above": "gt", "just over": "gt",
    "upwards of": "gt", "in excess of": "gt", "at least": "ge", "no fewer than": "ge", "at most": "le",
    "up to": "le", "no more than": "le", "exactly": "exact",
}  # fmt: skip


def _num(text: str) -> float:
    t = re.sub(r"\s+", " ", text.strip().lower())
    if t in _WORD_NUMBERS:
        return float(_WORD_NUMBERS[t])
    return float(t.replace(",", ""))


def _qual(m: re.Match[str]) -> Qualifier:
    q = m.group("qual")
    if not q:
        return "exact"
    return _QUAL_MAP.get(re.sub(r"\s+", " ", q.lower()), "approx")


def _noun_after(text: str, pos: int) -> str | None:
    m = _NOUN_AFTER.match(text[pos : pos + 40])
    if not m:
        return None
    noun = m.group("noun").lower()
    first = noun.split()[0]
    if first in {"by", "and", "or", "the", "a", "an", "in", "at", "of", "to", "from", "with", "is", "was"}:
        return None
    return first


def find_quantities(text: str, *, language: str = "en") -> list[Quantity]:
    """Find lengths, areas, dimensions and counts in text, normalised to metres and m2.

    Parameters
    ----------
    text : str
        A sentence or passage (Arabic folded by :func:`~sitewatch.reports.language.fold_arabic`).
    language : {"en", "ar"}
        Arabic is read by :func:`~sitewatch.reports.quantities_ar.find_arabic_quantities`.

    Returns
    -------
    list of Quantity
        In text order.

    Examples
    --------
    >>> q = find_quantities("The larger site measures approximately 193 by 94 meters")[0]
    >>> (q.kind, q.length_m, q.width_m, q.value, q.qualifier)
    ('dimensions', 193.0, 94.0, 18142.0, 'approx')
    >>> find_quantities("Its 1.7-kilometer runway")[0].value
    1700.0
    """
    if language == "ar":
        return find_arabic_quantities(text)
    if not _ANY_NUMBER.search(text):
        return []  # most sentences hold no number at all; skip the heavier patterns
    taken = [False] * len(text)
    found: list[Quantity] = []

    def free(m: re.Match[str]) -> bool:
        return not any(taken[m.start() : m.end()])

    def take(m: re.Match[str]) -> None:
        for i in range(m.start(), m.end()):
            taken[i] = True

    for m in [*_DIMS.finditer(text), *_LONG_WIDE.finditer(text)]:
        if not free(m):
            continue
        unit_b = _LENGTH_UNITS[m.group("unit").lower()]
        unit_a = _LENGTH_UNITS[m.group("unit_a").lower()] if m.group("unit_a") else unit_b
        a, b = _num(m.group("a")) * unit_a, _num(m.group("b")) * unit_b
        long_m, short_m = max(a, b), min(a, b)
        found.append(
            Quantity(
                "dimensions",
                long_m * short_m,
                "m2",
                m.group(0).strip(),
                m.start(),
                _qual(m),
                length_m=long_m,
                width_m=short_m,
                noun=_noun_after(text, m.end()),
            )
        )
        take(m)
    for m in _AREA.finditer(text):
        if not free(m):
            continue
        key = re.sub(r"\s+", " ", m.group("aunit").lower()).replace("sq.", "sq").replace("sqkm", "sq km")
        key = {"sqm": "sq m", "sqft": "sq ft", "sqmi": "sq mi"}.get(key, key)
        factor = _AREA_UNITS.get(key) or _AREA_UNITS.get(key.rstrip("s")) or 1.0
        found.append(
            Quantity(
                "area",
                _num(m.group("v")) * factor,
                "m2",
                m.group(0).strip(),
                m.start(),
                _qual(m),
                noun=_noun_after(text, m.end()),
            )
        )
        take(m)
    for m in _LENGTH.finditer(text):
        if not free(m):
            continue
        unit = m.group("unit").lower()
        if re.search(r"\d\s*[A-Za-z²]*\s*\(\s*$", text[max(0, m.start() - 30) : m.start()]):
            continue  # "160 kilometers (100 miles)": the bracket repeats the same length in other units
        value = _num(m.group("v")) * _LENGTH_UNITS[unit]
        after = text[m.end() :]
        kind: Literal["length", "distance"] = "distance" if _DISTANCE_AFTER.match(after) else "length"
        found.append(
            Quantity(
                kind, value, "m", m.group(0).strip(), m.start(), _qual(m), noun=_noun_after(text, m.end())
            )
        )
        take(m)
    for m in _COUNT.finditer(text):
        if not free(m):
            continue
        before = text[max(0, m.start() - 1) : m.start()]
        if before and (before.isalnum() or before in "-/$€£"):
            continue
        v = m.group("v")
        if re.fullmatch(r"(?:19|20)\d\d", v) and not m.group("qual"):
            continue  # a year next to a noun ("2025 convoys") is not a count
        vague = v.lower() in ("dozens", "hundreds", "thousands", "dozen", "a dozen")
        found.append(
            Quantity(
                "count",
                _num(v),
                "count",
                m.group(0).strip(),
                m.start(),
                "approx" if vague and not m.group("qual") else _qual(m),
                noun=m.group("noun").lower(),
            )
        )
        take(m)
    for m in _BARE_COUNT.finditer(text):
        if not free(m):
            continue
        # "lowering troop levels to fewer than 1,000": the noun was written before the number.
        noun = re.search(
            rf"\b({_COUNT_NOUNS})\b[^.;]{{0,40}}$", text[max(0, m.start() - 60) : m.start()], re.I
        )
        if noun is None:
            continue
        found.append(
            Quantity(
                "count",
                _num(m.group("v")),
                "count",
                m.group(0).strip(),
                m.start(),
                _qual(m),
                noun=noun.group(1).lower(),
            )
        )
        take(m)
    found.sort(key=lambda q: q.offset)
    return found

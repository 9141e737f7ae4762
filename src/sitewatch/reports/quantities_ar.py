"""Quantities in Arabic report text: lengths, areas, dimensions and counts, in metres and square metres.

Matched on folded text (:func:`~sitewatch.reports.language.fold_arabic`: Arabic-Indic digits as
0-9, "٫" as "."): "193 × 94 متراً", "بأبعاد 193 في 94 م", "بطول يقارب 2500 متر", "بمساحة 1.8
كيلومتر مربع", "نحو 40 شاحنة", "عشرات الآليات". A length after "على بعد" or before "من"/"عن"
("على بعد 40 كيلومتراً من مدينة الحسكة") is a distance between places, not a size.
"""

from __future__ import annotations

import re
from typing import Literal

from sitewatch.reports.language import fold_arabic
from sitewatch.reports.quantity import Qualifier, Quantity

__all__ = ["find_arabic_quantities"]


def _c(pattern: str) -> re.Pattern[str]:
    return re.compile(fold_arabic(pattern).text)


_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
_QUAL = (
    r"(?P<qual>نحو|حوالي|حوالى|قرابة|ما\s+يقارب|يقارب|زهاء|أكثر\s+من|ما\s+يزيد\s+عن|ما\s+يزيد\s+على|"
    r"أقل\s+من|ما\s+لا\s+يقل\s+عن|لا\s+يقل\s+عن|ما\s+لا\s+يزيد\s+عن)\s+"
)
_QUALIFIER_WORDS: dict[str, Qualifier] = {
    "نحو": "approx",
    "حوالي": "approx",
    "حوالى": "approx",
    "قرابة": "approx",
    "ما يقارب": "approx",
    "يقارب": "approx",
    "زهاء": "approx",
    "أكثر من": "gt",
    "ما يزيد عن": "gt",
    "ما يزيد على": "gt",
    "أقل من": "lt",
    "ما لا يقل عن": "ge",
    "لا يقل عن": "ge",
    "ما لا يزيد عن": "le",
}
_QUALIFIERS: dict[str, Qualifier] = {fold_arabic(k).text: v for k, v in _QUALIFIER_WORDS.items()}
_LEN = r"(?P<unit>كيلومترات|كيلومترا|كيلومتر|كلم|كم|أمتار|مترا|متر|م)(?![\w²2])"
_AREA = (
    r"(?P<aunit>(?:كيلومترات|كيلومترا|كيلومتر|كم)\s+(?:مربعة|مربعا|مربع)|كم2|كم²|(?:أمتار|مترا|متر|م)\s+"
    r"(?:مربعة|مربعا|مربع)|م2|م²|هكتارات|هكتارا|هكتار|دونمات|دونما|دونم)(?![\w])"
)
_DIMS = _c(
    rf"(?:{_QUAL})?(?P<a>{_NUM})\s*(?:{_LEN.replace('?P<unit>', '?P<unit_a>')}\s*)?(?:×|x|\*|في|ب)\s*"
    rf"(?P<b>{_NUM})\s*{_LEN}"
)
_LONG_WIDE = _c(
    rf"(?:بطول|طوله|طولها|طول)\s+(?:{_QUAL})?(?P<a>{_NUM})\s*{_LEN.replace('?P<unit>', '?P<unit_a>')}\s*"
    rf"(?:و|،|,)?\s*(?:بعرض|عرضه|عرضها|عرض)\s+(?:{_QUAL.replace('?P<qual>', '?:')})?(?P<b>{_NUM})\s*{_LEN}"
)
_AREA_RE = _c(rf"(?:{_QUAL})?(?P<v>{_NUM})\s*{_AREA}")
_LENGTH_RE = _c(rf"(?:{_QUAL})?(?P<v>{_NUM})\s*{_LEN}")
_COUNT_NOUNS = (
    r"شاحنات|شاحنة|آليات|آلية|مدرعات|مدرعة|جنود|جندي|عناصر|عنصر|عسكريين|عسكريا|طائرات|طائرة|"
    r"مروحيات|مروحية|أرتال|رتل|عربات|عربة|صهاريج|صهريج|حافلات|حافلة|دبابات|دبابة|خيام|خيمة|"
    r"كرفانات|مباني|مبنى|مستودعات|مستودع|هنغارات|هنغار|أبراج|برج|صواريخ|صاروخ|قذائف|قذيفة"
)
_COUNT_RE = _c(rf"(?:{_QUAL})?(?P<v>{_NUM})\s+(?P<noun>{_COUNT_NOUNS})(?![\w])")
_VAGUE_RE = _c(rf"(?<![\w])(?P<v>عشرات|مئات|آلاف)\s+(?:من\s+)?(?:ال)?(?P<noun>{_COUNT_NOUNS})(?![\w])")
_VAGUE = {fold_arabic(k).text: v for k, v in {"عشرات": 24.0, "مئات": 200.0, "آلاف": 2000.0}.items()}
_DISTANCE_BEFORE = _c(r"(?:على\s+بعد|يبعد|تبعد|بعد)\s*(?:نحو|حوالي|قرابة)?\s*$")
_DISTANCE_AFTER = _c(r"^\s*(?:من|عن|شمال|جنوب|شرق|غرب|شمالي|جنوبي|شرقي|غربي)(?![\w])")
_RUNWAY_BEFORE = _c(r"(?:مهبط|مدرج|مدارج|ممر)")


def _unit_m(unit: str) -> float:
    return 1000.0 if unit.startswith(("ك", "كم", "كلم")) else 1.0


def _area_m2(unit: str) -> float:
    if unit.startswith(("ك", "كم")):
        return 1e6
    if unit.startswith("هكتار"):
        return 1e4
    if unit.startswith("دونم"):
        return 1000.0
    return 1.0


def _qual(m: re.Match[str]) -> Qualifier:
    q = m.groupdict().get("qual")
    return _QUALIFIERS.get(re.sub(r"\s+", " ", q), "approx") if q else "exact"


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def _noun_before(text: str, pos: int) -> str | None:
    return "runway" if _RUNWAY_BEFORE.search(text[max(0, pos - 60) : pos]) else None


def find_arabic_quantities(text: str) -> list[Quantity]:
    """Find lengths, areas, dimensions and counts in folded Arabic text.

    Parameters
    ----------
    text : str
        A sentence folded by :func:`~sitewatch.reports.language.fold_arabic`.

    Returns
    -------
    list of Quantity
        In text order; offsets are the folded text's.

    Examples
    --------
    >>> q = find_arabic_quantities(fold_arabic("مساحة تبلغ نحو 193 × 94 متراً").text)[0]
    >>> (q.kind, q.length_m, q.width_m, q.qualifier)
    ('dimensions', 193.0, 94.0, 'approx')
    """
    if not re.search(r"\d|عشرات|مئات|الاف", text):
        return []
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
        unit_b = _unit_m(m.group("unit"))
        unit_a = _unit_m(m.group("unit_a")) if m.group("unit_a") else unit_b
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
                noun=_noun_before(text, m.start()),
            )
        )
        take(m)
    for m in _AREA_RE.finditer(text):
        if free(m):
            value = _num(m.group("v")) * _area_m2(m.group("aunit"))
            found.append(Quantity("area", value, "m2", m.group(0).strip(), m.start(), _qual(m)))
            take(m)
    for m in _LENGTH_RE.finditer(text):
        if not free(m):
            continue
        value = _num(m.group("v")) * _unit_m(m.group("unit"))
        distance = bool(_DISTANCE_BEFORE.search(text[max(0, m.start() - 20) : m.start()])) or bool(
            _DISTANCE_AFTER.match(text[m.end() :])
        )
        kind: Literal["length", "distance"] = "distance" if distance else "length"
        found.append(
            Quantity(
                kind, value, "m", m.group(0).strip(), m.start(), _qual(m), noun=_noun_before(text, m.start())
            )
        )
        take(m)
    for m in _COUNT_RE.finditer(text):
        if free(m) and not re.fullmatch(r"(?:19|20)\d\d", m.group("v")):
            found.append(
                Quantity(
                    "count",
                    _num(m.group("v")),
                    "count",
                    m.group(0).strip(),
                    m.start(),
                    _qual(m),
                    noun=m.group("noun"),
                )
            )
            take(m)
    for m in _VAGUE_RE.finditer(text):
        if free(m):
            found.append(
                Quantity(
                    "count",
                    _VAGUE[m.group("v")],
                    "count",
                    m.group(0).strip(),
                    m.start(),
                    "approx",
                    noun=m.group("noun"),
                )
            )
            take(m)
    found.sort(key=lambda q: q.offset)
    return found

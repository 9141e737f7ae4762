"""Arabic time expressions: the patterns the date engine (:mod:`sitewatch.reports.dates`) reads.

Patterns match Arabic folded by :func:`~sitewatch.reports.language.fold_arabic` (no
diacritics or tatweel, أ/إ/آ as ا, ة as ه, ى as ي, Arabic-Indic and Persian digits as 0-9).
Month names come from dateparser's CLDR data for every Arabic locale, so the Syriac-derived
months of Syria, Lebanon, Jordan and Iraq ("كانون الثاني", "أيار"), the transliterated ones
of Egypt and the Gulf ("يناير", "مايو") and the Maghreb's ("جانفي", "ماي") are all known;
the press's paired form ("أيار/مايو", "أيار (مايو)") reads as one month. dateparser itself
is not asked to parse: it returns points, where a claim needs an interval ("مطلع العام
الجاري" is January to April; "منذ أسبوعين" a few days either side of two weeks ago), and it
misses the paired months and the parts of months and years.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from sitewatch.reports.date_lexicon import DateLexicon
from sitewatch.reports.language import fold_arabic

__all__ = ["arabic_dates", "arabic_month_names"]

_MONTH_KEYS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
# Spellings of the press that CLDR does not list (Egyptian "يونيه", "يوليه"; Iraqi "تشرين ثاني").
_EXTRA_MONTHS = {
    "يونيه": 6,
    "يوليه": 7,
    "اغسطس": 8,
    "ابريل": 4,
    "كانون ثاني": 1,
    "تشرين اول": 10,
    "تشرين ثاني": 11,
    "كانون اول": 12,
    "اذار": 3,
    "ايلول": 9,
    "نوفمبر": 11,
    "ديسمبر": 12,
}
_WEEKDAY_KEYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _fold(text: str) -> str:
    return fold_arabic(text).text.lower()


@functools.lru_cache(maxsize=1)
def arabic_month_names() -> dict[str, int]:
    """Folded Arabic month name -> 1..12, from dateparser's data for every Arabic locale.

    Returns
    -------
    dict

    Examples
    --------
    >>> names = arabic_month_names()
    >>> names["ايار"], names["مايو"], names["كانون الثاني"], names["جانفي"]
    (5, 5, 1, 1)
    """
    from dateparser.data.date_translation_data import ar

    out: dict[str, int] = {}
    tables = [ar.info, *ar.info.get("locale_specific", {}).values()]
    for table in tables:
        for number, key in enumerate(_MONTH_KEYS, start=1):
            for name in table.get(key, ()):
                out.setdefault(_fold(name), number)
    for name, number in _EXTRA_MONTHS.items():
        out.setdefault(_fold(name), number)
    return out


def _weekday_names() -> dict[str, str]:
    from dateparser.data.date_translation_data import ar

    out = {}
    for key in _WEEKDAY_KEYS:
        for name in ar.info.get(key, ()):
            folded = _fold(name)
            out[folded] = key
            out[re.sub(r"^ال", "", folded)] = key
    return out


def _alternation(names: Any) -> str:
    return "|".join(r"\s+".join(map(re.escape, n.split())) for n in sorted(names, key=len, reverse=True))


# A word may follow a glued conjunction or preposition ("وتشرين", "بأيار"): a boundary, or one of و ف ب.
_B = r"(?:(?<![\w])|(?<=(?<![\w])[وفب]))"
_E = r"(?![\w])"
_Y = r"(?P<y>19[5-9]\d|20\d\d)(?:\s?م)?(?!\d)"
_YEAR_INTRO = r"(?:\s*[,،]?\s+(?:من\s+)?(?:عام|العام|سنه|السنه|لعام)?\s*" + _Y + ")"
_PART = r"(?:مطلع|اوائل|بدايه|بدايات|مستهل|منتصف|اواسط|اواخر|نهايه|اخر)"
_SEASON = r"(?:ال)?(?:ربيع|صيف|خريف|شتاء)"
_HALF = r"(?:النصف|الربع)\s+(?:الاول|الثاني|الثالث|الرابع)\s+من"
_WHICH = (
    r"(?:الجاري|الجاريه|الحالي|الحاليه|الماضي|الماضيه|المنصرم|المنصرمه|الفائت|الفائته|السابق|"
    r"السابقه|المقبل|المقبله|القادم|القادمه)"
)
_UNITS = (
    r"(?:يوم|ايام|يومين|اسبوع|اسابيع|اسبوعين|شهر|اشهر|شهور|شهرين|عام|اعوام|سنه|سنوات|عامين|"
    r"سنتين)"
)
_NUMWORDS = (
    r"(?:واحد|واحده|اثنين|اثنان|ثلاث|ثلاثه|اربع|اربعه|خمس|خمسه|ست|سته|سبع|سبعه|ثماني|ثمانيه|"
    r"تسع|تسعه|عشر|عشره|بضعه|بضع|عده)"
)

_CANON = {
    # parts of a month or a year
    "مطلع": "early",
    "اوائل": "early",
    "مستهل": "early",
    "بدايه": "the beginning of",
    "بدايات": "early",
    "منتصف": "mid",
    "اواسط": "mid",
    "اواخر": "late",
    "نهايه": "the end of",
    "اخر": "late",
    "ربيع": "spring",
    "الربيع": "spring",
    "صيف": "summer",
    "الصيف": "summer",
    "خريف": "autumn",
    "الخريف": "autumn",
    "شتاء": "winter",
    "الشتاء": "winter",
    "النصف الاول من": "first half of",
    "النصف الثاني من": "second half of",
    "الربع الاول من": "first quarter of",
    "الربع الثاني من": "second quarter of",
    "الربع الثالث من": "third quarter of",
    "الربع الرابع من": "fourth quarter of",
    # this / last / next
    "الجاري": "this",
    "الجاريه": "this",
    "الحالي": "this",
    "الحاليه": "this",
    "هذا": "this",
    "هذه": "this",
    "الماضي": "last",
    "الماضيه": "last",
    "المنصرم": "last",
    "المنصرمه": "last",
    "الفائت": "last",
    "الفائته": "last",
    "السابق": "last",
    "السابقه": "last",
    "المقبل": "next",
    "المقبله": "next",
    "القادم": "next",
    "القادمه": "next",
    "في وقت سابق من": "earlier",
    "في وقت لاحق من": "later",
    # units (a singular is one of it, a dual two)
    "العام": "year",
    "السنه": "year",
    "الشهر": "month",
    "الاسبوع": "week",
    "يوم": "1 day",
    "ايام": "days",
    "يومين": "2 days",
    "اسبوع": "1 week",
    "اسابيع": "weeks",
    "اسبوعين": "2 weeks",
    "شهر": "1 month",
    "اشهر": "months",
    "شهور": "months",
    "شهرين": "2 months",
    "عام": "1 year",
    "سنه": "1 year",
    "اعوام": "years",
    "سنوات": "years",
    "عامين": "2 years",
    "سنتين": "2 years",
    "الايام": "days",
    "الاسابيع": "weeks",
    "الاشهر": "months",
    "الشهور": "months",
    "السنوات": "years",
    "الاعوام": "years",
    # numbers
    "واحد": "one",
    "واحده": "one",
    "اثنين": "two",
    "اثنان": "two",
    "ثلاث": "three",
    "ثلاثه": "three",
    "اربع": "four",
    "اربعه": "four",
    "خمس": "five",
    "خمسه": "five",
    "ست": "six",
    "سته": "six",
    "سبع": "seven",
    "سبعه": "seven",
    "ثماني": "eight",
    "ثمانيه": "eight",
    "تسع": "nine",
    "تسعه": "nine",
    "عشر": "ten",
    "عشره": "ten",
    "بضعه": "several",
    "بضع": "several",
    "عده": "several",
    # directions and open ends
    "منذ": "ago",
    "قبل": "before",
    "بعد": "after",
    "حتي": "until",
    "لغايه": "until",
    "بحلول": "by",
    "اعتبارا من": "since",
    "ابتداء من": "since",
    "بدءا من": "since",
    "من": "from",
    "dir=منذ": "ago",
    "dir=قبل": "ago",
    "dir=بعد": "later",
    "اليوم": "today",
    "امس": "yesterday",
    "الامس": "yesterday",
    "البارحه": "yesterday",
    "الليله الماضيه": "last night",
    "و": "and",
}


def _accept(kind: str, groups: dict[str, Any], before: str) -> bool:
    """A bare month or year is a date after a preposition; the short "اب" (also "father") needs more."""
    mon = groups.get("mon") or ""
    # "مطلع آب": a part of a month before the short name makes it the month.
    short_ok = groups.get("y") or groups.get("d") or groups.get("shahr") or groups.get("part")
    if kind == "month" and len(mon) <= 3 and not short_ok:
        return False
    if kind == "month" and not (
        groups.get("y") or groups.get("part") or groups.get("rel") or groups.get("shahr")
    ):
        return bool(re.search(r"(?:في|منذ|خلال|حتي|الي|من|بين|شهر|و)\s*$", before))
    if kind == "year":
        return bool(re.search(r"(?:في|منذ|خلال|حتي|الي|من|بين|عام|العام|سنه|لعام|و)\s*$", before))
    return True


@functools.lru_cache(maxsize=1)
def arabic_dates() -> DateLexicon:
    """The Arabic lexicon of the date engine (built once: the month names load dateparser's data).

    Returns
    -------
    DateLexicon
    """
    months = arabic_month_names()
    weekdays = _weekday_names()
    mon = _alternation(months)
    pair = rf"(?P<mon>{mon})(?:\s*[/(\-]\s*(?:{mon})\s*\)?)?"
    wd = _alternation(weekdays)
    atoms = (
        ("iso", re.compile(r"(?<!\d)(?P<y>20\d\d|19[5-9]\d)[-/](?P<m>[01]?\d)[-/](?P<d>[0-3]?\d)(?!\d)")),
        ("num_dmy", re.compile(rf"(?<!\d)(?P<d>[0-3]?\d)[/.\-](?P<m>[0-3]?\d)[/.\-]{_Y}")),
        (
            "dmy",
            re.compile(rf"(?<![\d.])(?P<d>[0-3]?\d)\s*(?:من\s+)?(?:شهر\s+)?{_B}{pair}{_E}{_YEAR_INTRO}?"),
        ),
        (
            "season",
            re.compile(rf"{_B}(?P<part>{_PART}|{_SEASON}|{_HALF}){_E}\s+(?:من\s+)?(?:عام|العام|سنه)?\s*{_Y}"),
        ),
        (
            "month",
            re.compile(
                rf"{_B}(?:(?P<part>{_PART})\s+)?(?P<shahr>شهر\s+)?{_B}{pair}{_E}"
                rf"(?:{_YEAR_INTRO}|\s+(?P<rel>{_WHICH}){_E})?"
            ),
        ),
        ("year", re.compile(rf"{_B}{_Y}")),
    )
    which = rf"(?P<which>{_WHICH})"
    relative = (
        ("part_year", re.compile(rf"{_B}(?P<part>{_PART}|{_SEASON})\s+(?:العام|السنه){_E}\s+{which}{_E}")),
        (
            "part_year",
            re.compile(rf"{_B}(?P<part>{_PART}|{_SEASON})\s+(?P<which>هذا|هذه)\s+(?:العام|السنه){_E}"),
        ),
        ("part_month", re.compile(rf"{_B}(?P<part>{_PART})\s+الشهر\s+{which}{_E}")),
        ("part_month", re.compile(rf"{_B}(?P<part>{_PART})\s+(?P<which>هذا)\s+الشهر{_E}")),
        (
            "earlier_this",
            re.compile(
                rf"(?P<which>في\s+وقت\s+(?:سابق|لاحق)\s+من)\s+(?:هذا\s+)?(?P<unit>العام|السنه|"
                rf"الشهر|الاسبوع)(?:\s+(?:الجاري|الحالي|الجاريه|الحاليه))?{_E}"
            ),
        ),
        ("this", re.compile(rf"{_B}(?P<unit>العام|السنه|الشهر|الاسبوع)\s+{which}{_E}")),
        ("this", re.compile(rf"{_B}(?P<which>هذا|هذه)\s+(?P<unit>العام|السنه|الشهر|الاسبوع){_E}")),
        ("today", re.compile(rf"{_B}(?P<which>اليوم)\s+(?:{wd}){_E}")),
        ("today", re.compile(rf"{_B}(?P<which>الليله\s+الماضيه|اليوم|امس|الامس|البارحه){_E}")),
        (
            "recent",
            re.compile(
                rf"(?:خلال|في|طوال)\s+(?P<unit>الايام|الاسابيع|الاشهر|الشهور|السنوات|الاعوام)\s+"
                rf"(?:القليله\s+)?(?:الماضيه|الاخيره|المنصرمه|الفائته){_E}"
            ),
        ),
        (
            "coming",
            re.compile(
                rf"(?:خلال|في)\s+(?P<unit>الايام|الاسابيع|الاشهر|الشهور|السنوات|الاعوام)\s+"
                rf"(?:القليله\s+)?(?:المقبله|القادمه){_E}"
            ),
        ),
        (
            "ago",
            re.compile(rf"{_B}(?P<dir>منذ|قبل|بعد)\s+(?:(?P<n>\d+|{_NUMWORDS})\s+)?(?P<unit>{_UNITS}){_E}"),
        ),
        (
            "weekday",
            re.compile(
                rf"{_B}(?:(?:يوم|مساء|صباح|فجر|ليل|ليله|ظهر|عصر)\s+)?(?P<wd>{wd}){_E}"
                rf"(?:\s+(?P<which>الماضي|المنصرم|الفائت){_E})?"
            ),
        ),
        (
            "season",
            re.compile(
                rf"(?:في|خلال|طوال)\s+(?:فصل\s+)?(?P<part>{_SEASON}){_E}(?!\s+(?:من\s+)?(?:عام|العام|سنه)?\s*\d)"
            ),
        ),
        ("recently", re.compile(rf"{_B}(?:موخرا|حديثا|في\s+الاونه\s+الاخيره){_E}")),
        ("weekend", re.compile(rf"(?P<which>خلال|في)\s+عطله\s+نهايه\s+الاسبوع{_E}")),
    )
    canon = dict(_CANON)
    canon.update({k: v for k, v in weekdays.items()})
    canon.update({"خلال": "over the", "في": "over the"})
    return DateLexicon(
        atoms=atoms,
        relative=relative,
        range_left=re.compile(r"(?:بين|من|منذ)\s*$"),
        range_mid=re.compile(r"^\s*(?:و|الي|حتي|لغايه|-|–|—)\s*$"),
        range_in=re.compile(r"(?:في|خلال)\s*$"),
        open_after=re.compile(r"(منذ|اعتبارا\s+من|ابتداء\s+من|بدءا\s+من|من|بعد)\s*$"),
        onward=re.compile(r"^\s*(?:و?(?:حتي|الي)\s+(?:الان|اليوم|الوقت\s+الحالي)|فصاعدا|وما\s+بعده)"),
        open_before=re.compile(r"(حتي|لغايه|قبل|بحلول)\s*$"),
        and_words=frozenset({"and"}),
        month_names=months,
        canon=canon,
        accept=_accept,
    )

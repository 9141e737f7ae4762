"""Kinds of construction work a claim names, and which alert types can show each.

"Land was levelled and covered with concrete" names two kinds of work: levelling (bare
ground, which an ``earthworks`` alert shows) and a hard surface (concrete, asphalt, a pad,
which only ``new_pad`` or ``runway_change`` show). A claim is judged on every kind it names,
so bare ground never passes for concrete. This module is the one place those kinds and
their alert types are decided; the extractor records the kinds on each claim
(``Claim.works``) and the linker checks each against the alerts.
"""

from __future__ import annotations

import re

__all__ = ["WORK_TYPES", "Work", "works_named"]

Work = str

#: Alert types that show each kind of construction work.
WORK_TYPES: dict[Work, tuple[str, ...]] = {
    # concrete, asphalt, paving, a pad or an apron: a new hard surface
    "surface": ("new_pad", "runway_change"),
    # a runway, taxiway or airstrip built, extended or resurfaced
    "runway": ("runway_change",),
    # levelling, bulldozing, clearing, digging, berms: bare ground moved (a pad or runway implies it)
    "levelling": ("earthworks", "new_pad", "runway_change"),
    # built, expanded, new facilities, without saying what: any lasting construction change
    "building": ("new_pad", "runway_change", "earthworks"),
}

# Folded Arabic (see sitewatch.reports.language.fold_arabic): no hamza seats, ة as ه, ى as ي.
_PATTERNS: dict[Work, re.Pattern[str]] = {
    "surface": re.compile(
        r"\b(?:concret\w*|cement\w*|asphalt\w*|pav(?:e|ed|ing|ement)|tarmac\w*|pads?|aprons?|"
        r"hardstands?|slabs?)\b|"
        r"(?:اسمنت|خرسان|باطون|بيتون|زفت|اسفلت|تعبيد|معبد|ارضيات|ارضيه|منصات|منصه|ساحات\s+اسمنتيه)",
        re.I,
    ),
    "runway": re.compile(
        r"\b(?:runways?|airstrips?|air\s+strips?|taxiways?|landing\s+strips?)\b|"
        r"(?:مهبط|مدرج|مدارج|ممر\s+(?:الطائرات|هبوط)|ممرات)",
        re.I,
    ),
    "levelling": re.compile(
        r"\b(?:level+(?:ed|ing)|bulldoz\w*|excavat\w*|earthworks?|earth-?moving|clear(?:ed|ing)\s+(?:of\s+)?"
        r"(?:land|ground|areas?)|cleared\s+areas?|berms?|groundwork|graded|grading|dug|digging|trench\w*)\b|"
        r"(?:تسويه|تسويات|تجريف|جرافات|جرافه|حفريات|حفر|سواتر|ساتر|تمهيد\s+الارض|ردم)",
        re.I,
    ),
}


def works_named(text: str) -> tuple[Work, ...]:
    """The kinds of construction work a sentence names (``"building"`` when it names none).

    Parameters
    ----------
    text : str
        The claim's sentence (English as written, Arabic folded by
        :func:`~sitewatch.reports.language.fold_arabic`).

    Returns
    -------
    tuple of str
        Keys of :data:`WORK_TYPES`, in a fixed order.

    Examples
    --------
    >>> works_named("land was leveled and covered with concrete at two separate points")
    ('surface', 'levelling')
    >>> works_named("the coalition expanded the base")
    ('building',)
    """
    found = tuple(w for w, p in _PATTERNS.items() if p.search(text))
    return found or ("building",)

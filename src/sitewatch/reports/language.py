"""Which language a piece of report text is in; Arabic folded for matching (re-exported).

Each sentence of a report is read in its own language (:func:`detect_language`). The
folding of Arabic letter variants, diacritics, tatweel and digits with its offset map
(:func:`fold_arabic`, :class:`Folded`) lives in :mod:`sitewatch.textnorm`, which the AOI
registry uses too; it is re-exported here for the report modules.
"""

from __future__ import annotations

import re
from typing import Literal

# The folding lives in sitewatch.textnorm (the AOI registry uses it too); re-exported here.
from sitewatch.textnorm import Folded, fold_arabic

__all__ = ["Folded", "Language", "detect_language", "fold_arabic"]

Language = Literal["en", "ar"]

_ARABIC_LETTER = re.compile("[\u0621-\u064a\u0671-\u06d3\u06fa-\u06ff\u0750-\u077f\u08a0-\u08ff]")
_LATIN_LETTER = re.compile("[A-Za-z\u00c0-\u024f]")


def detect_language(text: str) -> Language:
    """``"ar"`` when at least half the letters are Arabic script, else ``"en"``.

    Parameters
    ----------
    text : str
        A sentence or a paragraph.

    Returns
    -------
    {"en", "ar"}

    Examples
    --------
    >>> detect_language("وصلت طائرة C-130 إلى قاعدة قسرك")
    'ar'
    >>> detect_language("Convoys reached Qasrak (قسرك) on Monday.")
    'en'
    """
    arabic = len(_ARABIC_LETTER.findall(text))
    if not arabic:
        return "en"
    latin = len(_LATIN_LETTER.findall(text))
    return "ar" if arabic >= latin else "en"

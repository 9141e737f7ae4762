"""Which language a piece of report text is in, and Arabic folded for matching.

Arabic is written with or without diacritics (harakat, shadda, sukun), stretched with
tatweel, and with letter variants that writers use interchangeably (أ إ آ ٱ for ا, ة for
ه at a word end, ى for ي, ؤ and ئ for و and ي), Arabic-Indic (٠-٩) or Persian (۰-۹)
digits. :func:`fold_arabic` maps all of these to one form, so that a lexicon written once
matches every spelling, and keeps a map from each folded character back to the text as
written: claims quote and point into the original, never into the folded copy.

The folding is a per-character table, not pyarabic's string-to-string normalisers (which
give no offset map and are GPL-licensed) nor camel-tools' (which pull in torch and
transformers); tests check that it folds as pyarabic's ``strip_diacritics``,
``strip_tatweel``, ``normalize_hamza(method="tasheel")`` and ``normalize_teh`` do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["Folded", "Language", "detect_language", "fold_arabic"]

Language = Literal["en", "ar"]

# Marks dropped when folding: harakat, shadda, sukun, superscript alef, Quranic annotation marks,
# honorific marks, tatweel, and the invisible direction / joiner marks of right-to-left text.
_DROP = re.compile(
    "[\u0610-\u061a\u061c\u064b-\u065f\u0670\u06d6-\u06ed\u0640\u200c-\u200f\u202a-\u202e\u2066-\u2069]"
)
_MAP = {
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ٲ": "ا", "ٳ": "ا",
    "ة": "ه", "ۀ": "ه", "ە": "ه",
    "ى": "ي", "ی": "ي", "ئ": "ي", "ې": "ي",
    "ؤ": "و",
    "ک": "ك", "ڪ": "ك",
    "٫": ".", "٬": ",", "،": ",", "؛": ";", "؟": "?", "٪": "%", "۔": ".",
}  # fmt: skip
_MAP.update({chr(0x0660 + i): str(i) for i in range(10)})
_MAP.update({chr(0x06F0 + i): str(i) for i in range(10)})
_TABLE = str.maketrans(_MAP)
_ARABIC_LETTER = re.compile("[\u0621-\u064a\u0671-\u06d3\u06fa-\u06ff\u0750-\u077f\u08a0-\u08ff]")
_LATIN_LETTER = re.compile("[A-Za-z\u00c0-\u024f]")


@dataclass(frozen=True)
class Folded:
    """Text folded for matching, with the way back to the text as written.

    Parameters
    ----------
    text : str
        The folded text.
    index : tuple of int or None
        For each folded character, its offset in the original; None when nothing was
        dropped (offsets are then the same).
    original_length : int
        Length of the original text.
    """

    text: str
    index: tuple[int, ...] | None
    original_length: int

    def to_original(self, offset: int) -> int:
        """Offset in the original text of a folded offset (an end offset maps past its character)."""
        if self.index is None:
            return offset
        if offset >= len(self.index):
            return self.original_length
        return self.index[offset]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``(start, end)`` of a folded span (end exclusive)."""
        if self.index is None:
            return start, end
        if end <= start:
            s = self.to_original(start)
            return s, s
        return self.to_original(start), self.index[end - 1] + 1


def fold_arabic(text: str) -> Folded:
    """Fold Arabic letter variants, diacritics, tatweel and digits (other scripts pass unchanged).

    Parameters
    ----------
    text : str

    Returns
    -------
    Folded

    Examples
    --------
    >>> fold_arabic("قَسْرَك في أيـــار ٢٠٢٥").text
    'قسرك في ايار 2025'
    >>> f = fold_arabic("قَسْرَك")
    >>> f.span(0, 4)
    (0, 7)
    """
    dropped = [m.start() for m in _DROP.finditer(text)]
    folded = text.translate(_TABLE)
    if not dropped:
        return Folded(folded, None, len(text))
    gone = set(dropped)
    index = tuple(i for i in range(len(text)) if i not in gone)
    return Folded(_DROP.sub("", folded), index, len(text))


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

"""Text folded for matching: Arabic letter variants, diacritics, tatweel, digits; names folded for lookup.

Arabic is written with or without diacritics (harakat, shadda, sukun), stretched with
tatweel, and with letter variants that writers use interchangeably (أ إ آ ٱ for ا, ة for
ه at a word end, ى for ي, ؤ and ئ for و and ي), Arabic-Indic (٠-٩) or Persian (۰-۹)
digits. :func:`fold_arabic` maps all of these to one form, so that a lexicon written once
matches every spelling, and keeps a map from each folded character back to the text as
written: claims quote and point into the original, never into the folded copy.
:func:`fold_name` goes further for looking a name up (case, Latin accents, the article
ال-, hyphens and spaces), so "الشدادى", "شدّادي" and "al-Shaddadi"'s Arabic alias "الشدادي" meet.

This module is neutral ground: the AOI registry (:mod:`sitewatch.aoi`) and the report
reader (:mod:`sitewatch.reports`) both import it, and it imports neither.

The folding is a per-character table, not pyarabic's string-to-string normalisers (which
give no offset map and are GPL-licensed) nor camel-tools' (which pull in torch and
transformers); tests check that it folds as pyarabic's ``strip_diacritics``,
``strip_tatweel``, ``normalize_hamza(method="tasheel")`` and ``normalize_teh`` do.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["Folded", "fold_arabic", "fold_name"]

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


_ARTICLE = re.compile(r"(?<!\w)ال(?=\w{2,})")
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015_'’`]+")


def fold_name(name: str) -> str:
    """A name folded for lookup: Arabic folded, case and Latin accents dropped, no ال-, one space.

    Two spellings of one name that differ only in letter variants, diacritics, tatweel, the
    Arabic article or hyphenation fold to the same key; different names stay apart.

    Parameters
    ----------
    name : str
        A name as written ("قاعدة الشدّادي", "Tell-Brāk").

    Returns
    -------
    str

    Examples
    --------
    >>> fold_name("الشدّادى") == fold_name("شدادي")
    True
    >>> fold_name("Tell-Brāk")
    'tell brak'
    """
    text = fold_arabic(name).text.casefold()
    # Accents of Latin transliterations ("Brāk"); Arabic was folded above, so NFKD leaves it whole.
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    text = unicodedata.normalize("NFC", text)
    text = _ARTICLE.sub("", text)
    return _SEPARATORS.sub(" ", text).strip()

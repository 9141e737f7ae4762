"""What a language gives the claim extractor: its words for events, doubts, denials and references.

The extractor (:mod:`sitewatch.reports.assemble`) is written once; each language fills a
:class:`Lexicon` with compiled patterns (English in :mod:`~sitewatch.reports.lexicon_en`,
Arabic, matched on folded text, in :mod:`~sitewatch.reports.lexicon_ar`). Every field names
what it finds, so adding a language is filling the same fields.
"""

from __future__ import annotations

from sitewatch.reports.lexicon_ar import ARABIC
from sitewatch.reports.lexicon_en import ENGLISH
from sitewatch.reports.word_lexicon import Lexicon

__all__ = ["Lexicon", "lexicon_for"]


def lexicon_for(language: str) -> Lexicon:
    """The extractor's lexicon of a language.

    Parameters
    ----------
    language : {"en", "ar"}

    Returns
    -------
    Lexicon
    """
    if language == "ar":
        return ARABIC
    return ENGLISH

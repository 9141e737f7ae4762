"""The shape of one language's time expressions: what :mod:`sitewatch.reports.dates` reads.

Each language fills a :class:`DateLexicon` (English in :mod:`~sitewatch.reports.dates_en`,
Arabic in :mod:`~sitewatch.reports.dates_ar`); the one interval engine in
:mod:`~sitewatch.reports.dates` resolves them. The type lives apart from the engine so that the
languages and the engine depend on it, not on each other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["DateLexicon"]


@dataclass(frozen=True)
class DateLexicon:
    """The patterns of one language's time expressions, for the one interval engine.

    Every pattern uses the engine's group names (``y``, ``m``, ``d``, ``mon``, ``part``,
    ``which``, ``unit``, ``n``, ``dir``, ``wd``, ``rel``); :attr:`canon` turns the words a
    group caught into the engine's English values ("الماضي" -> "last", "مطلع" -> "early").

    Parameters
    ----------
    atoms : tuple of (kind, pattern)
        Absolute expressions, most specific first: ``iso``, ``mdy``, ``dmy``, ``season``,
        ``month``, ``year`` (and any other kind with the same groups).
    relative : tuple of (kind, pattern)
        Relative expressions: ``part_year``, ``part_month``, ``earlier_this``, ``this``,
        ``today``, ``recent``, ``coming``, ``ago``, ``weekday``, ``recently``, ``weekend``.
    range_left, range_mid, range_in : re.Pattern
        "between" / "from" before a range, the joiner between its ends, "in" before one.
    open_after, onward, open_before : re.Pattern
        "since X", "X onward", "until X" (group 1: the word, canonicalised).
    and_words : frozenset of str
        Joiners that make a range only after ``range_left`` ("between May and June").
    month_names : mapping
        Month name -> 1..12.
    canon : mapping
        Word caught by a group -> the engine's English value.
    accept : callable
        ``accept(kind, groups, text_before) -> bool``: whether an atom is a date at all.
    """

    atoms: tuple[tuple[str, re.Pattern[str]], ...]
    relative: tuple[tuple[str, re.Pattern[str]], ...]
    range_left: re.Pattern[str]
    range_mid: re.Pattern[str]
    range_in: re.Pattern[str]
    open_after: re.Pattern[str]
    onward: re.Pattern[str]
    open_before: re.Pattern[str]
    and_words: frozenset[str]
    month_names: Mapping[str, int]
    canon: Mapping[str, str]
    accept: Callable[[str, dict[str, Any], str], bool]

    def word(self, text: str | None, group: str | None = None) -> str:
        """The canonical (English, lower-case) value of a word a group caught.

        ``canon["dir=قبل"]`` wins over ``canon["قبل"]`` for the ``dir`` group: one word may
        mean "ago" after a number and "before" before a date.
        """
        t = re.sub(r"\s+", " ", (text or "").strip().lower().rstrip("."))
        if group is not None and f"{group}={t}" in self.canon:
            return self.canon[f"{group}={t}"]
        return self.canon.get(t, t)

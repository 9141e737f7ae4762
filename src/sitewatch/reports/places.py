"""Place mentions in report text, resolved against the AOI registry and the gazetteer.

Names are matched exactly (case, accents, hyphens and apostrophes folded; a leading
"al-" optional) and then fuzzily for the spellings and transliterations no alias
lists: a candidate must either score high on edit similarity, or share the name's
consonant skeleton (Qasrak / Qasruk / Kasrak) with a fair similarity. A
facility-like name that matches nothing ("Kharab Ishk base") is kept as an unknown
place, never forced onto a known one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from sitewatch.types import Place

__all__ = ["PlaceMatcher", "PlaceMention", "fold"]

_FACILITY = (
    r"(?:military\s+)?(?:air\s*base|base|airfield|air\s+field|airstrip|airport|oil\s+field|gas\s+field|"
    r"oilfield|gas\s+plant|field|camp|garrison|outpost|compound|depot|crossing|border\s+crossing)"
)
_NOT_NAMES = {
    "the", "a", "an", "its", "this", "that", "these", "those", "their", "our", "us", "u.s.", "u.s",
    "american",
    "russian", "turkish", "iranian", "iraqi", "syrian", "coalition", "global", "military", "main", "new",
    "old", "large", "largest", "key", "major", "another", "other", "some", "several", "many", "each", "every",
    "air", "army", "naval", "joint", "forward", "operating", "logistics", "logistic", "remote", "nearby",
    "central", "northern", "southern", "eastern", "western", "strategic", "sdf", "isis", "nato", "french",
    "british", "israeli", "jordanian", "kurdish", "both", "all", "which", "where", "oil", "gas",
}  # fmt: skip
_CONNECT = {"al", "el", "ez", "az", "as", "ad", "ar", "ash", "at", "bin", "ibn", "abu", "de", "du", "of"}


def fold(text: str) -> str:
    """Fold a name for matching: lower case, no accents or apostrophes, hyphens as spaces.

    Examples
    --------
    >>> fold("al‑Omar")
    'al omar'
    """
    t = unicodedata.normalize("NFKD", text)
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = t.casefold()
    t = re.sub(r"['’`ʿʾ‘]", "", t)
    t = re.sub(r"[\-‐‑‒–—_/.]+", " ", t)
    return re.sub(r"\s+", " ", t).strip()


def _skeleton(folded: str) -> str:
    """Consonant skeleton of a transliterated name: q/k, c/k, doubled letters and vowels folded."""
    t = re.sub(r"^(?:al|el|the) ", "", folded)
    t = t.replace(" ", "")
    t = t.replace("ch", "k").replace("q", "k").replace("c", "k").replace("ph", "f").replace("ou", "u")
    t = t.replace("w", "u").replace("y", "i").replace("ee", "i").replace("dh", "d").replace("th", "t")
    t = re.sub(r"(.)\1+", r"\1", t)
    return t[:1] + re.sub(r"[aeiou]", "", t[1:])


@dataclass(frozen=True)
class PlaceMention:
    """A place named in text.

    Parameters
    ----------
    offset, length : int
        Where the name is in the text searched.
    text : str
        The name as written ("Qasrek", "Omar oil field").
    place : Place or None
        The resolved registry or gazetteer place; None for an unknown place.
    how : {"exact", "fuzzy", "unknown"}
        How it was resolved.
    score : float
        Similarity 0..100 (100 for exact).
    """

    offset: int
    length: int
    text: str
    place: Place | None
    how: Literal["exact", "fuzzy", "unknown"]
    score: float = 100.0

    @property
    def end(self) -> int:
        """Offset just after the mention."""
        return self.offset + self.length


class PlaceMatcher:
    """Find and resolve place names in text against a list of places.

    Parameters
    ----------
    places : sequence of Place
        Usually :func:`sitewatch.aoi.list_places` (watched sites and the gazetteer).
    fuzzy_threshold : float
        Edit similarity (0..100, rapidfuzz ``ratio``) above which a capitalised name
        resolves to a place on its own.
    skeleton_threshold : float
        Lower similarity accepted when the consonant skeletons agree.
    """

    def __init__(
        self, places: Sequence[Place], *, fuzzy_threshold: float = 90.0, skeleton_threshold: float = 70.0
    ):
        self.places = list(places)
        self.fuzzy_threshold = fuzzy_threshold
        self.skeleton_threshold = skeleton_threshold
        self._names: dict[str, Place] = {}
        for place in self.places:
            for name in place.all_names:
                for variant in self._variants(fold(name)):
                    if len(variant) >= 3:
                        self._names.setdefault(variant, place)
        alternatives = sorted(self._names, key=len, reverse=True)
        parts = [r"[\s\-‐‑–—_]+".join(re.escape(w) for w in v.split(" ")) for v in alternatives]
        self._exact = re.compile(r"(?<![\w])(?:" + "|".join(parts) + r")(?![\w])", re.I) if parts else None
        self._skeletons = {v: _skeleton(v) for v in self._names}
        self._cache: dict[str, tuple[Place | None, Literal["exact", "fuzzy", "unknown"], float]] = {}

    @staticmethod
    def _variants(name: str) -> Iterable[str]:
        yield name
        stripped = re.sub(r"^(?:al|el|the) ", "", name)
        if stripped != name and len(stripped) >= 5:
            yield stripped
        if not name.startswith(("al ", "the ")) and len(name) >= 4 and " " not in name:
            yield f"al {name}"

    def resolve(self, text: str) -> tuple[Place | None, Literal["exact", "fuzzy", "unknown"], float]:
        """Resolve one name as written to a place (exact, then fuzzy), or None.

        Parameters
        ----------
        text : str
            A name ("Qasruk", "Omar oil field").

        Returns
        -------
        place : Place or None
        how : {"exact", "fuzzy", "unknown"}
        score : float
        """
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        result = self._resolve(text)
        if len(self._cache) < 100_000:
            self._cache[text] = result
        return result

    def _resolve(self, text: str) -> tuple[Place | None, Literal["exact", "fuzzy", "unknown"], float]:
        key = fold(text)
        key = re.sub(rf"\s+{_FACILITY}$", "", key) if key not in self._names else key
        for k in (fold(text), key, re.sub(r"^(?:al|el|the) ", "", key)):
            if k in self._names:
                return self._names[k], "exact", 100.0
        if len(key) < 5:
            return None, "unknown", 0.0
        from rapidfuzz import fuzz

        best: tuple[float, str] | None = None
        sk = _skeleton(key)
        for name, name_sk in self._skeletons.items():
            score = fuzz.ratio(key, name)
            # The skeleton rule (same consonants, other vowels: Qasruk / Qasrak) needs a skeleton
            # long enough to be specific and names of about the same length ("al Asadiya" is not "al Asad").
            ok = score >= self.fuzzy_threshold or (
                score >= self.skeleton_threshold
                and sk == name_sk
                and len(sk) >= 4
                and abs(len(key) - len(name)) <= 2
            )
            if ok and (best is None or score > best[0]):
                best = (score, name)
        if best is None:
            return None, "unknown", 0.0
        return self._names[best[1]], "fuzzy", float(best[0])

    def find(self, text: str) -> list[PlaceMention]:
        """Find every place mention in ``text``.

        Parameters
        ----------
        text : str
            A sentence or passage.

        Returns
        -------
        list of PlaceMention
            In text order, without overlaps (the longest name wins).
        """
        taken = [False] * len(text)
        out: list[PlaceMention] = []
        if self._exact is not None:
            for m in self._exact.finditer(text):
                if any(taken[m.start() : m.end()]):
                    continue
                place = self._names.get(fold(m.group(0)))
                if place is None:
                    continue
                end = m.end()
                tail = re.match(rf"[\s\-]+(?:{_FACILITY})\b", text[end:], re.I)
                if tail and not fold(m.group(0)).endswith(fold(tail.group(0)).strip()):
                    end += tail.end()
                out.append(PlaceMention(m.start(), end - m.start(), text[m.start() : end], place, "exact"))
                for i in range(m.start(), end):
                    taken[i] = True
        # Names stay on one line and are at least two letters long.
        word = r"(?:[A-Z][\w’'‑\-]*[\w])"
        gap = r"[ \t\-‑]+"
        facility = _FACILITY.replace(r"\s", r"[ \t]")
        cand = re.compile(
            rf"(?<![\w\-])(?:(?:al|el|Al|El|Tal|Tel|Tell|Deir|Ain|Ayn|Jabal|Abu|Bir|Ras){gap})?"
            rf"{word}(?:{gap}(?:(?:al|el|ez|as|ad|ar|bin|ibn|abu){gap})?{word}){{0,2}}"
            rf"(?P<fac>[ \t\-]+{facility}\b)?"
        )
        for m in cand.finditer(text):
            if any(taken[m.start() : m.end()]):
                continue
            raw = m.group(0)
            name_part = raw[: m.start("fac") - m.start()] if m.group("fac") else raw
            tokens = fold(name_part).split()
            if not tokens or all(t in _NOT_NAMES or t in _CONNECT for t in tokens):
                continue
            while tokens and tokens[0] in _NOT_NAMES:
                tokens = tokens[1:]
            if not tokens:
                continue
            place, how, score = self.resolve(" ".join(tokens))
            at_start = m.start() == 0 or text[: m.start()].rstrip().endswith(
                (".", "\n", ":", "!", "?", '"', "“")
            )
            if place is not None and not (how == "fuzzy" and at_start and len(tokens) == 1 and score < 90):
                out.append(PlaceMention(m.start(), m.end() - m.start(), raw, place, how, score))
            elif m.group("fac"):
                # A named facility the registry does not know: kept, unresolved (without "The").
                lead = re.match(r"(?:the|a|an|this|that)\s+", raw, re.I)
                skip = lead.end() if lead else 0
                out.append(
                    PlaceMention(
                        m.start() + skip, m.end() - m.start() - skip, raw[skip:], None, "unknown", 0.0
                    )
                )
            else:
                continue
            for i in range(m.start(), m.end()):
                taken[i] = True
        out.sort(key=lambda p: p.offset)
        return out

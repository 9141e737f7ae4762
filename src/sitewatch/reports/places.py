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

from sitewatch.reports.language import fold_arabic
from sitewatch.types import Place

__all__ = ["PlaceMatcher", "PlaceMention", "fold"]

_ARABIC = re.compile("[\u0600-\u06ff]")
# Clitics glued before an Arabic name: و ف (and), ب ل ك (in, to, like), the article ال, ل + ال = لل.
_AR_CLITICS = r"(?P<pre>[وف]?(?:[بك]?ال|لل|[بلك])?)"
# Nouns that introduce a facility's name ("قاعدة X", "حقل X"): where an unknown Arabic name is looked for.
# Words after a facility noun that are no name: prepositions, the base itself, adjectives of a base.
_AR_NOT_NAMES = (
    "(?:في|من|الي|علي|عن|التي|الذي|(?:ال)?قاعده|(?:ال)?قاعدتين|(?:ال)?موقع|(?:ال)?مطار|(?:ال)?مهبط|(?:ال)?حقل|(?:ال)?معسكر|(?:ال)?قوات|"
    "(?:ال)?طائرات|(?:ال)?تحالف|(?:ال)?امريكيه|(?:ال)?امريكي|(?:ال)?اميركيه|(?:ال)?عسكريه|(?:ال)?عسكري|(?:ال)?جويه|(?:ال)?جديده|(?:ال)?جديد|(?:ال)?نفطي|"
    "للغاز|(?:ال)?غاز|(?:ال)?نفط|(?:ال)?دولي|(?:ال)?رئيسي|(?:ال)?رئيسيه|(?:ال)?شرقي|(?:ال)?غربي|(?:ال)?شمالي|(?:ال)?جنوبي|(?:ال)?تابعه|(?:ال)?كبري|هذه|تلك)"
)
_AR_FACILITY = re.compile(
    r"(?<![\w])[وف]?(?:[بلك]|ال|بال|لل)?(?:قاعده|قاعدتي|مطار|حقل|معمل|مهبط|معسكر|نقطه|معبر)\s+"
    rf"(?P<name>(?!{_AR_NOT_NAMES}(?![\w]))\w{{3,}}"
    rf"(?:\s+(?!{_AR_NOT_NAMES}(?![\w]))\w{{3,}})?)"
)
#: Letters Arabic writers confuse when spelling a foreign or dialect name (emphatic and plain pairs).
_AR_SKELETON = str.maketrans({"ص": "س", "ط": "ت", "ض": "د", "ظ": "ز", "ذ": "ز", "ث": "س", "ق": "ك", "غ": "ك"})


def _ar_key(folded: str) -> str:
    """A folded Arabic name without its article: the key names are matched by."""
    return re.sub(r"^ال(?=\w{3})", "", folded.strip())


def _ar_skeleton(key: str) -> str:
    t = key.replace(" ", "").translate(_AR_SKELETON)
    return t[:1] + re.sub("[اوي]", "", t[1:])


_FACILITY = (
    r"(?:military\s+)?(?:air\s*base|base|airfield|air\s+field|airstrip|airport|oil\s+field|gas\s+field|"
    r"oilfield|gas\s+plant|field|camp|garrison|outpost|compound|depot|crossing|border\s+crossing)"
)
_NOT_NAMES = {
    "the",
    "a",
    "an",
    "its",
    "this",
    "that",
    "these",
    "those",
    "their",
    "our",
    "us",
    "u.s.",
    "u.s",
    "american",
    "russian",
    "turkish",
    "iranian",
    "iraqi",
    "syrian",
    "coalition",
    "global",
    "military",
    "main",
    "new",
    "old",
    "large",
    "largest",
    "key",
    "major",
    "another",
    "other",
    "some",
    "several",
    "many",
    "each",
    "every",
    "air",
    "army",
    "naval",
    "joint",
    "forward",
    "operating",
    "logistics",
    "logistic",
    "remote",
    "nearby",
    "central",
    "northern",
    "southern",
    "eastern",
    "western",
    "strategic",
    "sdf",
    "isis",
    "nato",
    "french",
    "british",
    "israeli",
    "jordanian",
    "kurdish",
    "both",
    "all",
    "which",
    "where",
    "oil",
    "gas",
}
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
    how : {"exact", "fuzzy", "ambiguous", "unknown"}
        How it was resolved; ``ambiguous`` when the name fits two or more places equally
        (``place`` is then None and ``candidates`` lists them).
    score : float
        Similarity 0..100 (100 for exact).
    candidates : tuple of Place
        For an ambiguous name, every place it fits.
    prefix : str
        An Arabic clitic glued before the name ("ل" = to, "ب" = in), without the article.
    """

    offset: int
    length: int
    text: str
    place: Place | None
    how: Literal["exact", "fuzzy", "ambiguous", "unknown"]
    score: float = 100.0
    candidates: tuple[Place, ...] = ()
    prefix: str = ""

    @property
    def end(self) -> int:
        """Offset just after the mention."""
        return self.offset + self.length


_Resolution = tuple[Place | None, Literal["exact", "fuzzy", "ambiguous", "unknown"], float, tuple[Place, ...]]


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
        # A spelling two places share ("Tal Brak" for two villages) resolves to neither: it is ambiguous.
        self._shared: dict[str, list[Place]] = {}
        arabic: dict[str, Place] = {}
        for place in self.places:
            for name in place.all_names:
                if _ARABIC.search(name):
                    key = _ar_key(fold_arabic(name).text)
                    if len(key) >= 3:
                        self._add(arabic, key, place)
                    continue
                for variant in self._variants(fold(name)):
                    if len(variant) >= 3:
                        self._add(self._names, variant, place)
        alternatives = sorted(self._names, key=len, reverse=True)
        parts = [r"[\s\-‐‑–—_]+".join(re.escape(w) for w in v.split(" ")) for v in alternatives]
        self._exact = re.compile(r"(?<![\w])(?:" + "|".join(parts) + r")(?![\w])", re.I) if parts else None
        self._skeletons = {v: _skeleton(v) for v in self._names}
        self._arabic = arabic
        ar_parts = [
            r"\s+".join(re.escape(w) for w in k.split()) for k in sorted(arabic, key=len, reverse=True)
        ]
        self._ar_exact = (
            re.compile(r"(?<![\w])" + _AR_CLITICS + r"(?P<key>" + "|".join(ar_parts) + r")(?![\w])")
            if ar_parts
            else None
        )
        self._ar_skeletons = {k: _ar_skeleton(k) for k in arabic}
        self._cache: dict[str, _Resolution] = {}

    def _add(self, table: dict[str, Place], key: str, place: Place) -> None:
        known = table.setdefault(key, place)
        if known.name != place.name:
            shared = self._shared.setdefault(key, [known])
            if all(p.name != place.name for p in shared):
                shared.append(place)

    @staticmethod
    def _variants(name: str) -> Iterable[str]:
        yield name
        stripped = re.sub(r"^(?:al|el|the) ", "", name)
        if stripped != name and len(stripped) >= 5:
            yield stripped
        if not name.startswith(("al ", "the ")) and len(name) >= 4 and " " not in name:
            yield f"al {name}"

    def resolve(
        self, text: str
    ) -> tuple[Place | None, Literal["exact", "fuzzy", "ambiguous", "unknown"], float]:
        """Resolve one name as written to a place (exact, then fuzzy), or None.

        Parameters
        ----------
        text : str
            A name ("Qasruk", "Omar oil field", "قصرك").

        Returns
        -------
        place : Place or None
            None for an unknown name, or one that fits several places (``how == "ambiguous"``).
        how : {"exact", "fuzzy", "ambiguous", "unknown"}
        score : float
        """
        place, how, score, _ = self._resolved(text)
        return place, how, score

    def _resolved(self, text: str) -> _Resolution:
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        result = self._resolve_arabic(text) if _ARABIC.search(text) else self._resolve(text)
        if len(self._cache) < 100_000:
            self._cache[text] = result
        return result

    def _exactly(self, key: str, table: dict[str, Place]) -> _Resolution:
        if key in self._shared:
            return None, "ambiguous", 100.0, tuple(self._shared[key])
        return table[key], "exact", 100.0, ()

    @staticmethod
    def _best(scored: list[tuple[float, Place]], margin: float = 2.0) -> _Resolution:
        """The best-scoring place, or an ambiguity when another place scores within ``margin``."""
        if not scored:
            return None, "unknown", 0.0, ()
        scored.sort(key=lambda t: -t[0])
        top, place = scored[0]
        rivals = [p for sc, p in scored if top - sc <= margin and p.name != place.name]
        if rivals:
            return None, "ambiguous", float(top), tuple(dict.fromkeys([place, *rivals]))
        return place, "fuzzy", float(top), ()

    def _resolve(self, text: str) -> _Resolution:
        key = fold(text)
        key = re.sub(rf"\s+{_FACILITY}$", "", key) if key not in self._names else key
        for k in (fold(text), key, re.sub(r"^(?:al|el|the) ", "", key)):
            if k in self._names:
                return self._exactly(k, self._names)
        if len(key) < 5:
            return None, "unknown", 0.0, ()
        from rapidfuzz import fuzz

        best: dict[str, tuple[float, Place]] = {}
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
            place = self._names[name]
            if ok and score > best.get(place.name, (0.0, place))[0]:
                best[place.name] = (score, place)
        return self._best(list(best.values()))

    def _resolve_arabic(self, text: str) -> _Resolution:
        key = _ar_key(fold_arabic(text).text)
        if key in self._arabic:
            return self._exactly(key, self._arabic)
        if len(key.replace(" ", "")) < 4:
            return None, "unknown", 0.0, ()
        from rapidfuzz import fuzz

        # Transliterated names are spelt with emphatic or plain letters and long vowels at will
        # (قصرك / قسرك / قسروك): the same skeleton and a fair similarity, or a high similarity alone.
        sk = _ar_skeleton(key)
        best: dict[str, tuple[float, Place]] = {}
        for name, name_sk in self._ar_skeletons.items():
            score = fuzz.ratio(key, name)
            ok = score >= self.fuzzy_threshold or (
                score >= self.skeleton_threshold and sk == name_sk and len(sk) >= 3
            )
            place = self._arabic[name]
            if ok and score > best.get(place.name, (0.0, place))[0]:
                best[place.name] = (score, place)
        return self._best(list(best.values()))

    def find(self, text: str, *, language: str = "en") -> list[PlaceMention]:
        """Find every place mention in ``text``.

        Parameters
        ----------
        text : str
            A sentence or passage; Arabic folded by
            :func:`~sitewatch.reports.language.fold_arabic` (offsets are the folded text's).
        language : {"en", "ar"}
            Arabic text is searched for the Arabic names (with their clitics: "لقسرك",
            "بالشدادي") and for names after a facility noun ("قاعدة X"); English text for
            the Latin names and capitalised names.

        Returns
        -------
        list of PlaceMention
            In text order, without overlaps (the longest name wins).
        """
        if language == "ar":
            return self._find_arabic(text)
        taken = [False] * len(text)
        out: list[PlaceMention] = []
        if self._exact is not None:
            for m in self._exact.finditer(text):
                if any(taken[m.start() : m.end()]):
                    continue
                key = fold(m.group(0))
                if key not in self._names:
                    continue
                place, how, score, candidates = self._exactly(key, self._names)
                end = m.end()
                tail = re.match(rf"[\s\-]+(?:{_FACILITY})\b", text[end:], re.I)
                if tail and not key.endswith(fold(tail.group(0)).strip()):
                    end += tail.end()
                out.append(
                    PlaceMention(
                        m.start(), end - m.start(), text[m.start() : end], place, how, score, candidates
                    )
                )
                for i in range(m.start(), end):
                    taken[i] = True
        out.extend(self._find_capitalised(text, taken))
        out.sort(key=lambda p: p.offset)
        return out

    def _find_capitalised(self, text: str, taken: list[bool]) -> list[PlaceMention]:
        """Capitalised names no alias lists: resolved fuzzily, or kept unknown after a facility word."""
        out: list[PlaceMention] = []
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
            place, how, score, candidates = self._resolved(" ".join(tokens))
            at_start = m.start() == 0 or text[: m.start()].rstrip().endswith(
                (".", "\n", ":", "!", "?", '"', "“")
            )
            if how == "ambiguous" and not (at_start and len(tokens) == 1):
                out.append(PlaceMention(m.start(), m.end() - m.start(), raw, None, how, score, candidates))
            elif place is not None and not (how == "fuzzy" and at_start and len(tokens) == 1 and score < 90):
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
        return out

    def _find_arabic(self, text: str) -> list[PlaceMention]:
        taken = [False] * len(text)
        out: list[PlaceMention] = []
        if self._ar_exact is not None:
            for m in self._ar_exact.finditer(text):
                place, how, score, candidates = self._exactly(m.group("key"), self._arabic)
                start = m.start("key")
                pre = m.group("pre") or ""
                # The article belongs to the name ("الشدادي"); a glued preposition does not ("لقسرك").
                if pre.endswith("ال"):
                    start -= 2
                    pre = pre[:-2]
                elif pre.endswith("لل"):
                    pre = pre[:-1]
                out.append(
                    PlaceMention(
                        start,
                        m.end() - start,
                        text[start : m.end()],
                        place,
                        how,
                        score,
                        candidates,
                        prefix=pre,
                    )
                )
                for i in range(m.start(), m.end()):
                    taken[i] = True
        for m in _AR_FACILITY.finditer(text):
            if any(taken[m.start("name") : m.end("name")]):
                continue
            name = m.group("name")
            place, how, score, candidates = self._resolved(name)
            if how == "exact":
                continue  # a known name the exact pass placed already (inside a longer name)
            start = m.start()
            lead = re.match(r"[وف]?(?:[بلك]|ال|بال|لل)?", text[start:])
            skip = lead.end() if lead else 0
            if how in ("fuzzy", "ambiguous"):
                out.append(PlaceMention(m.start("name"), len(name), name, place, how, score, candidates))
            else:
                # A named facility the registry does not know ("قاعدة خراب عشق"): kept, unresolved.
                out.append(
                    PlaceMention(
                        start + skip,
                        m.end() - start - skip,
                        text[start + skip : m.end()],
                        None,
                        "unknown",
                        0.0,
                    )
                )
            for i in range(m.start(), m.end()):
                taken[i] = True
        out.sort(key=lambda p: p.offset)
        return out

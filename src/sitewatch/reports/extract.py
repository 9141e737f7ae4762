"""Claims from report text: who says what happened where, and when.

The extractor reads sentence by sentence. A claim is a place (named, or referred
to as "the base" / "these sites", or the place the paragraph is about) joined to
an event (the nearest event word: "levelled", "withdrew", "convoys", "landed"...),
with the time expression nearest that event word, the quantities written with it,
and whether the text denies (``negated``) or doubts (``hedged``) it. How the place
was found is recorded (``site_match``): ``exact``, ``fuzzy``, ``coreference``
("the base") or ``context`` (the paragraph's place), so a reader can weigh it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
import re
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sitewatch.errors import DataWarning, ReportError
from sitewatch.reports.dates import DateMention, find_dates
from sitewatch.reports.places import PlaceMatcher
from sitewatch.reports.quantities import Quantity, find_quantities
from sitewatch.reports.text import DEFAULT_MAX_BYTES, ReportText, load_index, read_report
from sitewatch.types import Place

__all__ = [
    "CLAIMS_VERSION",
    "Claim",
    "EVENTS",
    "Event",
    "claims_document",
    "extract_claims",
    "extract_reports",
    "extract_text_claims",
    "iter_report_files",
]

CLAIMS_VERSION = "1.0"
Event = Literal["construction", "withdrawal", "arrival", "air_activity", "attack", "presence", "other"]
EVENTS: tuple[str, ...] = (
    "construction",
    "withdrawal",
    "arrival",
    "air_activity",
    "attack",
    "presence",
    "other",
)
SiteMatch = Literal["exact", "fuzzy", "coreference", "context", "unknown"]

_TRIGGERS: dict[str, str] = {
    "construction": (
        r"construct\w*|build(?:s|ing)?|built|expan(?:d|ds|ded|ding|sion|sions)|extend(?:s|ed|ing)?|extension|"
        r"level+(?:ed|ing)|concret(?:e|ed|ing)|pav(?:ed|ing)|asphalt\w*|bulldoz\w*|excavat\w*|earthworks?|"
        r"earth-?moving|fortif\w*|berms?|erect(?:s|ed|ing|ion)|new\s+facilit\w+|new\s+(?:hangars?|buildings?|"
        r"structures?|warehouses?|barracks|towers?|runway)|heavy\s+machinery|engineering\s+works?|"
        r"runway\s+(?:works?|extension|expansion)|growth|upgrad\w+|renovat\w+|install(?:ed|ing)|"
        r"clear(?:ed|ing)\s+(?:of\s+)?land|groundwork|foundations?|"
        r"works?\s+(?:began|begun|started|continued|resumed)"
    ),
    "withdrawal": (
        r"withdr[ae]w\w*|evacuat\w*|pull(?:ed|ing|s)?\s+out|pull-?out|drawdown|draw(?:ing|n)?\s+down|"
        r"vacat(?:e|ed|ing)|abandon\w*|dismantl\w*|hand(?:ed|ing)?\s+over|handover|departed|"
        r"clos(?:ed|ing|ure\s+of)\s+(?:the\s+|its\s+)?(?:base|facility|site|outpost)|exit(?:ed)?\s+from|"
        r"reduc(?:e|ed|es|ing|tion)|consolidat\w+|(?:ha[sd]|have|had\s+not|not|never)\s+left"
    ),
    "arrival": (
        r"convoys?|reinforc\w*|deliver(?:y|ies|ed|ing)?|arriv(?:e|ed|es|ing|al)|trucks?|lorries|shipments?|"
        r"supply\s+(?:runs?|lines?)|brought\s+in|sent\s+to|deploy(?:ed|ing|ment)?\s+(?:to|at)|entered|"
        r"reached|carrying|headed\s+(?:to|for)"
    ),
    "air_activity": (
        r"aircraft|(?:cargo|transport|military|warplanes?)\s+planes?|planes?|landed|landing|landings|"
        r"air-?drops?|helicopters?|flights?|sorties|C-17s?|C-130s?|Chinooks?|Black\s+Hawks?|air\s+traffic|"
        r"aerial\s+activity|airlift\w*|took\s+off|take-?offs?"
    ),
    "attack": (
        r"attack(?:s|ed|ing)?|strikes?|struck|shell(?:ed|ing)|rockets?|missiles?|bomb(?:s|ed|ing)|"
        r"targeted|explosions?|IEDs?|raid(?:s|ed)?|ambush\w*|drone\s+attacks?"
    ),
    "presence": (
        r"stationed|based\s+(?:at|in)|host(?:s|ed|ing)|presence|deployed|garrison(?:ed)?|serves?\s+as|"
        r"functions?\s+as|hub|operat(?:es|ed|ing)\s+(?:from|out\s+of)|housing|houses|"
        r"remains?\s+(?:fully\s+)?(?:operational|active|manned|in\s+use)"
    ),
}
_TRIGGER_RE = re.compile(
    "|".join(f"(?P<{k}>\\b(?:{v})\\b)" for k, v in _TRIGGERS.items()),
    re.I,
)
# Words of movement: their direction ("from X" / "to X") decides the event at X.
_MOVEMENT = re.compile(
    r"^(?:withdr\w+|relocat\w*|redeploy\w*|transfer\w*|mov(?:e|ed|es|ing|ement)|shift\w*|pull\w*|"
    r"convoys?|trucks?|lorries|carrying|entered|reinforc\w*|deliver\w*|sent\s+to|headed\s+(?:to|for))$",
    re.I,
)
_MOVEMENT_EXTRA = re.compile(
    r"\b(?:relocat(?:e|ed|es|ing|ion)|redeploy(?:ed|ing|ment|s)?|transfer(?:s|red|ring)?|"
    r"mov(?:e|ed|es|ing|ement)|shift(?:ed|ing|s)?)\b",
    re.I,
)
_CAPABILITY = re.compile(
    r"\b(?:capable\s+of|able\s+to|designed\s+to|large\s+enough\s+to|can\s+(?:accommodate|handle|receive)|"
    r"could\s+(?:accommodate|handle|receive))\b[^,;.]*",
    re.I,
)
_HEDGE = re.compile(
    r"\b(?:reportedly|allegedly|alleged|purportedly|supposedly|apparently|possibly|probably|likely|"
    r"perhaps|may|might|could|appears?\s+to|appeared\s+to|seem(?:s|ed)?\s+to|unconfirmed|unverified|"
    r"rumou?r(?:s|ed)?|it\s+is\s+believed|is\s+said\s+to|are\s+said\s+to|according\s+to|"
    r"sources?\s+(?:said|say|told|claimed)|claim(?:s|ed)?\s+that|"
    r"(?:has|have|had)\s+not\s+(?:been\s+)?officially\s+\w+|not\s+(?:been\s+)?officially\s+\w+|"
    r"no\s+official\s+(?:statement|confirmation|announcement)|intend(?:s|ed)?\s+to|plan(?:s|ned)?\s+to|"
    r"expected\s+to|set\s+to|will|would)\b",
    re.I,
)
_PLAN = re.compile(r"\b(?:intend|plan|expected|set\s+to|will|would)", re.I)
_ATTRIBUTION = re.compile(
    r"(?:reportedly|allegedly|purportedly|according\s+to|sources?\s+(?:said|say|told|claimed)|claim)", re.I
)
_DENIED_AFTER = re.compile(
    r"\b(?:(?:is|are|was|were)\s+(?:false|untrue|baseless|unfounded|incorrect|fake)|"
    r"(?:has|have|was|were)\s+(?:been\s+)?(?:denied|refuted|debunked))\b",
    re.I,
)
_NEGATION = re.compile(
    r"\b(?:not|no|never|neither|nor|without|denied|deny|denies|denying|refuted|rejected|false|"
    r"didn't|hasn't|haven't|wasn't|weren't|isn't|aren't|no\s+sign\s+of|no\s+evidence\s+of|rather\s+than|"
    r"instead\s+of)\b",
    re.I,
)
_ANAPHOR = re.compile(
    r"\b(?:the|this|that|these|those|both)\s+(?:same\s+|two\s+|three\s+|former\s+|latter\s+)?"
    r"(?P<head>air\s*bases?|bases|base|sites|site|facility|facilities|airfield|airstrip|compound|camp|"
    r"garrison|installations?|outpost|location|field)\b",
    re.I,
)
_ABBREV = {
    "u.s", "u.k", "u.n", "mr", "mrs", "ms", "dr", "gen", "lt", "col", "sgt", "maj", "capt", "st", "no", "vs",
    "e.g", "i.e", "approx", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
    "dec", "dept", "gov", "sen", "rep", "est", "fig", "inc", "ltd", "co", "corp", "al",
}  # fmt: skip
_SENTENCE_END = re.compile(r"[.!?]+[\"”’')\]]*\s+(?=[\"“‘(\[]?[A-Z0-9])")
_SIZE_KINDS = ("length", "area", "dimensions")


@dataclass(frozen=True)
class Claim:
    """One statement of a report about a place: what happened there and when.

    Parameters
    ----------
    id : str
        Stable identifier (a hash of source, position, site and event).
    source : dict
        ``file``, ``publisher``, ``url``, ``published``.
    quote : dict
        ``start``, ``end`` (character offsets into the report text) and ``text``
        (at most one sentence).
    site : str or None
        Canonical registry or gazetteer name; None for an unknown place.
    site_text : str
        The place as written ("Qasrek", "the base").
    site_kind : {"site", "place"} or None
        ``"site"`` for a watched AOI, ``"place"`` for a gazetteer entry.
    site_match : {"exact", "fuzzy", "coreference", "context", "unknown"}
        How the place was found.
    event : str
        One of :data:`EVENTS`.
    trigger : str or None
        The word that made the event.
    negated, hedged : bool
        Whether the text denies or doubts the event.
    planned : bool
        The text speaks of an intention or a forecast ("intended to transfer", "will
        consolidate", "in the coming months"), not of something done.
    cues : tuple of str
        The negation / hedge words found.
    when : dict
        ``start``, ``end`` (ISO dates or None = open), ``text``, ``kind``, ``open``, ``note``.
    quantities : tuple of dict
        Lengths (m), areas (m2), dimensions and counts (see :class:`~sitewatch.reports.quantities.Quantity`).
    """

    id: str
    source: dict[str, Any]
    quote: dict[str, Any]
    site: str | None
    site_text: str
    site_kind: str | None
    site_match: str
    event: str
    trigger: str | None
    negated: bool = False
    hedged: bool = False
    planned: bool = False
    cues: tuple[str, ...] = ()
    when: dict[str, Any] = field(default_factory=dict)
    quantities: tuple[dict[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (the claims-file schema)."""
        return {
            "id": self.id,
            "source": dict(self.source),
            "quote": dict(self.quote),
            "site": self.site,
            "site_text": self.site_text,
            "site_kind": self.site_kind,
            "site_match": self.site_match,
            "event": self.event,
            "trigger": self.trigger,
            "negated": self.negated,
            "hedged": self.hedged,
            "planned": self.planned,
            "cues": list(self.cues),
            "when": dict(self.when),
            "quantities": [dict(q) for q in self.quantities],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Claim:
        """Build a claim from its JSON form (see :meth:`as_dict`)."""
        return cls(
            id=data["id"],
            source=dict(data.get("source") or {}),
            quote=dict(data.get("quote") or {}),
            site=data.get("site"),
            site_text=data.get("site_text") or "",
            site_kind=data.get("site_kind"),
            site_match=data.get("site_match") or "exact",
            event=data["event"],
            trigger=data.get("trigger"),
            negated=bool(data.get("negated")),
            hedged=bool(data.get("hedged")),
            planned=bool(data.get("planned")),
            cues=tuple(data.get("cues") or ()),
            when=dict(data.get("when") or {}),
            quantities=tuple(dict(q) for q in data.get("quantities") or ()),
        )


# -- text structure -----------------------------------------------------------------------------


def _paragraphs(text: str) -> Iterator[tuple[int, int]]:
    """Spans of paragraphs: blank-line blocks, each split at line breaks that end a unit."""
    for block in re.finditer(r"[^\n]+(?:\n[^\n]+)*", text):
        start = block.start()
        lines = list(re.finditer(r"[^\n]+", block.group(0)))
        seg_start = start + lines[0].start()
        for cur, nxt in itertools.pairwise(lines):
            tail = cur.group(0).rstrip()
            head = nxt.group(0).lstrip()
            # A hard-wrapped sentence goes on in lower case or after a comma; anything else is a new unit.
            joined = bool(head) and (head[0].islower() or tail.endswith((",", "-", "(", ";")))
            if not joined:
                yield seg_start, start + cur.end()
                seg_start = start + nxt.start()
        yield seg_start, start + lines[-1].end()


def _sentences(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    chunk = text[start:end]
    pos = 0
    for m in _SENTENCE_END.finditer(chunk):
        before = re.search(r"([\w.]+?)[.!?]+[\"”’')\]]*\s+$", chunk[pos : m.end()])
        token = before.group(1).lower().rstrip(".") if before else ""
        if token in _ABBREV or (len(token) == 1 and token.isalpha()):
            continue
        s, e = pos, m.end()
        if chunk[s:e].strip():
            yield start + s + (len(chunk[s:e]) - len(chunk[s:e].lstrip())), start + len(chunk[:e].rstrip())
        pos = m.end()
    if chunk[pos:].strip():
        yield start + pos + (len(chunk[pos:]) - len(chunk[pos:].lstrip())), start + len(chunk.rstrip())


# -- events -------------------------------------------------------------------------------------


@dataclass
class _Trigger:
    event: str
    start: int
    end: int
    text: str
    movement: bool


def _triggers(sentence: str) -> list[_Trigger]:
    blocked = [False] * len(sentence)
    for m in _CAPABILITY.finditer(sentence):
        for i in range(m.start(), m.end()):
            blocked[i] = True
    out = []
    for m in _TRIGGER_RE.finditer(sentence):
        if blocked[m.start()]:
            continue
        event = m.lastgroup or "other"
        word = m.group(0)
        if event == "presence" and re.search(r"\b(?:air|aerial)\s*$", sentence[: m.start()], re.I):
            continue
        if re.match(r"\s+(?:elsewhere|at\s+other\s+(?:bases|sites))\b", sentence[m.end() :], re.I):
            continue  # "despite the drawdown elsewhere": about other places
        out.append(_Trigger(event, m.start(), m.end(), word, bool(_MOVEMENT.match(word))))
    for m in _MOVEMENT_EXTRA.finditer(sentence):
        if blocked[m.start()] or any(t.start <= m.start() < t.end for t in out):
            continue
        word = m.group(0).lower()
        # Without a direction, "relocation" or "redeploying forces at X" says nothing certain about X.
        out.append(_Trigger("other", m.start(), m.end(), m.group(0), True))
    out.sort(key=lambda t: t.start)
    return out


def _direction(sentence: str, trig: _Trigger, mention_start: int) -> str | None:
    """'from' / 'to' governing a place after a movement word ("transfer forces from X to Y")."""
    if mention_start < trig.end:
        return None
    between = sentence[trig.end : mention_start]
    if re.search(r"[;:]", between):
        return None
    preps = list(re.finditer(r"\b(from|to|toward|towards|into)\b", between, re.I))
    if not preps:
        return None
    return "from" if preps[-1].group(1).lower() == "from" else "to"


def _event_for(sentence: str, trig: _Trigger, mention_start: int) -> str:
    if not trig.movement:
        return trig.event
    direction = _direction(sentence, trig, mention_start)
    word = trig.text.lower()
    if direction == "to":
        return "arrival"
    if direction == "from":
        if word.startswith(("convoy", "truck", "lorr", "carrying", "deliver", "entered", "sent", "headed")):
            return "other"  # the origin of a convoy is a waypoint, not a withdrawal
        return "withdrawal"
    return trig.event


def _cues(sentence: str, trig: _Trigger, dates: Sequence[DateMention] = ()) -> tuple[bool, bool, list[str]]:
    cues: list[str] = []
    hedged = False
    negated = False
    hedge_spans = []
    for m in _HEDGE.finditer(sentence):
        if any(d.offset <= m.start() < d.offset + d.length for d in dates):
            continue  # "May 24" is a month, not a doubt
        hedge_spans.append((m.start(), m.end()))
        between = sentence[trig.end : m.start()] if m.start() >= trig.end else ""
        # Attribution ("..., according to residents") covers the whole sentence; a modal after a
        # comma ("..., likely in preparation for") speaks of something else.
        if m.start() < trig.start or not re.search(r"[,;:]", between) or _ATTRIBUTION.match(m.group(0)):
            hedged = True
            cues.append(m.group(0))
    clause_start = max(
        [
            m.end()
            for m in re.finditer(r"[,;:]\s|\b(?:but|although|though|while|whereas)\b", sentence[: trig.start])
        ]
        or [0]
    )
    window = sentence[clause_start : trig.start]
    words = window.split()
    near = " ".join(words[-8:])
    near_off = trig.start - len(near)
    for m in _NEGATION.finditer(near):
        absolute = near_off + m.start()
        if any(a <= absolute < b for a, b in hedge_spans):
            continue
        negated = True
        cues.append(m.group(0))
    later = _DENIED_AFTER.search(sentence, trig.end)
    if later and not negated:  # "Rumors that X was evacuated are false"
        negated = True
        cues.append(later.group(0))
    inner = re.search(r"\b(?:not|never)\b", trig.text, re.I)
    if inner and not negated:  # "had not left"
        negated = True
        cues.append(inner.group(0))
    if (
        re.search(r"\b(?:denied|denies|deny|refuted|rejected)\b", sentence[: trig.start], re.I)
        and not negated
    ):
        negated = True
        cues.append("denied")
    return negated, hedged, cues


# -- claims -------------------------------------------------------------------------------------


def _claim_id(file: str, offset: int, site: str | None, event: str, when: str) -> str:
    digest = hashlib.sha1(f"{file}|{offset}|{site}|{event}|{when}".encode()).hexdigest()[:10]
    return f"c-{digest}"


def _nearest(pos: int, items: Sequence[Any], key: Any) -> Any:
    return min(items, key=lambda it: abs(key(it) - pos)) if items else None


def _is_compatible(place: Place, head: str) -> bool:
    names = " ".join(place.all_names).lower()
    return not ("crossing" in names and "crossing" not in head)


@dataclass
class _Mention:
    offset: int  # in the sentence
    length: int
    text: str
    place: Place | None
    how: str
    score: float


def extract_text_claims(
    report: ReportText,
    *,
    places: Sequence[Place] | None = None,
    matcher: PlaceMatcher | None = None,
) -> list[Claim]:
    """Extract claims from a report already read into text.

    Parameters
    ----------
    report : ReportText
        As returned by :func:`~sitewatch.reports.text.read_report`.
    places : sequence of Place, optional
        Places to resolve names against; defaults to :func:`sitewatch.aoi.list_places`.
    matcher : PlaceMatcher, optional
        A prepared matcher (wins over ``places``; saves time over many reports).

    Returns
    -------
    list of Claim
        In text order. A report naming no known place gives an empty list.
    """
    if matcher is None:
        if places is None:
            from sitewatch.aoi import list_places

            places = list_places()
        matcher = PlaceMatcher(places)
    text = report.text
    published = report.published
    source = {k: report.meta.get(k) for k in ("file", "publisher", "url", "published")}
    if report.meta.get("published_from"):
        source["published_from"] = report.meta["published_from"]
    claims: list[Claim] = []
    # Coreference memory: (sentence index, known mentions, events per place name).
    history: list[tuple[int, list[_Mention], dict[str, set[str]]]] = []
    counts: dict[str, int] = {}
    sentence_index = 0

    for p_start, p_end in _paragraphs(text):
        paragraph_places: list[_Mention] = []
        paragraph_date: tuple[DateMention, set[str]] | None = None
        context_date: dt.date | None = None
        last_claims: list[tuple[int, Claim]] = []  # claims of the previous sentence in the paragraph
        for s_start, s_end in _sentences(text, p_start, p_end):
            sentence_index += 1
            if s_end - s_start > 2000:
                s_end = s_start + 2000  # a run-on block with no full stops is not one statement
            sentence = text[s_start:s_end]
            mentions = [
                _Mention(m.offset, m.length, m.text, m.place, m.how, m.score) for m in matcher.find(sentence)
            ]
            caption = bool(_CAPTION.search(sentence))
            triggers = [] if caption else _triggers(sentence)
            # "al-Tanf garrison", "Hemo training centre": words inside a place name are not events.
            triggers = [
                t for t in triggers if not any(m.offset <= t.start < m.offset + m.length for m in mentions)
            ]
            dates = find_dates(sentence, published=published, context=context_date)
            quantities = [
                q
                for q in find_quantities(sentence)
                if not any(d.offset <= q.offset < d.offset + d.length for d in dates)
            ]  # "dated March 3 shows new hangars" holds no count of hangars
            events_here = {t.event for t in triggers}

            for a in _ANAPHOR.finditer(sentence):
                resolved = _resolve_anaphor(a, sentence, mentions, history, counts, events_here, matcher)
                for ref in resolved:
                    mentions.append(
                        _Mention(a.start(), a.end() - a.start(), a.group(0), ref, "coreference", 0.0)
                    )
            mentions.sort(key=lambda m: m.offset)
            known_here = [m for m in mentions if m.place is not None]
            if caption:
                if known_here:
                    history.append((sentence_index, known_here, {}))
                continue

            sizes = [q for q in quantities if q.kind in _SIZE_KINDS]
            if (
                not mentions
                and not triggers
                and sizes
                and any(c.event == "construction" for _, c in last_claims)
            ):
                # "The larger site measures 193 by 94 meters": sizes of what the sentence before described.
                extra = tuple(_quantity_dict(q, s_start) for q in quantities)
                for k, (ci, c) in enumerate(last_claims):
                    if c.event == "construction":
                        new = _replace(c, quantities=c.quantities + extra)
                        claims[ci] = new
                        last_claims[k] = (ci, new)
                continue
            if not mentions and (triggers or sizes) and not _names_elsewhere(sentence):
                ctx = paragraph_places[-1] if paragraph_places else None
                physical = bool(events_here & _SITE_EVENTS) or bool(sizes)
                if ctx is None and physical and history and sentence_index - history[-1][0] <= 3:
                    # A paragraph that goes on about the place the text just named ("The eastern sector ...").
                    distinct = list(dict.fromkeys(m.place for m in history[-1][1] if m.place is not None))
                    if len(distinct) == 1:
                        ctx = next(m for m in history[-1][1] if m.place is distinct[0])
                if ctx is not None:
                    mentions = [_Mention(0, 0, ctx.text, ctx.place, "context", 0.0)]
            if not mentions:
                continue
            if not triggers and not sizes:
                # "the base" with no event and no measurement says nothing new about the place.
                mentions = [m for m in mentions if m.how not in ("coreference", "context")]
                if not mentions:
                    continue

            clauses = _clauses(sentence)
            plan = _assign(sentence, mentions, triggers, clauses)
            sentence_claims: list[Claim] = []
            seen: set[tuple[str, str, int]] = set()
            for mention, chosen in plan:
                groups: dict[tuple[str, int], tuple[_Trigger | None, DateMention | None]] = {}
                if not chosen:
                    date = _nearest(mention.offset, dates, lambda d: d.offset)
                    groups[("other", date.offset if date else -1)] = (None, date)
                for trig in chosen:
                    event = _event_for(sentence, trig, mention.offset)
                    date = _nearest(trig.start, _dates_for(trig, dates, clauses), lambda d: d.offset)
                    groups.setdefault((event, date.offset if date else -1), (trig, date))
                if any(e != "other" for e, _ in groups) and any(e == "other" for e, _ in groups):
                    groups = {k: v for k, v in groups.items() if k[0] != "other"}
                for (event, date_key), (trig_or_none, date) in groups.items():
                    trig_opt: _Trigger | None = trig_or_none
                    place = mention.place
                    dedupe_key = (place.name if place else mention.text.lower(), event, date_key)
                    if dedupe_key in seen:
                        continue
                    seen.add(dedupe_key)
                    inherited = None
                    if date is None and paragraph_date is not None and event in paragraph_date[1]:
                        inherited = paragraph_date[0]
                    when = _when(date, inherited, published)
                    negated = hedged = False
                    cue_list: list[str] = []
                    if trig_opt is not None:
                        negated, hedged, cue_list = _cues(sentence, trig_opt, dates)
                    if date is not None and "future period" in date.note:
                        hedged = True
                        cue_list.append(date.text)
                    planned = any(_PLAN.search(cue) for cue in cue_list) or bool(
                        date is not None and "future period" in date.note
                    )
                    single_place = len({m.place.name if m.place else m.text for m in mentions}) == 1
                    own_q = [
                        q for q in quantities
                        if single_place or _nearest(q.offset, mentions, lambda m: m.offset) is mention
                    ]  # fmt: skip
                    sentence_claims.append(
                        Claim(
                            id=_claim_id(
                                str(source.get("file")),
                                s_start,
                                place.name if place else mention.text,
                                event,
                                str(when.get("start")),
                            ),
                            source=source,
                            quote={"start": s_start, "end": s_end, "text": sentence},
                            site=place.name if place else None,
                            site_text=mention.text,
                            site_kind=place.kind if place else None,
                            site_match=mention.how,
                            event=event,
                            trigger=trig_opt.text if trig_opt else None,
                            negated=negated,
                            hedged=hedged,
                            planned=planned,
                            cues=tuple(dict.fromkeys(cue_list)),
                            when=when,
                            quantities=tuple(_quantity_dict(q, s_start) for q in own_q),
                        )
                    )
            events_by_place: dict[str, set[str]] = {}
            for c in sentence_claims:
                if c.site:
                    events_by_place.setdefault(c.site, set()).add(c.event)
            known_here = [m for m in mentions if m.place is not None and m.how != "context"]
            if known_here:
                history.append((sentence_index, known_here, events_by_place))
                for m in known_here:
                    if m.how in ("exact", "fuzzy") and m.place is not None:
                        counts[m.place.name] = counts.get(m.place.name, 0) + 1
            paragraph_places.extend(m for m in mentions if m.place is not None)
            last_claims = []
            for c in sentence_claims:
                claims.append(c)
                last_claims.append((len(claims) - 1, c))
            dated = [d for d in dates if d.start is not None]
            if dated:
                paragraph_date = (dated[-1], {c.event for c in sentence_claims})
                context_date = dated[-1].start
    return _dedupe(claims)


_SITE_EVENTS = {"construction", "arrival", "air_activity", "attack"}
_ELSEWHERE = re.compile(
    r"\b(?:in|from|across|into|throughout|within|inside)\s+(?:the\s+)?"
    r"(?:(?:north|south|east|west|central)\w*\s+)?[A-Z][a-z]+"
)


def _names_elsewhere(sentence: str) -> bool:
    """True when the sentence places itself somewhere ("in Syria", "across northeastern Syria")."""
    return bool(_ELSEWHERE.search(sentence))


_CAPTION = re.compile(
    r"\b(?:file\s+photo|photo(?:graph)?\s*(?:by|:)|image\s*:|pictured|\((?:AP|AFP|Reuters|Getty(?:\s+Images)?)\)|"
    r"(?:right|left|top|bottom)\s+image)\b|\((?:AP|AFP|Reuters)\)",
    re.I,
)
_CLAUSE_BREAK = re.compile(
    r"[;:—–]\s|\s(?=(?:while|whereas|although|though|but|however|unlike|despite|even\s+as)\b)", re.I
)
_CONTRAST = re.compile(r"^\W*(?:while|whereas|although|though|unlike|despite|even\s+as)\b", re.I)


def _dates_for(
    trig: _Trigger, dates: Sequence[DateMention], clauses: Sequence[tuple[int, int, bool]]
) -> list[DateMention]:
    """Dates that can belong to an event word: its own clause first, never a contrasting clause's."""
    ct = _clause_of(trig.start, clauses)
    same = [d for d in dates if _clause_of(d.offset, clauses) == ct]
    if same:
        return same
    if clauses[ct][2]:
        return []
    return [d for d in dates if not clauses[_clause_of(d.offset, clauses)][2]]


def _clauses(sentence: str) -> list[tuple[int, int, bool]]:
    """(start, end, is_contrast) spans of the sentence's clauses."""
    cuts = [0] + [m.end() for m in _CLAUSE_BREAK.finditer(sentence)] + [len(sentence)]
    out = []
    for a, b in itertools.pairwise(cuts):
        if b > a:
            out.append((a, b, bool(_CONTRAST.match(sentence[a:b]))))
    # "While X, Y": the contrast clause ends at its first comma.
    fixed: list[tuple[int, int, bool]] = []
    for a, b, contrast in out:
        comma = sentence.find(",", a, b)
        if contrast and comma != -1:
            fixed.append((a, comma + 1, True))
            fixed.append((comma + 1, b, False))
        else:
            fixed.append((a, b, contrast))
    return fixed


def _clause_of(pos: int, clauses: Sequence[tuple[int, int, bool]]) -> int:
    for i, (a, b, _) in enumerate(clauses):
        if a <= pos < b:
            return i
    return len(clauses) - 1


def _assign(
    sentence: str,
    mentions: Sequence[_Mention],
    triggers: Sequence[_Trigger],
    clauses: Sequence[tuple[int, int, bool]],
) -> list[tuple[_Mention, list[_Trigger]]]:
    """Which event words speak about which place."""
    if not triggers:
        return [(m, []) for m in mentions]
    governed: dict[int, _Trigger] = {}
    for i, m in enumerate(mentions):
        # "transfer forces from X to Y": a movement word governs the places its prepositions introduce.
        before = [t for t in triggers if t.movement and t.end <= m.offset
                  and _clause_of(t.start, clauses) == _clause_of(m.offset, clauses)]  # fmt: skip
        for t in reversed(before):
            if _direction(sentence, t, m.offset) is not None:
                governed[i] = t
                break
    own: dict[int, list[_Trigger]] = {i: [] for i in range(len(mentions))}
    for t in triggers:
        if any(t is g for g in governed.values()):
            continue
        ct = _clause_of(t.start, clauses)
        same = [i for i, m in enumerate(mentions) if _clause_of(m.offset, clauses) == ct]
        idx = same or ([] if clauses[ct][2] else list(range(len(mentions))))
        if not idx:
            continue  # "While some bases have seen withdrawals, ...": about other places
        best = min(idx, key=lambda i: _distance(t, mentions[i]))
        if best in governed:
            continue
        own[best].append(t)
    plan = []
    for i, m in enumerate(mentions):
        if i in governed:
            plan.append((m, [governed[i]]))
            continue
        chosen = own[i]
        if not chosen:
            cm = _clause_of(m.offset, clauses)
            pool = [t for t in triggers if _clause_of(t.start, clauses) == cm]
            if pool:
                chosen = [min(pool, key=lambda t: _distance(t, m))]
        plan.append((m, chosen))
    return plan


def _distance(t: _Trigger, m: _Mention) -> float:
    if m.offset >= t.end:
        return m.offset - t.end
    if t.start >= m.offset + m.length:
        return (t.start - (m.offset + m.length)) * 1.2
    return 0.0


def _resolve_anaphor(
    a: re.Match[str],
    sentence: str,
    mentions: Sequence[_Mention],
    history: Sequence[tuple[int, list[_Mention], dict[str, set[str]]]],
    counts: dict[str, int],
    events_here: set[str],
    matcher: PlaceMatcher,
) -> list[Place]:
    """Resolve "the base" / "these sites" to the places the text spoke of before."""
    if any(m.offset <= a.start() < m.offset + m.length for m in mentions):
        return []
    after = sentence[a.end() : a.end() + 30]
    if any(0 <= m.offset - a.end() <= 25 for m in mentions) and re.match(
        r"^\s*(?:near|at|in|of|outside|called|known\s+as|,)", after, re.I
    ):
        return []  # "the base near Green Village" names its place
    head = a.group("head").lower()
    if head in ("bases", "sites", "facilities", "installations", "air bases", "airbases"):
        for _, ms, events in reversed(history[-6:]):
            distinct = list(dict.fromkeys(m.place for m in ms if m.place is not None))
            if len(distinct) >= 2:
                fitting = [p for p in distinct if events.get(p.name, set()) & events_here]
                return fitting if len(fitting) >= 2 else distinct
        return []
    earlier = [m.place for m in reversed(mentions) if m.offset < a.start() and m.place is not None]
    candidates = earlier + [m.place for _, ms, _ in reversed(history[-12:]) for m in reversed(ms) if m.place]
    for place in candidates:
        if place is not None and _is_compatible(place, head):
            return [place]
    if counts:
        focus = max(counts, key=lambda k: counts[k])
        return [p for p in matcher.places if p.name == focus][:1]
    return []


def _replace(claim: Claim, **changes: Any) -> Claim:
    from dataclasses import replace

    return replace(claim, **changes)


def _quantity_dict(q: Quantity, base: int) -> dict[str, Any]:
    d = q.as_dict()
    d["offset"] = base + q.offset
    return d


def _when(
    date: DateMention | None, paragraph_date: DateMention | None, published: dt.date | None
) -> dict[str, Any]:
    if date is not None:
        return date.as_dict()
    if paragraph_date is not None:
        d = paragraph_date.as_dict()
        d["note"] = (
            d["note"] + "; " if d["note"] else ""
        ) + "no date in the sentence: taken from the paragraph"
        d["kind"] = "inherited"
        return d
    if published is not None:
        return {
            "start": None, "end": published.isoformat(), "text": "", "kind": "none", "open": True,
            "note": "no date in the text: only 'before publication' is known",
        }  # fmt: skip
    return {
        "start": None, "end": None, "text": "", "kind": "none", "open": True,
        "note": "no date in the text and no publication date: interval left open",
    }  # fmt: skip


def _dedupe(claims: list[Claim]) -> list[Claim]:
    out: dict[str, Claim] = {}
    for c in claims:
        out.setdefault(c.id, c)
    return list(out.values())


# -- files --------------------------------------------------------------------------------------

_REPORT_SUFFIXES = {".txt", ".text", ".html", ".htm", ".md", ".xhtml", ""}


def iter_report_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Yield report files from files and folders (folders: ``*.txt``, ``*.html``, ``*.htm``, ``*.md``).

    Parameters
    ----------
    paths : iterable of path-like
        Files or folders.

    Yields
    ------
    pathlib.Path

    Raises
    ------
    ReportError
        If a path does not exist.
    """
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for child in sorted(p.iterdir()):
                if (
                    child.is_file()
                    and child.suffix.lower() in _REPORT_SUFFIXES - {""}
                    and child.name != "index.json"
                ):
                    yield child
        elif p.is_file():
            yield p
        else:
            raise ReportError(f"report path {p} does not exist")


def extract_claims(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    published: dt.date | str | None = None,
    places: Sequence[Place] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[Claim]:
    """Extract claims from report files or folders of reports.

    Parameters
    ----------
    paths : path-like or iterable of path-like
        Report files (plain text or HTML page captures) or folders holding them.
        An ``index.json`` beside the files gives publisher, url and publication date.
    published : date or str, optional
        Publication date for every file (wins over ``index.json`` and datelines).
    places : sequence of Place, optional
        Places to resolve names against; defaults to :func:`sitewatch.aoi.list_places`.
    max_bytes : int
        Read at most this much of each file.

    Returns
    -------
    list of Claim

    Raises
    ------
    ReportError
        On a missing, binary or undecodable file.

    Warns
    -----
    DataWarning
        For an empty or truncated file, or a report without publication date.

    Examples
    --------
    >>> claims = extract_claims("reports/")            # doctest: +SKIP
    >>> [(c.site, c.event, c.when["start"]) for c in claims][:2]  # doctest: +SKIP
    """
    claims, _ = extract_reports(paths, published=published, places=places, max_bytes=max_bytes)
    return claims


def extract_reports(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    published: dt.date | str | None = None,
    places: Sequence[Place] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> tuple[list[Claim], list[dict[str, Any]]]:
    """Extract claims, and say what was read: one source record per file, claims or not.

    Parameters
    ----------
    paths, published, places, max_bytes
        As for :func:`extract_claims`.

    Returns
    -------
    claims : list of Claim
    sources : list of dict
        Per file: ``file``, ``path``, ``publisher``, ``url``, ``published``,
        ``published_from``, ``encoding``, ``kind`` (text/html), ``truncated``, ``claims``
        (how many) and ``warnings`` (the messages issued while reading it).

    Raises
    ------
    ReportError
        On a missing, binary or undecodable file.

    Warns
    -----
    DataWarning
        As :func:`extract_claims`; the same messages are kept in ``sources``.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if places is None:
        from sitewatch.aoi import list_places

        places = list_places()
    matcher = PlaceMatcher(places)
    out: list[Claim] = []
    sources: list[dict[str, Any]] = []
    indexes: dict[Path, dict[str, dict[str, Any]]] = {}
    for path in iter_report_files(paths):
        if path.parent not in indexes:
            indexes[path.parent] = load_index(path.parent)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            report = read_report(path, published=published, max_bytes=max_bytes, index=indexes[path.parent])
            if report.text.strip() and report.published is None:
                warnings.warn(
                    f"report {path} has no publication date (no index.json entry, page metadata, dateline "
                    "or --published): relative dates stay open",
                    DataWarning,
                    stacklevel=2,
                )
        for w in caught:  # kept for the record, and still shown to the caller
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        found = extract_text_claims(report, matcher=matcher) if report.text.strip() else []
        out.extend(found)
        sources.append(
            {
                **{
                    k: report.meta.get(k) for k in ("file", "publisher", "url", "published", "published_from")
                },
                "path": str(path),
                "encoding": report.encoding,
                "kind": report.kind,
                "truncated": report.truncated,
                "claims": len(found),
                "warnings": [str(w.message) for w in caught],
            }
        )
    return out, sources


def claims_document(
    claims: Sequence[Claim], sources: Sequence[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Wrap claims into the claims-file document (``{"sitewatch_claims": ..., "claims": [...]}``).

    Parameters
    ----------
    claims : sequence of Claim
    sources : sequence of dict, optional
        What was read (from :func:`extract_reports`); derived from the claims when not given.

    Returns
    -------
    dict
    """
    import sitewatch.version as sitewatch  # the version, not the package front door

    if sources is None:
        derived: dict[str, dict[str, Any]] = {}
        for c in claims:
            derived.setdefault(str(c.source.get("file")), dict(c.source))
        sources = list(derived.values())
    return {
        "sitewatch_claims": CLAIMS_VERSION,
        "generator": f"sitewatch {sitewatch.__version__}",
        "sources": [dict(s) for s in sources],
        "claims": [c.as_dict() for c in claims],
    }


def extract_claims_for(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    aois: Sequence[Any],
    *,
    published: dt.date | str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[Claim]:
    """Extract claims with the scanned AOIs known as places, whatever the registry holds.

    A scan may watch a site given as a user GeoJSON file: its name and aliases are added to
    the registry's places (and a registered site given as a bare geometry keeps the names
    reports use for it), so claims about it resolve to the name its alerts carry.

    Parameters
    ----------
    paths : path-like or iterable of path-like
        Report files or folders, as for :func:`extract_claims`.
    aois : sequence of AOI
        The scanned areas.
    published : date or str, optional
        Publication date when neither ``index.json`` nor the page says it.
    max_bytes : int
        How much of each file is read.

    Returns
    -------
    list of Claim

    Raises
    ------
    ReportError
        If a path does not exist or a file cannot be read as text.
    """
    import contextlib
    from dataclasses import replace

    from sitewatch.aoi import list_places
    from sitewatch.errors import SitewatchError

    targets = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    for target in targets:
        if not Path(target).exists():
            raise ReportError(f"reports path {target} does not exist")
    known: dict[str, Place] = {}
    with contextlib.suppress(SitewatchError):  # no registry: the scanned sites alone still resolve
        known = {p.name: p for p in list_places()}
    for aoi in aois:
        place = aoi.as_place()
        registered = known.get(aoi.name)
        if registered is not None and not place.aliases:
            place = replace(place, aliases=registered.aliases, display_name=registered.display_name)
        known[aoi.name] = place
    return list(
        extract_claims(targets, published=published, places=list(known.values()), max_bytes=max_bytes)
    )

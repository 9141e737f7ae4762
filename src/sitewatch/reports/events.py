"""Events in a sentence: event words, their direction, doubt and denial, clauses, which place each is about.

Language-neutral: every word list comes from the sentence's :class:`~sitewatch.reports.lexicon.Lexicon`.
Offsets are those of the sentence as analysed (Arabic: folded).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sitewatch.reports.dates import DateMention
from sitewatch.reports.lexicon import Lexicon
from sitewatch.types import Place

__all__ = [
    "Mention",
    "Trigger",
    "assign",
    "clause_of",
    "clauses",
    "cues",
    "dates_for",
    "direction",
    "distance",
    "event_clauses",
    "event_for",
    "find_triggers",
]


@dataclass
class Mention:
    """A place spoken of in a sentence (offsets in the sentence as analysed)."""

    offset: int
    length: int
    text: str
    place: Place | None
    how: str
    score: float
    candidates: tuple[Place, ...] = ()
    prefix: str = ""


@dataclass
class Trigger:
    """An event word in a sentence (offsets in the sentence as analysed)."""

    event: str
    start: int
    end: int
    text: str
    movement: bool


def find_triggers(sentence: str, lex: Lexicon) -> list[Trigger]:
    """Event words of a sentence, in order (none inside a capability: "capable of receiving aircraft")."""
    blocked = [False] * len(sentence)
    for m in lex.capability.finditer(sentence):
        for i in range(m.start(), m.end()):
            blocked[i] = True
    out = []
    for m in lex.triggers.finditer(sentence):
        if blocked[m.start()]:
            continue
        event = m.lastgroup or "other"
        word = m.group(0)
        before = lex.not_an_event_before.get(event)
        if before is not None and before.search(sentence[: m.start()]):
            continue
        if lex.not_an_event_after.match(sentence[m.end() :]):
            continue  # "despite the drawdown elsewhere": about other places
        out.append(Trigger(event, m.start(), m.end(), word, bool(lex.movement.match(word))))
    for m in lex.movement_extra.finditer(sentence):
        if blocked[m.start()] or any(t.start <= m.start() < t.end for t in out):
            continue
        word = m.group(0).lower()
        # Without a direction, "relocation" or "redeploying forces at X" says nothing certain about X.
        out.append(Trigger("other", m.start(), m.end(), m.group(0), True))
    out.sort(key=lambda t: t.start)
    return out


def direction(sentence: str, trig: Trigger, mention_start: int, lex: Lexicon, prefix: str = "") -> str | None:
    """'from' / 'to' / 'departed' governing a place after a movement word ("transfer forces from X to Y").

    'departed' when a verb of leaving stands between ("a convoy left X"), 'from' for a
    preposition of origin ("convoys from X": a waypoint), 'to' for a destination ("نقل ... إلى X").

    ``prefix`` is an Arabic clitic glued to the place ("لقسرك": to Qasrak).
    """
    if mention_start < trig.end:
        return None
    between = sentence[trig.end : mention_start]
    if re.search(r"[;:]", between):
        return None
    preps = list(lex.direction.finditer(between))
    if prefix in lex.glued_to and not re.search(r"\S", between[preps[-1].end() :] if preps else between):
        return "to"
    if not preps:
        return "to" if prefix in lex.glued_to else None
    word = " ".join(preps[-1].group(1).lower().split())
    if word in lex.departure_words:
        return "departed"  # "A convoy left al-Omar": the place lost what left it
    return "from" if word in lex.from_words else "to"


def event_for(sentence: str, trig: Trigger, mention_start: int, lex: Lexicon, prefix: str = "") -> str:
    """The event a trigger says of the place at ``mention_start`` (a movement's direction decides)."""
    if not trig.movement:
        return trig.event
    way = direction(sentence, trig, mention_start, lex, prefix)
    if way == "to":
        return "arrival"
    if way == "departed":
        return "withdrawal"
    if way == "from":
        if lex.convoy_words.match(trig.text):
            return "other"  # the origin of a convoy is a waypoint, not a withdrawal
        return "withdrawal"
    return trig.event


def cues(
    sentence: str, trig: Trigger, lex: Lexicon, dates: Sequence[DateMention] = ()
) -> tuple[bool, bool, list[str]]:
    """(negated, hedged, cue words) of an event word: denial and doubt in its sentence."""
    cues: list[str] = []
    hedged = False
    negated = False
    hedge_spans = []
    for m in lex.hedge.finditer(sentence):
        if any(d.offset <= m.start() < d.offset + d.length for d in dates):
            continue  # "May 24" is a month, not a doubt
        hedge_spans.append((m.start(), m.end()))
        between = sentence[trig.end : m.start()] if m.start() >= trig.end else ""
        # Attribution ("..., according to residents") covers the whole sentence; a modal after a
        # comma ("..., likely in preparation for") speaks of something else.
        if m.start() < trig.start or not re.search(r"[,;:]", between) or lex.attribution.match(m.group(0)):
            hedged = True
            cues.append(m.group(0))
    clause_start = max([m.end() for m in lex.clause_start.finditer(sentence[: trig.start])] or [0])
    window = sentence[clause_start : trig.start]
    words = window.split()
    near = " ".join(words[-8:])
    near_off = trig.start - len(near)
    for m in lex.negation.finditer(near):
        absolute = near_off + m.start()
        if any(a <= absolute < b for a, b in hedge_spans):
            continue
        negated = True
        cues.append(m.group(0))
    later = lex.denied_after.search(sentence, trig.end)
    if later and not negated:  # "Rumors that X was evacuated are false"
        negated = True
        cues.append(later.group(0))
    inner = lex.inner_negation.search(trig.text)
    if inner and not negated:  # "had not left"
        negated = True
        cues.append(inner.group(0))
    denial = lex.denied_before.search(sentence[: trig.start])
    if denial and not negated:
        negated = True
        cues.append(denial.group(0).strip())
    if lex.future_verb.match(trig.text):  # "ستنسحب": will withdraw
        hedged = True
        cues.append(trig.text)
    return negated, hedged, cues


def dates_for(
    trig: Trigger, dates: Sequence[DateMention], clauses: Sequence[tuple[int, int, bool]]
) -> list[DateMention]:
    """Dates that can belong to an event word: its own clause first, never a contrasting clause's."""
    ct = clause_of(trig.start, clauses)
    same = [d for d in dates if clause_of(d.offset, clauses) == ct]
    if same:
        return same
    if clauses[ct][2]:
        return []
    return [d for d in dates if not clauses[clause_of(d.offset, clauses)][2]]


def clauses(sentence: str, lex: Lexicon) -> list[tuple[int, int, bool]]:
    """(start, end, is_contrast) spans of the sentence's clauses."""
    cuts = [0] + [m.end() for m in lex.clause_break.finditer(sentence)] + [len(sentence)]
    out = []
    for a, b in itertools.pairwise(cuts):
        if b > a:
            out.append((a, b, bool(lex.contrast.match(sentence[a:b]))))
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


#: A coordinated predicate starts a clause of its own when its first words hold an event word
#: (this many words) or a date (this many): "..., and on 10 March began building at Y".
COORDINATED_TRIGGER_WORDS = 2
COORDINATED_DATE_WORDS = 3


def event_clauses(
    sentence: str,
    lex: Lexicon,
    triggers: Sequence[Trigger],
    dates: Sequence[DateMention],
    mentions: Sequence[Mention],
) -> list[tuple[int, int, bool]]:
    """Clauses of a sentence, with coordinated predicates apart (each event its place and date).

    "Forces withdrew from X on 3 March, and on 10 March began building at Y" tells two events,
    each with its own place and date: the sentence is cut at the coordination when the part
    before it and the part after it each hold an event word and a place or a date of their own,
    and the part after begins with an event word or a date; or when each part has a date of its
    own and the part after an event word ("ومنذ عام 2003 تستضيف القاعدة ...، وقد سبق أن تعرضت
    لهجمات عام 2020"). A list of places ("X and Y") or of things ("trucks and armoured vehicles")
    has no predicate of its own and is never cut.
    """
    base = clauses(sentence, lex)
    cuts: list[int] = []
    for m in lex.coordination.finditer(sentence):
        cut = m.start()
        ci = clause_of(cut, base)
        a, b, _ = base[ci]
        if not a < cut < b:
            continue
        left_from = max([a, *(c for c in cuts if a <= c < cut)])
        left = _Part.of(left_from, cut, triggers, dates, mentions)
        right = _Part.of(cut, b, triggers, dates, mentions)
        if left.dated and right.dated and right.event and (left.event or left.place):
            cuts.append(cut)  # each part its own date: neither date is the other's event's
            continue
        if left.predicate and right.predicate:
            words = [w.start() + m.end() for w in re.finditer(r"\S+", sentence[m.end() : b])]
            first_trigger = words[COORDINATED_TRIGGER_WORDS] if len(words) > COORDINATED_TRIGGER_WORDS else b
            first_date = words[COORDINATED_DATE_WORDS] if len(words) > COORDINATED_DATE_WORDS else b
            if any(cut <= t.start < first_trigger for t in triggers) or any(
                cut <= d.offset < first_date for d in dates
            ):
                cuts.append(cut)
    if not cuts:
        return base
    out: list[tuple[int, int, bool]] = []
    for a, b, contrast in base:
        inner = [a, *(c for c in cuts if a < c < b), b]
        out.extend((x, y, contrast) for x, y in itertools.pairwise(inner))
    return out


@dataclass(frozen=True)
class _Part:
    """What a span of a sentence holds: an event word, a date, a place written in it."""

    event: bool
    dated: bool
    place: bool

    @classmethod
    def of(
        cls,
        a: int,
        b: int,
        triggers: Sequence[Trigger],
        dates: Sequence[DateMention],
        mentions: Sequence[Mention],
    ) -> _Part:
        return cls(
            any(a <= t.start < b for t in triggers),
            any(a <= d.offset < b for d in dates),
            any(a <= m.offset < b for m in mentions if m.length),
        )

    @property
    def predicate(self) -> bool:
        """An event word with a place or a date: a predicate of its own."""
        return self.event and (self.dated or self.place)


def clause_of(pos: int, clauses: Sequence[tuple[int, int, bool]]) -> int:
    """Index of the clause that holds ``pos``."""
    for i, (a, b, _) in enumerate(clauses):
        if a <= pos < b:
            return i
    return len(clauses) - 1


def assign(
    sentence: str,
    mentions: Sequence[Mention],
    triggers: Sequence[Trigger],
    clauses: Sequence[tuple[int, int, bool]],
    lex: Lexicon,
) -> list[tuple[Mention, list[Trigger]]]:
    """Which event words speak about which place."""
    if not triggers:
        return [(m, []) for m in mentions]
    governed: dict[int, Trigger] = {}
    for i, m in enumerate(mentions):
        # "transfer forces from X to Y": a movement word governs the places its prepositions introduce.
        before = [t for t in triggers if t.movement and t.end <= m.offset
                  and clause_of(t.start, clauses) == clause_of(m.offset, clauses)]  # fmt: skip
        for t in reversed(before):
            if direction(sentence, t, m.offset, lex, m.prefix) is not None:
                governed[i] = t
                break
    own: dict[int, list[Trigger]] = {i: [] for i in range(len(mentions))}
    for t in triggers:
        if any(t is g for g in governed.values()):
            continue
        ct = clause_of(t.start, clauses)
        same = [i for i, m in enumerate(mentions) if clause_of(m.offset, clauses) == ct]
        idx = same or ([] if clauses[ct][2] else list(range(len(mentions))))
        if not idx:
            continue  # "While some bases have seen withdrawals, ...": about other places
        best = min(idx, key=lambda i: distance(t, mentions[i]))
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
            cm = clause_of(m.offset, clauses)
            pool = [t for t in triggers if clause_of(t.start, clauses) == cm]
            if pool:
                chosen = [min(pool, key=lambda t: distance(t, m))]
        plan.append((m, chosen))
    return plan


def distance(t: Trigger, m: Mention) -> float:
    """Characters between an event word and a place (a place before the word counts 1.2 times)."""
    if m.offset >= t.end:
        return m.offset - t.end
    if t.start >= m.offset + m.length:
        return (t.start - (m.offset + m.length)) * 1.2
    return 0.0

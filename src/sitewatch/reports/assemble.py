"""Claims from report text: who says what happened where, and when (every language, one assembly).

The extractor reads paragraph by paragraph, sentence by sentence. Each sentence is read in its
own language (a page may mix English and Arabic); Arabic is analysed folded (see
:func:`~sitewatch.reports.language.fold_arabic`) and every offset is mapped back, so quotes
and places are the text as written. A claim is a place (named, referred to as "the base" /
"القاعدة", named in the next or previous sentence of the paragraph, or the place the paragraph
is about) joined to an event (the nearest event word), with the time expression nearest that
word, the quantities written with it, and whether the text denies (``negated``) or doubts
(``hedged``) it. How the place was found is recorded (``site_match``), so a reader can weigh it.
A sentence's clauses each keep their own dates (:func:`~sitewatch.reports.events.event_clauses`);
a passage that recounts the past as context (:mod:`~sitewatch.reports.background`) gives claims
marked ``background``, dated only by their own date, and no date for the news around them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sitewatch.reports.background import Background, background_of
from sitewatch.reports.claims import Claim
from sitewatch.reports.dates import DateMention, find_dates
from sitewatch.reports.events import (
    Mention,
    Trigger,
    assign,
    clause_of,
    clauses,
    cues,
    dates_for,
    direction,
    event_clauses,
    event_for,
    find_triggers,
)
from sitewatch.reports.language import Folded, detect_language, fold_arabic
from sitewatch.reports.lexicon import Lexicon, lexicon_for
from sitewatch.reports.merge import merge_claims
from sitewatch.reports.places import PlaceMatcher
from sitewatch.reports.quantities import Quantity, find_quantities
from sitewatch.reports.sentences import paragraphs, sentences
from sitewatch.reports.text import ReportText
from sitewatch.reports.works import works_named
from sitewatch.types import Place

__all__ = ["MAX_SENTENCE_CHARS", "assemble_claims", "merge_claims"]

_SIZE_KINDS = ("length", "area", "dimensions")
_SITE_EVENTS = {"construction", "arrival", "air_activity", "attack"}
#: A run-on block with no full stops is not one statement: a sentence is read up to this length.
MAX_SENTENCE_CHARS = 2000


@dataclass
class _Sentence:
    """One sentence, analysed in its language."""

    start: int  # in the report text
    end: int
    original: str
    text: str  # as analysed (Arabic: folded)
    folded: Folded
    lex: Lexicon
    mentions: list[Mention]
    triggers: list[Trigger]
    quantities: list[Quantity]
    caption: bool

    @property
    def known(self) -> list[Mention]:
        """Mentions of registered places, named in the sentence itself."""
        return [m for m in self.mentions if m.place is not None and m.how in ("exact", "fuzzy")]

    def written(self, offset: int, length: int) -> str:
        """The original text of an analysed span."""
        a, b = self.folded.span(offset, offset + length)
        return self.original[a:b]


@dataclass
class _State:
    """What the extractor remembers across sentences of one report."""

    source: dict[str, Any]
    published: dt.date | None
    text: str
    claims: list[Claim] = field(default_factory=list)
    # Coreference memory: (sentence index, known mentions, events per place name).
    history: list[tuple[int, list[Mention], dict[str, set[str]]]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    index: int = 0
    dateline: tuple[int, int] | None = None  # the report's own date in the text: no event's date
    # The claims of the last sentence that made any, and that sentence's index: a denial in the
    # sentence after ("The SDF denied this.") is a denial of them.
    told: list[int] = field(default_factory=list)
    told_at: int = 0


def _analyse(text: str, start: int, end: int, matcher: PlaceMatcher) -> _Sentence:
    end = min(end, start + MAX_SENTENCE_CHARS)
    original = text[start:end]
    language = detect_language(original)
    folded = fold_arabic(original) if language == "ar" else Folded(original, None, len(original))
    lex = lexicon_for(language)
    analysed = folded.text
    # Mentions keep the name as written (with its diacritics), at offsets of the analysed text.
    mentions = [
        Mention(
            m.offset,
            m.length,
            original.__getitem__(slice(*folded.span(m.offset, m.end))),
            m.place,
            m.how,
            m.score,
            m.candidates,
            m.prefix,
        )
        for m in matcher.find(analysed, language=language)
    ]
    caption = bool(lex.caption.search(analysed))
    triggers = [] if caption else find_triggers(analysed, lex)
    # "al-Tanf garrison", "Hemo training centre": words inside a place name are not events.
    triggers = [t for t in triggers if not any(m.offset <= t.start < m.offset + m.length for m in mentions)]
    return _Sentence(
        start,
        end,
        original,
        analysed,
        folded,
        lex,
        mentions,
        triggers,
        find_quantities(analysed, language=language),
        caption,
    )


def assemble_claims(report: ReportText, matcher: PlaceMatcher) -> list[Claim]:
    """Claims of a report already read into text.

    Parameters
    ----------
    report : ReportText
    matcher : PlaceMatcher

    Returns
    -------
    list of Claim
        In text order.
    """
    source = {k: report.meta.get(k) for k in ("file", "publisher", "url", "published")}
    if report.meta.get("published_from"):
        source["published_from"] = report.meta["published_from"]
    state = _State(source, report.published, report.text)
    span = report.meta.get("dateline_span")
    state.dateline = (int(span[0]), int(span[1])) if span else None
    text = report.text
    for p_start, p_end in paragraphs(text):
        para = [_analyse(text, s, e, matcher) for s, e in sentences(text, p_start, p_end)]
        _paragraph(para, state, matcher)
    out: dict[str, Claim] = {}
    for c in state.claims:
        out.setdefault(c.id, c)
    return merge_claims(list(out.values()))


def _paragraph(para: Sequence[_Sentence], state: _State, matcher: PlaceMatcher) -> None:
    places_here: list[Mention] = []
    paragraph_date: tuple[DateMention, set[str]] | None = None
    context_date: dt.date | None = None
    last: list[int] = []  # indexes in state.claims of the previous sentence's claims
    for i, s in enumerate(para):
        state.index += 1
        dates = find_dates(s.text, published=state.published, context=context_date, language=s.lex.language)
        if state.dateline is not None:
            lo, hi = state.dateline
            dates = [d for d in dates if not lo <= s.start + s.folded.to_original(d.offset) < hi]
        # "officials said on Tuesday": the day of saying dates no event
        dates = [
            d
            for d in dates
            if not (
                s.lex.speech_before.search(s.text[: d.offset])
                and s.lex.speech_after.match(s.text[d.offset + d.length :])
            )
        ]
        # "dated March 3 shows new hangars" holds no count of hangars
        quantities = [
            q for q in s.quantities if not any(d.offset <= q.offset < d.offset + d.length for d in dates)
        ]
        _deny_previous(s, state)
        events_here = {t.event for t in s.triggers}
        mentions = list(s.mentions)
        for a in s.lex.anaphor.finditer(s.text):
            for ref in _resolve_anaphor(a, s, mentions, state, events_here, matcher):
                written = s.written(a.start(), a.end() - a.start())
                mentions.append(Mention(a.start(), a.end() - a.start(), written, ref, "coreference", 0.0))
        mentions.sort(key=lambda m: m.offset)
        if s.caption:
            known = [m for m in mentions if m.place is not None]
            if known:
                state.history.append((state.index, known, {}))
            continue
        sizes = [q for q in quantities if q.kind in _SIZE_KINDS]
        if (
            not mentions
            and not s.triggers
            and sizes
            and any(state.claims[k].event == "construction" for k in last)
        ):
            # "The larger site measures 193 by 94 meters": sizes of what the sentence before described.
            extra = tuple(_quantity_dict(q, s) for q in quantities)
            for k in last:
                if state.claims[k].event == "construction":
                    state.claims[k] = replace(state.claims[k], quantities=state.claims[k].quantities + extra)
            continue
        quote = (s.start, s.end)
        if not mentions and s.triggers:
            mentions = _region(s)
        if not mentions and (s.triggers or sizes):
            mentions, quote = _place_elsewhere(para, i, s, places_here, state, events_here, bool(sizes))
        if not mentions and s.triggers:
            mentions = _region(s, introduced=True)  # "a new base in rural al-Hasakah", named nowhere
        if not mentions:
            continue
        if not s.triggers and not quantities:
            # A place named with no event and no measurement ("Qasrak lies 30 km from Hasakah") is
            # no claim; it is remembered, so that "the base" in the sentences after finds it.
            named = [m for m in mentions if m.how in ("exact", "fuzzy") and m.place is not None]
            _remember(s, named, [], state)
            places_here.extend(named)
            continue
        made = _sentence_claims(s, mentions, dates, quantities, paragraph_date, quote, state)
        if _QUESTION.search(s.original):
            # "Is the US pulling out of al-Omar?": a question asserts nothing.
            made = [replace(c, hedged=True, cues=(*c.cues, "?")) for c in made]
        _remember(s, mentions, made, state)
        if made:
            state.told = list(range(len(state.claims), len(state.claims) + len(made)))
            state.told_at = state.index
        places_here.extend(m for m in mentions if m.place is not None)
        last = list(range(len(state.claims), len(state.claims) + len(made)))
        state.claims.extend(made)
        dated = [d for d in dates if d.start is not None]
        fresh = [c for c in made if not c.background]
        if dated and (fresh or not made):  # a background date is no date for the sentences after
            paragraph_date = (dated[-1], {c.event for c in fresh})
        if dated:
            context_date = dated[-1].start


_QUESTION = re.compile(r"[?؟]\s*[\"'”»)]*\s*$")
#: A denial refers back to the claims of a sentence at most this many sentences before it.
DENIAL_REACH_SENTENCES = 2


def _deny_previous(s: _Sentence, state: _State) -> None:
    """Deny what the text just told when this sentence denies it ("The SDF denied this.")."""
    found = s.lex.denies_previous.search(s.text)
    if found is None or not state.told or state.index - state.told_at > DENIAL_REACH_SENTENCES:
        return
    before = " ".join(s.text[: found.start()].split()[-3:])
    if s.lex.negation.search(before):
        return  # "did not deny the reports", "لم ينف ذلك"
    cue = s.written(found.start(), found.end() - found.start()).strip()
    for k in state.told:
        c = state.claims[k]
        if not c.negated:
            state.claims[k] = replace(c, negated=True, cues=(*c.cues, cue))
    state.told = []


_REGION_EVENTS = {"construction", "withdrawal", "arrival", "air_activity", "attack"}


def _region(s: _Sentence, *, introduced: bool = False) -> list[Mention]:
    """A province or vague area the event is placed in ("rural al-Hasakah", "ريف دير الزور").

    The event stays the region's: no site is borrowed from the sentences around it, unless the
    sentence introduces a place ("a new base in rural al-Hasakah"), which the next may name
    (``introduced``: no sentence named it, the region it is in is all the text says).
    """
    if not {t.event for t in s.triggers} & _REGION_EVENTS:
        return []
    if not introduced and s.lex.new_site.search(s.text):
        return []
    found = s.lex.region.search(s.text)
    if found is None:
        return []
    length = found.end() - found.start()
    return [Mention(found.start(), length, s.written(found.start(), length), None, "region", 0.0)]


def _single_place(mentions: Sequence[Mention]) -> Mention | None:
    distinct = list(dict.fromkeys(m.place.name for m in mentions if m.place is not None))
    return next(m for m in mentions if m.place is not None) if len(distinct) == 1 else None


def _place_elsewhere(
    para: Sequence[_Sentence],
    i: int,
    s: _Sentence,
    places_here: Sequence[Mention],
    state: _State,
    events_here: set[str],
    has_sizes: bool,
) -> tuple[list[Mention], tuple[int, int]]:
    """The place of a sentence that names none: the sentence next to it, the paragraph's, the text's."""
    quote = (s.start, s.end)
    lone = not s.lex.countries.search(s.text) and not s.lex.plural_places.search(s.text)
    if s.triggers and lone:
        prev = _single_place(para[i - 1].known) if i > 0 else None
        nxt = _single_place(para[i + 1].known) if i + 1 < len(para) and not para[i + 1].triggers else None
        # "The forces chose the village of Tell Brak": the place of an event named next to it.
        if prev is not None and prev.place is not None:
            return [Mention(0, 0, prev.text, prev.place, "adjacent_sentence", 0.0)], (
                para[i - 1].start,
                s.end,
            )
        if nxt is not None and nxt.place is not None:
            return [Mention(0, 0, nxt.text, nxt.place, "adjacent_sentence", 0.0)], (s.start, para[i + 1].end)
    if s.lex.elsewhere.search(s.text):
        return [], quote  # "in Syria", "في ريف الحسكة": somewhere the registry does not hold
    ctx = places_here[-1] if places_here else None
    physical = bool(events_here & _SITE_EVENTS) or has_sizes
    if ctx is None and physical and state.history and state.index - state.history[-1][0] <= 3:
        # A paragraph that goes on about the place the text just named ("The eastern sector ...").
        distinct = list(dict.fromkeys(m.place for m in state.history[-1][1] if m.place is not None))
        if len(distinct) == 1:
            ctx = next(m for m in state.history[-1][1] if m.place is distinct[0])
    if ctx is None:
        return [], quote
    return [Mention(0, 0, ctx.text, ctx.place, "context", 0.0)], quote


def _remember(s: _Sentence, mentions: Sequence[Mention], made: Sequence[Claim], state: _State) -> None:
    events_by_place: dict[str, set[str]] = {}
    for c in made:
        if c.site:
            events_by_place.setdefault(c.site, set()).add(c.event)
    known = [m for m in mentions if m.place is not None and m.how not in ("context", "adjacent_sentence")]
    if known:
        state.history.append((state.index, known, events_by_place))
        for m in known:
            if m.how in ("exact", "fuzzy") and m.place is not None:
                state.counts[m.place.name] = state.counts.get(m.place.name, 0) + 1


def _nearest(pos: int, items: Sequence[Any], key: Any) -> Any:
    return min(items, key=lambda it: abs(key(it) - pos)) if items else None


def _sentence_claims(
    s: _Sentence,
    mentions: Sequence[Mention],
    dates: Sequence[DateMention],
    quantities: Sequence[Quantity],
    paragraph_date: tuple[DateMention, set[str]] | None,
    quote: tuple[int, int],
    state: _State,
) -> list[Claim]:
    cls = event_clauses(s.text, s.lex, s.triggers, dates, mentions)
    plan = assign(s.text, mentions, s.triggers, cls, s.lex)
    made: list[Claim] = []
    seen: set[tuple[str, str, int]] = set()
    single_place = len({m.place.name if m.place else m.text for m in mentions}) == 1
    past = background_of(s.text, s.lex, dates, news_dates=[d for d in dates if d.kind == "relative"])
    dating = _Dating(dates, cls, _date_owners(s.triggers, dates, cls), past)
    for mention, chosen in plan:
        for (event, date_key), (maybe_trig, date) in _event_groups(s, mention, chosen, dating).items():
            key = (mention.place.name if mention.place else mention.text.lower(), event, date_key)
            if key in seen:
                continue
            seen.add(key)
            cue = past.cue(maybe_trig) if maybe_trig is not None else None
            if maybe_trig is None and mention.length and past.covers(mention.offset):
                continue  # a place named in a passage of the past, with no event: nothing told of it now
            if cue is not None and date is None:
                continue  # background with no date of its own: nothing to check, and no news
            inherited = (
                paragraph_date[0]
                if date is None and paragraph_date and event in paragraph_date[1] and cue is None
                else None
            )
            own = [
                q
                for q in quantities
                if single_place or _nearest(q.offset, mentions, lambda m: m.offset) is mention
            ]
            claim = _claim(s, mention, event, maybe_trig, date, inherited, dates, own, quote, state)
            if cue is not None:
                note = f"background ('{_written_cue(s, cue)}'): a past told as context, dated by its own date"
                when = {**claim.when, "note": "; ".join(x for x in (claim.when.get("note"), note) if x)}
                claim = replace(claim, background=True, when=when)
            made.append(claim)
    return made


@dataclass(frozen=True)
class _Dating:
    """What dates an event word of a sentence: its clauses, each date's event word, the background."""

    dates: Sequence[DateMention]
    clauses: Sequence[tuple[int, int, bool]]
    owner: dict[int, Trigger]
    past: Background

    def date_of(self, trig: Trigger) -> DateMention | None:
        """The date of an event word: of its clause, its own before another's, never background's for news."""
        possible = dates_for(trig, self.dates, self.clauses)
        if self.past.cue(trig) is None:
            # "The base, which had been a training centre since 2017, received ...": no news dated 2017.
            possible = [d for d in possible if not self.past.covers(d.offset)]
        # "arrived on 3 May, after the withdrawal on 28 April": a date goes with its nearest event word.
        own_dates = [d for d in possible if self.owner.get(d.offset) is trig] or possible
        return _nearest(trig.start, own_dates, lambda d: d.offset)

    def nearest(self, pos: int) -> DateMention | None:
        """The date nearest a place that has no event word (background dates aside)."""
        news = [d for d in self.dates if not self.past.covers(d.offset)]
        return _nearest(pos, news, lambda d: d.offset)


def _event_groups(
    s: _Sentence, mention: Mention, chosen: Sequence[Trigger], dating: _Dating
) -> dict[tuple[str, int], tuple[Trigger | None, DateMention | None]]:
    """(event, date offset) -> (event word, date) for one place of a sentence."""
    groups: dict[tuple[str, int], tuple[Trigger | None, DateMention | None]] = {}
    if not chosen:
        date = dating.nearest(mention.offset)
        groups[("other", date.offset if date else -1)] = (None, date)
    undirected: set[tuple[str, int]] = set()
    for trig in chosen:
        event = event_for(s.text, trig, mention.offset, s.lex, mention.prefix)
        date = dating.date_of(trig)
        key = (event, date.offset if date else -1)
        if trig.movement and direction(s.text, trig, mention.offset, s.lex, mention.prefix) is None:
            undirected.add(key)
        groups.setdefault(key, (trig, date))
    if any(e != "other" for e, _ in groups) and any(e == "other" for e, _ in groups):
        groups = {k: v for k, v in groups.items() if k[0] != "other"}
    if any(k[0] in _MOVES and k not in undirected for k in groups):
        # "رتلاً ... غادر قاعدة حقل العمر": the convoy left; its verb says so, not the convoy's default.
        groups = {k: v for k, v in groups.items() if k not in undirected or k[0] not in _MOVES}
    return groups


_MOVES = {"arrival", "withdrawal"}


def _written_cue(s: _Sentence, cue: str) -> str:
    """A background mark as written (Arabic: with its letters as the report has them)."""
    at = s.text.find(cue)
    return s.written(at, len(cue)) if at >= 0 else cue


def _date_owners(
    triggers: Sequence[Trigger], dates: Sequence[DateMention], cls: Sequence[tuple[int, int, bool]]
) -> dict[int, Trigger]:
    """The event word each date belongs to: the nearest one of its own clause, else the nearest."""
    owner: dict[int, Trigger] = {}
    for d in dates:
        here = [t for t in triggers if clause_of(t.start, cls) == clause_of(d.offset, cls)]
        pool = here or list(triggers)
        if pool:
            owner[d.offset] = min(pool, key=lambda t: _gap(t, d))
    return owner


def _gap(t: Trigger, d: DateMention) -> int:
    """Characters between an event word and a date."""
    if d.offset >= t.end:
        return d.offset - t.end
    return max(0, t.start - (d.offset + d.length))


def _claim(
    s: _Sentence,
    mention: Mention,
    event: str,
    trig: Trigger | None,
    date: DateMention | None,
    inherited: DateMention | None,
    dates: Sequence[DateMention],
    quantities: Sequence[Quantity],
    quote: tuple[int, int],
    state: _State,
) -> Claim:
    when = _when(s, date, inherited, state.published)
    negated = hedged = False
    cue_list: list[str] = []
    if trig is not None:
        negated, hedged, cue_list = cues(s.text, trig, s.lex, dates)
    future = date is not None and "future period" in date.note
    if future and date is not None:
        hedged = True
        cue_list.append(s.written(date.offset, date.length))
    planned = future or any(s.lex.plan.search(c) for c in cue_list)
    place = mention.place
    q_start, q_end = quote
    name = place.name if place else mention.text
    key = f"{state.source.get('file')}|{s.start}|{name}|{event}|{when.get('start')}"
    claim_id = hashlib.sha1(key.encode()).hexdigest()[:10]
    return Claim(
        id=f"c-{claim_id}",
        source=state.source,
        quote={"start": q_start, "end": q_end, "text": state.text[q_start:q_end]},
        site=place.name if place else None,
        site_text=mention.text,
        site_kind=place.kind if place else ("region" if mention.how == "region" else None),
        site_match=mention.how,
        event=event,
        trigger=s.written(trig.start, trig.end - trig.start) if trig else None,
        negated=negated,
        hedged=hedged,
        planned=planned,
        cues=tuple(dict.fromkeys(cue_list)),
        when=when,
        quantities=tuple(_quantity_dict(q, s) for q in quantities),
        language=s.lex.language,
        works=_works(s, trig) if event == "construction" else (),
        gloss={
            "event": s.lex.gloss(trig.text) if trig else event,
            "place": place.display_name if place else mention.text,
        },
        candidates=tuple(p.name for p in mention.candidates),
    )


def _works(s: _Sentence, trig: Trigger | None) -> tuple[str, ...]:
    """Kinds of work named in the event word's clause ("landed on the airstrip; bulldozers levelled")."""
    if trig is None:
        return works_named(s.text)
    for a, b, _ in clauses(s.text, s.lex):
        if a <= trig.start < b:
            return works_named(s.text[a:b])
    return works_named(s.text)


def _quantity_dict(q: Quantity, s: _Sentence) -> dict[str, Any]:
    d = q.as_dict()
    a, b = s.folded.span(q.offset, q.offset + len(q.text))
    d["offset"] = s.start + a
    d["text"] = s.original[a:b]
    return d


def _when(
    s: _Sentence, date: DateMention | None, paragraph_date: DateMention | None, published: dt.date | None
) -> dict[str, Any]:
    if date is not None:
        d = date.as_dict()
        d["text"] = s.written(date.offset, date.length)
        return d
    if paragraph_date is not None:
        d = paragraph_date.as_dict()
        d["note"] = (
            d["note"] + "; " if d["note"] else ""
        ) + "no date in the sentence: taken from the paragraph"
        d["kind"] = "inherited"
        return d
    if published is not None:
        return {
            "start": None,
            "end": published.isoformat(),
            "text": "",
            "kind": "none",
            "open": True,
            "note": "no date in the text: only 'before publication' is known",
        }
    return {
        "start": None,
        "end": None,
        "text": "",
        "kind": "none",
        "open": True,
        "note": "no date in the text and no publication date: interval left open",
    }


def _is_compatible(place: Place, head: str) -> bool:
    names = " ".join(place.all_names).lower()
    crossing = "crossing" in head or "معبر" in head
    return not ("crossing" in names and not crossing)


def _resolve_anaphor(
    a: re.Match[str],
    s: _Sentence,
    mentions: Sequence[Mention],
    state: _State,
    events_here: set[str],
    matcher: PlaceMatcher,
) -> list[Place]:
    """Resolve "the base" / "these sites" / "القاعدة" to the places the text spoke of before."""
    if any(m.offset <= a.start() < m.offset + m.length for m in mentions):
        return []
    after = s.text[a.end() : a.end() + 30]
    if any(0 <= m.offset - a.end() <= 25 for m in mentions) and s.lex.names_its_place.match(after):
        return []  # "the base near Green Village" names its place
    head = a.group("head").lower()
    if head in s.lex.plural_heads:
        for _, ms, events in reversed(state.history[-6:]):
            distinct = list(dict.fromkeys(m.place for m in ms if m.place is not None))
            if len(distinct) >= 2:
                fitting = [p for p in distinct if events.get(p.name, set()) & events_here]
                return fitting if len(fitting) >= 2 else distinct
        return []
    earlier = [m.place for m in reversed(mentions) if m.offset < a.start() and m.place is not None]
    candidates = earlier + [
        m.place for _, ms, _ in reversed(state.history[-12:]) for m in reversed(ms) if m.place
    ]
    for place in candidates:
        if place is not None and _is_compatible(place, head):
            return [place]
    if state.counts:
        focus = max(state.counts, key=lambda k: state.counts[k])
        return [p for p in matcher.places if p.name == focus][:1]
    return []

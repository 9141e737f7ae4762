"""The shape of what a language gives the claim extractor: the :class:`Lexicon` type.

Each language fills one (English in :mod:`~sitewatch.reports.lexicon_en`, Arabic in
:mod:`~sitewatch.reports.lexicon_ar`); :func:`sitewatch.reports.lexicon.lexicon_for` picks it.
The type lives apart from the choice so that the languages depend on it, not on each other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Lexicon"]


@dataclass(frozen=True)
class Lexicon:
    """The patterns of one language, compiled.

    Parameters
    ----------
    language : str
        ``"en"`` or ``"ar"``.
    triggers : re.Pattern
        Event words, one named group per event (``construction``, ``withdrawal``, ``arrival``,
        ``air_activity``, ``attack``, ``presence``).
    movement : re.Pattern
        Matched against a trigger word: a movement whose direction ("from X", "to X") decides
        the event at X.
    movement_extra : re.Pattern
        Movement words that are no event without a direction ("relocated", "نقل").
    convoy_words : re.Pattern
        Matched against a trigger word: a convoy whose origin is a waypoint, not a withdrawal.
    capability : re.Pattern
        "capable of ...", "قادر على ...": no event happens in it.
    not_an_event_before : mapping
        Event -> text just before a trigger that makes it no such event ("air presence", "مهبط
        الطائرات": an airstrip, not a flight).
    not_an_event_after : re.Pattern
        Text just after a trigger that makes it about other places ("the drawdown elsewhere").
    direction : re.Pattern
        Prepositions of direction; group 1 is the word.
    from_words : frozenset of str
        Which of them mean "from".
    glued_to : frozenset of str
        Clitics glued to a place name that mean "to" (Arabic ل).
    hedge, attribution, plan : re.Pattern
        Doubt ("reportedly", "يُعتقد"), attribution that covers the whole sentence ("according
        to", "بحسب"), and intention or forecast ("intended to", "تعتزم").
    future_verb : re.Pattern
        Matched against a trigger word: a verb in the future ("ستنسحب").
    negation, denied_before, denied_after, inner_negation : re.Pattern
        Negation words before a trigger, a denial anywhere before it ("denied", "نفى"), a
        denial after it ("... are false", "عارية عن الصحة"), negation inside the trigger ("had
        not left").
    clause_start : re.Pattern
        Where a clause begins (negation is looked for within the trigger's clause).
    clause_break, contrast : re.Pattern
        Clause boundaries, and clauses that speak of something else ("while ...", "بينما").
    anaphor : re.Pattern
        "the base", "these sites", "القاعدة"; group ``head`` is the noun.
    plural_heads : frozenset of str
        Heads that refer to several places.
    names_its_place : re.Pattern
        Text after an anaphor that shows it names a place ("the base near X", "القاعدة في X").
    caption : re.Pattern
        Photo captions and credits.
    elsewhere : re.Pattern
        A sentence that places itself somewhere not in the registry ("in Syria", "في ريف الحسكة").
    countries : re.Pattern
        Countries: an event there is not one place's, even if the next sentence names one.
    plural_places : re.Pattern
        "several bases", "القواعد": an event at many places.
    glosses : mapping
        Folded stem -> English gloss of a trigger ("رتل" -> "convoy").
    denies_previous : re.Pattern
        A denial that refers back to what the text just told ("The SDF denied this.",
        "dismissed the reports as baseless", "ونفى التحالف ذلك"): the claims of the sentence
        before are denied.
    region : re.Pattern
        A province or a vague area ("rural al-Hasakah", "the Deir ez-Zor countryside",
        "eastern Syria", "ريف دير الزور الشرقي"): an event there is the region's, never one
        site's, unless the text names the site.
    new_site : re.Pattern
        A place being introduced ("a new base", "قاعدة جديدة"): the sentence next to it may name it.
    background : re.Pattern
        Words that place an event before the story's time ("previously", "first set up",
        "سبق أن", "كان ... قد" + past): see :mod:`~sitewatch.reports.background`.
    past_perfect : re.Pattern
        A past perfect that may be background ("had been expanded"); never one after ``reported``.
    reported : re.Pattern
        Text before a past perfect that makes it a reported or subordinate clause's tense
        ("denied that", "reports that", "after").
    standing_since : re.Pattern
        "since 2017", "منذ عام 2003": a presence standing since then is background.
    relative_clause : re.Pattern
        A relative clause (", which ... ,"): a background mark inside it covers it alone.
    present_again : re.Pattern
        Where a sentence turns back to the present ("but", "لكن"): a background mark stops there.
    speech_before, speech_after : re.Pattern
        A date of saying, not of an event: text before it ("officials said on Tuesday", "وقال
        مسؤول يوم الاثنين") and after it (Arabic "إن / أن": what was said follows).
    coordination : re.Pattern
        A coordination that may join two predicates ("..., and on 10 March began", "، وبدأت"):
        :func:`~sitewatch.reports.events.event_clauses` cuts there when both sides tell an event.
    departure_words : frozenset of str
        Which ``direction`` words are verbs of leaving ("left", "departed"): what leaves a
        place withdraws from it, a convoy too.
    """

    language: str
    triggers: re.Pattern[str]
    movement: re.Pattern[str]
    movement_extra: re.Pattern[str]
    convoy_words: re.Pattern[str]
    capability: re.Pattern[str]
    not_an_event_before: Mapping[str, re.Pattern[str]]
    not_an_event_after: re.Pattern[str]
    direction: re.Pattern[str]
    from_words: frozenset[str]
    glued_to: frozenset[str]
    hedge: re.Pattern[str]
    attribution: re.Pattern[str]
    plan: re.Pattern[str]
    future_verb: re.Pattern[str]
    negation: re.Pattern[str]
    denied_before: re.Pattern[str]
    denied_after: re.Pattern[str]
    inner_negation: re.Pattern[str]
    clause_start: re.Pattern[str]
    clause_break: re.Pattern[str]
    contrast: re.Pattern[str]
    anaphor: re.Pattern[str]
    plural_heads: frozenset[str]
    names_its_place: re.Pattern[str]
    caption: re.Pattern[str]
    elsewhere: re.Pattern[str]
    countries: re.Pattern[str]
    plural_places: re.Pattern[str]
    glosses: Mapping[str, str]
    denies_previous: re.Pattern[str]
    region: re.Pattern[str]
    new_site: re.Pattern[str]
    coordination: re.Pattern[str]
    speech_before: re.Pattern[str]
    speech_after: re.Pattern[str]
    background: re.Pattern[str]
    past_perfect: re.Pattern[str]
    reported: re.Pattern[str]
    standing_since: re.Pattern[str]
    relative_clause: re.Pattern[str]
    present_again: re.Pattern[str]
    departure_words: frozenset[str] = frozenset()

    def gloss(self, trigger: str) -> str:
        """An English gloss of a trigger word (the word itself, lower-cased, in English)."""
        word = trigger.lower()
        if self.language == "en":
            return word
        for stem, gloss in self.glosses.items():
            if stem in word:
                return gloss
        return word

"""Background passages: what a report recounts of the past as context, not as news.

"The base was first set up in 2016", "U.S. troops previously withdrew from Green Village in
October 2019", "وكانت القوات قد انسحبت من القاعدة عام 2019", "وسبق أن تعرضت القاعدة لهجوم":
such passages tell of events, but the report is not reporting them; read as claims they would be
fresh events dated at the publication date. Their marks are grammatical and lexical, the same in
every report:

- words that place an event before the story's time ("previously", "formerly", "first set up",
  "once before", "in the past", "سبق أن", "في وقت سابق", "سابقاً", "من قبل"); Arabic "كان ... قد" +
  past (the pluperfect), which Arabic does not use for reported speech;
- the English past perfect ("had been expanded"), unless it is a reported or a subordinate
  clause's tense ("denied that troops had left", "reports that ... had evacuated", "after the base
  had been evacuated"), where English shifts a plain past back; or unless a date of the news
  period (one counted from the publication date: "on Monday", "last week") says it is news;
- a standing state since a year ("Since 2017, the field has hosted ...", "ومنذ عام 2003 تستضيف
  القاعدة ..."): a presence, not an event (this mark holds for ``presence`` only: work "since early
  August" is news).

A mark covers its clause and what follows in the sentence ("..., and later expanded with a
helicopter pad in 2018"), up to a clause that turns back to the present ("but", "لكن"), and a mark
inside a relative clause (", which U.S. forces had earlier used as a training centre,") covers
only that clause.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sitewatch.reports.dates import DateMention
from sitewatch.reports.events import Trigger, clause_of, clauses
from sitewatch.reports.word_lexicon import Lexicon

__all__ = ["Background", "background_of"]


@dataclass(frozen=True)
class Background:
    """The background spans of one sentence (offsets in the sentence as analysed)."""

    spans: tuple[tuple[int, int, str], ...] = ()
    standing: tuple[tuple[int, int, str], ...] = ()

    def covers(self, pos: int) -> bool:
        """Whether a position lies in a background passage (a date there dates the past, not news)."""
        return any(a <= pos < b for a, b, _ in self.spans)

    def cue(self, trig: Trigger) -> str | None:
        """The mark that makes an event word background, or None when it is news."""
        for a, b, cue in self.spans:
            if a <= trig.start < b:
                return cue
        if trig.event == "presence":
            for a, b, cue in self.standing:
                if a <= trig.start < b:
                    return cue
        return None


def _inside(pos: int, dates: Sequence[DateMention]) -> bool:
    return any(d.offset <= pos < d.offset + d.length for d in dates)


def _scope(sentence: str, lex: Lexicon, at: int) -> tuple[int, int]:
    """From the start of the mark's clause to the end of the sentence, or of its relative clause."""
    for rel in lex.relative_clause.finditer(sentence):
        if rel.start() <= at < rel.end():
            return rel.start(), rel.end()
    cls = clauses(sentence, lex)
    start = cls[clause_of(at, cls)][0]
    turn = lex.present_again.search(sentence, at)
    return start, turn.start() if turn else len(sentence)


def background_of(
    sentence: str,
    lex: Lexicon,
    dates: Sequence[DateMention],
    *,
    news_dates: Sequence[DateMention] = (),
) -> Background:
    """Where a sentence recounts the past as context.

    Parameters
    ----------
    sentence : str
        The sentence as analysed (Arabic: folded).
    lex : Lexicon
        Its language's words (``background``, ``past_perfect``, ``reported``, ``standing_since``,
        ``relative_clause``, ``present_again``).
    dates : sequence of DateMention
        The sentence's dates: a mark inside one ("earlier this month") is a date, not a mark.
    news_dates : sequence of DateMention
        Dates counted from the publication date ("on Monday", "last week"): with one in its
        clause, a past perfect is news told in sequence, not background.

    Returns
    -------
    Background
    """
    spans: list[tuple[int, int, str]] = []
    for m in lex.background.finditer(sentence):
        if not _inside(m.start(), dates):
            spans.append((*_scope(sentence, lex, m.start()), m.group(0).strip()))
    cls = clauses(sentence, lex)
    for m in lex.past_perfect.finditer(sentence):
        if _inside(m.start(), dates) or lex.reported.search(sentence[: m.start()]):
            continue  # "denied that troops had left", "after the base had been evacuated"
        here = clause_of(m.start(), cls)
        if any(clause_of(d.offset, cls) == here for d in news_dates):
            continue  # "had left by Monday": news told in sequence
        spans.append((*_scope(sentence, lex, m.start()), m.group(0).strip()))
    standing = [
        (*_scope(sentence, lex, m.start()), m.group(0).strip()) for m in lex.standing_since.finditer(sentence)
    ]
    return Background(tuple(spans), tuple(standing))

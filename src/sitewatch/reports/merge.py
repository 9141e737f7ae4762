"""One claim per statement: the same place, event and interval told again in a report is one claim.

A headline, the article's first sentence and its summary often tell the same thing; each
retelling would count again in every tally. :func:`merge_claims` keeps the telling that says
most the imagery can check, and lists the others in ``also``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sitewatch.reports.claims import SITE_MATCHES, Claim
from sitewatch.reports.language import fold_arabic

__all__ = ["merge_claims"]


def _same_statement(c: Claim) -> tuple[Any, ...]:
    place = c.site if c.site is not None else fold_arabic(c.site_text).text.casefold()
    return (
        place,
        c.site_match == "region",
        c.event,
        c.when.get("start"),
        c.when.get("end"),
        c.negated,
        c.planned,
        c.background,
    )


def _overlaps(a: Claim, b: Claim) -> bool:
    lo = max(a.when.get("start") or "0000", b.when.get("start") or "0000")
    hi = min(a.when.get("end") or "9999", b.when.get("end") or "9999")
    return lo <= hi


def _checks_apart(a: Claim, b: Claim) -> bool:
    """Both tellings name kinds of work or sizes, and not the same ones: each is checked on its own."""
    has_a, has_b = bool(a.works or a.quantities), bool(b.works or b.quantities)
    return has_a and has_b and (set(a.works) != set(b.works) or list(a.quantities) != list(b.quantities))


def merge_claims(claims: Sequence[Claim]) -> list[Claim]:
    """One claim per statement of a report: the same place, event and interval told twice is one claim.

    A headline, the article's first sentence and its summary often tell the same thing; each
    retelling would count again in every tally. The first telling with the surest place is
    kept; the others' passages go to ``also``, their sizes and cues are added, and the claim
    is doubted only if every telling doubts it. A region's event ("rural al-Hasakah") is
    dropped when the report places the same event at a named site in an overlapping interval:
    the text tied them. Two tellings that each name kinds of work or sizes, different ones,
    stay two claims: each has its own thing for the imagery to check.

    Parameters
    ----------
    claims : sequence of Claim
        The claims of one report, in text order.

    Returns
    -------
    list of Claim
        In text order of the kept claims.
    """
    rank = {m: i for i, m in enumerate(SITE_MATCHES)}
    kept: dict[tuple[Any, ...], Claim] = {}
    separate: list[Claim] = []
    for c in claims:
        key = _same_statement(c)
        first = kept.get(key)
        if first is None:
            kept[key] = c
            continue
        if _checks_apart(first, c):
            separate.append(c)  # levelling here, a pad of 150 x 80 m there: two things to check
            continue
        # The telling with sizes and kinds of work says most that imagery can check; then the surest place.
        best, other = sorted(
            (first, c),
            key=lambda x: (not x.quantities, -len(x.works), rank.get(x.site_match, 99), x.quote["start"]),
        )
        quantities = best.quantities + tuple(q for q in other.quantities if q not in best.quantities)
        kept[key] = replace(
            best,
            also=(*best.also, {k: other.quote[k] for k in ("start", "end", "text")}, *other.also),
            hedged=best.hedged and other.hedged,
            cues=tuple(dict.fromkeys(best.cues + other.cues)) if best.hedged and other.hedged else best.cues,
            quantities=quantities,
            works=tuple(dict.fromkeys(best.works + other.works)),
        )
    merged = sorted([*kept.values(), *separate], key=lambda c: c.quote["start"])
    placed = [c for c in merged if c.site is not None]
    return [
        c
        for c in merged
        if c.site_match != "region"
        or not any(p.event == c.event and p.negated == c.negated and _overlaps(p, c) for p in placed)
    ]

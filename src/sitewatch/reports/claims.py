"""The claim: one statement of a report about a place, and the claims-file document.

Shared by every language: the extractor fills it, the claims file stores it, the linker
judges it. Fields that the languages add (``language``, ``works``, ``gloss``) are English
glosses and codes, so a claim from an Arabic report reads the same way as one from an
English report; only ``quote`` and ``site_text`` stay in the report's own language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["CLAIMS_VERSION", "EVENTS", "SITE_MATCHES", "Claim", "Event", "SiteMatch", "claims_document"]

#: Version of the claims file: 1.1 adds ``language``, ``works``, ``gloss``, ``candidates``; 1.2 adds
#: ``also`` and ``site_match: "region"``; 1.3 adds ``background`` (1.0 to 1.2 files still load).
CLAIMS_VERSION = "1.3"
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
SiteMatch = Literal[
    "exact", "fuzzy", "coreference", "context", "adjacent_sentence", "ambiguous", "region", "unknown"
]
#: How a claim's place was found, from the surest to the least sure.
SITE_MATCHES: tuple[str, ...] = (
    "exact",
    "fuzzy",
    "adjacent_sentence",
    "coreference",
    "context",
    "ambiguous",
    "region",
    "unknown",
)


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
        ``start``, ``end`` (character offsets into the report text) and ``text``: the
        sentence as written, in the report's language (two sentences when the place is
        named in the sentence next to the event, ``site_match == "adjacent_sentence"``).
    site : str or None
        Canonical registry or gazetteer name; None for an unknown place, or when the name
        fits several places (``site_match == "ambiguous"``, see ``candidates``).
    site_text : str
        The place as written ("Qasrek", "the base", "قاعدة قسرك").
    site_kind : {"site", "place", "region"} or None
        ``"site"`` for a watched AOI, ``"place"`` for a gazetteer entry, ``"region"`` for a
        province or vague area.
    site_match : str
        How the place was found (:data:`SITE_MATCHES`): ``exact``, ``fuzzy`` (a spelling
        no alias lists), ``adjacent_sentence`` (named in the next or previous sentence of
        the paragraph), ``coreference`` ("the base"), ``context`` (the place the paragraph
        is about), ``ambiguous`` (the name fits two or more places), ``region`` (a province or
        vague area, "rural al-Hasakah", "ريف دير الزور": ``site`` is None, ``site_kind``
        ``"region"``), ``unknown``.
    event : str
        One of :data:`EVENTS` (English, whatever the report's language).
    trigger : str or None
        The word that made the event, as written.
    negated, hedged : bool
        Whether the text denies or doubts the event.
    planned : bool
        The text speaks of an intention or a forecast ("intended to transfer", "will
        consolidate", "in the coming months"), not of something done.
    cues : tuple of str
        The negation / hedge words found, as written.
    when : dict
        ``start``, ``end`` (ISO dates or None = open), ``text``, ``kind``, ``open``, ``note``.
    quantities : tuple of dict
        Lengths (m), areas (m2), dimensions and counts (see :class:`~sitewatch.reports.quantities.Quantity`).
    language : str
        ``"en"`` or ``"ar"``: the language of the quote.
    works : tuple of str
        For construction: the kinds of work named (keys of
        :data:`~sitewatch.reports.works.WORK_TYPES`: ``surface``, ``runway``, ``levelling``,
        ``building``); the linker checks each.
    gloss : dict
        English glosses: ``event`` (the trigger's meaning, "convoy", "pouring concrete") and
        ``place`` (the place's display name). Not a translation of the quote.
    candidates : tuple of str
        For ``site_match == "ambiguous"``: every place the name fits.
    background : bool
        The passage recounts the past as context ("The base was first set up in 2016", "وكانت
        القوات قد انسحبت ... عام 2019"), not as news: dated only by its own date (a background
        passage with no date of its own gives no claim), never by the publication date.
    also : tuple of dict
        Other passages of the same report that say the same thing (same place, event,
        interval, denial and intention), merged into this claim: ``start``, ``end``, ``text``.
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
    language: str = "en"
    works: tuple[str, ...] = ()
    gloss: dict[str, Any] = field(default_factory=dict)
    candidates: tuple[str, ...] = ()
    also: tuple[dict[str, Any], ...] = ()
    background: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (the claims-file schema)."""
        return {
            "id": self.id,
            "source": dict(self.source),
            "quote": dict(self.quote),
            "language": self.language,
            "site": self.site,
            "site_text": self.site_text,
            "site_kind": self.site_kind,
            "site_match": self.site_match,
            "candidates": list(self.candidates),
            "event": self.event,
            "works": list(self.works),
            "gloss": dict(self.gloss),
            "trigger": self.trigger,
            "negated": self.negated,
            "hedged": self.hedged,
            "planned": self.planned,
            "background": self.background,
            "cues": list(self.cues),
            "when": dict(self.when),
            "quantities": [dict(q) for q in self.quantities],
            "also": [dict(a) for a in self.also],
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
            language=data.get("language") or "en",
            works=tuple(data.get("works") or ()),
            gloss=dict(data.get("gloss") or {}),
            candidates=tuple(data.get("candidates") or ()),
            also=tuple(dict(a) for a in data.get("also") or ()),
            background=bool(data.get("background")),
        )


def claims_document(
    claims: Sequence[Claim], sources: Sequence[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Wrap claims into the claims-file document (``{"sitewatch_claims": ..., "claims": [...]}``).

    Parameters
    ----------
    claims : sequence of Claim
    sources : sequence of dict, optional
        What was read (from :func:`~sitewatch.reports.extract.extract_reports`); derived
        from the claims when not given.

    Returns
    -------
    dict
    """
    from sitewatch.version import __version__

    if sources is None:
        derived: dict[str, dict[str, Any]] = {}
        for c in claims:
            derived.setdefault(str(c.source.get("file")), dict(c.source))
        sources = list(derived.values())
    return {
        "sitewatch_claims": CLAIMS_VERSION,
        "generator": f"sitewatch {__version__}",
        "sources": [dict(s) for s in sources],
        "claims": [c.as_dict() for c in claims],
    }

"""A per-site Markdown brief: claims and detections side by side on one timeline, with verdicts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sitewatch.reports.claims import Claim
from sitewatch.reports.link import Link

__all__ = ["brief_markdown", "parts_text"]

_ICON = {
    "supported": "supported",
    "partly_supported": "partly supported",
    "contradicted": "**contradicted**",
    "not_visible": "not visible at 10 m",
    "no_clear_imagery": "no clear imagery",
    "not_assessed": "not assessed",
}


def _cell(text: Any, limit: int = 220) -> str:
    s = " ".join(str(text or "").split()).replace("|", "\\|")
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _claim_date(claim: Claim) -> str:
    start, end = claim.when.get("start"), claim.when.get("end")
    if start and end and start == end:
        return str(start)
    if start or end:
        return f"{start or '…'} to {end or '…'}"
    return "undated"


def parts_text(parts: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """A verdict's parts in one line: ``fits: ...; unverified: ...; contradicted: ...``.

    Parameters
    ----------
    parts : mapping
        ``Link.parts`` (or the ``parts`` of a links file entry).

    Returns
    -------
    str
        Empty when there are no parts.
    """
    out = []
    for status in ("fits", "unverified", "contradicted"):
        items = parts.get(status) or []
        if items:
            out.append(
                f"{status}: "
                + ", ".join(f"{p.get('part')} {p.get('claimed')} ({p.get('seen')})" for p in items)
            )
    return "; ".join(out)


def _sort_key(value: str | None) -> str:
    return value or "9999-12-31"


def brief_markdown(
    claims: Sequence[Claim],
    links: Sequence[Link],
    alerts: Mapping[str, Any] | Sequence[Mapping[str, Any]],
) -> str:
    """Write the Markdown brief for every site the alerts cover.

    Parameters
    ----------
    claims : sequence of Claim
    links : sequence of Link
        From :func:`~sitewatch.reports.link.link_claims`, one per claim.
    alerts : mapping or sequence of mappings
        The alerts FeatureCollection(s).

    Returns
    -------
    str
        Markdown: per site, the imagery used, a verdict count and a timeline table
        (date | what the reports say | what the imagery shows | verdict).
    """
    cols = [alerts] if isinstance(alerts, Mapping) else list(alerts)
    by_claim = {link.claim_id: link for link in links}
    lines: list[str] = ["# Reports and imagery", ""]
    covered = set()
    for col in cols:
        meta = col.get("sitewatch") or {}
        site = str(meta.get("aoi"))
        covered.add(site)
        site_claims = [c for c in claims if c.site == site]
        features = [f.get("properties") or {} for f in col.get("features") or []]
        used = meta.get("scenes_used") or []
        dropped = meta.get("scenes_dropped") or []
        lines += [f"## {site}", ""]
        sim = " **Simulated imagery: a test, not an observation.**" if meta.get("simulated") else ""
        lines.append(
            f"Imagery: {meta.get('source') or 'unknown source'}, {meta.get('start')} to {meta.get('end')}; "
            f"{len(used)} scenes used, {len(dropped)} dropped.{sim}"
        )
        lines.append("")
        counts: dict[str, int] = {}
        for c in site_claims:
            v = by_claim[c.id].verdict if c.id in by_claim else "not_assessed"
            counts[v] = counts.get(v, 0) + 1
        if counts:
            lines.append(
                "Verdicts: " + ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in sorted(counts.items()))
            )
            lines.append("")
        rows: list[tuple[str, str, str, str, str]] = []
        cited: set[str] = set()
        for c in site_claims:
            link = by_claim.get(c.id)
            imagery = ""
            if link is not None and link.alerts:
                imagery = "; ".join(
                    f"`{a['id']}` {a['change_type']} ({a.get('status')}, {a.get('last_unchanged')} to "
                    f"{a.get('first_detected')})"
                    for a in link.alerts
                )
                cited.update(str(a["id"]) for a in link.alerts)
                if link.parts:
                    imagery += f". {parts_text(link.parts)}"
            elif link is not None:
                imagery = link.reason
            flags = []
            if c.negated:
                flags.append("denied")
            if c.hedged:
                flags.append("hedged")
            if c.planned:
                flags.append("planned")
            if c.background:
                flags.append("background")
            say = f'{c.event}{" (" + ", ".join(flags) + ")" if flags else ""}: "{_cell(c.quote.get("text"))}"'
            say += f" [{c.source.get('file')}]"
            verdict = _ICON.get(link.verdict, link.verdict) if link else "not assessed"
            if link is not None and link.strength:
                verdict += f" ({link.strength})"
            rows.append(
                (_sort_key(c.when.get("start") or c.when.get("end")), _claim_date(c), say, imagery, verdict)
            )
        for p in features:
            if str(p.get("id")) in cited:
                continue
            what = (
                f"`{p.get('id')}` {p.get('change_type')} ({p.get('status')}, "
                f"confidence {p.get('confidence')}); "
                f"unchanged {p.get('last_unchanged')}, seen {p.get('first_detected')}"
            )
            if p.get("area_m2"):
                what += f"; {float(p['area_m2']):.0f} m2"
            rows.append(
                (_sort_key(p.get("first_detected")), str(p.get("first_detected")), "", what, "no claim")
            )
        rows.sort(key=lambda r: r[0])
        lines += ["| date | reports say | imagery shows | verdict |", "| --- | --- | --- | --- |"]
        lines += [f"| {d} | {_cell(s, 400)} | {_cell(i, 700)} | {v} |" for _, d, s, i, v in rows]
        lines.append("")
    others = [c for c in claims if c.site not in covered]
    if others:
        lines += ["## Other places named (no alerts given)", ""]
        lines += ["| place | as written | event | date | quote |", "| --- | --- | --- | --- | --- |"]
        for c in others:
            lines.append(
                f"| {c.site or 'unknown'} | {_cell(c.site_text, 60)} | {c.event} | {_claim_date(c)} | "
                f"{_cell(c.quote.get('text'))} |"
            )
        lines.append("")
    lines.append(f"_Written by sitewatch on {dt.date.today().isoformat()}._")
    return "\n".join(lines) + "\n"

"""The claims file: its JSON schema, and reading it back with every field checked."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from sitewatch.errors import ReportError
from sitewatch.reports.claims import CLAIMS_VERSION, EVENTS, SITE_MATCHES, Claim
from sitewatch.reports.works import WORK_TYPES

__all__ = ["CLAIMS_SCHEMA", "load_claims"]

_QUANTITY_SCHEMA = {
    "type": "object",
    "required": ["kind", "value", "unit"],
    "properties": {
        "kind": {"enum": ["length", "distance", "area", "dimensions", "count"]},
        "value": {"type": "number"},
        "unit": {"enum": ["m", "m2", "count"]},
        "qualifier": {"enum": ["exact", "approx", "lt", "le", "gt", "ge"]},
        "length_m": {"type": ["number", "null"]},
        "width_m": {"type": ["number", "null"]},
        "text": {"type": "string"},
        "offset": {"type": "integer"},
        "noun": {"type": ["string", "null"]},
    },
}
_DATE = {"type": ["string", "null"], "pattern": r"^\d{4}-\d{2}-\d{2}$"}
#: JSON schema of the claims file that ``sitewatch reports extract`` writes.
CLAIMS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["sitewatch_claims", "claims"],
    "properties": {
        "sitewatch_claims": {"type": "string"},
        "sources": {"type": "array", "items": {"type": "object"}},
        "claims": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "id",
                    "source",
                    "quote",
                    "site",
                    "site_text",
                    "event",
                    "negated",
                    "hedged",
                    "when",
                ],
                "properties": {
                    "id": {"type": "string", "minLength": 1},
                    "source": {"type": "object"},
                    "quote": {
                        "type": "object",
                        "required": ["start", "end", "text"],
                        "properties": {
                            "start": {"type": "integer", "minimum": 0},
                            "end": {"type": "integer", "minimum": 0},
                            "text": {"type": "string"},
                        },
                    },
                    "site": {"type": ["string", "null"]},
                    "site_text": {"type": "string"},
                    "site_kind": {"enum": ["site", "place", "region", None]},
                    "site_match": {"enum": list(SITE_MATCHES)},
                    "language": {"enum": ["en", "ar"]},
                    "candidates": {"type": "array", "items": {"type": "string"}},
                    "works": {"type": "array", "items": {"enum": list(WORK_TYPES)}},
                    "gloss": {"type": "object"},
                    "event": {"enum": list(EVENTS)},
                    "trigger": {"type": ["string", "null"]},
                    "negated": {"type": "boolean"},
                    "hedged": {"type": "boolean"},
                    "planned": {"type": "boolean"},
                    "background": {"type": "boolean"},
                    "cues": {"type": "array", "items": {"type": "string"}},
                    "when": {
                        "type": "object",
                        "required": ["start", "end"],
                        "properties": {"start": _DATE, "end": _DATE, "text": {"type": "string"}},
                    },
                    "quantities": {"type": "array", "items": _QUANTITY_SCHEMA},
                    "also": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["start", "end"],
                            "properties": {
                                "start": {"type": "integer", "minimum": 0},
                                "end": {"type": "integer", "minimum": 0},
                            },
                        },
                    },
                },
            },
        },
    },
}


def load_claims(path: str | os.PathLike[str]) -> list[Claim]:
    """Read and validate a claims file written by ``sitewatch reports extract``.

    Parameters
    ----------
    path : path-like
        The claims JSON file.

    Returns
    -------
    list of Claim

    Raises
    ------
    ReportError
        If the file is missing, not JSON, or does not follow :data:`CLAIMS_SCHEMA`
        (the message names the first offending field).
    """
    import jsonschema

    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(
            f"claims file {p} does not exist (write one with `sitewatch reports extract`)"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"claims file {p} is not valid JSON: {exc}") from None
    validator = jsonschema.Draft202012Validator(CLAIMS_SCHEMA)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = "/".join(str(x) for x in err.absolute_path) or "(top level)"
        raise ReportError(
            f"claims file {p} is not a sitewatch claims file: at {where}: {err.message} "
            f"({len(errors)} problem(s); re-create it with `sitewatch reports extract`)"
        )
    if str(doc["sitewatch_claims"]).split(".")[0] != CLAIMS_VERSION.split(".")[0]:
        raise ReportError(
            f"claims file {p} has version {doc['sitewatch_claims']}; this sitewatch reads {CLAIMS_VERSION}"
        )
    claims = [Claim.from_dict(c) for c in doc["claims"]]
    for c in claims:
        start, end = c.when.get("start"), c.when.get("end")
        for value in (start, end):
            if value is not None:
                try:
                    dt.date.fromisoformat(value)
                except ValueError:
                    raise ReportError(
                        f"claims file {p}: claim {c.id} has an impossible date {value!r}"
                    ) from None
        if start and end and start > end:
            raise ReportError(
                f"claims file {p}: claim {c.id} interval ends ({end}) before it starts ({start})"
            )
    return claims

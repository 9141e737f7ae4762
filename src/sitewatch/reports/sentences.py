"""Paragraphs and sentences of report text, in English and Arabic.

Offsets are those of the report text. Paragraphs are blank-line blocks, split where a line
ends a unit (a hard-wrapped English sentence goes on in lower case or after a comma; an
Arabic line goes on when it is long and ends without a full stop). Sentences end at ". ! ?"
and the Arabic "؟" (English abbreviations such as "U.S." and "Gen." do not end one).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

__all__ = ["paragraphs", "sentences"]

_ABBREV = {
    "u.s", "u.k", "u.n", "mr", "mrs", "ms", "dr", "gen", "lt", "col", "sgt", "maj", "capt", "st", "no", "vs",
    "e.g", "i.e", "approx", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
    "dec", "dept", "gov", "sen", "rep", "est", "fig", "inc", "ltd", "co", "corp", "al",
}  # fmt: skip
# An English sentence ends before a capital or a digit; an Arabic one before any Arabic letter or digit.
_SENTENCE_END = re.compile(
    r"[.!?]+[\"”’')\]»]*\s+(?=[\"“‘(\[«]?[A-Z0-9])|[.!?؟]+[\"”’')\]»]*\s+(?=[\"“‘(\[«]?[\u0600-\u06ff0-9])"
)


def paragraphs(text: str) -> Iterator[tuple[int, int]]:
    """Spans of paragraphs: blank-line blocks, each split at line breaks that end a unit."""
    for block in re.finditer(r"[^\n]+(?:\n[^\n]+)*", text):
        start = block.start()
        lines = list(re.finditer(r"[^\n]+", block.group(0)))
        seg_start = start + lines[0].start()
        for cur, nxt in itertools.pairwise(lines):
            tail = cur.group(0).rstrip()
            head = nxt.group(0).lstrip()
            # A hard-wrapped sentence goes on in lower case or after a comma; anything else is a new unit.
            joined = bool(head) and (head[0].islower() or tail.endswith((",", "-", "(", ";", "،", "؛")))
            if not joined and _ARABIC_LINE.match(tail) and _ARABIC_LINE.match(head):
                # Arabic has no capitals: a long line that ends without a full stop runs on.
                joined = len(tail) > 60 and not tail.endswith((".", "!", "?", "؟", ":", "»", '"'))
            if not joined:
                yield seg_start, start + cur.end()
                seg_start = start + nxt.start()
        yield seg_start, start + lines[-1].end()


def sentences(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Spans of the sentences of ``text[start:end]`` (a paragraph)."""
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


_ARABIC_LINE = re.compile("^\\s*[\\u0600-\\u06ff]")

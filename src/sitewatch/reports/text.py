"""Read a report file as clean text: encodings, HTML page captures, bounded size.

A report is plain text or HTML as saved from a web page. The text that claims
point into (character offsets) is the one :func:`read_report` returns in
:attr:`ReportText.text`: for plain text the decoded file (line ends normalised),
for HTML the article text extracted from the page.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sitewatch.errors import DataWarning, ReportError
from sitewatch.reports.published import find_publication_date

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_CHARS",
    "ReportText",
    "html_to_text",
    "strip_text_boilerplate",
    "load_index",
    "read_report",
]

#: How much of a file is read at most. Reports are articles (a few tens of kB);
#: a page capture with scripts rarely passes 2 MB. Anything beyond is cut with a warning,
#: so a 50 MB file costs the same bounded time and memory as a 4 MB one.
DEFAULT_MAX_BYTES = 4_000_000
#: How much extracted text is searched for claims at most (an article is well under 100 000
#: characters; a dump of a whole site is cut here with a warning).
DEFAULT_MAX_CHARS = 500_000

_HTML_SNIFF = re.compile(rb"<\s*(!doctype\s+html|html|head|body|div|p|article|meta|title)\b", re.I)
# Control characters other than tab, newline, carriage return and form feed mark binary data.
_CONTROL = set(range(0, 9)) | {11} | set(range(14, 32))


@dataclass(frozen=True)
class ReportText:
    """A report decoded to text, with what is known about its source.

    Parameters
    ----------
    text : str
        Clean text; claim offsets point into it.
    path : str or None
        The file it was read from.
    encoding : str
        The detected (or given) encoding.
    kind : {"text", "html"}
        What the file held.
    truncated : bool
        True when the file was larger than the read limit and only its start was used.
    title : str or None
        Page title, where the file had one.
    meta : dict
        Source metadata: ``publisher``, ``url``, ``published`` (ISO date or None),
        ``published_from`` (``"option"``, ``"index"``, ``"page metadata"``, ``"dateline"``,
        ``"signature"``, ``"filename"`` or None: see :mod:`sitewatch.reports.published`).
    """

    text: str
    path: str | None = None
    encoding: str = "utf-8"
    kind: str = "text"
    truncated: bool = False
    title: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def published(self) -> dt.date | None:
        """Publication date, where known."""
        value = self.meta.get("published")
        return dt.date.fromisoformat(value) if value else None


def _utf16_without_bom(raw: bytes) -> str | None:
    """``"utf-16-le"`` / ``"utf-16-be"`` when BOM-less bytes read as UTF-16 text, else None.

    Text in UTF-16 keeps its code units' high bytes in a few values (0x00 for Latin, 0x06 for
    Arabic, 0x20 for punctuation) and decodes to printable characters with spaces between words;
    binary data spreads its bytes over every value and decodes to noise.
    """
    sample = raw[:65536]
    sample = sample[: len(sample) // 2 * 2]
    if len(sample) < 8:
        return None
    for name, high_at in (("utf-16-le", 1), ("utf-16-be", 0)):
        highs = sample[high_at::2]
        counts = sorted((highs.count(bytes([v])) for v in set(highs)), reverse=True)
        if sum(counts[:4]) < 0.9 * len(highs):
            continue
        try:
            decoded = sample.decode(name)
        except UnicodeDecodeError:
            continue
        if not decoded or "\x00" in decoded:
            continue
        printable = sum(1 for c in decoded if c.isprintable() or c in "\n\r\t")
        spaces = sum(1 for c in decoded if c.isspace())
        if printable >= 0.98 * len(decoded) and spaces >= 0.02 * len(decoded):
            return name
    return None


def _looks_binary(raw: bytes) -> bool:
    sample = raw[:65536]
    if not sample or sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False  # empty, or UTF-16 with its byte-order mark (NULs are normal there)
    if b"\x00" in sample:
        return _utf16_without_bom(raw) is None
    controls = sum(1 for b in sample if b in _CONTROL)
    return controls / len(sample) > 0.02


def _decode(raw: bytes, *, where: str, encoding: str | None) -> tuple[str, str]:
    if encoding:
        try:
            return raw.decode(encoding), encoding
        except (LookupError, UnicodeDecodeError) as exc:
            raise ReportError(f"report {where} cannot be decoded as {encoding}: {exc}") from None
    for bom, name in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if raw.startswith(bom):
            return raw.decode(name, errors="replace"), name
    if b"\x00" in raw[:65536]:
        utf16 = _utf16_without_bom(raw)
        if utf16 is not None:
            return raw[: len(raw) // 2 * 2].decode(utf16, errors="replace"), utf16
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        # A cut in the middle of a multi-byte character at the read limit is not a wrong guess.
        if exc.start >= len(raw) - 4:
            return raw[: exc.start].decode("utf-8"), "utf-8"
    declared = re.search(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_\-]+)", raw[:4096], re.I)
    if declared:
        name = declared.group(1).decode("ascii")
        try:
            return raw.decode(name), name
        except (LookupError, UnicodeDecodeError):
            pass
    from charset_normalizer import from_bytes

    matches = from_bytes(raw[:1_000_000])
    best = matches.best()
    # On short texts several single-byte code pages decode "equally well"; like web browsers,
    # prefer windows-1252 (the usual legacy encoding of Western pages) unless it is clearly worse.
    # Never over an Arabic code page that reads as Arabic (windows-1256, ISO-8859-6).
    western = next((m for m in matches if m.encoding == "cp1252"), None)
    arabic = best is not None and "Arabic" in (best.languages or [best.language])
    if best is not None and western is not None and not arabic and western.chaos <= best.chaos + 0.1:
        best = western
    if best is None or best.encoding is None:
        raise ReportError(
            f"report {where}: the text encoding cannot be detected; pass the encoding explicitly"
        )
    return raw.decode(best.encoding, errors="replace"), best.encoding


_BOILERPLATE_RE = re.compile(
    r"nav|menu|footer|header|sidebar|aside|comment|reply|share|social|related|most[-_ ]?read|popular|"
    r"trending|ticker|breaking|newsletter|subscribe|cookie|banner|advert|promo|widget|breadcrumb|tags?$",
    re.I,
)
_DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "iframe",
    "svg",
    "button",
)
_BLOCK_TAGS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "figcaption", "td", "pre")


def _soup_text(html: str) -> tuple[str, str | None]:
    """Article text by structure: drop page furniture, keep headings and paragraphs."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(True):
        if tag.attrs is None:  # already removed with a parent
            continue
        names = " ".join([*(tag.get("class") or []), str(tag.get("id") or ""), str(tag.get("role") or "")])
        furniture = names.strip() and any(_BOILERPLATE_RE.search(n) for n in names.split())
        if furniture and tag.name not in ("body", "html", "main", "article"):
            tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    blocks = []
    for tag in root.find_all(_BLOCK_TAGS):
        if tag.find(_BLOCK_TAGS):  # the innermost block carries the text
            continue
        text = " ".join(tag.get_text(" ", strip=True).split())
        if text:
            blocks.append(text)
    if not blocks:
        blocks = [line.strip() for line in root.get_text("\n").splitlines() if line.strip()]
    return "\n\n".join(blocks), title


def _xml_paragraphs(xml: str) -> str:
    """Paragraphs of trafilatura's XML output, one per block, whitespace inside each collapsed."""
    from lxml import etree

    root = etree.fromstring(xml.encode("utf-8"))
    main = root.find("main")
    blocks = []
    for el in (main if main is not None else root).iter("head", "p", "item", "quote", "cell"):
        if any(child.tag in ("p", "item") for child in el):
            continue
        block = " ".join("".join(el.itertext()).split())
        if block:
            blocks.append(block)
    return "\n\n".join(blocks)


def html_to_text(html: str, *, page_meta: dict[str, Any] | None = None) -> tuple[str, str | None]:
    """Extract the article text (and title) from an HTML page capture.

    Uses trafilatura (main-content extraction: drops menus, tickers, "most read"
    lists, comment forms), and falls back to a structural BeautifulSoup pass when
    trafilatura finds nothing that looks like an article.

    Parameters
    ----------
    html : str
        The page as saved.
    page_meta : dict, optional
        Filled with what the page states about itself: ``published`` (ISO date from meta
        tags), ``url`` (canonical), ``publisher`` (site name), where present.

    Returns
    -------
    text : str
        Paragraphs separated by blank lines.
    title : str or None
        The page or article title.
    """
    text: str | None = None
    title: str | None = None
    if page_meta is None:
        page_meta = {}
    try:
        import trafilatura
    except ImportError as exc:
        # A declared dependency that does not import is a broken install, not a missing option.
        raise ReportError(
            f"HTML reports need trafilatura, which cannot be imported ({exc}); reinstall sitewatch's "
            'dependencies with `pip install -e ".[dev]"` (or `pip install lxml_html_clean trafilatura`)'
        ) from None
    try:
        xml = trafilatura.extract(
            html,
            output_format="xml",
            include_comments=False,
            include_tables=False,
            include_links=False,
            favor_precision=True,
            deduplicate=True,
        )
        text = _xml_paragraphs(xml) if xml else None
        # Only dates the page states (meta tags, <time>), never guessed from the body text.
        meta = trafilatura.extract_metadata(
            html, date_config={"extensive_search": False, "original_date": True}
        )
    except Exception as exc:  # a page trafilatura trips over: read it by its structure, and say so
        warnings.warn(
            f"trafilatura could not read this page ({type(exc).__name__}: {exc}); its text was taken "
            "from the page structure instead and its metadata (date, publisher) is not known",
            DataWarning,
            stacklevel=3,
        )
        text, meta = None, None
    if meta is not None:
        title = meta.title
        page_meta.update({"published": meta.date, "url": meta.url, "publisher": meta.sitename})
    soup_title = None
    if not text or len(text) < 300:
        # Too little to be the article: trafilatura missed it; read the page by its structure.
        fallback, soup_title = _soup_text(html)
        if len(fallback) > len(text or ""):
            text = fallback
    title = title or soup_title
    text = text or ""
    if title and not text.lstrip().startswith(title[:40]):
        text = f"{title}\n\n{text}"
    return text, title


_LIST_HEADER = re.compile(
    r"^\s*(?:most\s+(?:read|popular|viewed|shared|commented)|trending(?:\s+now)?|related(?:\s+(?:articles|stories|"
    r"news|posts))?|recommended(?:\s+for\s+you)?|you\s+may\s+also\s+like|more\s+from\s+.{0,40}|"
    r"top\s+stories|latest(?:\s+news)?|editor'?s\s+picks|breaking(?:\s+news)?|"
    # Arabic (folded): most read / viewed, related topics / news / articles, read more, latest news.
    r"الاكثر\s+(?:قراءه|مشاهده|تداولا|شعبيه)|(?:مواضيع|اخبار|مقالات|قصص)\s+(?:ذات\s+صله|متعلقه|مشابهه)|"
    r"ذات\s+صله|اقرا\s+المزيد|قد\s+يعجبك\s+(?:ايضا)?|المزيد\s+من\s+.{0,40}|(?:اخر|احدث)\s+الاخبار|"
    r"شريط\s+الاخبار|عاجل)\s*:?\s*$",
    re.I,
)
_COMMENTS_HEADER = re.compile(
    r"^\s*(?:leave\s+a\s+(?:reply|comment)|post\s+a\s+comment|add\s+a\s+comment|comments?\s*(?:\(\d+\))?|"
    r"\d+\s+comments?|join\s+the\s+discussion|"
    r"التعليقات|تعليقات|\d+\s+تعليق\w*|(?:اضف|اترك|اكتب)\s+(?:تعليقا|تعليقك|تعليق))\s*:?\s*$",
    re.I,
)
_NOISE_LINE = re.compile(
    r"^\s*(?:read\s+(?:more|also)\s*:|share\s+(?:it|this)\s*:?|subscribe\b|sign\s+up\b|advertisement\s*$|"
    r"follow\s+us\b|tags?\s*:|breaking\s*:|"
    r"اقرا\s+(?:ايضا|المزيد)\s*:?|شارك(?:\s+(?:المقال|الخبر|هذا\s+\w+))?\s*:?\s*$|تابعو?نا\b|اشترك\b|عاجل\s*:|"
    r"الوسوم\s*:|كلمات\s+مفتاحيه|جميع\s+الحقوق\s+محفوظه|اعلان\s*$|"
    r"(?:(?:facebook|twitter|x|whatsapp|telegram|linkedin|email|فيسبوك|فيس\s+بوك|تويتر|واتساب|واتس\s+اب|تلغرام|"
    r"تيليغرام|انستغرام|يوتيوب)[\s,|·]*){2,}$)",
    re.I,
)


def strip_text_boilerplate(text: str) -> str:
    """Blank out page furniture in a plain-text page capture, keeping every offset in place.

    Menus (lines of ``|``-separated items), "Most Read" / "Related" lists (a header line
    and the short lines under it), "Read more:" and "Share" lines, and everything from a
    comments header ("Leave a Reply", "12 Comments") on are replaced by spaces, so claim
    offsets still point into the file as written.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
        Same length as ``text``.
    """
    from sitewatch.reports.language import fold_arabic

    lines = text.split("\n")
    out = []
    in_list = False
    blank_rest = False
    for raw_line in lines:
        # Matched folded (Arabic hamza and teh-marbuta variants, no diacritics), blanked as written.
        line = fold_arabic(raw_line).text
        stripped = line.strip()
        drop = blank_rest
        if not drop and _COMMENTS_HEADER.match(line):
            blank_rest = drop = True
        elif not drop and _LIST_HEADER.match(line):
            in_list = drop = True
        elif in_list:
            # A list runs on with short lines (headlines); a blank line or a long paragraph ends it.
            if (stripped and len(stripped) <= 140 and not stripped.endswith((".", "!", "?"))) or (
                stripped[:3].rstrip(".) ").isdigit() and len(stripped) <= 200
            ):
                drop = True
            else:
                in_list = False
        if not drop and (_NOISE_LINE.match(line) or (stripped.count(" | ") >= 3 and len(stripped) < 300)):
            drop = True
        out.append(" " * len(raw_line) if drop else raw_line)
    return "\n".join(out)


def _headline_only(text: str) -> bool:
    """A page whose text is one short line with no sentence in it (the article did not come with it)."""
    lines = [line for line in text.splitlines() if line.strip()]
    return len(lines) <= 2 and len(text.strip()) < 240 and not re.search(r"[.!?؟]\s", text.strip() + " ")


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # NFKC folds no-break spaces, full-width digits and ligatures that defeat plain patterns;
    # offsets are taken after it, so they stay true to the returned text.
    text = unicodedata.normalize("NFKC", text)
    return text.replace("\u2010", "-").replace("\u2011", "-").replace("\u00ad", "")


def load_index(directory: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Read ``index.json`` beside report files: file name -> metadata.

    Parameters
    ----------
    directory : path-like
        Folder that may hold an ``index.json`` with ``{"reports": [{"file", "publisher",
        "url", "published", ...}]}``.

    Returns
    -------
    dict
        Empty when there is no index.

    Raises
    ------
    ReportError
        If the index exists but is not valid.
    """
    path = Path(directory) / "index.json"
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"report index {path} is not valid JSON: {exc}") from None
    entries = doc.get("reports") if isinstance(doc, dict) else doc
    if not isinstance(entries, list):
        raise ReportError(f"report index {path} must hold a list 'reports' of {{file, published, ...}}")
    out: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if isinstance(entry, dict) and entry.get("file"):
            published = entry.get("published")
            if published:
                try:
                    dt.date.fromisoformat(str(published))
                except ValueError:
                    raise ReportError(
                        f"report index {path}: 'published' of {entry['file']} must be YYYY-MM-DD, "
                        f"got {published!r}"
                    ) from None
            out[str(entry["file"])] = dict(entry)
    return out


def read_report(
    path: str | os.PathLike[str],
    *,
    published: dt.date | str | None = None,
    encoding: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_chars: int = DEFAULT_MAX_CHARS,
    index: dict[str, dict[str, Any]] | None = None,
) -> ReportText:
    """Read one report file (plain text or HTML) into clean text with its metadata.

    Parameters
    ----------
    path : path-like
        The report file.
    published : date or str, optional
        Publication date; wins over ``index.json`` and over a dateline found in the text.
    encoding : str, optional
        Force an encoding; detected otherwise (BOM, UTF-8, HTML ``<meta charset>``,
        then charset-normalizer).
    max_bytes : int
        Read at most this many bytes (a larger file is cut with a :class:`DataWarning`).
    max_chars : int
        Search at most this many characters of the decoded / extracted text.
    index : dict, optional
        File name -> metadata, as :func:`load_index` returns; read from the file's
        folder when not given.

    Returns
    -------
    ReportText

    Raises
    ------
    ReportError
        If the file is missing, unreadable, binary, or its encoding cannot be found.

    Warns
    -----
    DataWarning
        When the file is empty or was cut at ``max_bytes`` / ``max_chars``.
    """
    p = Path(path)
    where = str(p)
    try:
        size = p.stat().st_size
        with p.open("rb") as fh:
            raw = fh.read(max_bytes)
    except FileNotFoundError:
        raise ReportError(f"report {where} does not exist") from None
    except IsADirectoryError:
        raise ReportError(f"report {where} is a folder; pass the files, or the folder to `extract`") from None
    except OSError as exc:
        raise ReportError(f"report {where} cannot be read: {exc}") from None
    truncated = size > max_bytes
    if _looks_binary(raw):
        raise ReportError(
            f"report {where} is a binary file, not text or HTML (convert PDFs or documents to text first)"
        )
    if truncated:
        warnings.warn(
            f"report {where} is {size / 1e6:.1f} MB; only its first {max_bytes / 1e6:.1f} MB were read",
            DataWarning,
            stacklevel=2,
        )
    text, used = _decode(raw, where=where, encoding=encoding)
    kind = "html" if _HTML_SNIFF.search(raw[:4096]) else "text"
    title = None
    page: dict[str, Any] = {}
    if kind == "html":
        text, title = html_to_text(text, page_meta=page)
    text = _normalise(text)
    # Page furniture left in the text of a page ("Read more: ...", a share bar, "الأكثر قراءة") is
    # blanked in place for HTML as for plain captures: trafilatura keeps some of it inside articles.
    text = strip_text_boilerplate(text)
    if len(text) > max_chars:
        cut = text.rfind("\n", 0, max_chars)
        text = text[: cut if cut > max_chars // 2 else max_chars]
        truncated = True
        warnings.warn(
            f"report {where} holds more than {max_chars} characters of text; only the first "
            f"{len(text)} were searched for claims",
            DataWarning,
            stacklevel=2,
        )
    if not text.strip():
        warnings.warn(f"report {where} is empty: no claims can come from it", DataWarning, stacklevel=2)
    elif _headline_only(text):
        warnings.warn(
            f"report {where} holds only a headline ({len(text.strip())} characters, no sentence): its claims "
            "rest on the headline alone",
            DataWarning,
            stacklevel=2,
        )

    if index is None:
        index = load_index(p.parent)
    meta: dict[str, Any] = {"file": p.name, "publisher": None, "url": None, "published": None}
    entry = index.get(p.name)
    if entry:
        meta.update({k: entry.get(k) for k in ("publisher", "url", "published", "language") if k in entry})
        if meta.get("published"):
            meta["published_from"] = "index"
    if published is not None:
        meta["published"] = published.isoformat() if isinstance(published, dt.date) else str(published)
        meta["published_from"] = "option"
    for key in ("publisher", "url"):
        meta[key] = meta.get(key) or page.get(key)
    if not meta.get("published") and page.get("published"):
        try:
            meta["published"] = dt.date.fromisoformat(str(page["published"])[:10]).isoformat()
            meta["published_from"] = "page metadata"
        except ValueError:
            pass
    found = find_publication_date(text, filename=p.name)
    if found is not None and found.span is not None:
        meta["dateline_span"] = found.span  # the report's own date, whichever source gives the date
    if not meta.get("published"):
        meta["published"] = found.date.isoformat() if found else None
        meta["published_from"] = found.source if found else None
        if found is not None and found.note:
            meta["published_note"] = found.note
    return ReportText(
        text=text, path=where, encoding=used, kind=kind, truncated=truncated, title=title, meta=meta
    )

"""Turn the text of one scraped page into a clean :class:`rag.schema.Article`.

`clean_article` is the second arrow of the pipeline (text -> article). It keeps every sentence of the
article body exactly once and nothing else, and reads the title, the ISO date and the source.

How each kind of input is read:

* ``"html"``: trafilatura finds the main text and the metadata (title, date, site name). Its date search is
  kept to the page's own date markup (the "extensive" search would turn a footer's copyright year into
  January 1st). A "来源:" line in the article beats the site name as source, as for plain text.
* ``"markdown"``: YAML front matter gives title, date and source (``source``, ``publisher``, ``site``, or
  ``author``); the body is HTML (read block by block with the standard library parser) or Markdown.
* ``"text"`` (page dumps): each line is classified by general signals - sentence punctuation, length,
  list bullets, menu rows, ``|`` and ``>`` separators, boilerplate keywords (copyright, ICP numbers,
  disclaimers, "相关新闻"...), editor credits, "...[详细]" teasers. The headline is the short line
  just above the first body paragraph (skipping the date/source line); lines above it are navigation. A
  "tail marker" (editor credit, disclaimer, "相关链接", "点击进入专题"...) ends the body: after it only
  long paragraphs (e.g. a second copy of the article) are considered again.

Choices, the same for every kind:

* Sub-headings are dropped: they restate the section they open and make four-character paragraphs.
* Figure captions (HTML ``<figure>``/``<figcaption>``, plain-text lines starting with "△"/"▲") are kept,
  without the marker: they are editorial text and can state facts found nowhere else (004: Zelensky in
  Dublin on the 2nd).
* A standalone reporter byline such as "(记者 聂晓阳)" and editor lines ("新闻编辑:李洋") are credits,
  not body sentences, and are dropped; a byline inside a sentence (003's dateline) stays.
* A paragraph repeated later (000 carries its whole body twice), or equal to the title, is kept once.
* Spam fragments spliced into sentences are removed, see `_remove_spliced_spam`. Its last step reads a
  set of character pairs, ``rag/data/cmrc2018_bigrams.txt.gz``, made from the contexts of the CMRC 2018
  dev set (Cui et al., "A Span-Extraction Dataset for Chinese Machine Reading Comprehension", EMNLP 2019;
  CC BY-SA 4.0, github.com/ymcui/cmrc2018).
* White space: indentation and trailing spaces stripped, inner runs collapsed to one space; punctuation
  is kept as written (half-width commas of the scraped pages stay half-width).

>>> page = "首页 新闻 国际\\n美俄外长在日内瓦举行会谈\\n更新时间:2022-1-24 16:49:13  来源:新华社\\n" \\
...        "  新华社日内瓦1月21日电 两国外长21日在日内瓦举行会谈。\\n(记者 聂晓阳)\\n版权所有:焦作日报社"
>>> article = clean_article(page, "a.txt")
>>> article.title, article.date, article.source
('美俄外长在日内瓦举行会谈', '2022-01-24', '新华社')
>>> article.paragraphs
['新华社日内瓦1月21日电 两国外长21日在日内瓦举行会谈。']
"""

from __future__ import annotations

import email.utils
import functools
import gzip
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path

import jieba
import yaml

from rag.schema import Article

KINDS = ("html", "markdown", "text")


def clean_article(text: str, doc_id: str, kind: str = "text") -> Article:
    """Clean `text` (as returned by `rag.loading.read_document`) into an :class:`Article`.

    `kind` is ``"html"``, ``"markdown"`` or ``"text"``; `doc_id` is stored as is.
    """
    extractors = {"html": _extract_html, "markdown": _extract_markdown, "text": _extract_plain_text}
    if kind not in extractors:
        raise ValueError(f"unknown kind {kind!r}; expected one of: {', '.join(KINDS)}")
    draft = extractors[kind](text)
    paragraphs = _remove_spliced_spam(draft.paragraphs, draft.title)
    paragraphs = _drop_repeats(paragraphs, draft.title)
    return Article(doc_id=doc_id, title=draft.title, date=draft.date, source=draft.source,
                   paragraphs=paragraphs)


@dataclass
class _Draft:
    """What an extractor found, before spam removal and de-duplication."""

    title: str | None
    date: str | None
    source: str | None
    paragraphs: list[str]


# ------------------------------------------------------------------------------------------- text helpers

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z0-9]+(?:['’.-][A-Za-z0-9]+)*")
_WHITESPACE = re.compile(r"\s+")
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]")
_SENTENCE_BREAK = re.compile(r"[。！？!?]|[a-z0-9)”\"][.!?]\s+[A-Z“\"]")
_SENTENCE_END = tuple("。！？!?；;…：:”’」』\".")
_CLOSED_SENTENCE_END = tuple("。！？!?；;…")


def _normalize_space(line: str) -> str:
    """Strip indentation and trailing spaces; collapse inner runs (NBSP, ideographic space...) to one."""
    return _WHITESPACE.sub(" ", _INVISIBLE.sub("", line)).strip()


def _weight(text: str) -> int:
    """Length in reading units: one per CJK character, one per Latin word or number."""
    return len(_CJK.findall(text)) + len(_LATIN_WORD.findall(text))


def _is_sentence_like(line: str) -> bool:
    """Body text ends like a sentence, or holds a sentence end and is not tiny (spam may trail after it)."""
    if line.endswith(_SENTENCE_END) and _weight(line) >= 2:
        return True
    return bool(_SENTENCE_BREAK.search(line)) and _weight(line) >= 12


def _is_headline_like(line: str) -> bool:
    """A short line that does not end like a body sentence (it may end with '?' or '!')."""
    return 2 <= _weight(line) <= 80 and not line.endswith(("。", "；", ";", "：", ":", "…", ",", "."))


# ------------------------------------------------------------------------------------------ dates, source

_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_YMD = re.compile(r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)")
_MONTH = r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
_DMY_EN = re.compile(rf"\b(\d{{1,2}})\s+{_MONTH},?\s+(\d{{4}})\b", re.I)
_MDY_EN = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}}),?\s+(\d{{4}})\b", re.I)
_SOURCE = re.compile(r"(?:来源|来自|出处|稿源|Source)\s*[:：]\s*([^\s|,，;；()（）]+)", re.I)


def _iso_date(year: int, month: int, day: int) -> str | None:
    """``YYYY-MM-DD`` for a real calendar date, else None."""
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _find_date(text: str) -> str | None:
    """The first full date (with a year) stated in `text`, as ISO; "3日" alone is not a date.

    >>> _find_date("更新时间:2022-1-24 16:49:13"), _find_date("(2017/4/15 8:53:12)"), _find_date("3日晚")
    ('2022-01-24', '2017-04-15', None)
    """
    found: list[tuple[int, str]] = []
    for match in _YMD.finditer(text):
        iso = _iso_date(int(match[1]), int(match[2]), int(match[3]))
        if iso:
            found.append((match.start(), iso))
            break
    for match in _DMY_EN.finditer(text):
        iso = _iso_date(int(match[3]), _MONTHS[match[2][:3].lower()], int(match[1]))
        if iso:
            found.append((match.start(), iso))
            break
    for match in _MDY_EN.finditer(text):
        iso = _iso_date(int(match[3]), _MONTHS[match[1][:3].lower()], int(match[2]))
        if iso:
            found.append((match.start(), iso))
            break
    return min(found)[1] if found else None


def _date_value(value: object) -> str | None:
    """A front-matter or metadata date (date object, RFC 2822 or free text) as ISO, or None.

    The date is the one written (no time-zone shift): "Wed, 19 Jan 2022 02:23:51 GMT" -> 2022-01-19.
    """
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return email.utils.parsedate_to_datetime(value.strip()).strftime("%Y-%m-%d")
    except (TypeError, ValueError, IndexError):
        return _find_date(value)


def _find_source(text: str) -> str | None:
    """The value of a "来源:"/"Source:" field, e.g. "来源:外交部网站   打印本页" -> "外交部网站"."""
    match = _SOURCE.search(text)
    return match[1] if match else None


# --------------------------------------------------------------------------------------- line classifier

_SEPARATOR = re.compile(r"[-—_=*~·•.。…\s]+")
_MORE_MARKER = re.compile(r"\[(详细|更多|全文)\]|阅读全文|查看全文|查看原文|更多>>|read more", re.I)
_CAPTION_MARKS = ("△", "▲")
_BULLETS = tuple("·•●○▪■□◆◇►▶▸➤✓☆★")
_META_FIELD = re.compile(
    r"(来源|发布|更新|时间|日期|出处|稿源|浏览|点击|Source|Published|Updated|Posted)\s*[:：]", re.I
)
_BOILERPLATE = re.compile(
    r"版权所有|版权声明|未经授权|未经许可|不得转载|请勿转载|禁止转载|转载稿件|申领稿酬|ICP备|ICP证|网安备|"
    r"许可证[:：]|举报电话|举报邮箱|举报中心|违法和不良信息|(举报|服务|工作|声明)热线|邮编[:：]|扫一扫|二维码|"
    r"您现在的位置|您所在的位置|当前位置[:：]|打印本页|关闭窗口|分享到|"
    r"copyright|all rights reserved|©|privacy policy|terms of (use|service)|cookie policy",
    re.I,
)
_TAIL_KEYWORDS = (
    "相关链接", "相关新闻", "相关阅读", "相关报道", "延伸阅读", "推荐阅读", "新闻推荐", "资讯快递",
    "最新图片", "热点推荐", "热门推荐", "猜你喜欢", "免责声明", "责任编辑", "新闻编辑", "点击进入专题",
    "上一条", "下一条", "上一篇", "下一篇", "relatedarticles", "relatednews", "relatedstories", "recommended",
)
_CREDIT = re.compile(
    r"[(（]?\s*(记者|通讯员|实习生|编辑|责编|责任编辑|新闻编辑|作者|摄影|摄像|校对|审核|审校|编审|监制)"
    r"\s*[:：]?\s*[^。!?！？]{0,24}?[)）]?"
)


def _line_kind(line: str) -> str:
    """Classify one normalised line of a page dump.

    Kinds: ``blank``; ``separator`` (only dashes or dots); ``more`` (a "...[详细]" link line); ``meta``
    (a short date/source line); ``tail`` (a marker after which the article is over: editor credit,
    disclaimer, related-links header); ``junk`` (boilerplate, credits, bullets, menus, link rows);
    ``caption`` ("△..."); ``body`` (sentence-like); ``fragment`` (anything else: headlines, sub-headings,
    link titles, labels).
    """
    if not line:
        return "blank"
    if _SEPARATOR.fullmatch(line):
        return "separator"
    if _MORE_MARKER.search(line):
        return "more" if _weight(line) <= 10 else "junk"
    if _is_meta_line(line):
        return "meta"
    if _is_tail_marker(line):
        return "tail"
    if _is_junk_line(line):
        return "junk"
    if line.startswith(_CAPTION_MARKS):
        return "caption"
    return "body" if _is_sentence_like(line) else "fragment"


def _is_meta_line(line: str) -> bool:
    """A short line carrying the publication date and/or a "来源:" field, not a sentence."""
    if _weight(line) > 40 or re.search(r"[。！？]", line):
        return False
    if line.endswith(_CLOSED_SENTENCE_END):
        return False
    return _find_date(line) is not None or bool(_META_FIELD.search(line))


def _is_tail_marker(line: str) -> bool:
    """A short line that closes the article: editor credit, disclaimer, "相 关 新 闻", "点击进入专题"...

    Spaces are ignored, so spaced-out labels ("相 关 新 闻") match.
    """
    if _weight(line) > 30:
        return False
    compact = re.sub(r"\s", "", line).lower()
    return any(keyword in compact for keyword in _TAIL_KEYWORDS)


def _is_junk_line(line: str) -> bool:
    """Boilerplate that may sit anywhere: keywords, credits, bullets, menus, link rows, breadcrumbs."""
    if _weight(line) <= 80 and _BOILERPLATE.search(line):
        return True
    if _CREDIT.fullmatch(line):
        return True
    has_break = bool(re.search(r"[。！？]", line))
    if line.startswith(_BULLETS) and not line.endswith(_CLOSED_SENTENCE_END):
        return True  # "·中俄宣布2017年两军将举行第二次反导演习(图)"
    if line.count("|") >= 2 or ">>" in line or "»" in line or line.count(" > ") >= 2:
        return True  # "版权声明 | 焦作日报社简介 | ...", breadcrumbs
    tokens = line.split(" ")
    if len(tokens) >= 3 and all(_CJK.search(t) and _weight(t) <= 6 for t in tokens) and not has_break:
        return True  # a menu row: "网站首页 新闻 国内 国际 河南 焦作"
    return len(tokens) >= 4 and not has_break and all(_CJK.search(t) for t in tokens)  # a row of link titles


def _unwrap(lines: list[str]) -> list[str]:
    """Join hard-wrapped Latin-script prose: a long line (60+ characters) that stops mid-sentence, and the
    next line if it goes on with a word."""
    out: list[str] = []
    for line in lines:
        previous = out[-1] if out else ""
        if len(previous) >= 60 and previous.isascii() and re.search(r"[A-Za-z,;-]$", previous) and re.match(
            r"[A-Za-z0-9(\"']", line
        ):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return out


# ------------------------------------------------------------------------------------ plain-text pages


def _extract_plain_text(text: str) -> _Draft:
    """A page dump: find the headline and date/source line, then the body lines (see module docstring)."""
    lines = _unwrap([_normalize_space(line) for line in text.split("\n")])
    kinds = [_line_kind(line) for line in lines]
    title_at, meta_at, start = _find_header(lines, kinds)
    meta = " ".join(lines[i] for i in meta_at)
    teasers = _teaser_lines(kinds)
    paragraphs = _body_lines(
        [(line, kind) for i, (line, kind) in enumerate(zip(lines, kinds, strict=True))
         if i >= start and i not in teasers],
        keep_fragments=False,
    )
    return _Draft(
        title=lines[title_at] if title_at is not None else None,
        date=_find_date(meta) if meta else None,
        source=_find_source(meta) if meta else None,
        paragraphs=paragraphs,
    )


def _find_header(lines: list[str], kinds: list[str]) -> tuple[int | None, list[int], int]:
    """Return (headline index, date/source line indexes, index where the body begins).

    The body begins at the first sentence-like line that is not itself headline-like. The headline is
    the nearest headline-like line above it, looking past date/source lines (at most six non-blank lines
    up); a date/source line right above the headline counts too. Everything above the headline is
    navigation. Without any body line, the first headline-like line is the title.
    """
    first_body = next(
        (i for i, (line, kind) in enumerate(zip(lines, kinds, strict=True))
         if kind == "body" and _weight(line) >= 15 and not (_weight(line) <= 40 and _is_headline_like(line))),
        None,
    )
    if first_body is None:
        headlines = (i for i, k in enumerate(kinds)
                     if k in ("fragment", "body") and _is_headline_like(lines[i]))
        title_at = next(headlines, None)
        return title_at, [], len(lines)
    meta_at: list[int] = []
    title_at = None
    seen = 0
    for i in range(first_body - 1, -1, -1):
        if kinds[i] == "blank":
            continue
        seen += 1
        if kinds[i] == "meta":
            meta_at.append(i)
        elif kinds[i] in ("fragment", "body") and _is_headline_like(lines[i]):
            title_at = i
            break
        if seen >= 6:
            break
    if title_at is None:
        return None, sorted(meta_at), first_body
    above = next((i for i in range(title_at - 1, -1, -1) if kinds[i] != "blank"), None)
    if above is not None and kinds[above] == "meta":
        meta_at.append(above)
    return title_at, sorted(meta_at), title_at + 1


def _teaser_lines(kinds: list[str]) -> set[int]:
    """Lines of teaser blocks: up to two non-blank lines above each "...[详细]" line, up to a separator."""
    teasers: set[int] = set()
    for m, kind in enumerate(kinds):
        if kind != "more":
            continue
        taken = 0
        for i in range(m - 1, -1, -1):
            if kinds[i] == "blank":
                continue
            if kinds[i] in ("separator", "more", "tail", "meta") or taken == 2:
                break
            teasers.add(i)
            taken += 1
    return teasers


def _body_lines(lines: list[tuple[str, str]], keep_fragments: bool) -> list[str]:
    """Keep body lines (and captions, and for structured input also fragments) until the article ends.

    After a tail marker only long paragraphs (40+ reading units) are kept - a second copy of the article
    or a late paragraph - and such a paragraph reopens the body.
    """
    kept: list[str] = []
    in_tail = False
    for line, kind in lines:
        if kind == "tail":
            in_tail = True
            continue
        keep = kind in ("body", "caption") or (keep_fragments and kind == "fragment")
        if not keep:
            continue
        if in_tail and (_weight(line) < 40 or kind != "body"):
            continue
        in_tail = False
        kept.append(line[1:].strip() if line.startswith(_CAPTION_MARKS) else line)
    return kept


# ----------------------------------------------------------------------------------------- html blocks

_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCK_TAGS = _HEADINGS | {
    "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "blockquote", "section", "article", "main", "figure",
    "figcaption", "pre", "table", "thead", "tbody", "tr", "td", "th", "hr", "br", "address", "center",
}
_SKIPPED_TAGS = {"script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form",
                 "button", "iframe", "svg", "select", "head", "title"}
_VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
              "wbr"}


class _BlockParser(HTMLParser):
    """Collect the text blocks of an HTML fragment as ``(kind, text)``; kind: paragraph, heading, caption."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str]] = []
        self._open: list[str] = []
        self._buffer: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _BLOCK_TAGS:
            self._flush()
        if tag not in _VOID_TAGS:
            self._open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag in _BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self._flush()
        if tag in self._open:
            while self._open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if not any(tag in _SKIPPED_TAGS for tag in self._open):
            self._buffer.append(data)

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self) -> None:
        text = _normalize_space("".join(self._buffer))
        self._buffer = []
        if not text:
            return
        if any(tag in _HEADINGS for tag in self._open):
            kind = "heading"
        elif any(tag in ("figure", "figcaption") for tag in self._open):
            kind = "caption"
        else:
            kind = "paragraph"
        self.blocks.append((kind, text))


def _html_blocks(html_text: str) -> list[tuple[str, str]]:
    """``(kind, text)`` blocks of an HTML fragment, in order."""
    parser = _BlockParser()
    parser.feed(html_text)
    parser.close()
    return parser.blocks


def _structured_paragraphs(blocks: list[tuple[str, str]]) -> list[str]:
    """Paragraphs and captions of structured input, minus headings, meta lines and boilerplate lines."""
    lines = [(text, "caption" if kind == "caption" else _line_kind(text))
             for kind, text in blocks if kind != "heading"]
    return _body_lines(lines, keep_fragments=True)


# ---------------------------------------------------------------------------------------------- html


def _extract_html(text: str) -> _Draft:
    """A whole HTML page: trafilatura's main text and metadata, plus what it leaves out on purpose.

    trafilatura drops figure captions and the article's own "时间 来源:" line; both are read from the
    page's blocks: a caption is kept when it follows a paragraph trafilatura kept (so a sidebar gallery
    stays out), the date/source line is searched right after the first heading. Pages trafilatura cannot
    read fall back to all blocks of the page.
    """
    import trafilatura  # slow to import; only HTML pages need it

    page = _html_blocks(text)
    doc = trafilatura.bare_extraction(
        text,
        with_metadata=True,
        include_comments=False,
        include_images=False,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if doc is None or getattr(doc, "body", None) is None:
        title = next((t for k, t in page if k == "heading"), None)
        return _draft_from_blocks(page, title, None, None)
    blocks = _with_captions(_trafilatura_blocks(doc.body), page)
    title = _normalize_space(doc.title) if doc.title else next((t for k, t in blocks if k == "heading"), None)
    first_heading = next((i for i, (kind, _) in enumerate(page) if kind == "heading"), 0)
    meta = " ".join(t for _, t in page[first_heading:first_heading + 6] if _is_meta_line(t))
    return _Draft(
        title=title,
        date=_date_value(doc.date) or (_find_date(meta) if meta else None),
        source=(_find_source(meta) if meta else None) or doc.sitename or None,
        paragraphs=_structured_paragraphs(blocks),
    )


def _with_captions(blocks: list[tuple[str, str]], page: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Insert each caption of `page` after the kept paragraph that directly precedes it in the page."""
    captions_after: dict[str, list[str]] = {}
    previous = None
    for kind, text in page:
        if kind == "caption" and previous is not None:
            captions_after.setdefault(previous, []).append(text)
        elif kind == "paragraph":
            previous = text
    out: list[tuple[str, str]] = []
    for kind, text in blocks:
        out.append((kind, text))
        out.extend(("caption", caption) for caption in captions_after.pop(text, []))
    return out


def _trafilatura_blocks(body) -> list[tuple[str, str]]:
    """``(kind, text)`` for the children of trafilatura's XML body: p, head, list items, quotes, rows."""
    blocks: list[tuple[str, str]] = []
    for element in body:
        if element.tag == "list":
            items = [_normalize_space("".join(item.itertext())) for item in element.iter("item")]
            blocks.extend(("paragraph", item) for item in items if item)
        elif element.tag == "table":
            rows = [" ".join(_normalize_space("".join(cell.itertext())) for cell in row)
                    for row in element.iter("row")]
            blocks.extend(("paragraph", _normalize_space(row)) for row in rows if row.strip())
        else:
            kind = "heading" if element.tag == "head" else "paragraph"
            text = _normalize_space("".join(element.itertext()))
            if text:
                blocks.append((kind, text))
    return blocks


def _draft_from_blocks(blocks: list[tuple[str, str]], title: str | None, when: str | None,
                       source: str | None) -> _Draft:
    """Paragraphs of structured blocks; a date/source line among the first blocks fills what is missing.

    A "来源:" line names the original publisher and wins over a site name.
    """
    meta = " ".join(t for _, t in blocks[:8] if _is_meta_line(t))
    return _Draft(
        title=title,
        date=when or (_find_date(meta) if meta else None),
        source=(_find_source(meta) if meta else None) or source,
        paragraphs=_structured_paragraphs(blocks),
    )


# ------------------------------------------------------------------------------------------- markdown

_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\n(.*?\n)---[ \t]*(?:\n|\Z)", re.DOTALL)
_HTML_BLOCK = re.compile(r"<(p|div|h[1-6]|figure|ul|ol|li|blockquote|table|br|section|article)[\s>/]", re.I)


def _extract_markdown(text: str) -> _Draft:
    """Markdown with optional YAML front matter; an HTML body is read block by block."""
    meta, body = _front_matter(text)
    blocks = _html_blocks(body) if _HTML_BLOCK.search(body) else _markdown_blocks(body)
    title = _meta_text(meta, "title") or next((t for k, t in blocks if k == "heading"), None)
    source = _meta_text(meta, "source", "publisher", "site", "site_name", "sitename", "author", "authors")
    dates = (_date_value(meta.get(key)) for key in ("date", "published", "pubdate", "created"))
    when = next((d for d in dates if d), None)
    return _draft_from_blocks(blocks, title, when, source)


def _front_matter(text: str) -> tuple[dict, str]:
    """Split ``---`` YAML front matter from the body; unreadable YAML gives no metadata, not an error."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        meta = None
    return (meta if isinstance(meta, dict) else {}), text[match.end():]


def _meta_text(meta: dict, *keys: str) -> str | None:
    """The first non-empty value among `keys` as one line of text (the first item of a list)."""
    for key in keys:
        value = meta.get(key)
        if isinstance(value, list):
            value = next((v for v in value if v), None)
        if isinstance(value, dict):
            value = value.get("name")
        if value is not None and (text := _normalize_space(str(value))):
            return text
    return None


_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(\S(?:.*?\S)?)\1")
_MD_LIST_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,3}[.)])\s+")
_MD_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")


def _markdown_blocks(body: str) -> list[tuple[str, str]]:
    """``(kind, text)`` blocks of a Markdown body: headings, paragraphs (blank-line separated), list items.

    Images are dropped, links keep their text, emphasis marks and ``>`` quote marks are removed, and the
    lines of a paragraph are joined (without a space between CJK characters).
    """
    blocks: list[tuple[str, str]] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            text = _join_lines(pending)
            if text:
                blocks.append(("paragraph", text))
            pending.clear()

    lines = body.split("\n")
    for n, raw in enumerate(lines):
        line = re.sub(r"^\s{0,3}>\s?", "", raw).rstrip()
        if not line.strip() or _MD_RULE.match(line) or line.lstrip().startswith("```"):
            flush()
            continue
        if n + 1 < len(lines) and re.fullmatch(r"\s{0,3}(=+|-+)\s*", lines[n + 1]) and not pending:
            blocks.append(("heading", _markdown_inline(line)))  # setext heading
            continue
        if re.fullmatch(r"\s{0,3}(=+|-+)\s*", line):
            continue
        heading = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            flush()
            blocks.append(("heading", _markdown_inline(heading.group(1))))
        elif _MD_LIST_ITEM.match(line):
            flush()
            pending.append(_MD_LIST_ITEM.sub("", line))
        else:
            pending.append(line)
    flush()
    return [(kind, text) for kind, text in blocks if text]


def _markdown_inline(text: str) -> str:
    """Plain text of one Markdown line: no images, link text only, no emphasis marks or inline tags."""
    text = _MD_IMAGE.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_EMPHASIS.sub(r"\2", text)
    return _normalize_space(re.sub(r"<[^>]+>", "", text))


def _join_lines(lines: list[str]) -> str:
    """Join the lines of one paragraph: a space between two Latin-script lines, none next to Chinese."""
    out = ""
    for line in (_markdown_inline(x) for x in lines):
        if not line:
            continue
        if out and out[-1].isascii() and line[0].isascii():
            out += " "
        out += line
    return out


# ------------------------------------------------------------------------------------------ repetition


def _dedup_key(text: str) -> str:
    """Compare paragraphs ignoring width (NFKC) and white space."""
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", text))


def _drop_repeats(paragraphs: list[str], title: str | None) -> list[str]:
    """Keep the first copy of each paragraph, and drop paragraphs that only repeat the title."""
    seen = {_dedup_key(title)} if title else set()
    kept = []
    for paragraph in paragraphs:
        paragraph = _normalize_space(paragraph)
        key = _dedup_key(paragraph)
        if key and key not in seen:
            seen.add(key)
            kept.append(paragraph)
    return kept


# ---------------------------------------------------------------------------------- spliced-in spam

# Single-character function words that spam generators (and readers) skip when they reuse a title.
_FUNCTION_WORDS = frozenset("与和及同跟的了在对把被向从就将为而并或且")
_OPEN_QUOTES = "“‘「『《"
_CLOSE_QUOTES = "”’」』》"
_MAX_PIECE = 4  # spliced title pieces are short; longer title runs are the writer reusing the headline
_MIN_PHRASE = 4  # a repeated foreign phrase has at least this many characters
_BIGRAMS_FILE = Path(__file__).parent / "data" / "cmrc2018_bigrams.txt.gz"


@functools.lru_cache(maxsize=1)
def _quiet_jieba() -> None:
    jieba.setLogLevel(logging.WARNING)


def _words(text: str) -> list[str]:
    """jieba's dictionary segmentation (no HMM guessing, so unknown strings fall apart into characters)."""
    _quiet_jieba()
    return jieba.lcut(text, HMM=False)


def _word_bounds(text: str) -> set[int]:
    """Offsets in `text` where a jieba word starts or ends."""
    bounds, pos = {0}, 0
    for word in _words(text):
        pos += len(word)
        bounds.add(pos)
    return bounds


def _compound_bounds(word: str) -> set[int]:
    """Inner offsets where a compound splits into dictionary words of two or more characters.

    "举行会谈" = 举行|会谈 gives {2}; "乌克兰" gives nothing (乌|克兰 would need a one-character word).
    """
    if len(word) < 4:
        return set()
    freq = jieba.dt.FREQ
    reach: dict[int, set[int]] = {0: set()}  # end offset -> inner bounds of the partitions reaching it
    for start in range(len(word)):
        if start not in reach:
            continue
        for end in range(start + 2, len(word) + 1):
            if freq.get(word[start:end]) and (start, end) != (0, len(word)):
                inner = reach[start] | ({start} if start else set())
                reach.setdefault(end, set()).update(inner)
    return reach.get(len(word), set())


@functools.lru_cache(maxsize=1)
def _reference_bigrams() -> frozenset[str]:
    """Character pairs seen in fluent Chinese: the contexts of the CMRC 2018 dev set.

    CMRC 2018 (Cui et al., EMNLP 2019, CC BY-SA 4.0): the 848 Wikipedia paragraphs of
    ``squad-style-data/cmrc2018_dev.json``, NFKC-normalised, with "\\n" for the start and end of a
    paragraph. The file holds the sorted pairs concatenated.
    """
    with gzip.open(_BIGRAMS_FILE, "rt", encoding="utf-8") as f:
        text = f.read()
    return frozenset(text[i:i + 2] for i in range(0, len(text) - 1, 2))


@dataclass(frozen=True)
class _TitleForms:
    """The title as a spam generator cuts it: its text without punctuation or spaces ("flat"), and the
    same without single-character function words ("skeleton"), each with the offsets of its word bounds."""

    forms: tuple[str, ...]
    bounds: tuple[frozenset[int], ...]
    substrings: frozenset[str]

    @classmethod
    def of(cls, title: str) -> _TitleForms:
        """Build both forms; word bounds include those inside compounds (举行会谈 = 举行|会谈)."""
        words = [w for w in _words(title) if w.strip() and all(ch.isalnum() for ch in w)]
        forms, bounds = [], []
        for skip_function_words in (False, True):
            text, offsets = "", {0}
            for word in words:
                if skip_function_words and word in _FUNCTION_WORDS:
                    continue
                offsets.update(len(text) + k for k in _compound_bounds(word))
                text += word
                offsets.add(len(text))
            forms.append(text)
            bounds.append(frozenset(offsets))
        subs = {f[i:j] for f in forms for i in range(len(f)) for j in range(i + 1, len(f) + 1)}
        return cls(tuple(forms), tuple(bounds), frozenset(subs))

    def runs(self, text: str) -> list[tuple[int, int]]:
        """Maximal stretches ``(start, end)`` of `text`, two or more characters, that occur in the title."""
        runs: list[tuple[int, int]] = []
        reach = 0
        for i in range(len(text)):
            end = i
            while end < len(text) and text[i:end + 1] in self.substrings:
                end += 1
            if end - i >= 2 and end > reach:
                runs.append((i, end))
                reach = end
        return runs

    def cuts_a_word(self, piece: str) -> bool:
        """True when every place `piece` occurs in the title starts or ends inside a title word.

        A writer who reuses the headline reuses whole words ("北约外长会", "和平计划"); a piece like
        "席北" (from 缺席|北约) or "乌分" (from 乌|分头) can only come from cutting the title blindly.
        """
        found = False
        for form, bounds in zip(self.forms, self.bounds, strict=True):
            for match in re.finditer(re.escape(piece), form):
                found = True
                if match.start() in bounds and match.end() in bounds:
                    return False
        return found

    def tiled(self, pieces: set[str]) -> bool:
        """True when two of the pieces lie side by side in the title ("却缺" + "席北" = 却缺席北).

        This is the signature of a title chopped into consecutive pieces. A lone piece that cuts a title
        word is usually a short form the writer uses on purpose ("成栋" for 李成栋, "一汽" in a text titled
        中国第一汽车集团), so it is not enough.
        """
        for form in self.forms:
            spans = [m.span() for p in pieces for m in re.finditer(re.escape(p), form)]
            if any(end == start for _, end in spans for start, _ in spans):
                return True
        return False

    def pieces_between(self, pieces: set[str]) -> set[str]:
        """The stretches of the title left between (and around) the cut pieces found in the text.

        Spam generators cut the whole title into consecutive pieces; the pieces that cut words reveal the
        cut points, so what lies between them ("和平计划" between 头谈 and 却缺, "美俄" before 乌分)
        was a piece too, even though it is a proper word.
        """
        between: set[str] = set()
        for form in self.forms:
            covered = [False] * len(form)
            for piece in pieces:
                for match in re.finditer(re.escape(piece), form):
                    covered[match.start():match.end()] = [True] * len(piece)
            if any(covered):
                gaps = re.finditer(r"0{2,}", "".join("1" if c else "0" for c in covered))
                between.update(form[gap.start():gap.end()] for gap in gaps)
        return {piece for piece in between - pieces if _is_cjk(piece)}


def _is_cjk(text: str) -> bool:
    return all(_CJK.match(ch) for ch in text)


def _is_quoted(text: str, start: int, end: int) -> bool:
    """Inside quotation or book-title marks, or touching one ("美俄“和平计划”" reads as a noun phrase)."""
    marks = _OPEN_QUOTES + _CLOSE_QUOTES + '"'
    if (start > 0 and text[start - 1] in marks) or (end < len(text) and text[end] in marks):
        return True
    before = text[:start]
    return sum(before.count(q) for q in _OPEN_QUOTES) > sum(before.count(q) for q in _CLOSE_QUOTES)


def _cut_piece_spans(text: str, title: _TitleForms) -> list[tuple[int, int]]:
    """Title runs of `text` that look chopped out of the title (see `_remove_spliced_spam`, step 2)."""
    bounds = _word_bounds(text)
    return [
        (start, end)
        for start, end in title.runs(text)
        if end - start <= _MAX_PIECE and _is_cjk(text[start:end]) and _is_non_word(text[start:end])
        and title.cuts_a_word(text[start:end]) and start in bounds and end in bounds
    ]


def _is_non_word(piece: str) -> bool:
    """No dictionary word inside: "乌分", "席北" are not words, "车厂" and "亚大陆" (亚|大陆) hold one."""
    return all(len(word) == 1 for word in _words(piece))


def _foreign_phrases(paragraphs: list[str], title: str) -> set[str]:
    """Repeated off-topic phrases that trail after the last sentence of a paragraph.

    Text after a paragraph's last "。!?" is not a sentence; its longest beginning (four characters or
    more) that occurs twice or more in the document is a candidate. It is foreign when it is made of
    ordinary dictionary words (two or more, covering it entirely, so a transliterated name does not
    qualify) none of which occurs anywhere else in the document or the title - "庆阳市某某搬家培训学校"
    in a page about peace talks. All its occurrences are then spam, wherever they sit.
    """
    document = "\n".join(paragraphs)
    foreign: set[str] = set()
    for text in paragraphs:
        last = max((m.end() for m in re.finditer(r"[。！？!?]", text)), default=None)
        tail = re.match(r"\w*", text[last:]).group() if last is not None else ""
        repeated = (tail[:k] for k in range(len(tail), _MIN_PHRASE - 1, -1) if document.count(tail[:k]) >= 2)
        phrase = next(repeated, None)
        if not phrase:
            continue
        words = _words(phrase)
        rest = document.replace(phrase, "\n") + "\n" + title
        if len(words) >= 2 and all(len(w) >= 2 for w in words) and not any(w in rest for w in words):
            foreign.add(phrase)
    return foreign


def _junction_fluent(text: str, span: tuple[int, int], fluent: frozenset[str]) -> bool:
    """Whether `text[span]` joins its neighbours like fluent text, judged on character pairs.

    The span reads as spliced in when a pair it forms with a neighbour is never seen in `fluent` text
    while the pair its neighbours would form without it is ("和平计划|美国": 划美 unseen, ",美" seen).
    """
    start, end = span
    before = text[start - 1] if start else "\n"
    after = text[end] if end < len(text) else "\n"
    key = functools.partial(unicodedata.normalize, "NFKC")
    joins = (key(before + text[start]) in fluent and key(text[end - 1] + after) in fluent)
    return joins or key(before + after) not in fluent


def _remove_spliced_spam(paragraphs: list[str], title: str | None) -> list[str]:
    """Remove spam fragments spliced into sentences: pieces of the title and repeated foreign phrases.

    Content farms cut the headline into consecutive pieces and insert them, with a junk phrase, between
    the words of the first paragraphs: "近期,和平计划美国为推进..." for "近期,美国为推进...". The same
    strings also occur legitimately ("缺席北约外长会", "美俄的这次会谈", "“和平计划”"), so each
    occurrence is judged:

    1. Title runs: maximal stretches of a paragraph that occur in the title (punctuation, spaces and
       function words such as "与" ignored, so "美与俄乌" also yields "美俄").
    2. Cut pieces: a run of two to four CJK characters that cuts a word of the title ("乌分" from
       乌|分头, "席北" from 缺席|北约), holds no dictionary word, and starts and ends on jieba word bounds
       of the paragraph (it is not part of a word there). Reusing a headline means reusing whole words:
       "缺席北约外长会" is the headline phrase itself, "车厂" in a text titled 电车厂 is a word. Nothing is
       removed unless two cut pieces lie side by side in the title (`_TitleForms.tiled`).
    3. Foreign phrases (`_foreign_phrases`): a repeated off-topic phrase trailing after the last sentence
       of a paragraph; all its occurrences go.
    4. Word-like pieces: the stretches of the title between the cut points ("美俄", "和平计划") were
       pieces too. They are removed only in paragraphs where steps 2-3 found spam, only where the whole
       title run is that piece, on word bounds, outside quotes, and where its junctions read as spliced
       (`_junction_fluent`). So "与美俄之间" in a clean paragraph and "美俄“和平计划”" stay.

    A document without two side-by-side cut pieces is returned unchanged (no false alarm on any of the
    848 CMRC 2018 dev articles checked against their titles).

    >>> title = "美与俄乌分头谈“和平计划” 却缺席北约外长会"
    >>> for p in _remove_spliced_spam(["3日,头谈俄总统助理披露了会谈的却缺内容。乌方称,席北收到了邀请。",
    ...                                "美国国务卿缺席北约外长会的行为“不寻常”。"], title):
    ...     print(p)
    3日,俄总统助理披露了会谈的内容。乌方称,收到了邀请。
    美国国务卿缺席北约外长会的行为“不寻常”。
    """
    if not title or not paragraphs:
        return paragraphs
    forms = _TitleForms.of(title)
    spans = [_cut_piece_spans(text, forms) for text in paragraphs]
    cut = {text[s:e] for text, places in zip(paragraphs, spans, strict=True) for s, e in places}
    if not forms.tiled(cut):
        return paragraphs
    stripped = [_delete_runs(text, forms, lambda t, span: t[span[0]:span[1]] in cut) for text in paragraphs]
    foreign = _foreign_phrases(stripped, title)
    infected = [bool(places) or any(f in text for f in foreign)
                for text, places in zip(paragraphs, spans, strict=True)]
    clean_text = "\n" + "\n".join(t for t, bad in zip(paragraphs, infected, strict=True) if not bad) + "\n"
    fluent = _reference_bigrams() | {unicodedata.normalize("NFKC", clean_text[i:i + 2])
                                     for i in range(len(clean_text) - 1)}
    between = forms.pieces_between(cut)
    cleaned = []
    for text, bad in zip(paragraphs, infected, strict=True):
        if bad:
            for phrase in sorted(foreign, key=len, reverse=True):
                text = text.replace(phrase, "")
            text = _delete_runs(text, forms, lambda t, span: t[span[0]:span[1]] in cut)
            text = _delete_runs(text, forms, lambda t, span: t[span[0]:span[1]] in between
                                and not _is_quoted(t, *span) and not _junction_fluent(t, span, fluent))
            text = _normalize_space(text)
        if text:
            cleaned.append(text)
    return cleaned


def _delete_runs(text: str, title: _TitleForms, is_spam) -> str:
    """Delete the title runs of `text` for which ``is_spam(text, span)`` holds, right to left."""
    bounds = _word_bounds(text)
    limit = len(text)
    for start, end in reversed(title.runs(text)):
        if end <= limit and start in bounds and end in bounds and is_spam(text, (start, end)):
            text = text[:start] + text[end:]
            limit = start
    return text

"""HTML for the chat: answers whose `[n]` markers link to citation cards, abstentions, backend notes.

Article text is untrusted (scraped pages): every string that comes from an article or a model - titles,
passages, quotes, sources, doc_ids, answer text - goes through :func:`escape` before it is put into HTML.
The only markup on the page is built here, from constants.

>>> from rag.schema import Citation
>>> c = Citation(1, "a.txt#0", "a.txt", "<b>T</b>", "2022-01-24", "新华社", "约90分钟")
>>> card = citation_card(c, "会谈持续了约90分钟。", turn=3)
>>> "&lt;b&gt;T&lt;/b&gt;" in card, "<mark>约90分钟</mark>" in card, 'id="rag-t3-c1"' in card
(True, True, True)
>>> linkify_markers(escape("在日内瓦[1]。"), {1}, turn=3)
'在日内瓦<a class="rag-cite" href="#rag-t3-c1" title="source 1">[1]</a>。'
"""

from __future__ import annotations

import html
import re

from rag.schema import Answer, Citation

_MARKER = re.compile(r"\[(\d{1,3})\]")
_SPACE = re.compile(r"\s+")

ABSTAIN_BADGE = "不在资料中 · Not in the articles"

# Styles for the classes used below; passed to `launch(css=...)` (Gradio 6 takes css at launch).
CSS = """
.rag-answer { line-height: 1.65; }
.rag-cite { font-size: 0.8em; vertical-align: super; text-decoration: none; font-weight: 600;
  padding: 0 2px; border-radius: 4px; color: var(--color-accent); }
.rag-cite:hover { background: var(--color-accent-soft); }
.rag-abstained { background: #fff8e1; border: 1px solid #f3d37a; border-radius: 8px; padding: 8px 12px;
  color: #6b5a1e; }
.dark .rag-abstained { background: #3a3218; border-color: #7a6420; color: #f0e2b0; }
.rag-badge { display: inline-block; font-size: 0.75em; font-weight: 600; letter-spacing: 0.02em;
  background: #f3d37a; color: #4a3c0c; border-radius: 999px; padding: 1px 8px; margin-right: 6px; }
.rag-streaming { opacity: 0.85; }
.rag-draft { font-size: 0.75em; color: var(--body-text-color-subdued); font-style: italic; }
.rag-cursor { animation: rag-blink 1s steps(2) infinite; }
@keyframes rag-blink { 50% { opacity: 0; } }
.rag-waiting { color: var(--body-text-color-subdued); font-style: italic; }
.rag-sources { margin-top: 10px; display: flex; flex-direction: column; gap: 6px; }
.rag-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 4px 10px;
  background: var(--background-fill-secondary); scroll-margin-top: 80px; }
.rag-card > summary { cursor: pointer; font-size: 0.9em; }
.rag-card .rag-n { font-weight: 700; color: var(--color-accent); margin-right: 4px; }
.rag-card .rag-title { font-weight: 600; }
.rag-card .rag-when { color: var(--body-text-color-subdued); margin-left: 6px; }
.rag-card .rag-passage { margin: 6px 0 4px; font-size: 0.92em; line-height: 1.6; }
.rag-card mark { background: #ffe58a; color: inherit; border-radius: 3px; padding: 0 1px; }
.dark .rag-card mark { background: #8a6d00; }
.rag-card .rag-doc { font-size: 0.75em; color: var(--body-text-color-subdued); }
.rag-card.rag-flash { outline: 2px solid var(--color-accent); }
.rag-meta { margin-top: 8px; font-size: 0.78em; color: var(--body-text-color-subdued); }
.rag-fallback { margin-top: 6px; font-size: 0.8em; background: #fff3e0; color: #7a4a00; border-radius: 6px;
  padding: 3px 8px; }
.dark .rag-fallback { background: #3d2a10; color: #f5c98a; }
.rag-error { color: #b42318; }
"""

# Clicking a [n] marker opens its card and scrolls to it (a <details> does not open on an anchor jump).
JS = """
() => {
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a.rag-cite");
    if (!link) return;
    const card = document.getElementById(link.getAttribute("href").slice(1));
    if (!card) return;
    event.preventDefault();
    card.open = true;
    card.scrollIntoView({behavior: "smooth", block: "nearest"});
    card.classList.add("rag-flash");
    setTimeout(() => card.classList.remove("rag-flash"), 1600);
  });
}
"""


def escape(text: str | None) -> str:
    """HTML-escape untrusted text (quotes included); line breaks become <br>.

    >>> escape('<img src=x onerror="alert(1)">\\nok')
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;<br>ok'
    """
    return html.escape(text or "", quote=True).replace("\r\n", "\n").replace("\n", "<br>")


def linkify_markers(escaped: str, numbers: set[int], turn: int) -> str:
    """Turn `[n]` in already escaped text into a link to card n of this turn (only for known n)."""

    def link(match: re.Match) -> str:
        n = int(match.group(1))
        if n not in numbers:
            return match.group(0)
        return f'<a class="rag-cite" href="#{card_id(turn, n)}" title="source {n}">[{n}]</a>'

    return _MARKER.sub(link, escaped)


def card_id(turn: int, n: int) -> str:
    """The element id of citation card `n` of chat turn `turn` (unique on the page)."""
    return f"rag-t{turn}-c{n}"


def highlight(passage: str, quote: str) -> str:
    """The escaped passage with the quoted part wrapped in <mark> (ignoring white space differences).

    >>> highlight("A <b> said: talks lasted 90 minutes.", "talks  lasted 90 minutes")
    'A &lt;b&gt; said: <mark>talks lasted 90 minutes</mark>.'
    >>> highlight("no match here", "elsewhere")
    'no match here'
    """
    start, end = _find_ignoring_space(passage, quote.strip())
    if start < 0:
        return escape(passage)
    return f"{escape(passage[:start])}<mark>{escape(passage[start:end])}</mark>{escape(passage[end:])}"


def _find_ignoring_space(text: str, needle: str) -> tuple[int, int]:
    """(start, end) of `needle` in `text`, comparing without white space; (-1, -1) when absent."""
    if not needle:
        return -1, -1
    at = text.find(needle)
    if at >= 0:
        return at, at + len(needle)
    kept = [i for i, ch in enumerate(text) if not ch.isspace()]
    squeezed = "".join(text[i] for i in kept)
    target = _SPACE.sub("", needle)
    at = squeezed.find(target) if target else -1
    if at < 0:
        return -1, -1
    return kept[at], kept[at + len(target) - 1] + 1


def citation_card(citation: Citation, passage: str | None, turn: int) -> str:
    """A collapsible card: [n] title · date · source, then the passage with the quote highlighted."""
    when = " · ".join(escape(x) for x in (citation.date, citation.source) if x)
    body = highlight(passage, citation.quote) if passage else f"<mark>{escape(citation.quote)}</mark>"
    if passage and "<mark>" not in body:  # the quote is not literally in the passage: show both
        body = f"<mark>{escape(citation.quote)}</mark><br>{body}"
    return (
        f'<details class="rag-card" id="{card_id(turn, citation.n)}">'
        f'<summary><span class="rag-n">[{citation.n}]</span>'
        f'<span class="rag-title">{escape(citation.title or citation.doc_id)}</span>'
        f'<span class="rag-when">{when}</span></summary>'
        f'<div class="rag-passage">{body}</div>'
        f'<div class="rag-doc">{escape(citation.doc_id)}</div>'
        "</details>"
    )


def answer_html(answer: Answer, turn: int) -> str:
    """The final answer: text with linked markers and its citation cards, or the abstention box; then
    which backend answered (and why it fell back, if it did).

    >>> from rag.schema import Answer
    >>> a = Answer("q", "资料中没有相关信息。", True, [], [], {"total_ms": 900.0}, "extractive")
    >>> "rag-abstained" in answer_html(a, turn=1)
    True
    """
    if answer.abstained:
        body = (f'<div class="rag-answer rag-abstained"><span class="rag-badge">{ABSTAIN_BADGE}</span>'
                f"{escape(answer.text)}</div>")
    else:
        numbers = {c.n for c in answer.citations}
        text = linkify_markers(escape(answer.text), numbers, turn)
        passages = {h.chunk_id: h.text for h in answer.contexts}
        cards = "".join(citation_card(c, passages.get(c.chunk_id), turn) for c in answer.citations)
        body = f'<div class="rag-answer">{text}</div>'
        if cards:
            body += f'<div class="rag-sources">{cards}</div>'
    return body + meta_html(answer)


def meta_html(answer: Answer) -> str:
    """'answered by local · 2.3 s', the rewritten follow-up question, and any fallback notice."""
    seconds = answer.timings.get("total_ms", 0.0) / 1000
    parts = [f"answered by <b>{escape(answer.llm)}</b>", f"{seconds:.1f} s"]
    if answer.standalone_question:
        parts.append(f"understood as “{escape(answer.standalone_question)}”")
    out = f'<div class="rag-meta">{" · ".join(parts)}</div>'
    if answer.fallback:
        out += f'<div class="rag-fallback">⚠ {escape(answer.fallback)}</div>'
    return out


def streaming_html(text: str) -> str:
    """The answer while it is being generated, marked as a draft: the model's words are checked against the
    articles only when it finishes, and what they do not support is dropped (markers are linked then too).

    >>> "Draft" in streaming_html("The talks lasted")
    True
    """
    if not text:
        return '<div class="rag-answer rag-waiting">Searching the articles…</div>'
    return (f'<div class="rag-answer rag-streaming"><div class="rag-draft">{DRAFT_NOTE}</div>'
            f'{escape(text)}<span class="rag-cursor">▍</span></div>')


DRAFT_NOTE = "Draft · being checked against the articles"


def error_html(message: str) -> str:
    """A readable one-line error in place of an answer."""
    return f'<div class="rag-answer rag-error">⚠ {escape(message)}</div>'


def user_html(question: str) -> str:
    """The user's own message, escaped like everything else."""
    return f'<div class="rag-question">{escape(question)}</div>'

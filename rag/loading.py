"""Read one input file as text, or say in one line why it cannot be ingested.

`read_document` is the first arrow of the pipeline (file -> text): it checks the path, the file type and
size, refuses binary files, decodes the bytes (BOM, then an HTML ``<meta charset>``, then strict UTF-8,
then charset-normalizer, so GBK/GB18030 pages decode correctly) and tells what kind of text it is:
``"html"``, ``"markdown"`` (by extension, a YAML front matter block or a leading ``#`` heading) or
``"text"``. Every problem a user can cause is a :class:`rag.errors.BadFileError` with a short reason.

>>> import tempfile
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> page = folder / "page.txt"
>>> _ = page.write_bytes("美俄外长在日内瓦举行会谈\\n\\n新华社日内瓦1月21日电。".encode("gbk"))
>>> text, kind = read_document(page, max_bytes=1_000_000)
>>> text.splitlines()[0], kind
('美俄外长在日内瓦举行会谈', 'text')
>>> _ = (folder / "report.docx").write_bytes(b"PK\\x03\\x04")
>>> try:
...     read_document(folder / "report.docx", max_bytes=1_000_000)
... except BadFileError as error:
...     print(error.reason)
unsupported file type .docx; supported: .txt, .md, .markdown, .html, .htm or no extension
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from charset_normalizer import from_bytes

from rag.errors import BadFileError

# Extension -> kind. A file without extension is read as plain text.
SUPPORTED_SUFFIXES: dict[str, str] = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    "": "text",
}

# Leading bytes of common binary formats -> the name shown to the user.
_MAGIC_NUMBERS: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "PDF"),
    (b"PK\x03\x04", "ZIP archive or Office document"),
    (b"PK\x05\x06", "ZIP archive"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "old Office document"),
    (b"\x1f\x8b", "gzip archive"),
    (b"BZh", "bzip2 archive"),
    (b"\xfd7zXZ\x00", "xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"\x7fELF", "executable"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"ID3", "MP3 audio"),
    (b"OggS", "Ogg audio"),
    (b"fLaC", "FLAC audio"),
)

# Byte-order marks, longest first (a UTF-32-LE BOM starts like a UTF-16-LE one).
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# Declared charsets that browsers read as a superset.
_CHARSET_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "iso-8859-1": "cp1252",
                      "latin1": "cp1252", "us-ascii": "utf-8", "ascii": "utf-8"}
_HTML_START = re.compile(r"\A\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])",
                         re.IGNORECASE | re.DOTALL)
_HTML_TAGS = re.compile(r"<(html|head|body|title|meta)[\s>]", re.IGNORECASE)
_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\n(.*?\n)---[ \t]*(\n|\Z)", re.DOTALL)
_YAML_KEY = re.compile(r"^[A-Za-z_][\w-]*\s*:", re.MULTILINE)
_SNIFF_CHARS = 4096


def read_document(path: Path, max_bytes: int) -> tuple[str, str]:
    """Return ``(text, kind)`` for the file at `path`; kind is ``"html"``, ``"markdown"`` or ``"text"``.

    Raises :class:`BadFileError` for a missing path, a directory or other non-regular file, an
    unsupported extension, an empty or whitespace-only file, a file over `max_bytes`, binary content
    and undecodable text. Line ends are normalised to ``\\n`` and a BOM is removed.
    """
    path = Path(path)
    _check_is_regular_file(path)
    suffix = _check_suffix(path)
    size = path.stat().st_size
    if size == 0:
        raise BadFileError(str(path), "empty file (0 bytes)")
    if size > max_bytes:
        limit = _human_size(max_bytes)
        raise BadFileError(str(path), f"file too large: {_human_size(size)}, the limit is {limit}")
    data = path.read_bytes()
    _check_not_binary(path, data)
    text = _decode(path, data, declared_html=SUPPORTED_SUFFIXES[suffix] == "html")
    if not text.strip():
        raise BadFileError(str(path), "empty file (only white space)")
    return text, _sniff_kind(text, suffix)


def _check_is_regular_file(path: Path) -> None:
    """The path must exist and be a regular file (not a directory, socket, device...)."""
    if not path.exists():
        raise BadFileError(str(path), "file not found")
    if path.is_dir():
        raise BadFileError(str(path), "is a directory, not a file (ingest the folder to read its files)")
    if not path.is_file():
        raise BadFileError(str(path), "not a regular file")


def _check_suffix(path: Path) -> str:
    """Only the extensions of `SUPPORTED_SUFFIXES` are read; return the lower-cased suffix."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        supported = ", ".join(s for s in SUPPORTED_SUFFIXES if s)
        reason = f"unsupported file type {suffix}; supported: {supported} or no extension"
        raise BadFileError(str(path), reason)
    return suffix


def _check_not_binary(path: Path, data: bytes) -> None:
    """Refuse known binary formats by their magic number, and anything else with NUL bytes.

    UTF-16/32 text contains NUL bytes too, so a file that starts with their BOM is let through.
    """
    for magic, name in _MAGIC_NUMBERS:
        if data.startswith(magic):
            raise BadFileError(str(path), f"binary file ({name}), not text")
    if data[4:12] in (b"ftypisom", b"ftypmp42") or (data.startswith(b"RIFF") and data[8:12] == b"WEBP"):
        raise BadFileError(str(path), "binary file (media), not text")
    if any(data.startswith(bom) for bom, _ in _BOMS):
        return
    if b"\x00" in data[:8192]:
        raise BadFileError(str(path), "binary file (contains NUL bytes), not text")


def _decode(path: Path, data: bytes, declared_html: bool) -> str:
    """Decode with the first that applies: BOM, HTML meta charset, strict UTF-8, charset-normalizer."""
    text = None
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = _try_decode(data, encoding)
            break
    if text is None and (declared_html or _HTML_TAGS.search(data[:_SNIFF_CHARS].decode("latin-1"))):
        charset = _declared_charset(data)
        if charset:
            text = _try_decode(data, charset)
    if text is None:
        text = _try_decode(data, "utf-8")
    if text is None:
        best = from_bytes(data).best()
        text = str(best) if best is not None else None
    if text is None:
        raise BadFileError(str(path), "cannot decode the text: unknown character encoding")
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _declared_charset(data: bytes) -> str | None:
    """The charset of an HTML ``<meta charset=...>`` (or http-equiv) near the top, as a Python codec name."""
    match = _META_CHARSET.search(data[:_SNIFF_CHARS])
    if not match:
        return None
    name = match.group(1).decode("ascii", "ignore").lower()
    name = _CHARSET_SUPERSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _try_decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _sniff_kind(text: str, suffix: str) -> str:
    """Extension first; a .txt (or extensionless) file that is really HTML or Markdown is sniffed.

    HTML: starts with a doctype/``<html>``/``<head>``/``<body>`` tag. Markdown: a YAML front matter block
    (``---``, ``key: value`` lines, ``---``) or a leading ``# heading``.
    """
    kind = SUPPORTED_SUFFIXES[suffix]
    if kind != "text":
        return kind
    head = text[:_SNIFF_CHARS]
    front = _FRONT_MATTER.match(head)
    if front and _YAML_KEY.search(front.group(1)):
        return "markdown"
    if _HTML_START.match(head):
        return "html"
    if re.match(r"\A\s*#{1,6} \S", head):
        return "markdown"
    return "text"


def _human_size(n: int) -> str:
    """Bytes as a short readable size, e.g. ``'5.2 MB (5,242,880 bytes)'``."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit} ({n:,} bytes)"
    return f"{n:,} bytes"

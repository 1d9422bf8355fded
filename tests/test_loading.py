"""Tests of rag/loading.py: kinds, encodings (GBK, GB18030, BOMs, meta charset) and every BadFileError."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from rag.cleaning import clean_article
from rag.errors import BadFileError
from rag.loading import read_document

ARTICLES = Path(__file__).resolve().parents[1] / "rag" / "data" / "articles"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXPECTED = json.loads((FIXTURES / "expected_paragraphs.json").read_text(encoding="utf-8"))
LIMIT = 10_000_000


def _sample(prefix: str) -> Path:
    return next(ARTICLES.glob(f"{prefix}_*.txt"))


def _reason(path: Path, max_bytes: int = LIMIT) -> str:
    with pytest.raises(BadFileError) as info:
        read_document(path, max_bytes)
    assert str(info.value).startswith(str(path))
    return info.value.reason


# ------------------------------------------------------------------------------------------------ kinds


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_samples_read_as_text_or_markdown(name):
    text, kind = read_document(ARTICLES / name, LIMIT)
    assert kind == ("markdown" if name.startswith("001") else "text")
    assert "\r" not in text and not text.startswith("\ufeff")


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("page.html", "<p>正文。</p>", "html"),
        ("page.HTM", "<p>正文。</p>", "html"),
        ("note.md", "正文。", "markdown"),
        ("note.markdown", "正文。", "markdown"),
        ("page.txt", "<!DOCTYPE html>\n<html><body><p>正文。</p></body></html>", "html"),
        ("page.txt", "\n<html lang='zh'><head><title>t</title></head></html>", "html"),
        ("post.txt", "---\ntitle: 标题\ndate: 2022-01-19\n---\n<p>正文。</p>", "markdown"),
        ("post.txt", "# 标题\n\n正文。", "markdown"),
        ("README", "plain words", "text"),
        ("page.TXT", "美俄外长在日内瓦举行会谈", "text"),
        ("dashes.txt", "---\nnot front matter, just a rule\n", "text"),
    ],
)
def test_kind_by_extension_and_sniffing(tmp_path, name, content, kind):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert read_document(path, LIMIT)[1] == kind


def test_windows_line_ends_are_normalised(tmp_path):
    path = tmp_path / "crlf.txt"
    path.write_bytes("标题\r\n\r\n正文。\r".encode())
    assert read_document(path, LIMIT)[0] == "标题\n\n正文。\n"


# -------------------------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(("prefix", "encoding"), [("004", "gbk"), ("001", "gbk"), ("000", "gb18030"),
                                                   ("003", "gb18030")])
def test_gbk_copy_decodes_and_cleans_to_the_same_article(tmp_path, prefix, encoding):
    original = _sample(prefix)
    utf8_text, kind = read_document(original, LIMIT)
    copy = tmp_path / original.name
    copy.write_bytes(utf8_text.encode(encoding))
    text, copy_kind = read_document(copy, LIMIT)
    assert (text, copy_kind) == (utf8_text, kind)
    assert clean_article(text, original.name, kind) == clean_article(utf8_text, original.name, kind)


def test_short_gbk_text_decodes(tmp_path):
    path = tmp_path / "short.txt"
    path.write_bytes("美俄外长在日内瓦举行会谈。双方交换了意见。".encode("gbk"))
    assert read_document(path, LIMIT)[0] == "美俄外长在日内瓦举行会谈。双方交换了意见。"


@pytest.mark.parametrize(("bom", "encoding"), [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                                               (codecs.BOM_UTF16_BE, "utf-16-be")])
def test_byte_order_mark_is_honoured_and_removed(tmp_path, bom, encoding):
    original = _sample("002")
    utf8_text = original.read_text(encoding="utf-8")
    path = tmp_path / "bom.txt"
    path.write_bytes(bom + utf8_text.encode(encoding))
    text, kind = read_document(path, LIMIT)
    assert text == utf8_text and kind == "text"
    assert clean_article(text, "bom.txt").paragraphs == EXPECTED[original.name]


def test_html_meta_charset_is_honoured(tmp_path):
    html = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
            "<title>测试</title></head><body><p>拉夫罗夫说，俄中高层交往密切。</p></body></html>")
    path = tmp_path / "page.html"
    path.write_bytes(html.encode("gb2312"))
    text, kind = read_document(path, LIMIT)
    assert kind == "html" and "拉夫罗夫说，俄中高层交往密切。" in text


def test_meta_charset_in_a_txt_dump_of_html(tmp_path):
    html = ('<!DOCTYPE html><html><head><meta charset="GBK"></head>'
            "<body><p>中俄之间有着牢固的战略互信。</p></body></html>")
    path = tmp_path / "page.txt"
    path.write_bytes(html.encode("gbk"))
    text, kind = read_document(path, LIMIT)
    assert kind == "html" and "中俄之间有着牢固的战略互信" in text


# ------------------------------------------------------------------------------------------------ errors


def test_missing_path(tmp_path):
    assert _reason(tmp_path / "nope.txt") == "file not found"


def test_directory(tmp_path):
    assert "is a directory" in _reason(tmp_path)


def test_unsupported_extension_names_the_supported_ones(tmp_path):
    path = tmp_path / "report.docx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    reason = _reason(path)
    assert reason.startswith("unsupported file type .docx; supported: ")
    assert all(ext in reason for ext in (".txt", ".md", ".markdown", ".html", ".htm"))


@pytest.mark.parametrize("content", [b"", b"   \n\t\r\n  ", "\u3000\n".encode()])
def test_empty_file(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    assert _reason(path).startswith("empty file")


def test_oversized_file_says_size_and_limit(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("新闻。" * 1000, encoding="utf-8")
    reason = _reason(path, max_bytes=1000)
    assert reason.startswith("file too large")
    assert "9,000 bytes" in reason and "1,000 bytes" in reason


@pytest.mark.parametrize(
    ("content", "label"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10", "PNG image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "PDF"),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00", "ZIP archive or Office document"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "JPEG image"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "gzip archive"),
    ],
)
def test_binary_files_are_named(tmp_path, content, label):
    path = tmp_path / "looks_like_text.txt"
    path.write_bytes(content)
    assert _reason(path) == f"binary file ({label}), not text"


def test_nul_bytes_mean_binary(tmp_path):
    path = tmp_path / "data.txt"
    path.write_bytes(b"abc\x00def\x00" * 10)
    assert _reason(path) == "binary file (contains NUL bytes), not text"


def test_undecodable_bytes(tmp_path):
    path = tmp_path / "garbage.txt"
    path.write_bytes(bytes(range(0x80, 0x100)) * 8)
    assert _reason(path).startswith("cannot decode the text")

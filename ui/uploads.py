"""Uploaded files -> a copy under the uploads folder with a safe name, within the size limit.

A browser sends whatever file name it likes (`../../evil.txt`, `C:\\x\\y.txt`, `.bashrc`); the copy is
always made inside `folder`, under a name made only of letters (any script), digits, `.`, `_` and `-`.

>>> safe_filename("../../evil.txt")
'evil.txt'
>>> safe_filename("..\\\\..\\\\新闻 稿(1).html")
'新闻_稿_1_.html'
>>> safe_filename(".bashrc"), safe_filename(".."), safe_filename("")
('bashrc', 'upload', 'upload')
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import unicodedata
from pathlib import Path

from rag.config import Config
from rag.errors import BadFileError

_UNSAFE = re.compile(r"[^\w.\-]+")
_MAX_NAME_CHARS = 100


def safe_filename(name: str) -> str:
    """A file name without any folder part, hidden-file dot or character outside [letters digits . _ -]."""
    name = unicodedata.normalize("NFKC", name).replace("\\", "/").split("/")[-1]
    name = _UNSAFE.sub("_", name).lstrip("._-")
    name = re.sub(r"\.{2,}", ".", name)
    if not name:
        return "upload"
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        return name[:_MAX_NAME_CHARS]
    return f"{stem[:_MAX_NAME_CHARS - len(suffix) - 1] or 'upload'}.{suffix[:16]}"


def uploads_folder(config: Config, index_path: Path) -> Path:
    """`$RAG_HOME/uploads/<index name>-<hash of its path>`: one folder per index, outside the index itself.

    >>> uploads_folder(Config.load(home="/data"), Path("/srv/news-idx")).as_posix()
    '/data/uploads/news-idx-22913a4d'
    """
    resolved = Path(index_path).expanduser().resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:8]
    return Path(config.home) / "uploads" / f"{safe_filename(resolved.name)}-{digest}"


def store_upload(source: str | Path, name: str, folder: Path, max_bytes: int) -> Path:
    """Copy `source` to `folder/<safe name>` (replacing an older upload of that name); returns the copy.

    Raises `BadFileError` when the file is larger than `max_bytes` or cannot be read.
    """
    source = Path(source)
    try:
        size = source.stat().st_size
    except OSError as exc:
        raise BadFileError(name, f"the upload cannot be read ({exc.strerror or exc})") from None
    if size > max_bytes:
        raise BadFileError(name, f"file too large ({size:,} bytes; the limit is {max_bytes:,})")
    folder = folder.resolve()
    target = folder / safe_filename(name)
    if target.parent != folder:  # cannot happen with safe_filename; a last guard against escaping
        raise BadFileError(name, "unsafe file name")
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{target.name}.partial"
    shutil.copyfile(source, partial)
    os.replace(partial, target)  # replaces a symlink itself, never the file it points to
    return target

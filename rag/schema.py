"""Plain dataclasses that cross module boundaries.

The data flows one way: file -> :class:`Article` -> :class:`Chunk` -> index -> :class:`Hit`.

>>> a = Article(doc_id="a.txt", title="T", date="2022-01-24", source="新华社", paragraphs=["p1", "p2"])
>>> a.to_dict()["paragraphs"]
['p1', 'p2']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Article:
    """A cleaned document: what `rag inspect --json` prints."""

    doc_id: str
    title: str | None
    date: str | None  # ISO YYYY-MM-DD, or None when the page states none
    source: str | None
    paragraphs: list[str]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Chunk:
    """One retrievable passage of an article, with the article's metadata."""

    chunk_id: str
    doc_id: str
    title: str | None
    date: str | None
    source: str | None
    text: str
    position: int  # order of the chunk inside its document, from 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Hit:
    """A chunk returned by search, best first; `score` is the fused score."""

    chunk_id: str
    doc_id: str
    title: str | None
    date: str | None
    source: str | None
    text: str
    score: float
    position: int = 0

    def to_dict(self) -> dict:
        """The `rag search --json` object of INTERFACES.md."""
        return {
            "chunk_id": self.chunk_id,
            "doc_id": self.doc_id,
            "title": self.title,
            "date": self.date,
            "source": self.source,
            "text": self.text,
            "score": round(float(self.score), 6),
        }


@dataclass
class FileFailure:
    """A file that could not be ingested, with a reason a person can act on."""

    path: str
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class IngestReport:
    """What one `ingest()` call did."""

    added: list[str] = field(default_factory=list)  # doc_ids new to the index
    updated: list[str] = field(default_factory=list)  # doc_ids whose content changed
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # doc_ids gone from an ingested folder
    failed: list[FileFailure] = field(default_factory=list)
    chunks_added: int = 0
    chunks_embedded: int = 0
    duplicates_skipped: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict:
        d = asdict(self)
        d["ok"] = self.ok
        return d


@dataclass
class Citation:
    """One numbered source of an answer: the passage and the part of it that supports the claim."""

    n: int
    chunk_id: str
    doc_id: str
    title: str | None
    date: str | None
    source: str | None
    quote: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Answer:
    """What `rag.ask()` returns; `to_dict()` is the `rag ask --json` object of INTERFACES.md."""

    question: str
    text: str
    abstained: bool
    citations: list[Citation]
    contexts: list[Hit]
    timings: dict[str, float]  # seconds per stage (retrieve_s, ..., total_s) and retrieve/generate/total_ms
    llm: str  # the backend that produced the text: "local" | "api" | "extractive"
    language: str = "zh"
    standalone_question: str | None = None  # the follow-up rewritten for retrieval
    fallback: str | None = None  # why another backend was used instead of the requested one

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "contexts": [h.to_dict() for h in self.contexts],
            "timings": {k: round(v, 1 if k.endswith("_ms") else 4) for k, v in self.timings.items()},
            "llm": self.llm,
            "language": self.language,
            "standalone_question": self.standalone_question,
            "fallback": self.fallback,
        }

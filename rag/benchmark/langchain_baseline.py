"""The same retrieval pipeline built the plain LangChain way: the baseline that `rag bench` compares against.

RecursiveCharacterTextSplitter (Chinese-aware separators) -> sentence-transformers embeddings of the same
local e5 folder with its "passage: "/"query: " prompts -> langchain_community's FAISS vector store ->
``save_local``. One vector per chunk, no keyword index, no deduplication: what a LangChain tutorial builds.

>>> model = "/path/to/multilingual-e5-small"
>>> stats = build_langchain_index(["日内瓦会谈于周一举行。"], model, "/tmp/lc")  # doctest: +SKIP
>>> stats["paragraphs"], stats["chunks"]  # doctest: +SKIP
(1, 1)
>>> embeddings = langchain_embeddings(model)  # doctest: +SKIP
>>> hits = langchain_search("/tmp/lc", "会谈在哪里举行？", k=1, embeddings=embeddings)  # doctest: +SKIP
>>> [doc.metadata["paragraph"] for doc in hits]  # doctest: +SKIP
[0]
"""

from __future__ import annotations

import time
from pathlib import Path

from langchain_community.embeddings import HuggingFaceEmbeddings
from langchain_community.vectorstores import FAISS
from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

# Paragraph breaks, then Chinese and Latin sentence ends, then clause marks, then anything.
CHINESE_SEPARATORS = ["\n\n", "\n", "。", "！", "？", "；", ". ", "! ", "? ", "，", ", ", " ", ""]


class E5Embeddings(HuggingFaceEmbeddings):
    """LangChain's sentence-transformers embeddings with e5's asymmetric prompts.

    langchain_huggingface.HuggingFaceEmbeddings takes ``query_encode_kwargs`` for this; that package is not
    installed here (it pins an older huggingface_hub), and langchain_community's class embeds a query like a
    document, so the query prompt is the only thing added.
    """

    def embed_query(self, text: str) -> list[float]:
        vectors = self.client.encode([text.replace("\n", " ")], prompt_name="query", normalize_embeddings=True,
                                     show_progress_bar=False)
        return vectors[0].tolist()


def langchain_embeddings(model_path: str | Path, batch_size: int = 32) -> E5Embeddings:
    """Embeddings of the local e5 folder: normalized, "passage: " for documents and "query: " for questions."""
    return E5Embeddings(
        model_name=str(model_path),
        model_kwargs={"device": "cpu"},
        encode_kwargs={"prompt_name": "passage", "normalize_embeddings": True, "batch_size": batch_size},
    )


def langchain_splitter(chunk_size: int = 400, chunk_overlap: int = 50) -> RecursiveCharacterTextSplitter:
    """The text splitter of the baseline: `chunk_size` characters with `chunk_overlap`, Chinese-aware."""
    return RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap,
                                          separators=CHINESE_SEPARATORS, keep_separator="end")


def build_langchain_index(paragraphs: list[str] | list[Document], model_path: str | Path, out_dir: str | Path,
                          chunk_size: int = 400, chunk_overlap: int = 50,
                          embeddings: HuggingFaceEmbeddings | None = None) -> dict:
    """Split, embed and save `paragraphs` as a LangChain FAISS index in `out_dir`.

    Each chunk's metadata has ``"paragraph"``, the index of its paragraph in `paragraphs`. Returns
    ``{"paragraphs", "paragraphs_indexed", "chunks", "texts_embedded", "seconds"}``; `seconds` covers splitting,
    embedding and saving, not loading the model (pass `embeddings` to reuse a loaded one).
    """
    embeddings = embeddings or langchain_embeddings(model_path)
    documents = [Document(page_content=p.page_content, metadata={**p.metadata, "paragraph": i})
                 if isinstance(p, Document) else Document(page_content=p, metadata={"paragraph": i})
                 for i, p in enumerate(paragraphs)]
    started = time.perf_counter()
    chunks = langchain_splitter(chunk_size, chunk_overlap).split_documents(documents)
    store = FAISS.from_documents(chunks, embeddings)
    store.save_local(str(out_dir))
    seconds = time.perf_counter() - started
    indexed = len({c.metadata["paragraph"] for c in chunks})
    return {"paragraphs": len(documents), "paragraphs_indexed": indexed, "chunks": len(chunks),
            "texts_embedded": len(chunks), "seconds": seconds}


def load_langchain_index(out_dir: str | Path, embeddings: HuggingFaceEmbeddings) -> FAISS:
    """The saved index (its docstore is a pickle that this module wrote, hence the opt-in)."""
    return FAISS.load_local(str(out_dir), embeddings, allow_dangerous_deserialization=True)


def langchain_search(store: FAISS | str | Path, query: str, k: int = 5,
                     embeddings: HuggingFaceEmbeddings | None = None) -> list[Document]:
    """The `k` nearest chunks to `query`: an opened store, or a saved folder with its `embeddings`."""
    if not isinstance(store, FAISS):
        if embeddings is None:
            raise ValueError("pass the embeddings to open a saved LangChain index folder")
        store = load_langchain_index(store, embeddings)
    return store.similarity_search(query, k=k)


def build_langchain_index_from_files(files: list[str | Path], model_path: str | Path, out_dir: str | Path,
                                     chunk_size: int = 400, chunk_overlap: int = 50,
                                     embeddings: HuggingFaceEmbeddings | None = None) -> dict:
    """The plain LangChain way from files: `TextLoader` each file as it is, split, embed, save.

    Nothing is cleaned or deduplicated, and nothing is kept from an earlier build: a changed folder is
    indexed again from scratch (`FAISS.from_documents`). Returns ``{"files", "chunks", "texts_embedded",
    "chars_embedded", "seconds"}``; `seconds` covers loading the files, splitting, embedding and saving.
    """
    from langchain_community.document_loaders import TextLoader

    embeddings = embeddings or langchain_embeddings(model_path)
    started = time.perf_counter()
    documents = [doc for f in files for doc in TextLoader(str(f), encoding="utf-8", autodetect_encoding=True).load()]
    chunks = langchain_splitter(chunk_size, chunk_overlap).split_documents(documents)
    FAISS.from_documents(chunks, embeddings).save_local(str(out_dir))
    seconds = time.perf_counter() - started
    return {"files": len(files), "chunks": len(chunks), "texts_embedded": len(chunks),
            "chars_embedded": sum(len(c.page_content) for c in chunks), "seconds": seconds}

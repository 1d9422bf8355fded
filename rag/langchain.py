"""LangChain integration: the hybrid search as a `BaseRetriever`.

The chat backends are LangChain chat models already (`rag.llm.chat_model`), so the project drops into
a user's own LCEL chain:

>>> import rag
>>> from rag.langchain import ArticleRetriever
>>> retriever = ArticleRetriever(index=rag.open_index(), k=3)               # doctest: +SKIP
>>> [d.metadata["doc_id"] for d in retriever.invoke("拉夫罗夫 日内瓦")]      # doctest: +SKIP
['000_830f0738273cd064.txt', ...]

    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnablePassthrough
    from rag.llm import chat_model

    def as_context(docs):
        return "\\n\\n".join(f"[{i}] {d.metadata['title']} {d.metadata['date']}\\n{d.page_content}"
                           for i, d in enumerate(docs, 1))

    prompt = ChatPromptTemplate.from_template("Passages:\\n{context}\\n\\nQuestion: {question}\\nAnswer with [n]:")
    chain = ({"context": retriever | as_context, "question": RunnablePassthrough()}
             | prompt | chat_model(rag.Config.load(), "local"))
    chain.invoke("How long did the Geneva talks last?")
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.index import Index


class ArticleRetriever(BaseRetriever):
    """Hybrid (dense + BM25) search of an opened index; each hit becomes a `Document` with its metadata."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: Any
    k: int = 5
    mode: str = "hybrid"
    filters: dict | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        index: Index = self.index
        hits = index.search(query, k=self.k, mode=self.mode, filters=self.filters)
        return [
            Document(page_content=h.text, id=h.chunk_id,
                     metadata={"chunk_id": h.chunk_id, "doc_id": h.doc_id, "title": h.title, "date": h.date,
                               "source": h.source, "score": h.score})
            for h in hits
        ]

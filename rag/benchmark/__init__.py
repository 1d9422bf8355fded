"""`rag bench`: what ingest, search and answering cost on this machine, and how that grows with the corpus.

Modules, one per measurement: `vectors` (search latency, memory and recall of each vector backend at
1k-1M vectors), `ingest` (paragraphs/s, ours vs the plain LangChain pipeline in `langchain_baseline`),
`ask` (answer latency split into retrieve / prompt / generate), `report` (Markdown + PNG plots), `run`
(all of them, in one run: the entry point of `rag bench`).
"""

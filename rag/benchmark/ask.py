"""`ask` latency split into its stages: rewrite / retrieve / prompt (LLM reads) / generate (LLM writes) / rest.

Runs `rag.ask` over questions of a JSONL QA set on the sample index, in this process, after one warm-up
answer (model load and GGUF paging are start-up costs, reported separately as `first_s`).

>>> rows = measure_ask(["How long did the Geneva talks last?"], llm="extractive")  # doctest: +SKIP
>>> rows["stages"]["retrieve_s"]["p50"] > 0  # doctest: +SKIP
True
"""

from __future__ import annotations

import time

import numpy as np

STAGES = ("rewrite_s", "retrieve_s", "prompt_s", "generate_s", "other_s", "total_s")


def _summary(values: list[float]) -> dict:
    if not values:
        return {"p50": None, "p95": None, "mean": None}
    arr = np.array(values)
    return {"p50": round(float(np.percentile(arr, 50)), 3), "p95": round(float(np.percentile(arr, 95)), 3),
            "mean": round(float(arr.mean()), 3)}


def measure_ask(questions: list[str], llm: str = "local", index=None, progress=print) -> dict:
    """Answer every question with backend `llm`; p50/p95 seconds per stage and the fallbacks seen."""
    import rag

    progress(f"ask: warming up the {llm} backend")
    t0 = time.perf_counter()
    rag.ask(questions[0], index=index, llm=llm)
    first_s = time.perf_counter() - t0
    per_stage: dict[str, list[float]] = {stage: [] for stage in STAGES}
    fallbacks = 0
    for n, question in enumerate(questions, 1):
        progress(f"ask: {llm} {n}/{len(questions)}")
        answer = rag.ask(question, index=index, llm=llm)
        timings = dict(answer.timings)
        fallbacks += bool(getattr(answer, "fallback", None))
        known = sum(timings.get(s, 0.0) for s in STAGES[:4])
        timings["other_s"] = max(0.0, timings.get("total_s", known) - known)  # gate, verification, language
        for stage in STAGES:
            if stage in timings:
                per_stage[stage].append(float(timings[stage]))
    return {"llm": llm, "questions": len(questions), "first_s": round(first_s, 2), "fallbacks": fallbacks,
            "stages": {stage: _summary(values) for stage, values in per_stage.items()}}

"""Retrieval latency and hit@1 / hit@3 of the hospital knowledge base: embeddings vs BM25.

Usage: ``python bench/knowledge_retrieval.py [--repeat N]``. The questions are the shared
set in ``tests/data/faq_questions.json``; the first (index-building) query is timed apart.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dialog.knowledge import KnowledgeBase

QUESTIONS = ROOT / "tests" / "data" / "faq_questions.json"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(kb: KnowledgeBase, label: str, repeat: int) -> None:
    data = json.loads(QUESTIONS.read_text("utf-8"))
    items = data["questions"]
    start = time.perf_counter()
    kb.build()
    build_s = time.perf_counter() - start
    latencies: list[float] = []
    hit1 = hit3 = 0
    for _ in range(repeat):
        hit1 = hit3 = 0
        for item in items:
            t0 = time.perf_counter()
            hits = kb.search(item["q"], 3)
            latencies.append((time.perf_counter() - t0) * 1000)
            ids = [h.entry.id for h in hits]
            hit1 += ids[:1] == [item["id"]]
            hit3 += item["id"] in ids
    off = [kb.search(q, 1)[0].score for q in data["off_topic"]]
    on = [kb.search(item["q"], 1)[0].score for item in items]
    n = len(items)
    print(
        f"{label:10s} mode={kb.mode:10s} build={build_s * 1000:7.1f} ms  "
        f"p50={statistics.median(latencies):6.2f} ms  p95={percentile(latencies, 95):6.2f} ms  "
        f"hit@1={hit1 / n:.3f}  hit@3={hit3 / n:.3f}  (n={n}, {len(latencies)} timed queries)"
    )
    print(
        f"{'':10s} top score: off-topic max={max(off):.2f}  "
        f"on-topic min={min(on):.2f} p10={percentile(on, 10):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    run(KnowledgeBase.from_folder(), "embeddings", args.repeat)
    run(KnowledgeBase.from_folder(embedder=None), "bm25", args.repeat)


if __name__ == "__main__":
    main()

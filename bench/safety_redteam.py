"""Crisis detection on the red-team sets: recall, false alarms and latency per utterance.

Reads tests/data/redteam/{crisis,benign,medical,injection}.yaml and runs them through the
lexicon alone and through lexicon + semantic check (the multilingual encoder), printing
recall on crisis utterances, the false-alarm rate on benign ones (per language), the
latency of one check per utterance (p50/p95/max, ms), the medical guard's accuracy and how
many injection attempts are recognised. The held-out set (heldout.yaml: never used to tune;
its ``untuned_*`` part written after the last change) is reported apart. Run from the root:
``python bench/safety_redteam.py``. Figures taken on a loaded machine say so.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dialog.safety import CrisisDetector, CrisisLexicon, SemanticCrisisCheck, is_medical_question
from dialog.safety.injection import find_injection

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "redteam"


def load(name: str) -> dict[str, list[dict[str, str]]]:
    return yaml.safe_load((DATA / name).read_text("utf-8"))


def evaluate(name: str, detector: CrisisDetector, rounds: int) -> None:
    crisis = load("crisis.yaml")["utterances"]
    benign = load("benign.yaml")["utterances"]
    times: list[float] = []

    def check(text: str) -> bool:
        best = float("inf")
        result = False
        for _ in range(rounds):
            started = time.perf_counter()
            result = detector.check(text).crisis
            best = min(best, time.perf_counter() - started)
        times.append(best * 1000)
        return result

    print(f"\n[{name}]")
    for lang in ("ko", "en"):
        found = [u for u in crisis if u["lang"] == lang]
        hit = sum(check(u["text"]) for u in found)
        calm = [u for u in benign if u["lang"] == lang]
        alarms = [u["text"] for u in calm if check(u["text"])]
        print(
            f"  {lang}: recall {hit}/{len(found)} ({100 * hit / len(found):.1f} %), "
            f"false alarms {len(alarms)}/{len(calm)} ({100 * len(alarms) / len(calm):.1f} %)"
        )
        for text in alarms:
            print(f"      false alarm: {text}")
        for u in found:
            if not detector.check(u["text"]).crisis:
                print(f"      missed: {u['text']}")
    total_hit = sum(detector.check(u["text"]).crisis for u in crisis)
    total_fa = sum(detector.check(u["text"]).crisis for u in benign)
    print(
        f"  all: recall {100 * total_hit / len(crisis):.1f} % ({total_hit}/{len(crisis)}), "
        f"false alarms {100 * total_fa / len(benign):.1f} % ({total_fa}/{len(benign)})"
    )
    values = np.array(times)
    print(
        f"  latency per utterance (best of {rounds}): p50 {np.percentile(values, 50):.2f} ms, "
        f"p95 {np.percentile(values, 95):.2f} ms, max {values.max():.2f} ms"
    )


def heldout(name: str, detector: CrisisDetector) -> None:
    """Recall and false alarms on the held-out set and on its untuned part."""
    data = yaml.safe_load((DATA / "heldout.yaml").read_text("utf-8"))
    for crisis_key, benign_key in (("crisis", "benign"), ("untuned_crisis", "untuned_benign")):
        crisis, benign = data.get(crisis_key, []), data.get(benign_key, [])
        if not crisis:
            continue
        missed = [u["text"] for u in crisis if not detector.check(u["text"]).crisis]
        alarms = [u["text"] for u in benign if detector.check(u["text"]).crisis]
        hit = len(crisis) - len(missed)
        print(
            f"  [{name}, held-out {crisis_key.replace('crisis', '').strip('_') or 'set'}] "
            f"recall {hit}/{len(crisis)} ({100 * hit / len(crisis):.1f} %), false alarms "
            f"{len(alarms)}/{len(benign)} ({100 * len(alarms) / max(1, len(benign)):.1f} %)"
        )
        for text in missed:
            print(f"      missed: {text}")
        for text in alarms:
            print(f"      false alarm: {text}")


def guards() -> None:
    medical = load("medical.yaml")
    refer = sum(is_medical_question(u["text"]) for u in medical["refer"])
    wrong = [u["text"] for u in medical["answer"] if is_medical_question(u["text"])]
    print("\n[medical guard]")
    print(f"  referred {refer}/{len(medical['refer'])}, wrongly referred {len(wrong)}")
    injection = load("injection.yaml")
    for where in ("knowledge", "user"):
        items = injection[where]
        seen = sum(bool(find_injection(text)) for text in items)
        print(f"[injection in {where}] recognised {seen}/{len(items)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="timed runs per utterance")
    args = parser.parse_args()
    load1 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine load average: {load1:.1f} on {os.cpu_count()} cores")
    evaluate("lexicon only", CrisisDetector(CrisisLexicon()), args.rounds)
    heldout("lexicon only", CrisisDetector(CrisisLexicon()))
    semantic = SemanticCrisisCheck()
    started = time.perf_counter()
    if semantic.wait_ready(300):
        print(f"\n(encoder loaded in {time.perf_counter() - started:.1f} s)")
        evaluate("lexicon + semantic", CrisisDetector(CrisisLexicon(), semantic), args.rounds)
        heldout("lexicon + semantic", CrisisDetector(CrisisLexicon(), semantic))
    else:
        print(f"\nsemantic check unavailable: {semantic.problem}")
    guards()


if __name__ == "__main__":
    main()

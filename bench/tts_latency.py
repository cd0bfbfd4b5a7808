"""Speech synthesis per engine: time to first audio and real-time factor.

Time to first audio: from ``synthesize()`` to the first piece's samples (what a
conversation waits for before the avatar starts speaking; the first piece may be the
sentence's first clause). RTF: synthesis seconds per second of audio for the whole text
(below 1 keeps ahead of playback). Each engine is loaded and warmed up first (its load
time is printed apart); each case runs ``--runs`` times and reports p50 and p95.

Engines: piper (English), espeak en and espeak ko, kokoro (when installed), remote (the
OpenAI-compatible server at ``--remote-url``, else the tests' local server speaking with
Piper, which shows what HTTP streaming adds to Piper) and coqui (``tts.coqui_model`` when
it can be had, else a tiny untrained VITS built on the spot: its timings are real, its
audio is noise). For Piper the
first audio is also measured without the clause cut (the whole first sentence), to show
what the cut buys. The machine's load average is printed: on a shared 2-core machine the
figures can be several times those of an idle one.

Run from the repository root: ``python bench/tts_latency.py [--runs 10] [--engines ...]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config.settings import Settings
from app.core.types import SpeechChunk

CASES = {
    "en": {
        "12-word sentence": "Hello, I am your guide and I can help you find rooms.",
        "paragraph (5 sentences)": (
            "Welcome to the city museum. The exhibition on the second floor shows paintings "
            "from the early twentieth century. Audio guides are available at the front desk, "
            "in English and in Korean. The cafe on the ground floor is open until six in the "
            "evening. Please ask me if you need directions to any room."
        ),
    },
    "ko": {
        "12-word sentence": (
            "안녕하세요, 저는 안내를 맡은 도우미이고 원하시는 방을 찾아 드릴 수 있습니다."
        ),
        "paragraph (4 sentences)": (
            "시립 박물관에 오신 것을 환영합니다. 이층 전시실에는 이십세기 초의 그림이 있습니다. "
            "오디오 가이드는 안내 데스크에서 빌리실 수 있고, 한국어와 영어로 들으실 수 있습니다. "
            "일층 카페는 저녁 여섯시까지 엽니다."
        ),
    },
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(chunks: Iterator[SpeechChunk]) -> tuple[float, float, float, int]:
    started = time.perf_counter()
    first = None
    audio = 0.0
    pieces = 0
    for chunk in chunks:
        if first is None:
            first = time.perf_counter() - started
        audio += chunk.seconds
        pieces += 1
    total = time.perf_counter() - started
    return first or total, total / audio if audio else float("nan"), audio, pieces


def build_remote(url: str | None) -> Any:
    from speech.tts.remote_tts import RemoteSynthesizer

    if url is None:
        from speech.tts.piper_tts import build as build_piper
        from tests.support.speech_server import SpeechServer

        server = SpeechServer(build_piper(Settings()), piece_bytes=4096).__enter__()
        url = server.base_url  # lives until the bench exits
        print(f"remote: a local server speaking with Piper at {url}")
    synthesizer = RemoteSynthesizer(url, "tts-1", "alloy")
    for _ in synthesizer.synthesize("Hello."):
        pass
    return synthesizer


def build_coqui(settings: Settings) -> Any:
    from speech.tts.coqui_tts import CoquiSynthesizer
    from speech.tts.coqui_tts import build as build_coqui_model

    try:
        return build_coqui_model(settings)
    except Exception as exc:
        import tempfile

        from tests.support.coqui_models import build_tiny_vits

        print(f"coqui: {settings.tts.coqui_model} not available ({exc}); a tiny UNTRAINED VITS")
        folder = Path(tempfile.mkdtemp(prefix="bench-coqui-"))
        build_tiny_vits(folder)
        synthesizer = CoquiSynthesizer(folder)
        synthesizer.warm_up()
        return synthesizer


def build(engine: str, remote_url: str | None = None) -> tuple[Any, str] | None:
    settings = Settings()
    try:
        if engine == "piper":
            from speech.tts.piper_tts import build as build_piper

            return build_piper(settings), "en"
        if engine in ("espeak-en", "espeak-ko"):
            from speech.tts.espeak_tts import EspeakSynthesizer

            language = engine.rsplit("-", 1)[1]
            return EspeakSynthesizer(language), language
        if engine == "kokoro":
            from speech.tts.kokoro_tts import build as build_kokoro

            return build_kokoro(settings), "en"
        if engine == "remote":
            return build_remote(remote_url), "en"
        if engine == "coqui":
            return build_coqui(settings), "en"
    except Exception as exc:
        print(f"{engine}: not available ({exc})")
        return None
    raise SystemExit(f"unknown engine {engine!r}")


def report(name: str, runs: list[tuple[float, float, float, int]], words: int) -> None:
    firsts = [1000 * r[0] for r in runs]
    rtfs = [r[1] for r in runs]
    print(
        f"  {name}: {words} words, {runs[0][3]} piece(s), {runs[0][2]:.2f} s audio | first audio "
        f"p50 {statistics.median(firsts):.0f} ms, p95 {percentile(firsts, 0.95):.0f} ms | "
        f"RTF p50 {statistics.median(rtfs):.3f}, p95 {percentile(rtfs, 0.95):.3f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--engines", default="piper,espeak-en,espeak-ko,kokoro,remote,coqui")
    parser.add_argument("--remote-url", help="an OpenAI-compatible /v1 base URL for 'remote'")
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    for engine in args.engines.split(","):
        started = time.perf_counter()
        built = build(engine, args.remote_url)
        if built is None:
            continue
        synthesizer, language = built
        print(f"{engine}: load + warm-up {time.perf_counter() - started:.2f} s")
        for name, text in CASES[language].items():
            runs = [measure(synthesizer.synthesize(text, language)) for _ in range(args.runs)]
            report(name, runs, len(text.split()))
        if engine == "piper":
            from speech.normalize import normalize

            # the first sentence whole, as before the clause cut (a private path, on purpose)
            text = CASES["en"]["12-word sentence"]
            spoken = normalize(text, "en")
            runs = [measure(synthesizer._speak(text, spoken)) for _ in range(args.runs)]
            report("12-word sentence without the clause cut", runs, len(text.split()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

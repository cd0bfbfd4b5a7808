"""Piper (VITS, ONNX) speech synthesis with per-phoneme timings for lip-sync.

The voice is loaded once (about 2 s); each ``synthesize`` call then yields one
:class:`SpeechChunk` per sentence (split with :mod:`speech.sentences`, so each chunk carries
its sentence's text for "what was heard" accounting), as soon as that sentence is ready,
with float32 samples and the viseme timeline built from Piper's phoneme alignments
(samples per phoneme).
Piper 1.8 adds the alignment output to the ONNX graph in memory when the voice is loaded
with ``include_alignments=True`` (this needs the ``onnx`` package).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from app.config.settings import Settings
from app.core.registry import RoleUnavailable
from app.core.types import SpeechChunk
from speech import visemes
from speech.sentences import split_sentences

_LOG = logging.getLogger(__name__)


def voice_files(folder: Path, voice: str) -> tuple[Path, Path]:
    """The ``.onnx`` model and its ``.onnx.json`` config inside a resolved model folder."""
    model = folder / f"{voice}.onnx"
    if not model.is_file():
        found = sorted(folder.glob("*.onnx"))
        if len(found) != 1:
            raise FileNotFoundError(f"no {voice}.onnx in {folder}")
        model = found[0]
    config = model.with_name(model.name + ".json")
    if not config.is_file():
        raise FileNotFoundError(f"no {config.name} next to {model}")
    return model, config


class PiperSynthesizer:
    """The ``Synthesizer`` role backed by a Piper voice; thread-safe, one sentence at a time."""

    def __init__(self, model: Path, config: Path, *, alignments: bool = True) -> None:
        from piper import PiperVoice

        self._voice: Any = PiperVoice.load(model, config, include_alignments=alignments)
        self.sample_rate: int = int(self._voice.config.sample_rate)
        self.language: str = str(getattr(self._voice.config, "espeak_voice", "en")).split("-")[0]
        self.name = model.stem
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Run the model once: ONNX Runtime's first inference is several times slower."""
        for _ in self.synthesize("Hello."):
            pass

    def synthesize(self, text: str, language: str | None = None) -> Iterator[SpeechChunk]:
        """Blocking generator: one chunk per sentence, each yielded when it is ready.

        ``language`` is advisory: a Piper voice speaks only its own language.
        """
        if language and language.split("-")[0] != self.language:
            _LOG.warning("voice %s speaks %s, asked for %s", self.name, self.language, language)
        for sentence in split_sentences(text):
            # espeak may cut a sentence further (e.g. at a colon); the text rides on the first
            pieces = self._voice.synthesize(sentence, include_alignments=True)
            label = sentence
            while True:
                with self._lock:
                    piece = next(pieces, None)
                if piece is None:
                    break
                yield self._chunk(piece, label)
                label = ""

    def _chunk(self, piece: Any, text: str) -> SpeechChunk:
        samples = np.ascontiguousarray(piece.audio_float_array, dtype=np.float32).reshape(-1)
        total = len(samples)
        phonemes: list[str]
        alignments = piece.phoneme_alignments
        if alignments:
            phonemes = [a.phoneme for a in alignments]
            counts = [int(a.num_samples) for a in alignments]
            drift = total - sum(counts)
            if drift:  # never seen with Piper 1.8; keep the timeline covering the audio
                counts[-1] = max(0, counts[-1] + drift)
            timeline = visemes.timeline(phonemes, counts, self.sample_rate)
        else:
            timeline = visemes.uniform_timeline(list(piece.phonemes), total, self.sample_rate)
        return SpeechChunk(samples, self.sample_rate, timeline, text)


def build(settings: Settings) -> PiperSynthesizer:
    """Registry factory: the configured voice, found through the model manager."""
    try:
        import piper  # noqa: F401
    except ImportError:
        raise RoleUnavailable(
            "piper-tts is not installed; pip install 'piper-tts==1.8.0' onnx"
        ) from None
    from app.models.manager import ModelManager

    voice = settings.tts.voice
    model_id = voice if voice.startswith("piper-") else f"piper-{voice}"
    try:
        folder = ModelManager(settings).resolve(model_id)
        model, config = voice_files(folder, voice.removeprefix("piper-"))
    except Exception as exc:
        raise RoleUnavailable(
            f"the Piper voice {voice!r} is not available ({exc}); "
            f"run `dhuman models pull {model_id}` or choose another voice"
        ) from None
    synthesizer = PiperSynthesizer(model, config)
    synthesizer.warm_up()
    return synthesizer

"""Piper (VITS, ONNX) speech synthesis with per-phoneme timings for lip-sync.

The voice is loaded once (about 2 s); each ``synthesize`` call then yields one
:class:`SpeechChunk` per sentence (split with :mod:`speech.sentences`, so each chunk carries
its sentence's text for "what was heard" accounting), as soon as that sentence is ready,
with float32 samples and the viseme timeline built from Piper's phoneme alignments
(samples per phoneme), and word timings from the word gaps in those alignments.
Text is normalised first (:mod:`speech.normalize`: numbers, times, units... as words) and
the first sentence is cut at a clause when long (:mod:`speech.sentences`), so the first
audio comes after a few words' synthesis, not a whole sentence's. A Piper voice speaks one
language: Hangul in an English voice's text is dropped with a warning (use the espeak or
auto engine for Korean).
Piper 1.8 adds the alignment output to the ONNX graph in memory when the voice is loaded
with ``include_alignments=True`` (this needs the ``onnx`` package).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from app.config.settings import Settings
from app.core.registry import RoleUnavailable
from app.core.types import SpeechChunk, WordTiming
from speech import visemes
from speech.compute_priority import built_at_low_priority
from speech.normalize import normalize
from speech.sentences import split_sentences
from speech.tts import words as word_timing
from speech.tts.chunks import chunk_from_alignment

_LOG = logging.getLogger(__name__)
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]+")
_PIECE_ENDS = (".", "!", "?", ":", ";")


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

    def __init__(
        self, model: Path, config: Path, *, alignments: bool = True, speed: float = 1.0
    ) -> None:
        """``speed`` < 1 speaks slower (0.8 suits elderly listeners), > 1 faster."""
        from piper.config import SynthesisConfig

        self._voice: Any = _load_voice(model, config, alignments)
        self._config = SynthesisConfig()
        self.set_speed(speed)
        self.sample_rate: int = int(self._voice.config.sample_rate)
        self.language: str = str(getattr(self._voice.config, "espeak_voice", "en")).split("-")[0]
        self.name = model.stem
        self._lock = threading.Lock()

    def set_speed(self, factor: float) -> None:
        """Speaking rate: < 1 slower (0.8 suits elderly listeners), > 1 faster."""
        self._config.length_scale = 1.0 / max(0.25, min(4.0, factor))

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
        for sentence in split_sentences(text, first_clause=True):
            spoken = normalize(sentence, self.language)
            if _HANGUL.search(spoken):
                _LOG.warning("voice %s cannot speak Korean; skipping its Hangul", self.name)
                spoken = _HANGUL.sub(" ", spoken).strip()
            if not any(c.isalnum() for c in spoken):
                continue
            yield from self._speak(sentence, spoken)

    def _speak(self, sentence: str, spoken: str) -> Iterator[SpeechChunk]:
        # espeak may cut a sentence further (e.g. at a colon); the text rides on the first
        pieces = self._voice.synthesize(spoken, self._config, include_alignments=True)
        label = sentence
        remaining = word_timing.spoken_words(spoken)
        while True:
            with self._lock:
                piece = next(pieces, None)
            if piece is None:
                break
            chunk, remaining = self._chunk(piece, label, remaining)
            yield chunk
            label = ""

    def _phonemes(self, word: str) -> list[str]:
        with self._lock:
            sentences: list[list[str]] = self._voice.phonemize(word)
        return [p for sentence in sentences for p in sentence]

    def _chunk(self, piece: Any, text: str, remaining: list[str]) -> tuple[SpeechChunk, list[str]]:
        samples = np.ascontiguousarray(piece.audio_float_array, dtype=np.float32).reshape(-1)
        # espeak cuts pieces after . ! ? : ; so this piece's words run to the first such mark
        count = next(
            (i + 1 for i, w in enumerate(remaining) if w.endswith(_PIECE_ENDS)), len(remaining)
        )
        mine, rest = remaining[:count], remaining[count:]
        alignments = piece.phoneme_alignments
        if alignments:
            phonemes = [a.phoneme for a in alignments]
            counts = [int(a.num_samples) for a in alignments]
            chunk = chunk_from_alignment(
                samples, self.sample_rate, phonemes, counts, text, mine, self._phonemes
            )
            return chunk, rest
        total = len(samples)
        timeline = visemes.uniform_timeline(list(piece.phonemes), total, self.sample_rate)
        words: tuple[WordTiming, ...] = word_timing.align(mine, [(0, total)] if total else [])
        return SpeechChunk(samples, self.sample_rate, timeline, text, words), rest


def _load_voice(model: Path, config: Path, alignments: bool) -> Any:
    """``PiperVoice.load`` with ONNX Runtime's idle threads sleeping instead of spinning.

    By default the runtime's worker threads spin between operators and after each run;
    on a two-core machine that spin took CPU from the face painter and the UI thread
    (frames and the window stalled at the start of every reply) to gain ~3 ms of first
    audio (58 vs 61 ms, bench/tts_latency.py).
    """
    import json

    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    model_or_bytes: str | bytes = str(model)
    if alignments:
        try:
            import onnx
            from piper.patch_voice_with_alignment import add_alignment_output

            graph = onnx.load(str(model))
            add_alignment_output(graph)
            model_or_bytes = graph.SerializeToString()
        except ImportError:
            _LOG.warning("the onnx package is missing: no phoneme alignments for %s", model.name)
        except ValueError:  # already patched on disk
            pass
    options = onnxruntime.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = built_at_low_priority(
        lambda: onnxruntime.InferenceSession(
            model_or_bytes, sess_options=options, providers=["CPUExecutionProvider"]
        )
    )
    settings = PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8")))
    return PiperVoice(config=settings, session=session)


def build(settings: Settings) -> PiperSynthesizer:
    """Registry factory: the configured voice, found through the model manager.

    Reads ``settings.tts.speed`` when the settings have it (a speaking-rate factor).
    """
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
    speed = settings.tts.speed
    synthesizer = PiperSynthesizer(model, config, speed=speed)
    synthesizer.warm_up()
    return synthesizer

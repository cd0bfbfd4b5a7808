"""Speech recognition with faster-whisper (CTranslate2), on the CPU in int8.

The model folder comes from the model manager (cache, offline carrier or hub); this
module never knows where weights come from. The model is loaded once per transcriber and
calls are serialized, so one instance may be shared by the session's worker threads.

Tuned for the session's short, already-cut utterances: no internal VAD, no conditioning
on previous text, no timestamps, a beam of 2 by default (greedy lost a word; see
``bench/asr_rtf_wer.py`` for what a wider beam buys) and a short temperature fallback so
a burst of noise cannot cost several decoding passes.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faster_whisper import WhisperModel

from app.config.settings import Settings
from app.core.registry import RoleUnavailable
from app.core.types import FloatArray, Transcript
from speech.asr.audio import WHISPER_RATE, resample, to_mono_float32
from speech.compute_priority import DEFAULT_NICE, built_at_low_priority

# the languages the product speaks; detection picks among these when set to "auto"
DEFAULT_LANGUAGES: tuple[str, ...] = ("en", "ko")


@dataclass(frozen=True, slots=True)
class WhisperOptions:
    """Decoding knobs; the defaults favour latency on a small CPU."""

    beam_size: int = 2
    # the speculative pass at the visitor's first pause (speech.asr.live); its result is
    # the final transcript when no more speech comes. None: ``beam_size``. 1 saves ~8 % of a
    # base decode (the 30 s encoder window dominates) at some accuracy (bench/asr_rtf_wer.py)
    speculative_beam: int | None = None
    temperatures: tuple[float, ...] = (0.0, 0.4, 0.8)
    compute_type: str = "int8"
    # 0 = every core (os.cpu_count())
    cpu_threads: int = 0
    # the session's VAD already cut the utterance; turn on for long, unsegmented files
    vad_filter: bool = False
    # with language "auto": the languages detection may choose (empty = any of Whisper's 99)
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    # how much lower the model's worker threads run than the app (speech.compute_priority)
    pool_nice: int = DEFAULT_NICE


@dataclass(frozen=True, slots=True)
class TimedTranscript:
    """A transcript with the time it took; the CLI and the bench report RTF from it."""

    transcript: Transcript
    seconds: float
    language_probability: float

    @property
    def rtf(self) -> float:
        audio = self.transcript.audio_seconds
        return self.seconds / audio if audio > 0 else 0.0


class FasterWhisperTranscriber:
    """A :class:`app.core.roles.Transcriber` backed by a CTranslate2 Whisper model folder."""

    def __init__(
        self,
        model_dir: str | Path,
        language: str | None = None,
        options: WhisperOptions | None = None,
        name: str | None = None,
    ) -> None:
        self.options = options if options is not None else WhisperOptions()
        self.model_dir = Path(model_dir)
        self.name = name or self.model_dir.name
        threads = self.options.cpu_threads or os.cpu_count() or 1
        self._model: Any = built_at_low_priority(
            lambda: WhisperModel(
                str(self.model_dir),
                device="cpu",
                compute_type=self.options.compute_type,
                cpu_threads=threads,
                local_files_only=True,
            ),
            self.options.pool_nice,
        )
        self.multilingual = bool(self._model.model.is_multilingual)
        if language is not None and not self.multilingual and language != "en":
            raise ValueError(f"{self.name} understands English only, not {language!r}")
        self.language = language if self.multilingual else "en"
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ the role
    def transcribe(
        self, audio: FloatArray, sample_rate: int, language: str | None = None
    ) -> Transcript:
        """Blocking. ``language`` overrides the configured one for this call."""
        return self.transcribe_timed(audio, sample_rate, language).transcript

    def transcribe_partial(
        self, audio: FloatArray, sample_rate: int, language: str | None = None
    ) -> Transcript:
        """A cheap interim guess for live captions while the user is still speaking.

        One greedy pass, no temperature fallback; the final :meth:`transcribe` replaces it.
        """
        return self.transcribe_timed(audio, sample_rate, language, partial=True).transcript

    def transcribe_speculative(
        self, audio: FloatArray, sample_rate: int, language: str | None = None
    ) -> Transcript:
        """The final transcription started early, at a pause (``speculative_beam``)."""
        beam = self.options.speculative_beam
        return self.transcribe_timed(audio, sample_rate, language, beam=beam).transcript

    def transcribe_timed(
        self,
        audio: FloatArray,
        sample_rate: int,
        language: str | None = None,
        *,
        partial: bool = False,
        beam: int | None = None,
    ) -> TimedTranscript:
        started = time.perf_counter()
        samples = resample(to_mono_float32(audio), sample_rate, WHISPER_RATE)
        seconds = samples.size / WHISPER_RATE
        wanted = self._language_for(language)
        if samples.size == 0:
            return TimedTranscript(Transcript("", wanted or "", 0.0), 0.0, 0.0)
        with self._lock:
            text, lang, prob, probs = self._decode(samples, wanted, partial, beam)
            allowed = self.options.languages
            if wanted is None and allowed and lang not in allowed and probs:
                # detection strayed outside the product's languages (short or noisy
                # audio): decode again in the most likely allowed one
                best = max(
                    (p for p in probs if p[0] in allowed),
                    key=lambda p: p[1],
                    default=None,
                )
                if best is not None:
                    text, lang, _, _ = self._decode(samples, best[0], partial, beam)
                    prob = best[1]
        elapsed = time.perf_counter() - started
        return TimedTranscript(Transcript(text, lang, seconds), elapsed, prob)

    # ------------------------------------------------------------------ internals
    def _language_for(self, language: str | None) -> str | None:
        if not self.multilingual:
            return "en"
        chosen = language if language is not None else self.language
        return None if chosen in (None, "", "auto") else chosen

    def _decode(
        self, samples: FloatArray, language: str | None, partial: bool, beam: int | None = None
    ) -> tuple[str, str, float, list[tuple[str, float]]]:
        temperatures: Sequence[float] = (0.0,) if partial else self.options.temperatures
        beam_size = 1 if partial else beam or self.options.beam_size
        segments, info = self._model.transcribe(
            samples,
            language=language,
            task="transcribe",
            beam_size=beam_size,
            temperature=list(temperatures),
            condition_on_previous_text=False,
            # timestamps let Whisper cut long audio at word boundaries; an utterance that
            # fits one 30 s window decodes faster without them
            without_timestamps=samples.size <= 30 * WHISPER_RATE,
            vad_filter=self.options.vad_filter,
        )
        # segments is a lazy generator: the decoding happens here
        text = collapse_repetitions(" ".join(s.text.strip() for s in segments if s.text.strip()))
        probs = [(str(code), float(p)) for code, p in info.all_language_probs or []]
        return text, str(info.language), float(info.language_probability), probs


def collapse_repetitions(text: str, keep: int = 2, longest: int = 4) -> str:
    """Cut Whisper's hallucination loops ("쪼는 쪼는 쪼는 ..." sixty times) down to ``keep``.

    A run of the same 1..``longest``-word phrase repeated more than ``keep`` times in a
    row is never what a person said to a kiosk; passing it on would make the avatar
    answer nonsense. Natural short repeats ("no, no") are left alone.
    """
    words = text.split()
    out: list[str] = []
    i = 0
    while i < len(words):
        run = _repeated_run(words, i, keep, longest)
        if run is None:
            out.append(words[i])
            i += 1
        else:
            size, repeats = run
            out += words[i : i + size] * keep
            i += size * repeats
    return " ".join(out)


def _repeated_run(words: list[str], i: int, keep: int, longest: int) -> tuple[int, int] | None:
    """(phrase length, repeats) of a phrase starting at ``i`` repeated more than ``keep``."""
    for size in range(1, longest + 1):
        phrase = words[i : i + size]
        if len(phrase) < size:
            return None
        repeats = 1
        while words[i + repeats * size : i + (repeats + 1) * size] == phrase:
            repeats += 1
        if repeats > keep:
            return size, repeats
    return None


def load_transcriber(
    settings: Settings,
    model_id: str | None = None,
    language: str | None = None,
    options: WhisperOptions | None = None,
) -> FasterWhisperTranscriber:
    """Resolve the model through the model manager and load it; RoleUnavailable if it can't.

    ``model_id`` and ``language`` override ``settings.asr.model`` / ``settings.asr.language``.
    """
    from app.models import ModelError, ModelManager

    model = model_id or settings.asr.model
    lang = language or settings.asr.language
    try:
        folder = ModelManager(settings).resolve(model)
    except ModelError as exc:
        raise RoleUnavailable(f"speech model {model!r} is not usable: {exc}") from None
    try:
        return FasterWhisperTranscriber(
            folder, None if lang == "auto" else lang, options, name=model
        )
    except ValueError as exc:
        raise RoleUnavailable(f"{exc}; choose whisper-base for Korean (asr.model)") from None
    except RuntimeError as exc:  # CTranslate2 could not read the folder
        raise RoleUnavailable(
            f"speech model {model!r} could not be loaded from {folder} ({exc}); "
            f"fetch it again with: dhuman models pull --force {model}"
        ) from None


def build(settings: Settings) -> FasterWhisperTranscriber:
    """Registry factory for ``asr.engine: faster-whisper``."""
    return load_transcriber(settings)

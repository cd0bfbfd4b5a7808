"""Speech recognition with faster-whisper (CTranslate2), on the CPU in int8.

The model folder comes from the model manager (cache, offline carrier or hub); this
module never knows where weights come from. The model is loaded once per transcriber and
calls are serialized, so one instance may be shared by the session's worker threads.

Tuned for the session's short, already-cut utterances: no internal VAD, no conditioning
on previous text, no timestamps, a beam of 2 by default (greedy lost a word; see
``bench/asr_rtf_wer.py`` for what a wider beam buys) and a short temperature fallback so
a burst of noise cannot cost several decoding passes.

Short utterances get a short encoder window. Whisper pads every input to 30 s, and on a
CPU the encoder's work over that window is most of a short utterance's decode (base int8,
two threads: ~700 ms for 30 s, ~115 ms for 10 s). The model accepts a shorter input, but
it was trained on 30 s: padding the features with zeros (what faster-whisper does)
truncated a third of the phrases in a 10 s window. Padding the *waveform* with silence to
the window, as Whisper's own front end pads, kept them whole. A windowed pass is one
greedy-or-beam pass at temperature 0; a result that looks wrong (Whisper's own
compression and log-probability checks, nothing heard, a sentence said twice at the end)
is decoded again the ordinary way, so the window can cost time but not words.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from faster_whisper import WhisperModel

from app.config.settings import Settings
from app.core.registry import RoleUnavailable
from app.core.types import FloatArray, Transcript
from speech.asr.audio import WHISPER_RATE, resample, to_mono_float32
from speech.compute_priority import DEFAULT_NICE, built_at_low_priority
from speech.sentences import split_sentences

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
    # the encoder window for utterances up to half its length (see the module's notes);
    # 0 or 30: Whisper's 30 s for everything
    encoder_window_s: float = 10.0


# Whisper's own checks on a decoded pass (faster-whisper's defaults): above this gzip
# ratio the text is looping, below this mean token log-probability it is guessing
COMPRESSION_LIMIT = 2.4
LOGPROB_LIMIT = -1.0


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
            lambda: _WindowedWhisper(
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
        self.windowed = 0  # decodes answered in the short window
        self.rewound = 0  # windowed decodes that looked wrong and were done again in 30 s

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
                best = _best_allowed(probs, allowed)
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
        padded = self._in_window(samples)
        if padded is not None:
            self._model.window_frames = round(self.options.encoder_window_s * 100)
            try:
                # detected here rather than inside ``transcribe``, so that the choice is
                # made among the product's languages before decoding: on a 4 s English
                # clip a short window leaned Welsh (0.52 against 0.45) and decoded a loop
                probs = self._detect(padded) if language is None else []
                chosen = probs[0][0] if probs else language
                segments, info = self._transcribe(padded, chosen, partial, beam, (0.0,))
            finally:
                self._model.window_frames = 0
            text = self._text(segments)
            if not _looks_wrong(segments, text):
                self.windowed += 1
                if probs:
                    return text, probs[0][0], probs[0][1], probs
                return text, *_language_of(info)
            self.rewound += 1
        segments, info = self._transcribe(samples, language, partial, beam)
        return self._text(segments), *_language_of(info)

    def _detect(self, padded: FloatArray) -> list[tuple[str, float]]:
        """Language probabilities with the best of the allowed languages first (the
        encoder is cut to the window, see ``_WindowedWhisper``)."""
        _, _, ranked = self._model.detect_language(audio=padded)
        probs = [(str(code), float(p)) for code, p in ranked]
        best = _best_allowed(probs, self.options.languages)
        if best is not None and best != probs[0]:
            probs.remove(best)
            probs.insert(0, best)
        return probs

    def _in_window(self, samples: FloatArray) -> FloatArray | None:
        """``samples`` padded with silence to the short encoder window, or None when the
        utterance is over half the window (or the window is off)."""
        window = self.options.encoder_window_s
        if not 0 < window < 30 or samples.size > window / 2 * WHISPER_RATE:
            return None
        # the feature extractor adds 160 samples: the features are exactly the window
        size = round(window * WHISPER_RATE) - 160
        return np.concatenate([samples, np.zeros(size - samples.size, dtype=np.float32)])

    def _transcribe(
        self,
        samples: FloatArray,
        language: str | None,
        partial: bool,
        beam: int | None,
        temperatures: Sequence[float] | None = None,
    ) -> tuple[list[Any], Any]:
        if temperatures is None:
            temperatures = (0.0,) if partial else self.options.temperatures
        beam_size = 1 if partial else beam or self.options.beam_size
        segments, info = self._model.transcribe(
            samples,
            language=language,
            task="transcribe",
            beam_size=beam_size,
            temperature=list(temperatures),
            compression_ratio_threshold=COMPRESSION_LIMIT,
            log_prob_threshold=LOGPROB_LIMIT,
            condition_on_previous_text=False,
            # timestamps let Whisper cut long audio at word boundaries; an utterance that
            # fits one 30 s window decodes faster without them
            without_timestamps=samples.size <= 30 * WHISPER_RATE,
            vad_filter=self.options.vad_filter,
        )
        # segments is a lazy generator: the decoding happens here
        return list(segments), info

    @staticmethod
    def _text(segments: list[Any]) -> str:
        return collapse_repetitions(" ".join(s.text.strip() for s in segments if s.text.strip()))


class _WindowedWhisper(WhisperModel):  # type: ignore[misc]
    """``WhisperModel`` whose encoder can be given less than the 30 s it pads every input
    to: with ``window_frames`` set, each encoder input is cut to that many feature frames
    (the caller padded the audio with silence to exactly that length, so only the zeros
    faster-whisper appended are cut). Language detection goes through here too.
    Read and set only under the transcriber's lock."""

    window_frames = 0

    def encode(self, features: Any) -> Any:
        if self.window_frames and features.shape[-1] > self.window_frames:
            features = features[..., : self.window_frames]
        return super().encode(features)


def _best_allowed(
    probs: list[tuple[str, float]], allowed: tuple[str, ...]
) -> tuple[str, float] | None:
    """The most likely of the ``allowed`` languages (None when none is, or none is set)."""
    return max((p for p in probs if p[0] in allowed), key=lambda p: p[1], default=None)


def _language_of(info: Any) -> tuple[str, float, list[tuple[str, float]]]:
    probs = [(str(code), float(p)) for code, p in info.all_language_probs or []]
    return str(info.language), float(info.language_probability), probs


def _looks_wrong(segments: list[Any], text: str) -> bool:
    """A windowed pass to decode again in the ordinary 30 s window: Whisper's own checks
    failed (it would have retried at a higher temperature), it heard nothing, or it said
    its last sentence twice (the short window's one failure that passes those checks)."""
    if not text:
        return True
    for segment in segments:
        if segment.compression_ratio > COMPRESSION_LIMIT or segment.avg_logprob < LOGPROB_LIMIT:
            return True
    sentences = [plain for s in split_sentences(text) if (plain := _plain(s))]
    return len(sentences) >= 2 and sentences[-1] == sentences[-2]


def _plain(sentence: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", sentence.lower()).split())


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
    if options is None:
        options = WhisperOptions(encoder_window_s=settings.asr.encoder_window_s)
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

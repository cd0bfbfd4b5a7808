"""Transcribing while the person is still talking: speculative finals and partial captions.

:class:`SpeculativeTranscriber` wraps any ``Transcriber``. The listener calls
:meth:`~SpeculativeTranscriber.speculate` when the voice-activity detector sees the first
pause of an utterance (the turn is not closed yet: it waits ``stop_ms`` of silence). If
no more speech comes, the listener :meth:`~SpeculativeTranscriber.confirm` s the
speculation for the utterance's final audio, and the session's ordinary
``transcribe(audio)`` call returns the result already computed (or being computed)
instead of starting from zero: the end-of-speech-to-transcript latency loses most of the
decoding time. If the person goes on speaking, the speculation is dropped.

:class:`PartialWorker` runs cheap interim transcriptions in its own thread, always on the
newest audio offered, never queueing behind itself, so capture never waits on it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from app.core.roles import Transcriber
from app.core.types import FloatArray, Transcript

_LOG = logging.getLogger(__name__)


class Speculation:
    """One speculative transcription of an utterance's audio so far."""

    def __init__(self, audio: FloatArray, future: Future[Transcript]) -> None:
        self.audio = audio
        self.future = future

    def done(self) -> bool:
        return self.future.done()

    def text(self) -> str | None:
        """The transcript's text when it is ready and succeeded, else None."""
        if not self.future.done() or self.future.cancelled() or self.future.exception():
            return None
        return self.future.result().text


class SpeculativeTranscriber:
    """A ``Transcriber`` that can start work before the utterance is known to be over."""

    def __init__(self, inner: Transcriber) -> None:
        self.inner = inner
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dhuman-asr-spec")
        self._lock = threading.Lock()
        self._confirmed: tuple[FloatArray, Speculation] | None = None
        self.reused = 0  # finals answered by a speculation (for benches and logs)
        self.discarded = 0

    def speculate(self, audio: FloatArray, sample_rate: int) -> Speculation:
        """Start transcribing ``audio`` now, in the background (with the engine's
        ``transcribe_speculative`` when it has one: its own decoding options)."""
        call = getattr(self.inner, "transcribe_speculative", None)
        if not callable(call):
            call = self.inner.transcribe
        future = self._pool.submit(call, audio, sample_rate, None)
        return Speculation(audio, future)

    def discard(self, speculation: Speculation) -> None:
        """The person went on speaking: this guess is not the utterance."""
        speculation.future.cancel()  # only helps if it has not started
        self.discarded += 1

    def confirm(self, speculation: Speculation, final_audio: FloatArray) -> None:
        """``final_audio`` (the exact array handed to the session) is the speculated speech
        plus silence: ``transcribe(final_audio)`` may answer with the speculation."""
        with self._lock:
            self._confirmed = (final_audio, speculation)

    def transcribe(
        self, audio: FloatArray, sample_rate: int, language: str | None = None
    ) -> Transcript:
        with self._lock:
            confirmed, self._confirmed = self._confirmed, None
        if confirmed is not None and confirmed[0] is audio and language is None:
            try:
                result = confirmed[1].future.result()
                self.reused += 1
                return result
            except Exception:  # cancelled or failed: decode it properly below
                _LOG.debug("speculative transcription unusable", exc_info=True)
        return self.inner.transcribe(audio, sample_rate, language)

    def transcribe_partial(
        self, audio: FloatArray, sample_rate: int, language: str | None = None
    ) -> Transcript:
        partial = getattr(self.inner, "transcribe_partial", None)
        if callable(partial):
            result: Transcript = partial(audio, sample_rate, language)
            return result
        return self.inner.transcribe(audio, sample_rate, language)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class PartialWorker:
    """Interim captions in a worker thread: the newest offered audio wins, nothing queues.

    ``offer(key, audio)`` returns at once. The worker transcribes the newest offer with
    ``transcriber.transcribe_partial`` when it has one (greedy, cheap), else
    ``transcribe``, and calls ``on_text(key, text)`` from its thread; the caller drops
    texts whose key is no longer current (the utterance ended meanwhile).
    """

    def __init__(
        self,
        transcriber: Transcriber,
        sample_rate: int,
        on_text: Callable[[int, str], None],
    ) -> None:
        self._transcriber = transcriber
        self._rate = sample_rate
        self._on_text = on_text
        self._cond = threading.Condition()
        self._offer: tuple[int, FloatArray] | None = None
        self._closed = False
        self.busy = False
        self._thread = threading.Thread(target=self._run, name="dhuman-partials", daemon=True)
        self._thread.start()

    def offer(self, key: int, audio: FloatArray) -> None:
        with self._cond:
            self._offer = (key, audio)
            self._cond.notify()

    def withdraw(self) -> None:
        """Forget an offer not yet started (the utterance ended)."""
        with self._cond:
            self._offer = None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._offer is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                assert self._offer is not None
                key, audio = self._offer
                self._offer = None
                self.busy = True
            try:
                text = self._transcribe(audio)
                if text:
                    self._on_text(key, text)
            except Exception:
                _LOG.exception("partial transcription failed")
            finally:
                with self._cond:
                    self.busy = False

    def _transcribe(self, audio: FloatArray) -> str:
        partial = getattr(self._transcriber, "transcribe_partial", None)
        if callable(partial):
            result: Transcript = partial(audio, self._rate, None)
        else:
            result = self._transcriber.transcribe(audio, self._rate, None)
        return result.text.strip()

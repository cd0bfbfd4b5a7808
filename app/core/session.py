"""The headless conversation: an asyncio orchestrator in its own thread.

A turn runs user audio or text -> transcript -> streamed reply -> sentences ->
speech -> visemes, and every step is an event with a monotonic timestamp. Inputs
(``submit_text``, ``feed_audio``, ``interrupt``) are thread-safe; listeners are
called on the session thread and must return quickly (the GUI re-posts to Qt).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from typing import Any

from app.core import events as ev
from app.core.async_bridge import iterate_in_thread
from app.core.event_queue import PriorityEventQueue
from app.core.listening import UtteranceCollector
from app.core.registry import Roles
from app.core.roles import NoticeSource
from app.core.timeline import TimelineRecorder
from app.core.types import ChatMessage, FloatArray, SpeechChunk, Viseme
from dialog.persona import Persona
from speech.sentences import SentenceSplitter

log = logging.getLogger(__name__)
Listener = Callable[[ev.Event], None]


@dataclass
class _Spoken:
    """A sentence placed on the turn's audio clock, to know what was heard."""

    text: str
    start_sample: int
    samples: int = 0


class Session:
    def __init__(
        self,
        roles: Roles,
        persona: Persona,
        *,
        language: str = "en",
        history_turns: int = 12,
        input_sample_rate: int = 16000,
    ) -> None:
        self.roles = roles
        self.persona = persona
        self.language = language
        self.timelines = TimelineRecorder()
        self._history: list[ChatMessage] = []
        self._history_turns = history_turns
        self._listeners: list[Listener] = [self.timelines]
        self._listeners_lock = threading.Lock()
        self._queue = PriorityEventQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._wake: asyncio.Event | None = None
        self._turn_task: asyncio.Task[None] | None = None
        self._turn_ids = itertools.count(1)
        self._turn_ids_lock = threading.Lock()
        self.mode = ev.AvatarMode.IDLE
        self._collector = (
            UtteranceCollector(roles.vad, input_sample_rate, self._vad_started, self._vad_utterance)
            if roles.vad is not None
            else None
        )
        self._input_rate = input_sample_rate
        self._interrupt_reason = ""

    # ------------------------------------------------------------ lifecycle
    def start(self, greet: bool = False) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run_loop, name="dhuman-session", daemon=True)
        self._thread.start()
        self._ready.wait()
        self._post(self._begin(greet))

    def close(self, timeout: float = 5.0) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._end(), loop)
        with contextlib.suppress(Exception):
            future.result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._listeners_lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._listeners_lock, contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    def history(self) -> list[ChatMessage]:
        return list(self._history)

    # --------------------------------------------------- thread-safe inputs
    def submit_text(self, text: str) -> int:
        """Start a turn from typed text; returns its turn id."""
        turn_id = self._next_turn_id()
        self._post(self._start_turn(turn_id, text.strip()))
        return turn_id

    def say(self, text: str) -> int:
        """Speak a fixed line (greeting, protocol message) as its own turn, no model involved."""
        turn_id = self._next_turn_id()
        self._post(self._start_turn(turn_id, "", scripted=text))
        return turn_id

    def feed_audio(self, frame: FloatArray) -> None:
        """Microphone frames at ``input_sample_rate``; call from the capture thread."""
        if self._collector is not None:
            self._collector.feed(frame)

    def hear_utterance(self, audio: FloatArray) -> int:
        """A whole utterance that ended now (push-to-talk, tests): transcribe, then reply."""
        turn_id = self._next_turn_id()
        stopped = ev.UserStoppedSpeaking(turn_id=turn_id)
        self._post(self._transcribe_then_turn(turn_id, audio, stopped))
        return turn_id

    def interrupt(self, reason: str = "user") -> None:
        self._post(self._interrupt(reason))

    # -------------------------------------------------------------- plumbing
    def _next_turn_id(self) -> int:
        with self._turn_ids_lock:
            return next(self._turn_ids)

    def _run_loop(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        self._wake = asyncio.Event()
        dispatcher = loop.create_task(self._dispatch())
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            dispatcher.cancel()
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    def _post(self, coro: Coroutine[Any, Any, None]) -> None:
        if self._loop is None or self._loop.is_closed():
            coro.close()
            raise RuntimeError("the session is not running; call start() first")
        asyncio.run_coroutine_threadsafe(coro, self._loop)

    def _emit(self, event: ev.Event) -> None:
        """Queue an event for listeners (session thread only)."""
        self._queue.put(event)
        assert self._wake is not None
        self._wake.set()

    async def _dispatch(self) -> None:
        assert self._wake is not None
        while True:
            event = self._queue.pop()
            if event is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            with self._listeners_lock:
                listeners = list(self._listeners)
            for listener in listeners:
                try:
                    listener(event)
                except Exception:
                    log.exception("session listener failed on %s", type(event).__name__)

    async def _flush_events(self) -> None:
        while len(self._queue):
            await asyncio.sleep(0.001)

    def _set_mode(self, mode: ev.AvatarMode, turn_id: int = 0) -> None:
        if mode is not self.mode:
            self.mode = mode
            self._emit(ev.ModeChanged(mode=mode, turn_id=turn_id))

    # ------------------------------------------------------- session events
    async def _begin(self, greet: bool) -> None:
        self._emit(ev.SessionStarted(persona=self.persona.id))
        for problem in self.roles.problems:
            self._emit(ev.Notice(role=problem.role, message=str(problem)))
        self._set_mode(ev.AvatarMode.LISTENING)
        if greet:
            lang = self.language
            line = f"{self.persona.disclosure.get(lang)} {self.persona.greeting.get(lang)}"
            await self._start_turn(self._next_turn_id(), "", scripted=line)

    async def _end(self) -> None:
        await self._interrupt("session ended")
        self._history.clear()  # a visitor's conversation does not outlive the session
        self._set_mode(ev.AvatarMode.IDLE)
        self._emit(ev.SessionEnded(reason="closed"))
        await self._flush_events()

    def _vad_started(self) -> None:
        if self._loop is not None:
            self._post(self._user_started(ev.UserStartedSpeaking()))

    def _vad_utterance(self, audio: FloatArray) -> None:
        turn_id = self._next_turn_id()
        stopped = ev.UserStoppedSpeaking(turn_id=turn_id)  # stamped now, in the capture thread
        if self._loop is not None:
            self._post(self._transcribe_then_turn(turn_id, audio, stopped))

    async def _user_started(self, started: ev.UserStartedSpeaking) -> None:
        self._emit(started)
        if self._turn_task is not None and not self._turn_task.done():
            await self._interrupt("barge-in")
        self._set_mode(ev.AvatarMode.LISTENING)

    async def _transcribe_then_turn(
        self, turn_id: int, audio: FloatArray, stopped: ev.UserStoppedSpeaking
    ) -> None:
        self._emit(stopped)
        transcriber = self.roles.transcriber
        if transcriber is None:
            self._emit(
                ev.Notice(
                    role="asr",
                    turn_id=turn_id,
                    message="Speech recognition is unavailable; type instead.",
                )
            )
            return
        self._set_mode(ev.AvatarMode.THINKING, turn_id)
        try:
            # no language: the transcriber applies its own setting (asr.language, fixed or
            # detected); the conversation language must not force English on a Korean speaker
            transcript = await asyncio.to_thread(
                transcriber.transcribe, audio, self._input_rate, None
            )
        except Exception as exc:
            log.exception("transcription failed")
            self._emit(
                ev.Notice(role="asr", turn_id=turn_id, message=f"Could not transcribe: {exc}")
            )
            self._set_mode(ev.AvatarMode.LISTENING, turn_id)
            return
        self._emit(
            ev.FinalTranscript(turn_id=turn_id, text=transcript.text, language=transcript.language)
        )
        if transcript.text.strip():
            await self._start_turn(turn_id, transcript.text.strip())
        else:
            self._set_mode(ev.AvatarMode.LISTENING, turn_id)

    # ------------------------------------------------------------------ turns
    async def _start_turn(self, turn_id: int, user_text: str, scripted: str | None = None) -> None:
        if self._turn_task is not None and not self._turn_task.done():
            await self._interrupt("new turn")
        if not user_text and scripted is None:
            return
        self._turn_task = asyncio.create_task(self._turn(turn_id, user_text, scripted))

    async def _turn(self, turn_id: int, user_text: str, scripted: str | None) -> None:
        self._emit(ev.TurnStarted(turn_id=turn_id, user_text=user_text))
        self._set_mode(ev.AvatarMode.THINKING, turn_id)
        sentences: asyncio.Queue[str | None] = asyncio.Queue()
        spoken: list[_Spoken] = []
        speaker = asyncio.create_task(self._speak(turn_id, sentences, spoken))
        reply: list[str] = []
        try:
            if scripted is not None:
                reply.append(scripted)
                await self._queue_sentences(turn_id, [scripted], sentences, len(spoken))
            else:
                reply = await self._think(turn_id, user_text, sentences)
            await sentences.put(None)
            await speaker
            await self._wait_heard()
        except asyncio.CancelledError:
            speaker.cancel()
            await asyncio.gather(speaker, return_exceptions=True)
            self._finish_interrupted(turn_id, user_text, spoken)
            raise
        text = "".join(reply).strip()
        if user_text and text:
            self._remember(user_text, text)
        self._emit(ev.TurnEnded(turn_id=turn_id, reply_text=text))
        self._set_mode(ev.AvatarMode.LISTENING, turn_id)

    async def _think(
        self, turn_id: int, user_text: str, sentences: asyncio.Queue[str | None]
    ) -> list[str]:
        """Stream the reply and hand each finished sentence to the speaker."""
        splitter = SentenceSplitter()
        reply: list[str] = []
        chat = self.roles.chat
        count = 0
        try:
            if chat is None:
                raise RuntimeError("No language model is configured (see `dhuman doctor`).")
            async for chunk in chat.stream(self._prompt(user_text)):
                if not chunk:
                    continue
                reply.append(chunk)
                self._emit(ev.ReplyChunk(turn_id=turn_id, text=chunk))
                count = await self._queue_sentences(turn_id, splitter.feed(chunk), sentences, count)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._chat_notices(turn_id)
            # the session goes on: say so, speak a short fallback line, keep listening
            log.warning("chat failed: %s", exc)
            self._emit(ev.Notice(role="chat", turn_id=turn_id, message=str(exc)))
            splitter.flush()
            fallback = self.persona.fallback.get(self.language)
            await self._queue_sentences(turn_id, [fallback], sentences, count)
            return []
        self._chat_notices(turn_id)
        await self._queue_sentences(turn_id, splitter.flush(), sentences, count)
        return reply

    def _chat_notices(self, turn_id: int) -> None:
        if isinstance(self.roles.chat, NoticeSource):
            for message in self.roles.chat.pop_notices():
                self._emit(ev.Notice(role="chat", turn_id=turn_id, message=message))

    async def _queue_sentences(
        self, turn_id: int, found: list[str], sentences: asyncio.Queue[str | None], count: int
    ) -> int:
        for text in found:
            self._emit(ev.ReplySentence(turn_id=turn_id, text=text, index=count))
            await sentences.put(text)
            count += 1
        return count

    async def _speak(
        self, turn_id: int, sentences: asyncio.Queue[str | None], spoken: list[_Spoken]
    ) -> None:
        synth = self.roles.synthesizer
        cursor = 0
        while (text := await sentences.get()) is not None:
            entry = _Spoken(text, cursor)
            spoken.append(entry)
            if synth is None:
                continue  # text-only mode: captions still flow as ReplySentence events
            try:
                async for chunk in iterate_in_thread(
                    partial(synth.synthesize, text, self.language)
                ):
                    self._play(turn_id, chunk, cursor, len(spoken) - 1)
                    cursor += len(chunk.samples)
                    entry.samples += len(chunk.samples)
            except Exception as exc:
                log.exception("synthesis failed")
                self._emit(
                    ev.Notice(
                        role="tts", turn_id=turn_id, message=f"Could not speak a sentence: {exc}"
                    )
                )

    def _play(self, turn_id: int, chunk: SpeechChunk, cursor: int, index: int) -> None:
        if self.roles.sink is not None:
            self.roles.sink.play(chunk)
        self._set_mode(ev.AvatarMode.SPEAKING, turn_id)
        self._emit(
            ev.AudioOut(
                turn_id=turn_id,
                samples=chunk.samples,
                sample_rate=chunk.sample_rate,
                start_sample=cursor,
                sentence_index=index,
            )
        )
        offset = cursor / chunk.sample_rate
        visemes = tuple(
            Viseme(v.name, v.start + offset, v.duration, v.weight) for v in chunk.visemes
        )
        if visemes:
            self._emit(ev.VisemesOut(turn_id=turn_id, visemes=visemes, sentence_index=index))

    async def _wait_heard(self) -> None:
        sink = self.roles.sink
        if sink is None:
            return
        await asyncio.to_thread(sink.wait_done, None)
        sink.stop()  # resets the audio clock for the next turn

    # ------------------------------------------------------------- interrupt
    async def _interrupt(self, reason: str) -> None:
        task = self._turn_task
        if task is None or task.done():
            return
        self._interrupt_reason = reason
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    def _finish_interrupted(self, turn_id: int, user_text: str, spoken: list[_Spoken]) -> None:
        report = self.roles.sink.stop() if self.roles.sink is not None else None
        heard_samples = report.heard_samples if report else 0
        heard = heard_text(spoken, heard_samples)
        dropped = self._queue.drop_data(turn_id)
        log.debug("interrupt dropped %d queued data events", dropped)
        if user_text:
            self._remember(user_text, heard + " …" if heard else "…")
        self._emit(
            ev.Interrupted(
                turn_id=turn_id,
                heard_text=heard,
                reason=self._interrupt_reason,
                heard_seconds=report.heard_seconds if report else 0.0,
            )
        )
        self._emit(ev.TurnEnded(turn_id=turn_id, reply_text=heard, interrupted=True))
        self._set_mode(ev.AvatarMode.LISTENING, turn_id)

    # ---------------------------------------------------------------- memory
    def _prompt(self, user_text: str) -> list[ChatMessage]:
        system = ChatMessage("system", self.persona.system_message(self.language))
        return [system, *self._history, ChatMessage("user", user_text)]

    def _remember(self, user_text: str, reply: str) -> None:
        self._history += [ChatMessage("user", user_text), ChatMessage("assistant", reply)]
        self._history = self._history[-2 * self._history_turns :]


def heard_text(spoken: list[_Spoken], heard_samples: int) -> str:
    """The words the listener heard: whole sentences, then a share of the cut one.

    Without word timings the cut sentence is estimated by its share of samples;
    engines with alignments refine this to the exact word.
    """
    words: list[str] = []
    for entry in spoken:
        if entry.samples == 0 or heard_samples <= entry.start_sample:
            break
        part = entry.text.split()
        share = min(1.0, (heard_samples - entry.start_sample) / entry.samples)
        words += part[: int(len(part) * share + 1e-9)]
        if share < 1.0:
            break
    return " ".join(words)

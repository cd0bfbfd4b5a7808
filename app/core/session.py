"""The headless conversation: an asyncio orchestrator in its own thread.

A turn runs user audio or text -> transcript -> safety screen -> streamed reply ->
sentences -> speech -> visemes, and every step is an event with a monotonic timestamp.
Inputs (``submit_text``, ``feed_audio``, ``interrupt``, ``set_user_affect``,
``visitor_arrived``/``visitor_left``) are thread-safe; listeners are called on the session
thread and must return quickly (the GUI re-posts to Qt).

Safety runs in code, around the model, for every persona: the reply itself is written by
:class:`app.core.replying.ReplyWriter` (screening, the model and its tools, vetting each
sentence); the session runs the turn around it (listening, speaking, interruption and
memory).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any, Literal

from app.config.settings import SafetySettings
from app.core import events as ev
from app.core.async_bridge import iterate_in_thread
from app.core.event_queue import PriorityEventQueue
from app.core.listening import UtteranceCollector
from app.core.registry import Roles
from app.core.replying import ReplyWriter
from app.core.timeline import TimelineRecorder
from app.core.types import Affect, ChatMessage, FloatArray, SpeechChunk, Viseme
from dialog.knowledge import detect_language
from dialog.memory import SUMMARY_INSTRUCTION, ConversationMemory, Exchange
from dialog.persona import Persona
from dialog.prompting import (
    AffectReading,
    PromptContext,
    affect_phrase,
    system_prompt,
    user_content,
)
from dialog.retrieval import Retrieved, Retriever
from dialog.safety import LlmCrisisCheck, SafetyGuard
from dialog.tools import ToolBox
from speech.asr.live import SpeculativeTranscriber
from speech.heard import Spoken, heard_text

log = logging.getLogger(__name__)
Listener = Callable[[ev.Event], None]


class Session:
    def __init__(
        self,
        roles: Roles,
        persona: Persona,
        *,
        language: str = "en",
        history_turns: int = 12,
        input_sample_rate: int = 16000,
        safety: SafetySettings | None = None,
        guard: SafetyGuard | None = None,
        knowledge: Retriever | Literal["persona"] | None = "persona",
        llm_summary: bool = True,
        crisis_second_opinion: bool = False,
        partials: bool = True,
    ) -> None:
        """``partials``: interim captions while the visitor speaks and transcription
        started at their first pause (both cost CPU; off for batch tools).
        ``safety``: the crisis lines (settings ``safety``); ``guard`` replaces the whole
        safety layer (tests); by default it is the lexicon plus the semantic check.
        ``knowledge``: passages for the prompt (``"persona"``: the persona's sources; None:
        none).
        ``llm_summary``: let the model summarise turns that leave the memory window.
        ``crisis_second_opinion``: ask the chat model about grey-zone utterances too.
        """
        self.roles = roles
        self.persona = persona
        self.language = language
        self.timelines = TimelineRecorder()
        self.memory = ConversationMemory(window_turns=history_turns)
        lines = safety or SafetySettings()
        if guard is None:
            guard = SafetyGuard.default(lines.crisis_line_ko, lines.crisis_line_en)
            if crisis_second_opinion and roles.chat is not None:
                guard.detector.second_opinion = LlmCrisisCheck(roles.chat)
        self.guard = guard
        self.retriever = Retriever.for_persona(persona) if knowledge == "persona" else knowledge
        self.tools = ToolBox(persona)
        self.replies = ReplyWriter(roles, persona, guard, self.tools, self._emit, self._prompt)
        self._llm_summary = llm_summary
        self._affect: AffectReading | None = None
        self._affect_lock = threading.Lock()
        self._background: set[asyncio.Task[None]] = set()
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
        # transcription starts at the visitor's first pause and is reused when the turn
        # closes without more speech (speech.asr.live); the roles keep the plain engine
        self._transcriber = (
            SpeculativeTranscriber(roles.transcriber) if roles.transcriber is not None else None
        )
        self._collector = (
            UtteranceCollector(
                roles.vad,
                input_sample_rate,
                self._vad_started,
                self._vad_utterance,
                # the avatar's own voice through a kiosk speaker must not cut it off
                echo_reference=getattr(roles.sink, "reference", None),
                speculator=self._transcriber if partials else None,
                on_partial=self._heard_partial if partials else None,
                partial_transcriber=self._transcriber if partials else None,
            )
            if roles.vad is not None
            else None
        )
        self._input_rate = input_sample_rate
        self._interrupt_reason = ""
        self._speech_rate = 0  # the sample rate of the voice speaking this turn

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
        """The remembered window (user, assistant, ...); older turns live in the summary."""
        return self.memory.messages()

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

    def set_user_affect(self, affect: Affect | None) -> None:
        """The latest soft affect estimate (any thread); None forgets it.

        When the persona enables affect context, it reaches the model as a hint about
        tone, never as something to say about the visitor.
        """
        with self._affect_lock:
            self._affect = AffectReading(affect) if affect is not None else None

    def visitor_arrived(self, greet: bool = True) -> None:
        """Presence arrived: say the AI disclosure and the greeting, then listen."""
        self._post(self._arrived(greet))

    def visitor_left(self) -> None:
        """Presence left: stop speaking, forget the visitor (memory, affect), go idle."""
        self._post(self._left())

    def end_visit(self) -> None:
        """Same as :meth:`visitor_left`."""
        self.visitor_left()

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
        # the encoder loads in the background; until then the lexicon and BM25 serve
        self.guard.warm()
        if self.retriever is not None:
            self.retriever.warm()
            if self.retriever.problem:
                self._emit(ev.Notice(role="knowledge", message=self.retriever.problem))
        self._set_mode(ev.AvatarMode.LISTENING)
        if greet:
            await self._greet()

    async def _greet(self) -> None:
        lang = self.language
        line = f"{self.persona.disclosure.get(lang)} {self.persona.greeting.get(lang)}"
        await self._start_turn(self._next_turn_id(), "", scripted=line)

    async def _arrived(self, greet: bool) -> None:
        self._emit(ev.VisitorPresence(present=True))
        self._set_mode(ev.AvatarMode.LISTENING)
        if greet:
            await self._greet()

    async def _left(self) -> None:
        await self._interrupt("visitor left")
        self._forget()
        self._emit(ev.VisitorPresence(present=False))
        self._set_mode(ev.AvatarMode.IDLE)

    def _forget(self) -> None:
        """A visitor's conversation does not outlive their visit."""
        for task in list(self._background):
            task.cancel()
        self.memory.clear()
        self.set_user_affect(None)
        self.replies.crisis_active = False

    async def _end(self) -> None:
        await self._interrupt("session ended")
        self._forget()
        await self._release_chat()
        if self._collector is not None:
            self._collector.close()  # stops the partial-caption worker
        if self._transcriber is not None:
            self._transcriber.close()
        self._set_mode(ev.AvatarMode.IDLE)
        self._emit(ev.SessionEnded(reason="closed"))
        await self._flush_events()

    async def _release_chat(self) -> None:
        """The chat role may hold a model server the app started (the auto chain's
        built-in llama.cpp server): it ends with the session, never outlives the app."""
        aclose = getattr(self.roles.chat, "aclose", None)
        if aclose is None:
            return
        try:
            async with asyncio.timeout(4.0):  # close() waits 5 s for all of _end
                await aclose()
        except Exception as exc:
            log.warning("closing the chat role failed: %s", exc)

    def _heard_partial(self, text: str) -> None:
        """An interim caption of what the visitor is saying (a worker thread)."""
        if self._loop is not None and text.strip():
            self._post(self._emit_soon(ev.PartialTranscript(text=text.strip())))

    async def _emit_soon(self, event: ev.Event) -> None:
        self._emit(event)

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
        transcriber = self._transcriber
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
        language = self._language_of(user_text or scripted or "")
        sentences: asyncio.Queue[str | None] = asyncio.Queue()
        spoken: list[Spoken] = []
        speaker = asyncio.create_task(self._speak(turn_id, sentences, spoken, language))
        reply: list[str] = []
        try:
            if scripted is not None:
                reply.append(scripted)
                await self.replies.queue_sentences(turn_id, [scripted], sentences, len(spoken))
            else:
                reply = await self.replies.answer(turn_id, user_text, language, sentences)
            await sentences.put(None)
            await speaker
            await self._wait_heard()
        except asyncio.CancelledError:
            speaker.cancel()
            await asyncio.gather(speaker, return_exceptions=True)
            self._finish_interrupted(turn_id, user_text, spoken)
            raise
        text = " ".join(part.strip() for part in reply if part.strip())
        if user_text and text:
            self._remember(user_text, text)
        self._emit(ev.TurnEnded(turn_id=turn_id, reply_text=text))
        self._set_mode(ev.AvatarMode.LISTENING, turn_id)

    def _language_of(self, text: str) -> str:
        """The visitor's language for this turn (Hangul -> Korean), if the persona speaks it."""
        detected = detect_language(text, self.language)
        return detected if detected in self.persona.languages else self.language

    async def _speak(
        self,
        turn_id: int,
        sentences: asyncio.Queue[str | None],
        spoken: list[Spoken],
        language: str,
    ) -> None:
        synth = self.roles.synthesizer
        cursor = 0
        while (text := await sentences.get()) is not None:
            entry = Spoken(text, cursor)
            spoken.append(entry)
            if synth is None:
                continue  # text-only mode: captions still flow as ReplySentence events
            try:
                async for chunk in iterate_in_thread(partial(synth.synthesize, text, language)):
                    self._play(turn_id, chunk, cursor, len(spoken) - 1)
                    entry.add(chunk, cursor)  # its word timings, on the turn's sample axis
                    cursor += len(chunk.samples)
                    self._speech_rate = chunk.sample_rate
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
                text=chunk.text,
                words=chunk.words,
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

    def _finish_interrupted(self, turn_id: int, user_text: str, spoken: list[Spoken]) -> None:
        report = self.roles.sink.stop() if self.roles.sink is not None else None
        heard_samples = report.heard_samples if report else 0
        if report and report.sample_rate and self._speech_rate != report.sample_rate:
            # the sink counts at its stream's rate; the sentences at the voice's
            heard_samples = round(heard_samples * self._speech_rate / report.sample_rate)
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
    async def _prompt(self, user_text: str, language: str, tools: bool) -> list[ChatMessage]:
        retrieved = (
            await self.retriever.retrieve(user_text, language)
            if self.retriever is not None
            else Retrieved((), False)
        )
        with self._affect_lock:
            reading = self._affect
        context = PromptContext(
            language=language,
            passages=retrieved.hits,
            knowledge_searched=retrieved.searched,
            affect=affect_phrase(reading, self.persona.affect.min_confidence),
            summary=self.memory.summary,
            crisis_note=(
                self.guard.protocol.follow_up_instruction(language)
                if self.replies.crisis_active
                else None
            ),
            tools=self.tools.names if tools else (),
        )
        system = ChatMessage("system", system_prompt(self.persona, context))
        user = ChatMessage("user", user_content(user_text))
        return [system, *self.memory.messages(), user]

    def _remember(self, user_text: str, reply: str) -> None:
        evicted = self.memory.add(user_text, reply)
        chat = self.roles.chat
        if evicted and self._llm_summary and chat is not None and self._loop is not None:
            task = asyncio.create_task(self._summarize(evicted, self.memory.generation))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _summarize(self, evicted: list[Exchange], generation: int) -> None:
        """Replace the extractive summary with the model's, when it answers in time."""
        chat = self.roles.chat
        if chat is None:
            return
        earlier = f"Earlier summary: {self.memory.summary}\n" if self.memory.summary else ""
        messages = [
            ChatMessage("system", SUMMARY_INSTRUCTION),
            ChatMessage(
                "user",
                f"{earlier}<conversation>\n{self.memory.transcript(evicted)}\n</conversation>",
            ),
        ]
        pieces: list[str] = []
        try:
            async with asyncio.timeout(15):
                async for piece in chat.stream(messages):
                    pieces.append(piece)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the extractive summary stays
            log.info("summary by the model failed: %s", exc)
            return
        self.memory.set_summary("".join(pieces), generation)

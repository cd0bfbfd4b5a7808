"""Session and perception events in, one rig state per display frame out.

The renderer on the UI thread asks :meth:`AvatarDriver.state_now` every frame; the
answer is the engine's state for *now* with the mouth at the audio clock's heard
position (the sink's DAC-time estimate), never a wall-clock guess. Expression cues from
the reply wait for the sentence they belong to: a ``[smile]`` before "Welcome back!"
shows when that sentence is heard, not when the model wrote it seconds earlier.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from app.core import events as ev
from app.core.roles import AudioSink
from avatar.animation import AnimationEngine
from avatar.expressions import action_for_tag
from avatar.rig import RigState
from vision import events as vev

# how long a reply's expression stays before easing back to the mode's resting face
CUE_HOLD_S = 4.0


class AvatarDriver:
    """``AvatarDriver(engine, sink)``: call :meth:`handle` with every event (any thread)."""

    def __init__(
        self,
        engine: AnimationEngine,
        sink: AudioSink | None,
        clock: Callable[[], float] = time.monotonic,
        display_lead: float = 0.0,
    ) -> None:
        self.engine = engine
        self.sink = sink
        self.clock = clock
        # a frame is seen some time after it is drawn (paint, compositor, display); the
        # mouth is drawn for the audio instant at which it will be seen
        self.display_lead = display_lead
        self._lock = threading.Lock()
        self._speaking = False
        self._sentence_start: dict[int, float] = {}  # sentence index -> audio seconds
        self._pending: list[ev.ExpressionCue] = []
        self._audio_rate = 0  # the rate of the speech being played, from AudioOut
        self.mirror = False

    # ---------------------------------------------------------------- events
    def handle(self, event: ev.Event) -> None:
        engine = self.engine
        if isinstance(event, ev.ModeChanged):
            engine.set_mode(event.mode)
            with self._lock:
                self._speaking = event.mode is ev.AvatarMode.SPEAKING
        elif isinstance(event, ev.TurnStarted | ev.Interrupted):
            engine.clear_speech()  # the sink's clock restarts with every turn
            with self._lock:
                self._sentence_start.clear()
                self._pending.clear()
        elif isinstance(event, ev.VisemesOut):
            engine.add_visemes(event.visemes)
        elif isinstance(event, ev.AudioOut):
            start = event.start_sample / event.sample_rate if event.sample_rate else 0.0
            with self._lock:
                self._sentence_start.setdefault(event.sentence_index, start)
                self._audio_rate = event.sample_rate
        elif isinstance(event, ev.ExpressionCue):
            with self._lock:
                self._pending.append(event)
        elif isinstance(event, vev.UserObserved):
            engine.set_user_face(*event.position)
            if self.mirror:
                engine.mirror_blendshapes(event.weights(), event.head_pose)
        elif isinstance(event, vev.PresenceChanged) and not event.present:
            engine.set_user_face(None)

    def set_mirror(self, enabled: bool) -> None:
        """Puppet mode: the user's tracked face drives the avatar."""
        self.mirror = enabled
        self.engine.set_mirror(enabled)

    # ----------------------------------------------------------------- frames
    def audio_time(self) -> float | None:
        """Seconds of this turn's speech the listener has heard, or None when silent."""
        sink = self.sink
        if sink is None or not self._speaking:
            return None
        # the sink counts at its stream rate when it has one; else at the speech's rate
        rate = getattr(sink, "sample_rate", 0) or self._audio_rate
        if not rate:
            return None
        return sink.heard_samples() / rate

    def state_now(self) -> RigState:
        audio_time = self.audio_time()
        self._release_cues(audio_time)
        if audio_time is not None:
            audio_time += self.display_lead
        return self.engine.state_at(self.clock(), audio_time)

    def _release_cues(self, audio_time: float | None) -> None:
        with self._lock:
            if not self._pending:
                return
            due: list[ev.ExpressionCue] = []
            waiting: list[ev.ExpressionCue] = []
            for cue in self._pending:
                start = self._sentence_start.get(cue.sentence_index)
                # text-only replies have no clock to wait for; spoken ones wait for their
                # sentence to be heard
                heard = start is not None and (audio_time is None or audio_time >= start)
                (due if heard or self.sink is None else waiting).append(cue)
            self._pending = waiting
        for cue in due:
            action = action_for_tag(cue.tag)
            if action is None:
                continue
            if action.expression is not None:
                self.engine.set_expression(
                    action.expression, action.intensity * cue.intensity, hold=CUE_HOLD_S
                )
            if action.gesture is not None:
                self.engine.gesture(action.gesture)

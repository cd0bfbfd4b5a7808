"""The headless animation engine: conversation inputs in, one ``RigState`` per frame out.

Inputs come from any thread (the session thread, the camera worker, Qt's thread); each one
only records a value under a lock. ``state_at`` is called by the renderer at display rate
and does all the work: it eases the face toward the mode's posture plus the current
expression, drives the mouth from the lip-sync timeline at the *audio clock's* heard
position, and adds the involuntary motion that keeps a face alive (blinks, micro-saccades,
breathing, head drift). All randomness comes from one seeded generator, drawn only in
``state_at``, so a seeded engine fed the same inputs and frame times is repeatable.

Layers, composed every frame:

1. face: posture(mode) + expression * intensity, through a critically damped spring
   (``FACE_OMEGA``), so no eased channel moves more than ~0.06 per 60 Hz frame;
2. mouth: lip-sync at ``audio_time``; while speech is active it owns the articulation
   channels (the expression's jaw fades out by the speech activity, so lips can close);
   an interruption or the audio clock going away fades the mouth to rest in ``MOUTH_FADE``;
3. eyes: gaze target from ``GazeDirector`` (user's face, thinking look-away, glances),
   followed by a fast spring as a saccade. The direction is carried by ``gaze_x/gaze_y``
   alone and eyeLook* stay 0 (the painter adds eyeLook* to the gaze; a glTF head converts
   the gaze with ``avatar.gaze.eye_look_weights``). Blinks from ``BlinkScheduler``, plus
   one on large gaze shifts;
4. head: posture/expression bias and a share of the gaze (eyes lead, head follows) through
   a slower spring, plus smooth noise, breathing, gestures and a small speech rhythm.

Conventions (the rig's): gaze x > 0 and head yaw > 0 toward the avatar's left (the viewer's
right); gaze y > 0 and head pitch > 0 up (chin up); head roll > 0 tilts toward the avatar's
left shoulder. Mirror mode bypasses the layers: the user's mapped face is returned as is.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace

import numpy as np

from app.core.events import AvatarMode
from app.core.types import Viseme
from avatar.expressions import GESTURES, Expression, expression
from avatar.gaze import GazeDirector, face_to_gaze
from avatar.gestures import Gesture
from avatar.idle_motion import BlinkScheduler, Breathing, SmoothNoise, smoothstep
from avatar.lipsync import ARTICULATION, LipSync
from avatar.mirror import MirrorMapper
from avatar.postures import POSTURES
from avatar.rig import INDEX, RigState
from avatar.springs import ScalarSpring, Vector, VectorSpring

FACE_OMEGA = 8.0  # rad/s: a full expression change settles in ~0.6 s
GAZE_OMEGA = 40.0  # eyes: a saccade lands in well under 100 ms
HEAD_OMEGA = 6.0  # the head follows the eyes more slowly
MAX_DT = 0.1  # a stalled frame must not fling the springs
MOUTH_FADE = 0.18  # seconds for the mouth to return to rest after an interruption
MIRROR_STALE = 0.5  # seconds without a tracked face before mirror mode lets go
BACKCHANNEL_GAP = 3.5  # at most one listening nod per this many seconds
BIG_GAZE_SHIFT = 0.4  # a gaze target jump this large brings a blink with it
GAZE_HEAD = (10.0, 6.0)  # degrees of head yaw/pitch per unit of gaze target
BREATH_PITCH = 0.6  # degrees
MAX_GESTURES = 4

_ARTICULATION = np.array(ARTICULATION, dtype=np.intp)
_BLINK = np.array([INDEX["eyeBlinkLeft"], INDEX["eyeBlinkRight"]], dtype=np.intp)
_BROW_UP = np.array(
    [INDEX["browInnerUp"], INDEX["browOuterUpLeft"], INDEX["browOuterUpRight"]], dtype=np.intp
)
_JAW = INDEX["jawOpen"]
_LOOK = np.array([i for n, i in INDEX.items() if n.startswith("eyeLook")], dtype=np.intp)

_SIZE = len(INDEX)


class AnimationEngine:
    """Turns conversation state into rig frames. Inputs are thread-safe and cheap."""

    def __init__(
        self,
        *,
        seed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        camera_mirrored: bool = False,
        mirror: MirrorMapper | None = None,
    ) -> None:
        """``clock`` must be the clock the renderer's ``now`` comes from; inputs are
        stamped with it. ``camera_mirrored`` says whether face positions given to
        ``set_user_face`` come from a mirrored (selfie) image."""
        self._clock = clock
        self._lock = threading.Lock()
        self._camera_mirrored = camera_mirrored
        self._mapper = mirror if mirror is not None else MirrorMapper()
        rng = random.Random(seed)
        self._rng = rng
        # ---- inputs (written by any thread under the lock)
        self._mode = AvatarMode.IDLE
        self._expression: Expression = expression("neutral")
        self._intensity = 0.0
        self._expression_until: float | None = None
        self._dirty = True
        self._gestures: list[Gesture] = []
        self._lips = LipSync()
        self._speech_cleared = False
        self._face: tuple[float, float] | None = None
        self._mirror_on = False
        self._mirror_state: RigState | None = None
        self._mirror_at = -math.inf
        self._last_backchannel = -math.inf
        # ---- animation state (touched only inside state_at)
        self._last_now: float | None = None
        self._frame_mode: AvatarMode | None = None
        self._face_target: Vector = np.zeros(_SIZE)
        self._head_bias = (0.0, 0.0, 0.0)
        self._gaze_bias_y = 0.0
        self._face_spring = VectorSpring(_SIZE, FACE_OMEGA)
        self._gaze = (ScalarSpring(GAZE_OMEGA), ScalarSpring(GAZE_OMEGA))
        self._gaze_target_prev: tuple[float, float] | None = None
        self._head = (ScalarSpring(HEAD_OMEGA), ScalarSpring(HEAD_OMEGA), ScalarSpring(HEAD_OMEGA))
        self._noise_amp = ScalarSpring(2.0)
        self._noise = (
            SmoothNoise(rng, (0.07, 0.17, 0.31)),
            SmoothNoise(rng, (0.09, 0.21, 0.37)),
            SmoothNoise(rng, (0.05, 0.13, 0.29)),
        )
        self._breath = Breathing(rng)
        self._blinks = BlinkScheduler(rng)
        self._director = GazeDirector(rng)
        self._jaw_fast = ScalarSpring(10.0)
        self._jaw_slow = ScalarSpring(2.0)
        self._mouth_prev: Vector = np.zeros(_SIZE)
        self._activity_prev = 0.0
        self._live_prev = False
        self._fade: tuple[Vector, float, float] | None = None

    # ------------------------------------------------------------------ inputs
    def set_mode(self, mode: AvatarMode | str) -> None:
        value = AvatarMode(mode)
        with self._lock:
            if value is not self._mode:
                self._mode = value
                self._dirty = True

    def set_expression(self, name: str, intensity: float = 1.0, hold: float | None = None) -> None:
        """Ease into a preset (or alias) at ``intensity`` in [0, 1]; after ``hold`` seconds
        it eases back to neutral (None: until the next call). Unknown name: ValueError."""
        try:
            preset = expression(name)
        except KeyError as exc:
            raise ValueError(str(exc.args[0])) from None
        level = min(1.0, max(0.0, float(intensity))) if math.isfinite(intensity) else 0.0
        until = self._clock() + hold if hold is not None else None
        with self._lock:
            self._expression = preset
            self._intensity = level
            self._expression_until = until
            self._dirty = True

    def gesture(self, name: str, amplitude: float = 1.0) -> None:
        """Start a head gesture: ``nod``, ``shake``, ``tilt`` or ``laugh``."""
        if name not in GESTURES:
            raise ValueError(f"unknown gesture {name!r}; known: {', '.join(sorted(GESTURES))}")
        start = self._clock()
        with self._lock:
            self._gestures.append(Gesture(name, start, min(1.5, max(0.0, amplitude))))
            del self._gestures[:-MAX_GESTURES]

    def add_visemes(self, visemes: Iterable[Viseme]) -> None:
        """Visemes already placed on the turn's audio clock (``VisemesOut.visemes``)."""
        items = tuple(visemes)
        with self._lock:
            self._lips.add(items)

    def clear_speech(self) -> None:
        """Drop the lip-sync timeline (interruption, new turn); the mouth eases to rest."""
        with self._lock:
            self._lips.clear()
            self._speech_cleared = True

    def set_user_face(self, x: float | None, y: float | None = None) -> None:
        """The user's face centre in normalised camera-image coordinates (0..1 from the
        image's left/top, MediaPipe's convention); ``None`` when nobody is there."""
        if x is None or y is None or not (math.isfinite(x) and math.isfinite(y)):
            target = None
        else:
            target = face_to_gaze(x, y, camera_mirrored=self._camera_mirrored)
        with self._lock:
            self._face = target

    def set_mirror(self, enabled: bool) -> None:
        with self._lock:
            self._mirror_on = enabled
            if not enabled:
                self._mirror_state = None

    def mirror_blendshapes(
        self,
        blendshapes: Mapping[str, float],
        head_pose: tuple[float, float, float] = (0.0, 0.0, 0.0),
    ) -> None:
        """The user's tracked face (MediaPipe names, head pose in degrees); shown as is on
        the next frame while mirror mode is on, ignored otherwise."""
        state = self._mapper.map(blendshapes, head_pose)
        stamp = self._clock()
        with self._lock:
            if self._mirror_on:
                self._mirror_state = state
                self._mirror_at = stamp

    def user_paused(self) -> bool:
        """The user paused mid-turn: a small listening nod (backchannel), at most one per
        ``BACKCHANNEL_GAP`` seconds and only while listening. True when a nod started."""
        now = self._clock()
        with self._lock:
            if self._mode is not AvatarMode.LISTENING:
                return False
            if now - self._last_backchannel < BACKCHANNEL_GAP:
                return False
            self._last_backchannel = now
            self._gestures.append(Gesture("nod", now, 0.6))
            del self._gestures[:-MAX_GESTURES]
            return True

    @property
    def mode(self) -> AvatarMode:
        with self._lock:
            return self._mode

    # ------------------------------------------------------------------ output
    def state_at(self, now: float, audio_time: float | None = None) -> RigState:
        """The rig for wall-clock ``now`` (the engine's clock) and, while speech plays,
        ``audio_time``: seconds of turn audio being heard now, from the audio sink."""
        with self._lock:
            last = self._last_now if self._last_now is not None else now
            dt = min(MAX_DT, max(0.0, now - last))
            self._last_now = now
            ts = audio_time if audio_time is not None else now
            mirrored = self._mirror_state
            if self._mirror_on and mirrored is not None and now - self._mirror_at <= MIRROR_STALE:
                self._follow(mirrored)
                return replace(mirrored, ts=ts)
            return self._animate(now, dt, audio_time, ts)

    # ------------------------------------------------------------------ layers
    def _follow(self, state: RigState) -> None:
        """Mirror mode owns the face: keep the springs on it so leaving mirror mode eases
        from the user's last face instead of snapping."""
        self._face_spring.snap(state.weights.astype(np.float64))
        self._gaze[0].snap(state.gaze_x)
        self._gaze[1].snap(state.gaze_y)
        for spring, value in zip(
            self._head, (state.head_yaw, state.head_pitch, state.head_roll), strict=True
        ):
            spring.snap(value)
        self._noise_amp.snap(0.0)
        self._gestures.clear()

    def _retarget(self, side: float) -> None:
        posture = POSTURES[self._mode]
        face = posture.face
        level = self._intensity
        target = face.vector(1.0).astype(np.float64)
        target += self._expression.vector(level)
        self._face_target = target
        yaw, pitch, roll = face.head
        if posture.head_follows_side:
            yaw, roll = yaw * side, roll * side
        ey, ep, er = self._expression.head
        self._head_bias = (yaw + ey * level, pitch + ep * level, roll + er * level)
        self._gaze_bias_y = self._expression.gaze_y * level
        self._dirty = False

    def _animate(self, now: float, dt: float, audio_time: float | None, ts: float) -> RigState:
        mode = self._mode
        posture = POSTURES[mode]
        if self._expression_until is not None and now >= self._expression_until:
            self._expression = expression("neutral")
            self._intensity = 0.0
            self._expression_until = None
            self._dirty = True

        # eyes: choose the target, then saccade toward it
        gx_target, gy_target = self._director.target(now, mode, self._face)
        if mode is not self._frame_mode:
            self._frame_mode = mode
            self._dirty = True
        if self._dirty:
            self._retarget(self._director.thinking_side)
        gy_target += self._gaze_bias_y
        previous = self._gaze_target_prev
        if previous is not None and math.dist(previous, (gx_target, gy_target)) > BIG_GAZE_SHIFT:
            self._blinks.trigger(now)
        self._gaze_target_prev = (gx_target, gy_target)
        gaze_x = self._gaze[0].step(gx_target, dt)
        gaze_y = self._gaze[1].step(gy_target, dt)

        face = self._face_spring.step(self._face_target, dt)
        mouth, activity = self._mouth(now, audio_time)

        # speech rhythm: the band-passed jaw lifts the brows and bobs the head a little
        jaw = float(mouth[_JAW])
        beat = self._jaw_fast.step(jaw, dt) - self._jaw_slow.step(jaw, dt)

        weights = face.copy()
        if activity > 0.0:
            weights[_ARTICULATION] *= 1.0 - activity
        weights += mouth
        weights[_BROW_UP] += 0.25 * max(0.0, beat)

        # the renderer lowers the upper lids with a downward gaze itself, so only blinks here
        blink = self._blinks.value(now, posture.blink_rate)
        weights[_BLINK] = np.maximum(weights[_BLINK], blink)
        # eye direction lives in gaze_x/gaze_y only: the painter adds eyeLook* on top of the
        # gaze, so writing both would turn the eyes twice as far (see avatar.gaze)
        weights[_LOOK] = 0.0

        yaw, pitch, roll = self._head_at(now, dt, posture.noise, gx_target, gy_target)
        pitch -= 4.0 * beat
        return RigState(
            weights=weights.astype(np.float32),
            head_yaw=yaw,
            head_pitch=pitch,
            head_roll=roll,
            gaze_x=gaze_x,
            gaze_y=gaze_y,
            ts=ts,
        ).clamped()

    def _head_at(
        self, now: float, dt: float, noise: float, gaze_x: float, gaze_y: float
    ) -> tuple[float, float, float]:
        bias_yaw, bias_pitch, bias_roll = self._head_bias
        yaw = self._head[0].step(bias_yaw + GAZE_HEAD[0] * gaze_x, dt)
        pitch = self._head[1].step(bias_pitch + GAZE_HEAD[1] * gaze_y, dt)
        roll = self._head[2].step(bias_roll, dt)
        amp = self._noise_amp.step(noise, dt)
        yaw += amp * self._noise[0](now)
        pitch += 0.7 * amp * self._noise[1](now) + BREATH_PITCH * self._breath(now)
        roll += 0.6 * amp * self._noise[2](now)
        if self._gestures:
            self._gestures = [g for g in self._gestures if not g.done(now)]
            for g in self._gestures:
                dy, dp, dr = g.offset(now)
                yaw += dy
                pitch += dp
                roll += dr
        return yaw, pitch, roll

    def _mouth(self, now: float, audio_time: float | None) -> tuple[Vector, float]:
        """Lip-sync at the heard audio time, faded to rest when speech is cut off."""
        live = False
        mouth: Vector = np.zeros(_SIZE)
        activity = 0.0
        if audio_time is not None and len(self._lips) > 0:
            live = True
            shaped = self._lips.at(audio_time)
            mouth, activity = shaped.weights, shaped.activity
        if self._speech_cleared or (self._live_prev and not live):
            self._speech_cleared = False
            if self._activity_prev > 0.0 or self._mouth_prev.any():
                self._fade = (self._mouth_prev, self._activity_prev, now)
        if self._fade is not None:
            start_mouth, start_activity, start = self._fade
            keep = 1.0 - smoothstep((now - start) / MOUTH_FADE)
            if keep <= 0.0:
                self._fade = None
            else:
                mouth = np.maximum(mouth, start_mouth * keep)
                activity = max(activity, start_activity * keep)
        self._mouth_prev = mouth
        self._activity_prev = activity
        self._live_prev = live
        return mouth, activity

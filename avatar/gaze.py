"""Where the avatar looks: at the user's face, away to think, glances while speaking.

Gaze is a target the engine's fast spring follows (eyes move in quick saccades; the head
follows more slowly). Coordinates are the rig's: x > 0 toward the avatar's left (the
viewer's right), y > 0 up, both in [-1, 1].

Behaviour per mode, after conversation research on gaze (people look away to think and to
plan speech, and look at the listener at the ends of phrases):

- listening: at the user's face (straight ahead if nobody is seen), tiny micro-saccades;
- thinking: up and to one side, chosen anew each time thinking starts;
- speaking: at the user, with a short glance away every few seconds;
- idle: wandering fixations, now and then at the user if someone is there.
"""

from __future__ import annotations

import random

from app.core.events import AvatarMode

# how far the eyes turn for a face at the edge of the camera image
FACE_GAIN_X = 0.5
FACE_GAIN_Y = 0.35

THINKING_GAZE = (0.45, 0.4)  # x is mirrored to the chosen side


def face_to_gaze(x: float, y: float, *, camera_mirrored: bool = False) -> tuple[float, float]:
    """A face centre in normalised camera-image coordinates -> a rig gaze target.

    ``x``, ``y`` are MediaPipe's: 0..1 from the image's left and top. In a raw camera image
    (not mirrored) a person standing to the avatar's left (the viewer's right, which is the
    user's right too) appears on the image's *left*, so small x means gaze x > 0. A mirrored
    (selfie) image flips that.
    """
    gx = (0.5 - x) * 2.0 * FACE_GAIN_X
    if camera_mirrored:
        gx = -gx
    gy = (0.5 - y) * 2.0 * FACE_GAIN_Y
    return (max(-1.0, min(1.0, gx)), max(-1.0, min(1.0, gy)))


def eye_look_weights(gaze_x: float, gaze_y: float) -> dict[str, float]:
    """The ARKit eyeLook* weights for a rig gaze, for renderers that turn eyes with morph
    targets. The engine leaves these weights at 0 in its output and carries the direction
    in ``gaze_x/gaze_y`` only, because the 2D painter adds eyeLook* on top of the gaze.

    Looking to the avatar's left turns its left eye out and its right eye in.
    """
    x, y = max(-1.0, min(1.0, gaze_x)), max(-1.0, min(1.0, gaze_y))
    right, left, up, down = max(0.0, -x), max(0.0, x), max(0.0, y), max(0.0, -y)
    return {
        "eyeLookOutLeft": left,
        "eyeLookInRight": left,
        "eyeLookInLeft": right,
        "eyeLookOutRight": right,
        "eyeLookUpLeft": up,
        "eyeLookUpRight": up,
        "eyeLookDownLeft": down,
        "eyeLookDownRight": down,
    }


class GazeDirector:
    """Chooses the gaze target each frame; owns its random timing, not the easing."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._mode: AvatarMode | None = None
        self._side = 1.0
        self._micro = (0.0, 0.0)
        self._next_micro = 0.0
        self._next_shift = 0.0  # idle: next wander; speaking: next glance away
        self._shift_until = 0.0  # speaking: end of the current glance
        self._fixation = (0.0, 0.0)

    def _enter(self, mode: AvatarMode, now: float) -> None:
        rng = self._rng
        self._mode = mode
        if mode is AvatarMode.THINKING:
            self._side = rng.choice((-1.0, 1.0))
        elif mode is AvatarMode.SPEAKING:
            self._shift_until = now
            self._next_shift = now + rng.uniform(2.0, 4.0)
        elif mode is AvatarMode.IDLE:
            self._next_shift = now + rng.uniform(1.0, 3.0)

    def target(
        self, now: float, mode: AvatarMode, face: tuple[float, float] | None
    ) -> tuple[float, float]:
        if mode is not self._mode:
            self._enter(mode, now)
        rng = self._rng
        at_user = face if face is not None else (0.0, 0.0)
        micro_size = 0.02
        if mode is AvatarMode.THINKING:
            base = (self._side * THINKING_GAZE[0], THINKING_GAZE[1])
        elif mode is AvatarMode.SPEAKING:
            if now >= self._next_shift:
                self._fixation = (
                    rng.choice((-1.0, 1.0)) * rng.uniform(0.25, 0.45),
                    rng.uniform(-0.1, 0.25),
                )
                self._shift_until = now + rng.uniform(0.5, 1.1)
                self._next_shift = self._shift_until + rng.uniform(3.5, 7.0)
            base = self._fixation if now < self._shift_until else at_user
        elif mode is AvatarMode.IDLE:
            if now >= self._next_shift:
                if face is not None and rng.random() < 0.5:
                    self._fixation = face
                else:
                    self._fixation = (rng.uniform(-0.4, 0.4), rng.uniform(-0.2, 0.2))
                self._next_shift = now + rng.uniform(1.5, 4.0)
            base = self._fixation
            micro_size = 0.03
        else:  # listening: attention on the speaker
            base = at_user
        if now >= self._next_micro:
            self._micro = (
                max(-0.05, min(0.05, rng.gauss(0.0, micro_size))),
                max(-0.04, min(0.04, rng.gauss(0.0, micro_size * 0.7))),
            )
            self._next_micro = now + rng.uniform(0.5, 1.8)
        return (base[0] + self._micro[0], base[1] + self._micro[1])

    @property
    def thinking_side(self) -> float:
        """-1 or 1: the side the avatar looks to while thinking (the head turns with it)."""
        return self._side

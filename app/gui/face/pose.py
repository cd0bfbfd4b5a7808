"""Head pose as a 2.5D transform: features sit at a depth on a rounded head and slide.

The face is drawn in *head units* (HU): the origin is between the eyes, one unit is half
the face's width, y grows downwards. A point also has a depth z (0 at the ear line, about
1 at the face's front). Turning the head (yaw, pitch) rotates that 3D point and projects
it orthographically, so the nose tip (deep) slides further than the eyes and the ears
(shallow) barely move: the parallax that makes a flat drawing read as a head. Roll is a
plain 2D rotation that the painter applies to the whole head layer.

Sign conventions (shared with ``RigState``): yaw > 0 turns towards the avatar's left
(the viewer's right, like gaze_x > 0); pitch > 0 looks up (like gaze_y > 0); roll > 0
tilts the top of the head towards the viewer's right (clockwise on screen).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# 2D drawings stop reading as a face beyond these (degrees); RigState allows a bit more
MAX_YAW, MAX_PITCH = 25.0, 20.0
# a drawn face reads best a little flatter than a real head: depth counts this much
DEPTH = 0.8


@dataclass(frozen=True, slots=True)
class Projector:
    sin_yaw: float
    cos_yaw: float
    sin_pitch: float
    cos_pitch: float

    @classmethod
    def from_degrees(cls, yaw: float, pitch: float) -> Projector:
        y = math.radians(max(-MAX_YAW, min(MAX_YAW, yaw)))
        p = math.radians(max(-MAX_PITCH, min(MAX_PITCH, pitch)))
        return cls(math.sin(y), math.cos(y), math.sin(p), math.cos(p))

    def point(self, u: float, v: float, z: float) -> tuple[float, float]:
        """A point on the face's surface, rotated with the head and projected."""
        z *= DEPTH
        x = u * self.cos_yaw + z * self.sin_yaw
        z1 = z * self.cos_yaw - u * self.sin_yaw
        return x, v * self.cos_pitch - z1 * self.sin_pitch

    def outline(self, u: float, v: float, z: float) -> tuple[float, float]:
        """A point of the head's outline: at z=0 it is silhouette and stays put (a sphere's
        outline does not move when it turns); towards the chin (z≈1) it turns like a
        surface point."""
        z *= DEPTH
        x = u * (1.0 - (1.0 - self.cos_yaw) * z) + z * self.sin_yaw
        if u * self.sin_yaw > 0 and abs(x) > abs(u):
            # the far side turns away behind the cheek: it never pushes past its own width
            x = u
        return x, v * (1.0 - (1.0 - self.cos_pitch) * z) - z * self.sin_pitch

    def x_scale(self, normal: float) -> float:
        """Horizontal foreshortening of a feature whose surface faces ``normal`` radians
        sideways (+ towards the viewer's right): the far eye narrows, the near one widens."""
        return max(0.2, math.cos(normal + math.asin(self.sin_yaw)) / math.cos(normal))

    @property
    def y_scale(self) -> float:
        return self.cos_pitch

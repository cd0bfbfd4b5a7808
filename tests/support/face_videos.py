"""Real face photos made into 'webcam' videos for the vision tests (no camera needed).

Photos found in installed packages (read as data, nothing imported from them but skimage):
* ``skimage.data.astronaut()``: Eileen Collins, frontal, a broad smile (NASA, public domain);
* ``matplotlib/mpl-data/sample_data/grace_hopper.jpg``: Grace Hopper, frontal, closed mouth,
  barely smiling (US Navy, public domain);
* ``skimage.data.lfw_subset()``: 100 faces (Labeled Faces in the Wild) and 100 non-faces,
  25x25 grey: labelled face / not face.

Edits made here are honest about being synthetic: :func:`neutralise_smile` pulls the mouth
corners down and closes the lips with a smooth warp; :func:`turn_face` rotates the face's
landmark mesh in 3D and re-projects its texture (a flat "photo on a mesh" turn).
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

Rgb = npt.NDArray[np.uint8]
W, H, FPS = 640, 480, 30.0


def astronaut() -> Rgb:
    from skimage import data

    return np.ascontiguousarray(data.astronaut())  # type: ignore[no-untyped-call]


def grace_hopper() -> Rgb | None:
    """The photo shipped with matplotlib's sample data, or None when it is not installed."""
    import cv2

    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    path = folder / "mpl-data" / "sample_data" / "grace_hopper.jpg"
    if not path.is_file():
        return None
    bgr = cv2.imread(str(path))
    return None if bgr is None else np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def lfw_subset() -> tuple[list[Rgb], list[Rgb]]:
    """(faces, non-faces) from skimage, each put on a 320x320 canvas at 160 px so the
    detector sees a face of webcam size."""
    import cv2
    from skimage import data

    images = data.lfw_subset()  # type: ignore[no-untyped-call]
    out: list[Rgb] = []
    for grey in images:
        small = (np.clip(grey, 0, 1) * 255).astype(np.uint8)
        big = cv2.resize(small, (160, 160), interpolation=cv2.INTER_CUBIC)
        canvas = np.full((320, 320), int(np.median(small)), np.uint8)
        canvas[80:240, 80:240] = big
        out.append(np.ascontiguousarray(cv2.cvtColor(canvas, cv2.COLOR_GRAY2RGB)))
    return out[:100], out[100:]


def landmarks(rgb: Rgb) -> npt.NDArray[np.float32]:
    """The first face's 478 landmarks in pixels (x, y, z with z in x's pixel scale)."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from app.config.settings import Settings
    from app.models.manager import ModelManager

    path = ModelManager(Settings()).file("face-landmarker")
    options = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(path)),
        running_mode=vision.RunningMode.IMAGE,
        num_faces=1,
    )
    with vision.FaceLandmarker.create_from_options(options) as landmarker:
        result = landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
    if not result.face_landmarks:
        raise ValueError("no face in the image")
    height, width = rgb.shape[:2]
    return np.array(
        [(p.x * width, p.y * height, p.z * width) for p in result.face_landmarks[0]], np.float32
    )


def neutralise_smile(rgb: Rgb, marks: npt.NDArray[np.float32], amount: float = 1.0) -> Rgb:
    """Mouth corners pulled down and in, lips closed: a smooth local warp (Gaussian falloff
    around the mouth). MediaPipe's smile blendshapes drop from 0.90 to ~0.03 on the
    astronaut at amount 1; the raised cheeks and visible teeth stay (the CNN still sees
    'happy'), which is what a synthetic edit of a photo allows."""
    import cv2

    height, width = rgb.shape[:2]
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    mouth = float(np.linalg.norm(marks[291, :2] - marks[61, :2]))
    gap = float(np.linalg.norm(marks[14, :2] - marks[13, :2]))
    controls = [
        (marks[61, :2], (0.12 * mouth, 0.16 * mouth)),
        (marks[291, :2], (-0.12 * mouth, 0.16 * mouth)),
        (marks[14, :2], (0.0, -0.5 * gap)),
        (marks[17, :2], (0.0, -0.25 * gap)),
    ]
    sigma = 0.22 * mouth
    dx = np.zeros_like(xx)
    dy = np.zeros_like(yy)
    for (cx, cy), (mx, my) in controls:
        weight = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma**2))
        dx += amount * mx * weight
        dy += amount * my * weight
    # backward map: each output pixel samples where the content came from
    warped = cv2.remap(rgb, xx - dx, yy - dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return np.ascontiguousarray(warped)


def turn_face(
    rgb: Rgb, marks: npt.NDArray[np.float32], yaw_deg: float, depth_gain: float = 1.0
) -> Rgb:
    """The face turned by ``yaw_deg`` (> 0 toward the image's right): its landmark mesh is
    rotated about the vertical axis and each triangle's texture moved to its new place.
    MediaPipe's relative depths are shallow: a mesh turn of 30 degrees reads as ~17 at
    ``depth_gain`` 1 and ~33 at 3 (the face's sides are not in the photo to turn into)."""
    import cv2
    from scipy.spatial import Delaunay

    centre = marks.mean(axis=0)
    theta = math.radians(yaw_deg)
    rel = (marks - centre) * np.array([1.0, 1.0, depth_gain], np.float32)
    # MediaPipe z grows away from the camera: the nose has the smallest z
    new_x = rel[:, 0] * math.cos(theta) - rel[:, 2] * math.sin(theta)
    new_z = rel[:, 0] * math.sin(theta) + rel[:, 2] * math.cos(theta)
    moved = np.stack([new_x + centre[0], marks[:, 1]], axis=1).astype(np.float32)
    triangles = Delaunay(marks[:, :2]).simplices
    out = rgb.copy()
    # paint far triangles first so the near side of the face ends on top
    depth = new_z[triangles].mean(axis=1)
    for tri in triangles[np.argsort(-depth)]:
        src, dst = marks[tri, :2].astype(np.float32), moved[tri].astype(np.float32)
        x, y, w, h = cv2.boundingRect(dst)
        if w < 1 or h < 1:
            continue
        matrix = cv2.getAffineTransform(src, dst - np.array([x, y], np.float32))
        patch = cv2.warpAffine(
            rgb, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
        mask = np.zeros((h, w), np.uint8)
        cv2.fillConvexPoly(mask, np.round(dst - [x, y]).astype(np.int32), 1)
        y0, x0 = max(0, y), max(0, x)
        y1, x1 = min(out.shape[0], y + h), min(out.shape[1], x + w)
        if y1 <= y0 or x1 <= x0:
            continue
        region = out[y0:y1, x0:x1]
        sub_mask = mask[y0 - y : y1 - y, x0 - x : x1 - x].astype(bool)
        region[sub_mask] = patch[y0 - y : y1 - y, x0 - x : x1 - x][sub_mask]
    return out


@dataclass(frozen=True)
class Placement:
    """A photo placed in a frame: its face's centre at ``center`` (fractions of the frame)
    with the face ``height`` (fraction of the frame height)."""

    image: Rgb
    face_box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the photo, pixels
    center: tuple[float, float]
    height: float


def face_box(marks: npt.NDArray[np.float32]) -> tuple[float, float, float, float]:
    x0, y0 = marks[:, :2].min(axis=0)
    x1, y1 = marks[:, :2].max(axis=0)
    return (float(x0), float(y0), float(x1), float(y1))


def background(width: int = W, height: int = H) -> Rgb:
    """An empty room stand-in: a soft vertical gradient, no face anywhere."""
    column = np.linspace(200, 120, height, dtype=np.float32)[:, None, None]
    tint = np.array([1.0, 0.97, 0.92], np.float32)[None, None, :]
    return np.ascontiguousarray(np.broadcast_to(column * tint, (height, width, 3)).astype(np.uint8))


def compose(placements: Iterable[Placement], width: int = W, height: int = H) -> Rgb:
    """Paste each photo's face region (face box grown 2.2x, a head and shoulders) scaled
    so the face has the asked height, on the background; later placements on top."""
    import cv2

    frame = background(width, height)
    for p in placements:
        x0, y0, x1, y1 = p.face_box
        scale = p.height * height / (y1 - y0)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        half = 1.1 * max(x1 - x0, y1 - y0)
        # the region of the photo to paste, clipped to the photo
        sx0, sy0 = max(0, int(cx - half)), max(0, int(cy - half))
        sx1 = min(p.image.shape[1], int(cx + half))
        sy1 = min(p.image.shape[0], int(cy + half))
        patch = p.image[sy0:sy1, sx0:sx1]
        size = (max(1, round(patch.shape[1] * scale)), max(1, round(patch.shape[0] * scale)))
        patch = np.asarray(cv2.resize(patch, size, interpolation=cv2.INTER_AREA), np.uint8)
        # where the patch's top-left lands so the face centre hits p.center
        tx = round(p.center[0] * width - (cx - sx0) * scale)
        ty = round(p.center[1] * height - (cy - sy0) * scale)
        fx0, fy0 = max(0, tx), max(0, ty)
        fx1, fy1 = min(width, tx + patch.shape[1]), min(height, ty + patch.shape[0])
        if fx1 > fx0 and fy1 > fy0:
            frame[fy0:fy1, fx0:fx1] = patch[fy0 - ty : fy1 - ty, fx0 - tx : fx1 - tx]
    return frame


def write_video(path: Path, frames: Iterable[Rgb], fps: float = FPS) -> Path:
    """An .mp4 (mp4v) or .avi (MJPG) file from RGB frames of one size."""
    import cv2

    writer = None
    try:
        for rgb in frames:
            if writer is None:
                fourcc = cv2.VideoWriter.fourcc(*("mp4v" if path.suffix == ".mp4" else "MJPG"))
                writer = cv2.VideoWriter(str(path), fourcc, fps, (rgb.shape[1], rgb.shape[0]))
                if not writer.isOpened():
                    raise RuntimeError(f"OpenCV cannot write {path}")
            writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    finally:
        if writer is not None:
            writer.release()
    return path


def segments(parts: Sequence[tuple[Rgb, float]], fps: float = FPS) -> list[Rgb]:
    """Frames for a sequence of (still frame, seconds) parts."""
    return [frame for frame, seconds in parts for _ in range(round(seconds * fps))]


def sway(frame: Rgb, count: int, pixels: float = 4.0) -> list[Rgb]:
    """``count`` copies of a still with a slow sub-face sway, like a person sitting still
    (a perfectly frozen image is not what a camera sees)."""
    import cv2

    out: list[Rgb] = []
    size = (frame.shape[1], frame.shape[0])
    for k in range(count):
        dx = pixels * math.sin(2 * math.pi * k / 90.0)
        matrix = np.array([[1, 0, dx], [0, 1, 0]], np.float32)
        moved = cv2.warpAffine(frame, matrix, size, borderMode=cv2.BORDER_REPLICATE)
        out.append(np.ascontiguousarray(moved, dtype=np.uint8))
    return out

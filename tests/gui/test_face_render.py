"""The designed 2D face: what the renderer must show, checked on real pixels.

Renders go to images (no window), so these run under Xvfb or Qt's offscreen platform.
``DHUMAN_WRITE_DOCS=1`` also rewrites ``docs/img/avatar_contact_sheet.png``: every
bundled look in six expressions and eight visemes, the picture to review a change by.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.gui.face import FacePainter, FaceView, render_face
from app.gui.face.eyes import eye_shape
from app.gui.face.layout import Layout
from app.gui.face.mouth import MOUTH_Y, mouth_shape
from app.gui.face.sheet import SheetRow, contact_sheet
from avatar.looks import bundled_looks, load_look
from avatar.rig import RigState

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]

DOCS_SHEET = Path(__file__).parents[2] / "docs" / "img" / "avatar_contact_sheet.png"
SIZE = 400
EXPRESSION_NAMES = ("neutral", "happy", "concerned", "thinking", "surprised", "sad")
VISEME_NAMES = ("sil", "PP", "aa", "O", "E", "FF", "TH", "U")

# used when the animation package's presets are missing or changed shape
FALLBACK_EXPRESSIONS: dict[str, dict[str, float]] = {
    "neutral": {},
    "happy": {"mouthSmileLeft": 0.75, "mouthSmileRight": 0.75, "cheekSquintLeft": 0.45,
              "cheekSquintRight": 0.45, "eyeSquintLeft": 0.3, "eyeSquintRight": 0.3},
    "concerned": {"browInnerUp": 0.6, "browDownLeft": 0.12, "browDownRight": 0.12,
                  "mouthFrownLeft": 0.25, "mouthFrownRight": 0.25},
    "thinking": {"browDownLeft": 0.4, "browOuterUpRight": 0.4, "mouthPressLeft": 0.3,
                 "mouthLeft": 0.2, "eyeLookUpLeft": 0.4, "eyeLookUpRight": 0.4},
    "surprised": {"browInnerUp": 0.8, "browOuterUpLeft": 0.8, "browOuterUpRight": 0.8,
                  "eyeWideLeft": 0.7, "eyeWideRight": 0.7, "jawOpen": 0.25},
    "sad": {"browInnerUp": 0.7, "mouthFrownLeft": 0.6, "mouthFrownRight": 0.6,
            "mouthShrugLower": 0.3},
}  # fmt: skip
FALLBACK_VISEMES: dict[str, dict[str, float]] = {
    "sil": {},
    "PP": {"mouthClose": 0.6, "mouthPressLeft": 0.5, "mouthPressRight": 0.5},
    "aa": {"jawOpen": 0.7, "mouthLowerDownLeft": 0.3, "mouthLowerDownRight": 0.3},
    "O": {"jawOpen": 0.45, "mouthFunnel": 0.55, "mouthPucker": 0.25},
    "E": {"jawOpen": 0.4, "mouthStretchLeft": 0.35, "mouthStretchRight": 0.35},
    "FF": {"jawOpen": 0.1, "mouthRollLower": 0.55, "mouthUpperUpLeft": 0.2,
           "mouthUpperUpRight": 0.2},
    "TH": {"jawOpen": 0.18, "tongueOut": 0.45},
    "U": {"jawOpen": 0.18, "mouthPucker": 0.7, "mouthFunnel": 0.35},
}  # fmt: skip


def expression_states() -> list[tuple[str, RigState]]:
    """The animation package's presets with their head bias, or the fallbacks above."""
    try:
        from avatar.expressions import EXPRESSIONS

        states = []
        for name in EXPRESSION_NAMES:
            e = EXPRESSIONS[name]
            yaw, pitch, roll = e.head
            state = RigState(e.vector(1.0), yaw, pitch, roll, gaze_y=e.gaze_y)
            states.append((name, state))
        return states
    except Exception:  # not there or reshaped: the sheet still shows the face
        return [(n, RigState().with_weights(FALLBACK_EXPRESSIONS[n])) for n in EXPRESSION_NAMES]


def viseme_states() -> list[tuple[str, RigState]]:
    poses: Mapping[str, Mapping[str, float]] = FALLBACK_VISEMES
    try:
        from avatar.lipsync import VISEME_POSES

        if all(name in VISEME_POSES for name in VISEME_NAMES):
            poses = VISEME_POSES
    except Exception:
        pass
    return [(name, RigState().with_weights(dict(poses[name]))) for name in VISEME_NAMES]


@pytest.fixture
def guide(qapp: QApplication) -> FacePainter:
    return FacePainter(load_look("guide"))


@pytest.fixture
def green_eyes(qapp: QApplication) -> FacePainter:
    """The guide with pure green irises: easy to find in pixels, found nowhere else."""
    look = load_look("guide")
    eyes = look.eyes.model_copy(update={"iris": "#00D000"})
    return FacePainter(look.model_copy(update={"eyes": eyes}))


def pixels(image: QImage, rect: QRect, keep: Callable[[QColor], bool]) -> list[tuple[int, int]]:
    found = []
    for y in range(rect.top(), rect.bottom() + 1):
        for x in range(rect.left(), rect.right() + 1):
            if keep(image.pixelColor(x, y)):
                found.append((x, y))
    return found


def is_iris(c: QColor) -> bool:
    return c.green() > c.red() + 50 and c.green() > c.blue() + 50


def is_dark(c: QColor) -> bool:
    return c.lightness() < 70


def eye_region(size: int) -> QRect:
    lay = Layout.fit(size, size)
    s, x0, y0 = lay.scale, lay.origin_x, lay.origin_y
    return QRect(round(x0 - 0.75 * s), round(y0 - 0.25 * s), round(1.5 * s), round(0.5 * s))


def mouth_region(size: int) -> QRect:
    lay = Layout.fit(size, size)
    s, x0, y0 = lay.scale, lay.origin_x, lay.origin_y + MOUTH_Y * lay.scale
    return QRect(round(x0 - 0.45 * s), round(y0 - 0.2 * s), round(0.9 * s), round(0.55 * s))


def centroid(points: list[tuple[int, int]]) -> tuple[float, float]:
    assert points, "no pixels to locate"
    return (
        sum(x for x, _ in points) / len(points),
        sum(y for _, y in points) / len(points),
    )


def difference(a: QImage, b: QImage, rect: QRect | None = None) -> float:
    """Mean absolute channel difference (0..255) over ``rect`` (sampled every 2 px)."""
    rect = rect or a.rect()
    total, count = 0, 0
    for y in range(rect.top(), rect.bottom() + 1, 2):
        for x in range(rect.left(), rect.right() + 1, 2):
            ca, cb = a.pixelColor(x, y), b.pixelColor(x, y)
            total += abs(ca.red() - cb.red()) + abs(ca.green() - cb.green())
            total += abs(ca.blue() - cb.blue())
            count += 3
    return total / max(1, count)


def test_contact_sheet_of_every_look(qapp: QApplication, tmp_path: Path) -> None:
    rows = []
    for name in bundled_looks():
        painter = FacePainter(load_look(name))
        title = painter.look.name
        rows.append(SheetRow(f"{title}\nexpressions", painter, expression_states()))
        rows.append(SheetRow(f"{title}\nvisemes", painter, viseme_states()))
    sheet = contact_sheet(rows, cell=170, title="dhuman 2D face: looks x expressions x visemes")
    assert sheet.width() > 8 * 170 and sheet.height() > len(rows) * 170
    target = DOCS_SHEET if os.environ.get("DHUMAN_WRITE_DOCS") == "1" else tmp_path / "sheet.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    assert sheet.save(str(target))
    assert not QImage(str(target)).isNull()


def test_mouth_and_eye_shapes_follow_their_blendshapes(qapp: QApplication) -> None:
    look = load_look("guide")
    visemes = dict(viseme_states())
    rest, aa, u = (mouth_shape(look, visemes[name]) for name in ("sil", "aa", "U"))
    assert aa.gap > 0.2 > 0.02 > rest.gap
    assert u.left[0] - u.right[0] < 0.8 * (rest.left[0] - rest.right[0])  # rounded, narrow
    assert u.round > rest.round
    smirk = mouth_shape(look, RigState().with_weights({"mouthSmileLeft": 1.0}))
    assert smirk.left[1] < rest.left[1] - 0.05  # the avatar's left corner rises...
    assert smirk.right == rest.right  # ...and only that one
    closed = RigState().with_weights({"mouthClose": 1.0, "jawOpen": 1.0})
    assert mouth_shape(look, closed).gap < 0.03  # lips held shut while the jaw drops
    assert eye_shape(look, RigState(), 1.0, "Left").open
    shut = RigState().with_weights({"eyeBlinkLeft": 1.0})
    assert not eye_shape(look, shut, 1.0, "Left").open
    assert eye_shape(look, shut, -1.0, "Right").open


def test_the_mouth_opens_for_aa(guide: FacePainter) -> None:
    visemes = dict(viseme_states())
    closed = render_face(visemes["sil"], guide, SIZE)
    open_ = render_face(visemes["aa"], guide, SIZE)
    region = mouth_region(SIZE)
    assert difference(closed, open_, region) > 8
    # an open mouth shows its dark inside; closed lips show none
    assert len(pixels(open_, region, is_dark)) > 40 * len(pixels(closed, region, is_dark)) + 100
    # the rest of the face stays put
    eyes = eye_region(SIZE)
    assert difference(closed, open_, eyes) < 1


def test_a_blink_hides_the_iris_and_each_eye_closes_on_its_own(green_eyes: FacePainter) -> None:
    region = eye_region(SIZE)
    mid = region.center().x()
    open_ = pixels(render_face(RigState(), green_eyes, SIZE), region, is_iris)
    assert len(open_) > 150
    assert any(x < mid for x, _ in open_) and any(x > mid for x, _ in open_)
    both = {"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0}
    closed = pixels(render_face(RigState().with_weights(both), green_eyes, SIZE), region, is_iris)
    assert closed == []
    # eyeBlinkLeft is the avatar's left eye: on the viewer's right
    left = RigState().with_weights({"eyeBlinkLeft": 1.0})
    winking = pixels(render_face(left, green_eyes, SIZE), region, is_iris)
    assert winking and all(x < mid for x, _ in winking)


def test_gaze_moves_the_irises_the_right_way(green_eyes: FacePainter) -> None:
    region = eye_region(SIZE)
    mid = region.center().x()

    def irises(state: RigState) -> list[tuple[float, float]]:
        """Each eye's iris centre: the viewer's left eye, then the right one."""
        found = pixels(render_face(state, green_eyes, SIZE), region, is_iris)
        return [
            centroid([p for p in found if p[0] < mid]),
            centroid([p for p in found if p[0] > mid]),
        ]

    centre = irises(RigState())
    for gaze, sign in ((1.0, 1), (-1.0, -1)):  # x > 0 looks to the viewer's right
        moved = irises(RigState(gaze_x=gaze))
        assert all(sign * (m[0] - c[0]) > 2 for m, c in zip(moved, centre, strict=True))
    up, down = irises(RigState(gaze_y=0.8)), irises(RigState(gaze_y=-0.8))
    assert all(u[1] < c[1] < d[1] for u, c, d in zip(up, centre, down, strict=True))
    # eyeLookOutLeft turns only the avatar's left eye (the viewer's right) outwards
    out = irises(RigState().with_weights({"eyeLookOutLeft": 1.0}))
    assert out[1][0] > centre[1][0] + 2
    assert abs(out[0][0] - centre[0][0]) < 0.5


def test_the_looks_differ(qapp: QApplication) -> None:
    images = [render_face(RigState(), load_look(name), 200) for name in bundled_looks()]
    assert len(images) >= 2
    for i, a in enumerate(images):
        for b in images[i + 1 :]:
            assert difference(a, b) > 10


@pytest.mark.parametrize(
    "wild",
    [
        RigState(head_yaw=400.0, head_pitch=-90.0, head_roll=1e9, gaze_x=7.0, gaze_y=-7.0),
        RigState(head_yaw=math.nan, gaze_x=math.inf),
    ],
)
def test_values_out_of_range_are_clamped_not_fatal(guide: FacePainter, wild: RigState) -> None:
    weights = {name: 5.0 for name in ("jawOpen", "eyeBlinkLeft", "mouthSmileRight", "tongueOut")}
    weights["browInnerUp"] = -3.0
    weights["mouthFunnel"] = math.nan
    image = render_face(wild.with_weights(weights), guide, 200)
    assert not image.isNull()
    # a weight of 5 draws exactly what a weight of 1 draws
    over = render_face(RigState().with_weights({"jawOpen": 5.0}), guide, 200)
    full = render_face(RigState().with_weights({"jawOpen": 1.0}), guide, 200)
    assert difference(over, full) == 0


@pytest.mark.parametrize(("width", "height"), [(200, 200), (1200, 1200), (640, 360), (300, 700)])
def test_any_size_draws_the_whole_face(guide: FacePainter, width: int, height: int) -> None:
    image = render_face(RigState(), guide, width, height)
    lay = Layout.fit(width, height)
    cheek = image.pixelColor(
        round(lay.origin_x - 0.55 * lay.scale), round(lay.origin_y + 0.3 * lay.scale)
    )
    skin = QColor(guide.look.skin.base)
    assert abs(cheek.red() - skin.red()) < 40 and abs(cheek.green() - skin.green()) < 40
    # the same face at every size: the small render is the large one scaled
    if width == height == 200:
        big = render_face(RigState(), guide, 1200).scaled(200, 200)
        assert difference(image, big) < 6


def test_the_face_view_paints_frames_and_survives_a_failing_engine(qtbot: QtBot) -> None:
    calls = {"n": 0}

    def provider() -> RigState:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("engine hiccup")
        return RigState().with_weights({"jawOpen": (calls["n"] % 10) / 10})

    view = FaceView(provider, load_look("guide"), name="Hana")
    qtbot.addWidget(view)
    view.resize(320, 320)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.stats.frames >= 8, timeout=10_000)
    summary = view.stats.summary()
    assert summary.fps > 5 and summary.paint_worst_ms > 0
    assert view.state["jawOpen"] > 0
    view.set_look(load_look("professional"))
    assert view.look.id == "professional"
    shot = view.grab().toImage()
    assert not shot.isNull() and shot.width() >= 320
    view.hide()
    frames = view.stats.frames
    qtbot.wait(100)
    assert view.stats.frames == frames  # no painting while hidden

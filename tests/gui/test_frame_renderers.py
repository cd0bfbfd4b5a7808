"""The face painted off the UI thread: in a child process (the default) or on a thread.

Both renderers must paint exactly what the painter paints directly, repaint only the
moving rectangle once an image is whole, survive a frame that cannot be painted, and the
view must go on (on a thread) when the painter process dies.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from app.gui.face import FacePainter, FaceView, render_face
from app.gui.face.face_view import AHEAD_TICKS
from app.gui.face.frame_renderer import SLOTS, Frame, FrameHandoff, FrameRenderer, Renderer
from app.gui.face.render_process import ProcessFrameRenderer
from avatar.looks import load_look
from avatar.rig import RigState

SIZE = 240
Factory = Callable[..., Renderer]


def pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    rows = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    return rows.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 4].copy()


@pytest.fixture(params=[ProcessFrameRenderer, FrameRenderer], ids=["process", "thread"])
def make(request: pytest.FixtureRequest) -> Iterator[Factory]:
    made: list[Renderer] = []

    def factory(*args: object) -> Renderer:
        renderer: Renderer = request.param(*args)
        made.append(renderer)
        return renderer

    yield factory
    for renderer in made:
        renderer.close()


def paint(
    renderer: Renderer,
    done: threading.Event,
    state: RigState,
    rect: QRect,
    *,
    size: int = SIZE,
    show: bool = True,
) -> Frame:
    """Submit one frame, wait for it, take it and (as the view does) show it."""
    done.clear()
    assert renderer.submit(state, size, size, 1.0, rect)
    assert done.wait(20), "no frame within 20 s"
    frame = renderer.take()
    assert frame is not None and renderer.take() is None
    if show:
        renderer.show(frame)
    return frame


def test_frames_match_the_painter_and_only_the_moving_rectangle_is_repainted(
    make: Factory,
) -> None:
    look = load_look("guide")
    done = threading.Event()
    renderer = make(look, done.set)
    rect = FacePainter(look).moving_rect(SIZE, SIZE)
    rest = RigState()
    first = paint(renderer, done, rest, rect)
    assert first.rect == rect and first.state is rest and first.look is look
    np.testing.assert_array_equal(pixels(first.image), pixels(render_face(RigState(), look, SIZE)))

    # the other image: painted whole the first time, then only inside the rectangle
    talking = RigState().with_weights({"jawOpen": 0.8})
    second = paint(renderer, done, talking, rect)
    assert second.slot != first.slot
    expected = pixels(render_face(talking, look, SIZE))
    np.testing.assert_array_equal(pixels(second.image), expected)
    # an open jaw clipped to a corner of the wall: the image keeps the closed jaw it had
    before = pixels(first.image)
    third = paint(renderer, done, talking, QRect(0, 0, 8, 8))
    assert third.slot == first.slot
    np.testing.assert_array_equal(pixels(third.image), before)


def test_a_look_change_repaints_the_whole_image(make: Factory) -> None:
    done = threading.Event()
    renderer = make(load_look("guide"), done.set)
    tiny = QRect(0, 0, 8, 8)
    paint(renderer, done, RigState(), tiny)
    paint(renderer, done, RigState(), tiny)
    professional = load_look("professional")
    renderer.set_look(professional)
    frame = paint(renderer, done, RigState(), tiny)
    assert frame.look is not None
    expected = pixels(render_face(RigState(), professional, SIZE))
    np.testing.assert_array_equal(pixels(frame.image), expected)


def test_a_frame_that_cannot_be_painted_is_skipped_and_the_next_one_comes(
    make: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    done = threading.Event()
    renderer = make(load_look("guide"), done.set)
    rect = QRect(0, 0, SIZE, SIZE)
    broken_state: RigState = "not a rig state"  # type: ignore[assignment]
    assert renderer.submit(broken_state, SIZE, SIZE, 1.0, rect)
    assert done.wait(20)
    assert renderer.take() is None and renderer.idle and not renderer.broken
    assert "failed" in caplog.text
    rest = RigState()
    assert paint(renderer, done, rest, rect).state is rest


def test_a_dead_painter_process_breaks_the_renderer_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    done = threading.Event()
    renderer = ProcessFrameRenderer(load_look("guide"), done.set)
    try:
        renderer._child.kill()
        assert done.wait(20)
        assert renderer.broken and not renderer.idle
        assert not renderer.submit(RigState(), SIZE, SIZE, 1.0, QRect(0, 0, SIZE, SIZE))
        assert "painter process ended" in caplog.text
    finally:
        renderer.close()


def talking_view(qtbot: QtBot, frames: int) -> FaceView:
    """A shown face view, mouth open, once it has shown ``frames`` frames."""
    view = FaceView(lambda: RigState().with_weights({"jawOpen": 0.4}), load_look("guide"))
    qtbot.addWidget(view)
    view.resize(SIZE, SIZE)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.stats.frames >= frames, timeout=20_000)
    return view


def test_the_view_paints_in_a_process_and_goes_on_on_a_thread_when_it_dies(
    qtbot: QtBot,
) -> None:
    view = talking_view(qtbot, frames=10)
    # what is on screen was painted for a tick at least AHEAD_TICKS back (ticks so far:
    # _ticks), so a paint that waits for a core still comes in time
    front = view._front
    assert front is not None and front.tick <= view._ticks - 1 - AHEAD_TICKS
    renderer = view._renderer
    assert isinstance(renderer, ProcessFrameRenderer)
    renderer._child.kill()
    qtbot.waitUntil(lambda: isinstance(view._renderer, FrameRenderer), timeout=20_000)
    frames = view.stats.frames
    qtbot.waitUntil(lambda: view.stats.frames >= frames + 10, timeout=20_000)
    assert renderer._child.poll() is not None
    view.hide()
    assert view._renderer is None  # nothing paints while hidden


def test_a_view_dropped_while_shown_stops_its_painter_process(qtbot: QtBot) -> None:
    """A view deleted while shown gets no hide event; its painter process used to live
    on with the app."""
    view = talking_view(qtbot, frames=3)
    renderer = view._renderer
    assert isinstance(renderer, ProcessFrameRenderer)
    child = renderer._child
    del view, renderer
    gc.collect()
    assert child.wait(5) is not None


def test_a_due_frame_reaches_the_screen_within_its_tick(qtbot: QtBot) -> None:
    """The blit happens in the tick itself, not queued behind the tick's other work."""
    view = talking_view(qtbot, frames=3)
    view._timer.stop()  # ticks by hand from here
    shown_in_tick = 0
    for _ in range(40):
        qtbot.wait(20)  # the painter finishes what was submitted
        before = view.stats.frames
        view._tick()  # no event processing between the tick and the check
        shown_in_tick += view.stats.frames > before
    view.hide()  # the painter stops before the view goes
    assert shown_in_tick >= 30


def test_a_resized_view_gets_frames_at_its_new_size(qtbot: QtBot) -> None:
    view = FaceView(RigState, load_look("professional"))
    qtbot.addWidget(view)
    view.resize(SIZE, SIZE)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view._front is not None, timeout=20_000)
    view.resize(SIZE + 40, SIZE)
    qtbot.waitUntil(
        lambda: view._front is not None and view._front.width == SIZE + 40, timeout=20_000
    )
    shot = pixels(view.grab().toImage())
    expected = pixels(render_face(RigState(), load_look("professional"), SIZE + 40, SIZE))
    assert shot.shape == expected.shape
    assert np.abs(shot.astype(int) - expected).mean() < 1.0


def test_a_frame_taken_but_not_shown_leaves_the_shown_image_untouched(make: Factory) -> None:
    """A view resized while a frame was painting drops that frame and keeps showing the one
    before. The next frame (at the new size) must not go into the shown image: painting
    into it tears, and replacing it (a new size) once unmapped memory the view then drew
    from, and the app crashed."""
    done = threading.Event()
    renderer = make(load_look("guide"), done.set)
    whole = QRect(0, 0, SIZE, SIZE)
    shown = paint(renderer, done, RigState(), whole)
    before = pixels(shown.image)
    dropped = paint(renderer, done, RigState().with_weights({"jawOpen": 0.9}), whole, show=False)
    assert dropped.slot != shown.slot
    bigger = paint(renderer, done, RigState().with_weights({"jawOpen": 0.5}), whole, size=SIZE + 40)
    assert bigger.slot == dropped.slot  # not into the image on screen
    assert bigger.image.width() == SIZE + 40
    np.testing.assert_array_equal(pixels(shown.image), before)
    # and once the bigger frame is shown, the old image may go: its frame still reads
    renderer.show(bigger)
    again = paint(renderer, done, RigState(), whole, size=SIZE + 40)
    assert again.slot == shown.slot and again.image.width() == SIZE + 40
    np.testing.assert_array_equal(pixels(shown.image), before)


def test_frames_wait_for_their_tick_and_images_in_use_are_never_painted_into() -> None:
    """The view shows at tick n the newest frame painted for a tick up to n - 2; frames
    finished ahead stay until their tick, superseded ones are dropped, and the painter
    only ever gets an image that is neither shown, nor waiting, nor being painted."""
    handoff = FrameHandoff()
    image = QImage(4, 4, QImage.Format.Format_ARGB32_Premultiplied)
    look = load_look("guide")

    def finish(tick: int) -> Frame:
        with handoff._lock:
            slot = handoff._claim_slot()
            assert slot is not None
        frame = Frame(image, 4, 4, 1.0, QRect(), RigState(), look, 1.0, slot, tick=tick)
        with handoff._lock:
            handoff._painting = None
            handoff._ready.append(frame)
        return frame

    first, second, third = finish(0), finish(1), finish(2)
    assert handoff.take(upto=-1) is None  # nothing due yet
    assert handoff.take(upto=1) is second  # the newest due; the first is dropped
    handoff.show(second)
    assert handoff.take(upto=1) is None  # taken once
    with handoff._lock:
        # shown (second) and waiting (third) are busy; the dropped first one is free
        assert handoff._free_slot() == first.slot
        assert handoff._claim_slot() == first.slot
        assert handoff._free_slot() not in {second.slot, third.slot, first.slot}
        assert not handoff._can_start()  # one frame painted at a time
        assert handoff._claim_slot() is None
        handoff._painting = None
    assert len({first.slot, second.slot, third.slot}) == 3 <= SLOTS
    assert handoff.take(upto=5) is third


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads Linux /proc")
def test_the_painter_process_paints_without_qts_helper_threads() -> None:
    """Qt hands large fills to a pool of helper threads and waits for them; on two
    shared cores that more than doubled a frame's CPU, so the painter process runs
    with the pool turned off."""
    done = threading.Event()
    renderer = ProcessFrameRenderer(load_look("guide"), done.set)
    try:
        size = 800  # big enough that Qt would split the fills
        whole = QRect(0, 0, size, size)
        for yaw in (0.0, 9.0, -9.0):
            paint(renderer, done, RigState(head_yaw=yaw, head_roll=2.0), whole, size=size)
        tasks = Path(f"/proc/{renderer._child.pid}/task")
        names = [(task / "comm").read_text().strip() for task in tasks.iterdir()]
        assert names and not [n for n in names if "pooled" in n.lower()], names
    finally:
        renderer.close()

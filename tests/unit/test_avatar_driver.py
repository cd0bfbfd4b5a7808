"""Session events -> the animation engine, with the sink's audio clock as time base."""

from __future__ import annotations

from app.core import events as ev
from app.core.types import PlaybackReport, SpeechChunk, Viseme
from avatar.animation import AnimationEngine
from avatar.driver import AvatarDriver
from vision import events as vev

FPS = 60.0


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class ClockSink:
    """An audio sink whose heard position the test sets, like a DAC clock."""

    sample_rate = 16000

    def __init__(self) -> None:
        self.heard = 0

    def play(self, chunk: SpeechChunk) -> None:
        pass

    def heard_samples(self) -> int:
        return self.heard

    def wait_done(self, timeout: float | None = None) -> bool:
        return True

    def stop(self) -> PlaybackReport:
        return PlaybackReport(self.heard, self.sample_rate, False)


def rig(sink: ClockSink | None = None) -> tuple[AvatarDriver, Clock, ClockSink]:
    clock = Clock()
    sink = sink or ClockSink()
    driver = AvatarDriver(AnimationEngine(seed=3, clock=clock), sink, clock=clock)
    return driver, clock, sink


def advance(driver: AvatarDriver, clock: Clock, sink: ClockSink, seconds: float) -> None:
    """Frames at 60 Hz with the audio clock running alongside."""
    for _ in range(round(seconds * FPS)):
        clock.now += 1 / FPS
        sink.heard += round(sink.sample_rate / FPS)
        driver.state_now()


def smile(driver: AvatarDriver) -> float:
    state = driver.state_now()
    return (state["mouthSmileLeft"] + state["mouthSmileRight"]) / 2


def test_the_mouth_follows_the_audio_clock_not_the_wall_clock() -> None:
    driver, clock, sink = rig()
    driver.handle(ev.TurnStarted(turn_id=1))
    driver.handle(ev.ModeChanged(mode=ev.AvatarMode.SPEAKING, turn_id=1))
    driver.handle(
        ev.VisemesOut(turn_id=1, visemes=(Viseme("sil", 0.0, 1.0), Viseme("aa", 1.0, 0.4)))
    )
    advance(driver, clock, sink, 0.5)
    assert driver.state_now()["jawOpen"] < 0.1  # still silence on the audio clock
    # the wall clock races ahead but the listener has heard nothing more (a stalled device)
    clock.now += 5.0
    assert driver.state_now()["jawOpen"] < 0.1
    advance(driver, clock, sink, 0.7)  # the audio clock reaches the vowel at 1.0-1.4 s
    assert driver.audio_time() is not None and 1.1 < driver.audio_time() < 1.4  # type: ignore[operator]
    assert driver.state_now()["jawOpen"] > 0.3


def test_an_expression_cue_waits_for_its_sentence_to_be_heard() -> None:
    driver, clock, sink = rig()
    driver.handle(ev.TurnStarted(turn_id=1))
    driver.handle(ev.ModeChanged(mode=ev.AvatarMode.SPEAKING, turn_id=1))
    driver.handle(ev.AudioOut(turn_id=1, samples=None, sample_rate=16000, start_sample=0))  # type: ignore[arg-type]
    driver.handle(
        ev.AudioOut(
            turn_id=1, samples=None, sample_rate=16000, start_sample=32000, sentence_index=1
        )  # type: ignore[arg-type]
    )
    driver.handle(ev.ExpressionCue(turn_id=1, tag="smile", sentence_index=1))
    advance(driver, clock, sink, 1.5)
    assert smile(driver) < 0.1, "the smile belongs to the second sentence, heard from 2.0 s"
    advance(driver, clock, sink, 1.0)
    assert smile(driver) > 0.2


def test_without_audio_a_cue_shows_at_once_and_an_interrupt_drops_pending_ones() -> None:
    clock = Clock()
    driver = AvatarDriver(AnimationEngine(seed=3, clock=clock), None, clock=clock)
    driver.handle(ev.ExpressionCue(turn_id=1, tag="smile"))
    for _ in range(30):
        clock.now += 1 / FPS
        driver.state_now()
    assert smile(driver) > 0.2

    spoken, clock2, sink = rig()
    spoken.handle(ev.ModeChanged(mode=ev.AvatarMode.SPEAKING, turn_id=2))
    spoken.handle(ev.ExpressionCue(turn_id=2, tag="surprised", sentence_index=3))
    spoken.handle(ev.Interrupted(turn_id=2, heard_text="", reason="barge-in"))
    spoken.handle(
        ev.AudioOut(turn_id=3, samples=None, sample_rate=16000, start_sample=0, sentence_index=3)  # type: ignore[arg-type]
    )
    advance(spoken, clock2, sink, 1.0)
    assert spoken.state_now()["eyeWideLeft"] < 0.1, "a cue of the interrupted turn never shows"


def test_the_avatar_looks_toward_the_visitor_and_mirror_mode_copies_their_face() -> None:
    driver, clock, sink = rig()
    driver.handle(ev.ModeChanged(mode=ev.AvatarMode.LISTENING))
    driver.handle(vev.UserObserved(position=(0.9, 0.5)))
    advance(driver, clock, sink, 1.0)
    right = driver.state_now().gaze_x
    driver.handle(vev.UserObserved(position=(0.1, 0.5)))
    advance(driver, clock, sink, 1.0)
    left = driver.state_now().gaze_x
    assert abs(right - left) > 0.2, "the gaze follows the visitor across the frame"

    driver.set_mirror(True)
    driver.handle(vev.UserObserved(blendshapes=(("jawOpen", 0.8),), position=(0.5, 0.5)))
    clock.now += 1 / FPS
    assert driver.state_now()["jawOpen"] > 0.6, "mirror copies the user's face within a frame"

"""The microphone vanishes mid-session and comes back: the capture says so once, keeps
running, and frames flow again when the device returns.

The virtual microphone ``vmic`` (a ``module-remap-source``) is unloaded and reloaded. A
PulseAudio server moves a stream whose source vanished to its fallback source instead of
ending it; here the fallback is a suspended null source (a "dead" microphone), so the
moved stream delivers nothing, as a USB microphone pulled out of a kiosk with no other
input would. Needs the virtual devices; restores ``vmic`` and unloads what it loaded even
when it fails. Run it against a private server when others share the default one.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from tests.support.pulse import (
    MIC_SOURCE,
    load_module,
    load_vmic,
    pulse_problem,
    source_names,
    unload_module,
    vmic_module,
)

pytestmark = [pytest.mark.audio]

_PROBLEM = pulse_problem()
if _PROBLEM is not None:
    pytest.skip(_PROBLEM, allow_module_level=True)

from speech.capture import SoundDeviceSource  # noqa: E402  (after the server check)

DEAD = "dhuman_deadmic"


def _wait(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def dead_fallback() -> Iterator[None]:
    """A suspended null source as the server's fallback; vmic restored afterwards."""
    dead = load_module("module-null-source", f"source_name={DEAD}")
    subprocess.run(["pactl", "suspend-source", DEAD, "1"], check=True, timeout=10)
    try:
        yield
    finally:
        if MIC_SOURCE not in source_names():
            load_vmic()
        subprocess.run(["pactl", "set-default-source", MIC_SOURCE], check=False, timeout=10)
        unload_module(dead)


@pytest.mark.usefixtures("dead_fallback")
def test_lost_microphone_is_reported_once_and_recovers() -> None:
    errors: list[str] = []
    recoveries: list[str] = []
    frames = [0]
    lock = threading.Lock()

    def on_frame(_: object) -> None:
        with lock:
            frames[0] += 1

    def count() -> int:
        with lock:
            return frames[0]

    source = SoundDeviceSource(
        on_error=errors.append,
        on_recover=recoveries.append,
        retry_interval=0.5,
        max_retry_interval=1.0,
    )
    source.start(on_frame)
    try:
        assert _wait(lambda: count() >= 20, 10), "no frames from the virtual microphone"
        unload_module(vmic_module())
        subprocess.run(["pactl", "set-default-source", DEAD], check=True, timeout=10)
        assert _wait(lambda: bool(errors), 10), "the loss was never reported"
        time.sleep(3.0)  # several reopen attempts while the device is away
        assert len(errors) == 1, f"reported more than once: {errors}"
        assert "microphone" in errors[0] and "reopen" in errors[0]
        assert recoveries == []

        load_vmic()
        subprocess.run(["pactl", "set-default-source", MIC_SOURCE], check=True, timeout=10)
        assert _wait(lambda: bool(recoveries), 20), "no recovery after the device came back"
        before = count()
        assert _wait(lambda: count() >= before + 30, 10), "frames do not flow again"
        assert len(errors) == 1 and len(recoveries) == 1
        assert "works again" in recoveries[0]
    finally:
        source.stop()

"""The test rig's host-stall tools: the steal meter reads /proc/stat, the stall injector
really freezes a process (a ticking child shows the gaps) and always resumes it."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.stalls import HostStalls
from tests.support.steal import FAIR_SHARE, StealMeter, steal_seconds

_TICKER = """
import sys, time
while True:
    sys.stdout.write(f"{time.monotonic()}\\n")
    sys.stdout.flush()
    time.sleep(0.005)
"""


def test_steal_is_read_from_the_eighth_cpu_field(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    ticks = os.sysconf("SC_CLK_TCK")
    stat.write_text(f"cpu  10 0 20 3000 5 0 1 {7 * ticks} 0 0\ncpu0 1 2 3\n")
    assert steal_seconds(stat) == pytest.approx(7.0)
    stat.write_text("intr 5\n")
    assert steal_seconds(stat) == 0.0
    assert steal_seconds(tmp_path / "missing") == 0.0


def test_the_meter_shares_steal_over_the_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    readings = iter([100.0, 100.0 + 0.5])
    monkeypatch.setattr("tests.support.steal.steal_seconds", lambda: next(readings))
    clock = iter([50.0, 60.0])
    monkeypatch.setattr("tests.support.steal.time.monotonic", lambda: next(clock))
    monkeypatch.setattr("tests.support.steal.os.cpu_count", lambda: 2)
    with StealMeter() as meter:
        pass
    assert (meter.stolen_s, meter.wall_s) == pytest.approx((0.5, 10.0))
    assert meter.share == pytest.approx(0.025)
    assert meter.share > FAIR_SHARE and not meter.fair
    assert "0.5 s in 10 s (2.5 %)" in meter.describe()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIGSTOP on Linux")
def test_stalls_freeze_the_process_for_the_span_and_always_resume_it() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _TICKER], stdout=subprocess.PIPE, text=True, bufsize=1
    )
    try:
        assert child.stdout is not None
        child.stdout.readline()  # it runs
        stalled: list[float] = []
        with HostStalls([child.pid], pause_ms=(120, 150), gap_s=(0.2, 0.3), seed=3) as stalls:
            began = time.monotonic()
            while time.monotonic() - began < 1.5:
                stalled.append(float(child.stdout.readline()))
        gaps = [b - a for a, b in itertools.pairwise(stalled)]
        after = time.monotonic()
        while float(child.stdout.readline()) < after:  # what it wrote before: read past
            pass
        ticks = [float(child.stdout.readline()) for _ in range(20)]
        assert child.poll() is None  # resumed, ticking on its own with no more freezes
        assert max(b - a for a, b in itertools.pairwise(ticks)) < 0.1
    finally:
        child.kill()
        child.wait()
    report = stalls.report
    # every freeze shows as a gap in the ticks at least as long as the span asked for
    assert sum(gap >= 0.115 for gap in gaps) >= report.stalls - 1
    assert 3 <= report.stalls <= 5
    assert 0.12 * report.stalls <= report.stalled_s <= 0.15 * report.stalls + 1e-6
    assert 0.15 < report.share < 0.5

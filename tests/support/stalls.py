"""Host stalls on demand: the machine paused now and then, as a busy virtual host does.

A virtual machine whose host is busy loses its CPUs for tens to hundreds of
milliseconds at a time ("steal"). Everything stops together: the app's audio
callbacks, the sound server's timers, the capture thread. When they run again the
sound server finds its clock far ahead, drains every client's buffer at once and
reports underruns all round. CI machines do this by chance; :class:`HostStalls` does it
on purpose, so the audio path can be measured and tested under it on a quiet machine.

It freezes the given processes (``SIGSTOP``) for a random span, lets them run
(``SIGCONT``) for a random span, and so on, from a separate process: a thread of the
frozen process could not wake it again. Leaving the context always resumes them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from types import TracebackType

# The child runs this loop; a SIGTERM ends it after resuming everyone.
_LOOP = """
import os, random, signal, sys, time
pids = [int(p) for p in sys.argv[1].split(",")]
pause_lo, pause_hi, gap_lo, gap_hi, seed = map(float, sys.argv[2:7])
rng = random.Random(int(seed))
running = True
def finish(*_):
    global running
    running = False
signal.signal(signal.SIGTERM, finish)
stalls = 0
stalled = 0.0
try:
    while running:
        time.sleep(rng.uniform(gap_lo, gap_hi))
        if not running:
            break
        span = rng.uniform(pause_lo, pause_hi)
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        time.sleep(span)
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
        stalls += 1
        stalled += span
finally:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
    sys.stdout.write(f"{stalls} {stalled}\\n")
"""


def sound_server_pid() -> int:
    """The PulseAudio server of this session (the one ``pactl`` talks to)."""
    done = subprocess.run(["pactl", "info"], capture_output=True, text=True, timeout=5, check=True)
    for line in done.stdout.splitlines():
        if line.startswith("Server String:"):
            socket_path = line.split(":", 1)[1].strip().removeprefix("unix:")
            runtime = os.path.dirname(os.path.dirname(socket_path))
            pid_file = os.path.join(runtime, "pulse", "pid")
            if os.path.exists(pid_file):
                with open(pid_file) as handle:
                    return int(handle.read().split()[0])
    found = subprocess.run(["pgrep", "-n", "-x", "pulseaudio"], capture_output=True, text=True)
    if found.returncode != 0:
        raise RuntimeError("no PulseAudio server running")
    return int(found.stdout.split()[0])


@dataclass
class StallReport:
    stalls: int = 0
    stalled_s: float = 0.0
    ran_s: float = 0.0

    @property
    def share(self) -> float:
        """The fraction of the time the machine stood still."""
        return self.stalled_s / self.ran_s if self.ran_s else 0.0


class HostStalls:
    """Freeze ``pids`` for ``pause_ms`` (a random span within it) every ``gap_s``."""

    def __init__(
        self,
        pids: list[int],
        *,
        pause_ms: tuple[float, float] = (30.0, 150.0),
        gap_s: tuple[float, float] = (0.5, 2.0),
        seed: int = 1,
    ) -> None:
        self._pids = pids
        self._args = [
            ",".join(str(p) for p in pids),
            str(pause_ms[0] / 1000),
            str(pause_ms[1] / 1000),
            str(gap_s[0]),
            str(gap_s[1]),
            str(seed),
        ]
        self._child: subprocess.Popen[str] | None = None
        self._began = 0.0
        self.report = StallReport()

    def __enter__(self) -> HostStalls:
        self._began = time.monotonic()
        self._child = subprocess.Popen(
            [sys.executable, "-c", _LOOP, *self._args], stdout=subprocess.PIPE, text=True
        )
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        child = self._child
        if child is None:
            return
        child.send_signal(signal.SIGTERM)
        out, _ = child.communicate(timeout=10)
        for pid in self._pids:  # whatever happened to the child, nobody stays frozen
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        parts = out.split()
        if len(parts) == 2:
            self.report = StallReport(int(parts[0]), float(parts[1]))
        self.report.ran_s = time.monotonic() - self._began

"""Record what the app's speaker played (``spk.monitor``) on the test's own clock.

The recorder is a child process so the app's audio threads and the recorder never share
a GIL. Each PortAudio block is stamped with ``time.monotonic()`` in its callback (the
same clock as the session's events), so "when was this heard" is a lookup.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Child process: records spk.monitor, prints READY once samples flow, stops on a line from
# stdin, then saves the samples with their block stamps.
_RECORDER = r"""
import sys, threading, time
import numpy as np
import sounddevice as sd
out, rate = sys.argv[1], 48000
blocks, ready = [], threading.Event()
def callback(indata, frames, timing, status):
    blocks.append((time.monotonic(), indata[:, 0].copy())); ready.set()
stream = sd.InputStream(device="pulse", samplerate=rate, channels=1, dtype="float32",
                        callback=callback, latency="low", blocksize=240)
stream.start()
if not ready.wait(5):
    print("NO AUDIO", flush=True); sys.exit(1)
time.sleep(0.3)  # past the stream's start-up
print("READY", flush=True)
sys.stdin.readline()
stream.stop(); stream.close()
np.savez(out, stamps=np.array([b[0] for b in blocks]), n=np.array([len(b[1]) for b in blocks]),
         x=np.concatenate([b[1] for b in blocks]), rate=rate)
print("DONE", flush=True)
"""


@dataclass
class Recording:
    samples: np.ndarray
    rate: int
    times: np.ndarray  # time.monotonic() of each sample (when it reached the recorder)

    def time_of_index(self, index: int) -> float:
        return float(self.times[index])

    def last_sound_time(self, threshold: float = 1e-3) -> float:
        loud = np.flatnonzero(np.abs(self.samples) > threshold)
        return self.time_of_index(int(loud[-1])) if len(loud) else float("nan")

    def between(self, start: float, end: float) -> np.ndarray:
        """The samples heard between two monotonic times."""
        mask = (self.times >= start) & (self.times <= end)
        return self.samples[mask]


class MonitorRecorder:
    """Records ``spk.monitor`` in a child process; ``with`` waits for it to be ready."""

    def __init__(self, folder: Path, source: str = "spk.monitor") -> None:
        self.path = folder / "monitor.npz"
        self.source = source
        self.recording: Recording | None = None

    def __enter__(self) -> MonitorRecorder:
        env = dict(os.environ, PULSE_SOURCE=self.source)
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _RECORDER, str(self.path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().strip()
        assert line == "READY", f"recorder did not start: {line!r}"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write("\n")
        self._proc.stdin.flush()
        done = self._proc.stdout.readline().strip()
        self._proc.wait(timeout=10)
        if done == "DONE":
            data = np.load(self.path)
            rate = int(data["rate"])
            ends = np.cumsum(data["n"])
            # a block's last sample arrived at the latest when its callback ran; the
            # tightest bound over all blocks anchors the whole sample-count time line
            anchor = float(np.min(data["stamps"] - ends / rate))
            times = anchor + np.arange(len(data["x"])) / rate
            self.recording = Recording(data["x"].astype(np.float32), rate, times)

"""What the microphone and the speaker share: loading PortAudio and naming devices.

``sounddevice`` is imported only when a device is opened, so that a virtual sound
server started by the harness is already up when PortAudio scans for devices.
"""

from __future__ import annotations

from typing import Any


def load_sounddevice(error: type[Exception]) -> Any:
    """The ``sounddevice`` module, or ``error`` with the exact fix when it cannot load."""
    try:
        import sounddevice
    except (ImportError, OSError) as exc:  # OSError: the PortAudio library is missing
        raise error(
            f"sounddevice/PortAudio cannot load ({exc}); install libportaudio2 "
            "(Debian/Ubuntu: apt-get install libportaudio2) and pip install sounddevice"
        ) from None
    return sounddevice


def device_listing(sd: Any, kind: str) -> str:
    """ "0: name; 3: name" for the devices with ``kind`` ("input"/"output") channels."""
    try:
        names = [
            f"{index}: {dev['name']}"
            for index, dev in enumerate(sd.query_devices())
            if dev[f"max_{kind}_channels"] > 0
        ]
    except Exception:  # PortAudio itself is broken: the caller's message says so
        names = []
    return "; ".join(names) if names else "none found"


def device_arg(device: str | int | None) -> int | str | None:
    """A device setting as PortAudio wants it: None (default), an index, or a name."""
    if device is None or device == "":
        return None
    if isinstance(device, int):
        return device
    return int(device) if device.strip().isdigit() else device

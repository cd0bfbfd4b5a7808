"""What the face painter process and the app share: the pipe's messages (length-prefixed
pickled tuples, both ways) and the frame images (files in shared memory).

Only the app's own two processes speak it (``render_process`` and ``render_worker``).
"""

from __future__ import annotations

import mmap
import pickle
import struct
from pathlib import Path
from typing import IO, Any

from PySide6.QtGui import QImage

_HEADER = struct.Struct("<I")


def send(stream: IO[bytes], message: tuple[Any, ...]) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def receive(stream: IO[bytes]) -> tuple[Any, ...] | None:
    """The next message, or None at the end of the stream."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    size = _HEADER.unpack(header)[0]
    data = stream.read(size)
    if len(data) < size:
        return None
    message = pickle.loads(data)
    assert isinstance(message, tuple)
    return message


class SharedImage:
    """An image file in shared memory, mapped in this process as a ``QImage``.

    The parent creates the file (``create=True``); the painter process maps it by name.
    """

    def __init__(
        self, path: Path, width_px: int, height_px: int, ratio: float, *, create: bool = False
    ) -> None:
        self.path, self.width_px, self.height_px, self.ratio = path, width_px, height_px, ratio
        size = width_px * height_px * 4
        with open(path, "w+b" if create else "r+b") as file:
            if create:
                file.truncate(size)
            self._memory = mmap.mmap(file.fileno(), size)
        self._view = memoryview(self._memory)
        fmt = QImage.Format.Format_ARGB32_Premultiplied
        self.image = QImage(self._view, width_px, height_px, width_px * 4, fmt)
        self.image.setDevicePixelRatio(ratio)
        self.whole = False  # painted entirely at least once (wall and body included)

    def fits(self, width_px: int, height_px: int, ratio: float) -> bool:
        return (self.width_px, self.height_px, self.ratio) == (width_px, height_px, ratio)

    def close(self, *, remove: bool = False) -> None:
        """Stop using this image (and delete its file with ``remove``).

        The memory is not unmapped here: a ``QImage`` over it keeps no hold on it, and a
        frame still on screen may be drawn from it (drawing unmapped memory crashes the
        app). Frames keep their ``SharedImage`` (``Frame.keep``), so the mapping goes with
        its last user.
        """
        self.image = QImage()
        if remove:
            self.path.unlink(missing_ok=True)

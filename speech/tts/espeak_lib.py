"""A small ctypes binding to libespeak-ng: synthesize text, collect audio and events.

The library and its data (with the Korean dictionary ``ko_dict``) come from the
``espeakng-loader`` wheel, so no system package is needed. No maintained Python wrapper
exposes espeak-ng's *synthesis* with phoneme events (``phonemizer`` only phonemizes, and
``py-espeak-ng`` drives the command line), hence this binding of the documented C API
(``speak_lib.h``):

- ``espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data, PHONEME_EVENTS | PHONEME_IPA)``:
  synthesis runs in the calling thread and hands 16-bit samples plus events to a callback;
- phoneme events carry the IPA name of each phoneme and the sample where it starts; word
  events carry the word's character position in the text.

libespeak-ng keeps process-wide state (one voice, one callback), so every call goes
through one lock and sets voice, rate and callback itself. Other users of espeak in the
process (Piper links its own copy statically; ``phonemizer``, used by kokoro-onnx, loads a
private copy of the library) do not share this state.
"""

from __future__ import annotations

import ctypes
import functools
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

_SYNCHRONOUS = 2
_PHONEME_EVENTS, _PHONEME_IPA, _DONT_EXIT = 0x0001, 0x0002, 0x8000
_CHARS_UTF8, _END_PAUSE = 0x01, 0x1000
_POS_CHARACTER = 1
_RATE, _VOLUME, _PITCH = 1, 2, 3

EVENT_WORD, EVENT_SENTENCE, EVENT_END, EVENT_PHONEME = 1, 2, 5, 7
_EVENT_LIST_TERMINATED, _EVENT_MSG_TERMINATED = 0, 6

# espeak-ng's own limits for the rate in words per minute
MIN_RATE, MAX_RATE, DEFAULT_RATE = 80, 450, 175

_LOCK = threading.Lock()  # the C library is one per process


class _Voice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


class _EventId(ctypes.Union):
    _fields_ = [
        ("number", ctypes.c_int),
        ("name", ctypes.c_char_p),
        ("string", ctypes.c_char * 8),
    ]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass(frozen=True, slots=True)
class Event:
    """A phoneme (``name`` = IPA) or word event; ``sample`` is where it starts in the audio,
    ``position``/``length`` locate a word in the text (characters, 1-based)."""

    kind: int
    sample: int
    name: str = ""
    position: int = 0
    length: int = 0


@dataclass(frozen=True, slots=True, eq=False)
class Synthesis:
    samples: npt.NDArray[np.int16]
    sample_rate: int
    events: tuple[Event, ...]


class EspeakError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class _Library:
    lib: ctypes.CDLL
    sample_rate: int


def paths() -> tuple[Path, Path]:
    """The library and data folder bundled by espeakng-loader (ImportError if missing)."""
    import espeakng_loader

    return Path(espeakng_loader.get_library_path()), Path(espeakng_loader.get_data_path())


@functools.cache
def _library() -> _Library:
    # espeak_Initialize sets up process-wide tables: once per process, hence the cache
    library_path, data_path = paths()
    lib = ctypes.CDLL(str(library_path))
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetVoiceByName.restype = ctypes.c_int
    lib.espeak_SetVoiceByProperties.argtypes = [ctypes.POINTER(_Voice)]
    lib.espeak_SetVoiceByProperties.restype = ctypes.c_int
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
    lib.espeak_Synth.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.c_void_p,
        ctypes.c_void_p,
    ]
    lib.espeak_Synth.restype = ctypes.c_int
    options = _PHONEME_EVENTS | _PHONEME_IPA | _DONT_EXIT
    rate = int(lib.espeak_Initialize(_SYNCHRONOUS, 0, str(data_path).encode(), options))
    if rate <= 0:
        raise EspeakError(f"espeak-ng could not start with the data in {data_path}")
    return _Library(lib, rate)


def sample_rate() -> int:
    return _library().sample_rate


class _Collector:
    """Gathers the callback's audio and events; ``cancel`` set -> synthesis stops early."""

    def __init__(self, cancel: threading.Event | None) -> None:
        self.blocks: list[bytes] = []
        self.events: list[Event] = []
        self.cancel = cancel

    def __call__(self, wav: Any, count: int, events: Any) -> int:
        # ctypes hands over POINTER(c_short) and POINTER(_Event), as _CALLBACK declares
        index = 0
        while events[index].type != _EVENT_LIST_TERMINATED:
            self._event(events[index])
            index += 1
        if wav and count > 0:
            self.blocks.append(ctypes.string_at(wav, count * 2))
        return 1 if self.cancel is not None and self.cancel.is_set() else 0

    def _event(self, raw: _Event) -> None:
        if raw.type == EVENT_PHONEME:
            name = bytes(raw.id.string).split(b"\0", 1)[0].decode("utf-8", "replace")
            self.events.append(Event(EVENT_PHONEME, int(raw.sample), name))
        elif raw.type == EVENT_WORD:
            self.events.append(
                Event(EVENT_WORD, int(raw.sample), "", int(raw.text_position), int(raw.length))
            )
        elif raw.type in (EVENT_SENTENCE, EVENT_END, _EVENT_MSG_TERMINATED):
            self.events.append(Event(int(raw.type), int(raw.sample)))


def _set_voice(lib: ctypes.CDLL, voice: str) -> bool:
    """By voice name ("en-us", "ko"), else by language ("en-gb" is the voice "gmw/en")."""
    if lib.espeak_SetVoiceByName(voice.encode()) == 0:
        return True
    wanted = _Voice(None, voice.encode(), None, 0, 0, 0, 0, 0, None)
    if lib.espeak_SetVoiceByProperties(ctypes.byref(wanted)) != 0:
        return False
    # a language espeak does not know still "succeeds" with the default voice: check it
    lib.espeak_GetCurrentVoice.restype = ctypes.POINTER(_Voice)
    current = lib.espeak_GetCurrentVoice()
    languages = current.contents.languages or b""
    # the field is a list of (priority byte, name, NUL); look for our name in it
    return voice.lower().encode() in languages.lower() or bool(current.contents.identifier)


def synthesize(
    text: str,
    voice: str,
    *,
    rate: int = DEFAULT_RATE,
    pitch: int = 50,
    cancel: threading.Event | None = None,
) -> Synthesis:
    """Speak ``text`` with an espeak-ng voice (``en-us``, ``ko``...); blocking, thread-safe.

    ``rate`` is in words per minute (80-450; 175 is espeak's normal, ~130 is slow and clear).
    """
    library = _library()
    collector = _Collector(cancel)
    callback = _CALLBACK(collector)  # referenced until the call returns
    encoded = text.encode("utf-8")
    with _LOCK:
        lib = library.lib
        if not _set_voice(lib, voice):
            raise EspeakError(f"espeak-ng has no voice {voice!r}")
        lib.espeak_SetParameter(_RATE, max(MIN_RATE, min(MAX_RATE, int(rate))), 0)
        lib.espeak_SetParameter(_PITCH, max(0, min(100, int(pitch))), 0)
        lib.espeak_SetSynthCallback(callback)
        status = lib.espeak_Synth(
            encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8 | _END_PAUSE, None, None
        )
    if status != 0 and not (cancel is not None and cancel.is_set()):
        raise EspeakError(f"espeak-ng failed to speak (error {status})")
    samples = np.frombuffer(b"".join(collector.blocks), dtype="<i2").astype(np.int16)
    return Synthesis(samples, library.sample_rate, tuple(collector.events))

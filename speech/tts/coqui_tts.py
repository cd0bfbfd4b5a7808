"""Coqui TTS models (VITS, XTTS-v2...) through the maintained ``coqui-tts`` package.

Optional: install PyTorch (a CPU build) first, then the ``coqui`` extra (docs/speech.md).
The weights come through the model manager like every other model: a catalogue entry is
either the model's files (``config.json`` + ``model.pth``, and for XTTS ``vocab.json`` and
``speakers_xtts.pth``) or one of Coqui's release zips, unpacked here once next to it.
XTTS-v2 speaks Korean but its licence (CPML) forbids commercial use.

Each sentence (the first one cut at a clause, as for the other engines) is normalised for
its language and synthesized in one call; Coqui gives no phoneme timings, so the visemes
and word timings come from the audio (:mod:`speech.audio_visemes`), as for Kokoro.

**torchaudio**: coqui-tts imports it in every model module and refuses to start without it
(and, with torch >= 2.9, without torchcodec), although VITS inference and XTTS with a
built-in speaker never load or resample audio files. No torchaudio exists for the torch
installed here (the last release is 2.11, a CUDA build; see docs/speech.md), so when it
cannot be imported a stand-in module takes its name; it fails loudly, naming what was
needed, if a model ever reaches for it (XTTS builds a torchaudio mel filterbank and so
needs the real one). A working torchaudio is always preferred.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import logging
import os
import shutil
import sys
import tempfile
import threading
import types
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from app.config.settings import Settings
from app.core.registry import RoleUnavailable
from app.core.types import SpeechChunk
from speech.normalize import language_of, normalize
from speech.sentences import split_sentences
from speech.tts.chunks import chunk_from_audio

_LOG = logging.getLogger(__name__)

# checkpoint names in Coqui's releases and training runs, most common first
CHECKPOINT_NAMES = ("model.pth", "model_file.pth", "model_file.pth.tar", "best_model.pth")
_NOT_CHECKPOINTS = frozenset({"speakers_xtts.pth", "dvae.pth", "mel_stats.pth", "speakers.pth"})
UNPACKED = "unpacked"
_MAX_UNPACKED_BYTES = 16 * 2**30  # a zip bomb, not a voice
# the imports coqui-tts insists on but never calls on the paths used here
_AUDIO_IO = ("torchaudio", "torchcodec")


class CoquiError(RuntimeError):
    """A Coqui model cannot be loaded or cannot speak; the message says what to do."""


class _Absent(types.ModuleType):
    """Stands in for an audio library that cannot be imported; any use names it."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name, f"stand-in for {name}, which could not be imported")
        # importlib.util.find_spec() (coqui's availability check) reads this
        self.__spec__ = importlib.machinery.ModuleSpec(name, None)
        self._reason = reason

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        raise CoquiError(
            f"this Coqui model needs {self.__name__}.{attr}, but {self.__name__} is not "
            f"usable here ({self._reason}): install the {self.__name__} build made for "
            "your torch version, or use a VITS model"
        )


def prepare_import() -> list[str]:
    """Make ``import TTS`` possible without a working torchaudio/torchcodec; returns the
    names that were stood in for. Call before importing anything from ``TTS``."""
    stood_in = []
    for name in _AUDIO_IO:
        if isinstance(sys.modules.get(name), _Absent):
            stood_in.append(name)
            continue
        try:
            importlib.import_module(name)
        except (ImportError, OSError) as exc:
            # a build for another torch fails half-way: drop what it left behind
            for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
                del sys.modules[key]
            sys.modules[name] = _Absent(name, f"{type(exc).__name__}: {exc}")
            stood_in.append(name)
    if stood_in:
        _LOG.info("coqui-tts: %s not usable; stand-ins loaded", ", ".join(stood_in))
    return stood_in


def unpack(folder: Path) -> Path:
    """The folder holding the model's ``config.json``: ``folder`` itself, or the files of
    the one release zip in it, unpacked once (flattened, as Coqui's own loader does)."""
    if (folder / "config.json").is_file():
        return folder
    target = folder / UNPACKED
    if (target / "config.json").is_file():
        return target
    archives = sorted(folder.glob("*.zip"))
    if len(archives) != 1:
        raise CoquiError(f"{folder} holds no config.json and no single model zip")
    with zipfile.ZipFile(archives[0]) as archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if sum(m.file_size for m in members) > _MAX_UNPACKED_BYTES:
            raise CoquiError(f"{archives[0].name} unpacks to more than 16 GB; refused")
        scratch = Path(tempfile.mkdtemp(prefix=".unpack-", dir=folder))
        try:
            for member in members:
                name = PurePosixPath(member.filename).name  # flattening also stops ../
                if not name or name.startswith(".") or "__MACOSX" in member.filename:
                    continue
                with archive.open(member) as source, (scratch / name).open("wb") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
            if not (scratch / "config.json").is_file():
                raise CoquiError(f"{archives[0].name} holds no config.json")
            shutil.rmtree(target, ignore_errors=True)  # a half-unpacked earlier attempt
            os.replace(scratch, target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return target


def checkpoint_in(folder: Path) -> Path:
    """The model weights in an unpacked model folder."""
    for name in CHECKPOINT_NAMES:
        if (folder / name).is_file():
            return folder / name
    found = [p for p in folder.glob("*.pth") if p.name not in _NOT_CHECKPOINTS]
    if len(found) != 1:
        raise CoquiError(f"no model checkpoint ({', '.join(CHECKPOINT_NAMES)}) in {folder}")
    return found[0]


class CoquiSynthesizer:
    """The ``Synthesizer`` role backed by a Coqui model; one sentence at a time."""

    def __init__(self, folder: Path, *, speaker: str = "", speed: float = 1.0) -> None:
        prepare_import()
        import torch
        from TTS.api import TTS

        # the app runs ASR, VAD and rendering beside speech: half the cores (process-wide)
        torch.set_num_threads(max(1, (os.cpu_count() or 2) // 2))
        folder = unpack(folder)
        config = folder / "config.json"
        checkpoint = checkpoint_in(folder)
        try:
            self._tts: Any = TTS(
                model_path=str(checkpoint), config_path=str(config), progress_bar=False
            )
        except CoquiError:
            raise
        except Exception as exc:
            raise CoquiError(
                f"coqui-tts could not load {folder}: {type(exc).__name__}: {exc}"
            ) from exc
        self._model: Any = self._tts.synthesizer.tts_model
        self.sample_rate: int = int(self._tts.synthesizer.output_sample_rate)
        self.multilingual: bool = bool(self._tts.is_multi_lingual)
        self.languages: tuple[str, ...] = tuple(
            self._tts.languages or (_model_language(self._tts.config),)
        )
        speakers: list[str] = list(self._tts.speakers or [])
        if speaker and speaker not in speakers:
            known = ", ".join(speakers[:10]) or "none (a single-speaker model)"
            raise CoquiError(f"the Coqui model has no speaker {speaker!r}; it has: {known}")
        self.speaker: str | None = speaker or (speakers[0] if speakers else None)
        self.name = f"coqui-{folder.parent.name if folder.name == UNPACKED else folder.name}"
        self.speed = 1.0
        self.set_speed(speed)
        self._lock = threading.Lock()

    def set_speed(self, factor: float) -> None:
        """Speaking rate: < 1 slower (0.8 suits elderly listeners), > 1 faster."""
        self.speed = max(0.5, min(2.0, factor))
        if hasattr(self._model, "length_scale"):  # VITS and its kin: durations times this
            self._model.length_scale = 1.0 / self.speed

    def warm_up(self) -> None:
        for _ in self.synthesize("Hello.", self.languages[0]):
            pass

    def synthesize(self, text: str, language: str | None = None) -> Iterator[SpeechChunk]:
        """Blocking generator: one chunk per sentence (the first may be a clause)."""
        default = (language or self.languages[0]).split("-")[0]
        for sentence in split_sentences(text, first_clause=True):
            lang = language_of(sentence, default)
            if lang not in self.languages:
                _LOG.warning("this Coqui model cannot speak %s; skipped: %s", lang, sentence[:40])
                continue
            spoken = normalize(sentence, lang)
            if not any(c.isalnum() for c in spoken):
                continue
            samples = self._speak(spoken, lang)
            if len(samples):
                yield chunk_from_audio(samples, self.sample_rate, spoken, sentence)

    def _speak(self, spoken: str, lang: str) -> np.ndarray:
        extra: dict[str, Any] = {}
        if self.multilingual:
            extra["language"] = lang
        if not hasattr(self._model, "length_scale"):
            extra["speed"] = self.speed  # XTTS takes the rate per call
        with self._lock:
            wav = self._tts.tts(spoken, speaker=self.speaker, split_sentences=False, **extra)
        samples = np.asarray(wav, dtype=np.float32).reshape(-1)
        # coqui appends a fixed silence after every call (its sentence gap): ours is the sink's
        pad = int(getattr(sys.modules.get("TTS.utils.synthesizer"), "PAD_SILENCE_SAMPLES", 0))
        if pad and len(samples) > pad and not samples[-pad:].any():
            samples = samples[:-pad]
        return samples


def _model_language(config: Any) -> str:
    """A single-language model's language: from its phonemizer setting, else English
    (Coqui's own assumption for character models)."""
    phonemes = str(config.get("phoneme_language") or "") if hasattr(config, "get") else ""
    return phonemes.split("-")[0].lower() or "en"


def build(settings: Settings) -> CoquiSynthesizer:
    """Registry factory for ``tts.engine: coqui``: ``tts.coqui_model`` through the model
    manager (downloaded on first use), ``tts.coqui_speaker`` for multi-speaker models."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise RoleUnavailable(
            "PyTorch is not installed: install a CPU build first (pip install torch "
            "--index-url https://download.pytorch.org/whl/cpu), then pip install -e '.[coqui]'"
        ) from None
    if importlib.util.find_spec("TTS") is None:
        raise RoleUnavailable("coqui-tts is not installed: pip install -e '.[coqui]'")
    from app.models.manager import ModelManager

    model_id = settings.tts.coqui_model
    try:
        folder = ModelManager(settings).resolve(model_id)
    except Exception as exc:
        raise RoleUnavailable(
            f"the Coqui model {model_id!r} is not available ({exc}); "
            f"run `dhuman models pull {model_id}`"
        ) from None
    try:
        synthesizer = CoquiSynthesizer(
            folder, speaker=settings.tts.coqui_speaker, speed=settings.tts.speed
        )
        synthesizer.warm_up()
    except CoquiError as exc:
        raise RoleUnavailable(str(exc)) from None
    return synthesizer

"""Coqui TTS end to end with the real coqui-tts library: a tiny VITS model is built with
coqui's own classes (random weights: it speaks noise, since nothing trained can be had
offline), zipped as Coqui's releases are, served by a local HTTP server, downloaded and
verified by the model manager, unpacked, loaded by coqui-tts and made to speak."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest

if importlib.util.find_spec("TTS") is None or importlib.util.find_spec("torch") is None:
    pytest.skip(
        "coqui-tts (and PyTorch) not installed: bash scripts/install.sh with the coqui extra",
        allow_module_level=True,
    )

from app.config.settings import Settings
from app.core.registry import RoleUnavailable, build_role
from app.models import Catalog
from app.models import manager as manager_module
from app.models.manager import ModelManager
from speech.tts.coqui_tts import CoquiError, CoquiSynthesizer
from tests.support.coqui_models import (
    FRAMES_PER_TOKEN,
    HOP,
    SAMPLE_RATE,
    build_tiny_vits,
    expected_samples,
    zipped,
)
from tests.support.http_file_server import FileServer

pytestmark = pytest.mark.slow
MODEL_ID = "coqui-tiny-vits"
ZIP_NAME = "tts_models--en--tiny--vits.zip"


@pytest.fixture(scope="module")
def release_zip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    files = build_tiny_vits(tmp_path_factory.mktemp("tiny-vits"))
    return zipped(files, "tts_models--en--tiny--vits")


def _catalog(url: str, data: bytes) -> Catalog:
    entry = {
        "description": "a tiny random VITS (tests)",
        "license": "test",
        "files": [
            {
                "name": ZIP_NAME,
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "url": url,
            }
        ],
    }
    return Catalog.from_mapping({"version": 1, "models": {MODEL_ID: entry}})


def _settings(tmp_path: Path) -> Settings:
    settings = Settings()
    settings.models.cache_dir = str(tmp_path / "cache")
    settings.tts.engine = "coqui"
    settings.tts.coqui_model = MODEL_ID
    return settings


def test_downloaded_release_zip_loads_and_speaks(release_zip: bytes, tmp_path: Path) -> None:
    with FileServer() as server:
        url = server.add(ZIP_NAME, release_zip)
        manager = ModelManager(_settings(tmp_path), catalog=_catalog(url, release_zip))
        seen: list[tuple[int, int | None]] = []
        folder = manager.resolve(MODEL_ID, progress=lambda done, total: seen.append((done, total)))
        assert server.requests_for(ZIP_NAME)[-1].bytes_sent == len(release_zip)
    assert seen and seen[-1] == (len(release_zip), len(release_zip))
    assert (folder / ZIP_NAME).read_bytes() == release_zip

    synth = CoquiSynthesizer(folder)
    assert (folder / "unpacked" / "model_file.pth").is_file()  # unpacked once, beside it
    assert synth.sample_rate == SAMPLE_RATE
    assert synth.languages == ("en",)
    chunks = list(synth.synthesize("Hello, I am your guide and I can help you find rooms."))

    # the first clause alone, then the rest: as every engine does
    assert [c.text for c in chunks] == ["Hello, I am your guide", "and I can help you find rooms."]
    for chunk, spoken in zip(
        chunks, ["hello, i am your guide", "and i can help you find rooms."], strict=True
    ):
        # the model's own length for this text: every character got its frames
        assert len(chunk.samples) == expected_samples(spoken)
        assert chunk.seconds == pytest.approx(len(spoken) * FRAMES_PER_TOKEN * HOP / SAMPLE_RATE)
        # real computed audio (noise from random weights), not silence or a constant
        assert chunk.samples.dtype == np.float32
        assert np.all(np.isfinite(chunk.samples))
        assert float(np.std(chunk.samples)) > 1e-4
        assert sum(v.duration for v in chunk.visemes) == pytest.approx(chunk.seconds, abs=0.02)
        assert [w.word.lower() for w in chunk.words] == spoken.split()


def test_speed_and_language(release_zip: bytes, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / ZIP_NAME).write_bytes(release_zip)
    synth = CoquiSynthesizer(folder, speed=0.5)
    (slow,) = synth.synthesize("Good morning.")
    synth.set_speed(1.0)
    (normal,) = synth.synthesize("Good morning.")
    assert len(slow.samples) == 2 * len(normal.samples) == 2 * expected_samples("good morning.")
    # an English model skips a Korean sentence instead of spelling noise for it
    assert [c.text for c in synth.synthesize("안녕하세요. Thank you.")] == ["Thank you."]
    with pytest.raises(CoquiError, match="no speaker 'Ana Florence'"):
        CoquiSynthesizer(folder, speaker="Ana Florence")


def test_registry_downloads_through_the_catalogue(
    release_zip: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    with FileServer() as server:
        catalog = _catalog(server.add(ZIP_NAME, release_zip), release_zip)
        monkeypatch.setattr(manager_module, "load_catalog", lambda *a, **k: catalog)
        synth: Any = build_role("tts", settings)
    assert isinstance(synth, CoquiSynthesizer)
    (chunk,) = synth.synthesize("Welcome.")
    assert len(chunk.samples) == expected_samples("welcome.")


def test_damaged_download_is_refused(
    release_zip: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    damaged = bytearray(release_zip)
    damaged[len(damaged) // 2] ^= 0xFF
    with FileServer() as server:
        url = server.add(ZIP_NAME, bytes(damaged))
        catalog = _catalog(url, release_zip)  # pinned to the good bytes
        monkeypatch.setattr(manager_module, "load_catalog", lambda *a, **k: catalog)
        with pytest.raises(RoleUnavailable, match=f"dhuman models pull {MODEL_ID}"):
            build_role("tts", _settings(tmp_path))
    assert not (tmp_path / "cache" / "models" / MODEL_ID / "unpacked").exists()

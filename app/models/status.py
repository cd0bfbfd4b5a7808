"""Where a model is and whether it can be trusted: what ``list``, ``status`` and ``verify``
report."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class ModelState(StrEnum):
    CACHED = "cached"  # every file verified in the cache folder
    CARRIER = "carrier"  # usable from installed carrier packages (joined on first use if split)
    PARTIAL = "partial"  # an interrupted download is kept: pull resumes it
    MISSING = "missing"  # not on this machine
    CORRUPT = "corrupt"  # a file failed its checksum and was refused


class FileState(StrEnum):
    OK = "ok"  # matches its pinned sha256
    UNPINNED = "unpinned"  # no sha256 in the catalog yet: size checked, digest recorded
    PARTIAL = "partial"
    MISSING = "missing"
    CORRUPT = "corrupt"


@dataclass(frozen=True)
class FileStatus:
    name: str
    state: FileState
    path: Path | None = None
    source: str | None = None  # "cache" or "carrier"
    size: int | None = None  # bytes on disk (of the part file when PARTIAL)
    expected_size: int | None = None
    sha256: str | None = None  # what was measured (or recorded), when known
    detail: str = ""

    @property
    def usable(self) -> bool:
        return self.state in (FileState.OK, FileState.UNPINNED)


@dataclass(frozen=True)
class ModelStatus:
    model_id: str
    description: str
    state: ModelState
    files: tuple[FileStatus, ...]
    path: Path | None = None  # the folder resolve() returns now; None until materialised
    total_bytes: int | None = None  # expected size of all files, when the catalog knows it
    present_bytes: int = 0
    downloadable: bool = False
    carrier_install: str | None = None  # the pip command that provides the carrier
    detail: str = ""

    @property
    def available(self) -> bool:
        return self.state in (ModelState.CACHED, ModelState.CARRIER)

    @property
    def unpinned(self) -> bool:
        return any(f.state is FileState.UNPINNED for f in self.files)

    @property
    def problems(self) -> list[FileStatus]:
        return [f for f in self.files if f.state is FileState.CORRUPT]

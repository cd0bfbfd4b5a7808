"""Model manager: model id -> verified local files (cache -> offline carriers -> hub)."""

from app.models.catalog import Catalog, ModelFile, ModelSpec, load_catalog
from app.models.download import DownloadOptions, Progress
from app.models.errors import (
    ChecksumMismatch,
    DownloadCancelled,
    DownloadFailed,
    ModelError,
    ModelNotAvailable,
    UnknownModel,
)
from app.models.manager import ModelManager
from app.models.status import FileState, FileStatus, ModelState, ModelStatus

__all__ = [
    "Catalog",
    "ChecksumMismatch",
    "DownloadCancelled",
    "DownloadFailed",
    "DownloadOptions",
    "FileState",
    "FileStatus",
    "ModelError",
    "ModelFile",
    "ModelManager",
    "ModelNotAvailable",
    "ModelSpec",
    "ModelState",
    "ModelStatus",
    "Progress",
    "UnknownModel",
    "load_catalog",
]

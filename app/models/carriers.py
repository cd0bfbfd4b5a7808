"""Find files inside installed data-carrier packages without importing them.

Carrier packages are third-party code we do not trust to run: only their data is used.
``importlib.util.find_spec`` on a *top-level* name consults the path finders and executes
nothing (a dotted name would import the parent, so only the first path component is used);
``importlib.metadata`` is the fallback for distributions whose data is not in a package.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path, PurePosixPath

from app.models.catalog import Carrier, CarrierFile


def package_dirs(top_level: str) -> list[Path]:
    """The directories of an installed top-level package (several for namespace packages)."""
    if not top_level.isidentifier():
        return []
    try:
        spec = importlib.util.find_spec(top_level)
    except (ImportError, ValueError):
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    return [Path(location) for location in spec.submodule_search_locations]


def _from_metadata(relative: str, distributions: list[str]) -> Path | None:
    wanted = PurePosixPath(relative)
    for name in distributions:
        try:
            files = importlib.metadata.files(name)
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        for entry in files or []:
            if PurePosixPath(str(entry)) == wanted:
                path = Path(str(dist.locate_file(entry)))
                if path.is_file():
                    return path
    return None


def locate(relative: str, distributions: list[str] | None = None) -> Path | None:
    """``package/dir/file`` -> the installed file, or None when the carrier is not installed."""
    top, *rest = PurePosixPath(relative).parts
    for directory in package_dirs(top):
        candidate = directory.joinpath(*rest)
        if candidate.is_file():
            return candidate
    return _from_metadata(relative, distributions or [])


def locate_sources(carrier: Carrier, source: CarrierFile) -> list[Path] | None:
    """The installed file (or its parts, in join order); None if any piece is missing."""
    dists = carrier.distributions
    relatives = [source.path] if source.path is not None else [p.path for p in source.parts or ()]
    found = [locate(relative, dists) for relative in relatives]
    if any(path is None for path in found):
        return None
    return [path for path in found if path is not None]


def in_place_folder(names: list[str], sources: list[Path]) -> Path | None:
    """The carrier folder that already holds every model file under its catalog name, so it
    can be used without copying; None when names or folders differ."""
    folders = set()
    for name, source in zip(names, sources, strict=True):
        name_parts = PurePosixPath(name).parts
        if source.parts[-len(name_parts) :] != name_parts:
            return None
        folders.add(Path(*source.parts[: -len(name_parts)]))
    return folders.pop() if len(folders) == 1 else None

"""Is this copy of a model file the right one? For cache files and for carrier files.

``full=False`` trusts a digest recorded for the same size and mtime (cheap, used on every
start); ``full=True`` hashes again (``dhuman models verify``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from app.models.carriers import locate_sources
from app.models.catalog import ModelFile, ModelSpec
from app.models.checksums import (
    Fingerprint,
    VerificationRecords,
    sha256_file,
    sha256_of_parts,
)
from app.models.download import part_path
from app.models.status import FileState, FileStatus


def accepted_digests(spec: ModelSpec, model_file: ModelFile) -> set[str]:
    """The hub's pin plus a carrier's own pin where its copy differs from the hub's."""
    digests = {model_file.sha256} if model_file.sha256 else set()
    if spec.carrier is not None:
        carrier_sha = spec.carrier.files[model_file.name].sha256
        if carrier_sha:
            digests.add(carrier_sha)
    return digests


def _digest(path: Path, records: VerificationRecords, full: bool) -> str:
    recorded = None if full else records.digest(path)
    digest = recorded if recorded is not None else sha256_file(path)
    return digest


def check_cache_file(
    spec: ModelSpec, model_file: ModelFile, folder: Path, records: VerificationRecords, full: bool
) -> FileStatus:
    path = folder / model_file.name
    blank = FileStatus(
        model_file.name, FileState.MISSING, path=path, source="cache", expected_size=model_file.size
    )
    if not path.is_file():
        part = part_path(path)
        if part.is_file():
            have = part.stat().st_size
            return replace(
                blank,
                state=FileState.PARTIAL,
                size=have,
                detail=f"{have:,} bytes downloaded; pull resumes",
            )
        return blank
    size = path.stat().st_size
    found = replace(blank, size=size)
    carrier_pin = spec.carrier is not None and spec.carrier.files[model_file.name].sha256
    if model_file.size is not None and size != model_file.size and not carrier_pin:
        return replace(
            found, state=FileState.CORRUPT, detail=f"{size:,} bytes, expected {model_file.size:,}"
        )
    digest = _digest(path, records, full)
    found = replace(found, sha256=digest)
    if digest in accepted_digests(spec, model_file):
        found = replace(found, state=FileState.OK)
    elif model_file.sha256 is None:
        # trust on first use: a digest that changed while size and mtime stayed is bit rot
        before = records.recorded_digest(path)
        unchanged = records.recorded_fingerprint(path) == Fingerprint.of(path)
        if before is not None and unchanged and before != digest:
            return replace(
                found, state=FileState.CORRUPT, detail="changed on disk since it was downloaded"
            )
        found = replace(
            found, state=FileState.UNPINNED, detail="no pinned sha256 in the catalog; size checked"
        )
    else:
        return replace(
            found, state=FileState.CORRUPT, detail="sha256 does not match the pinned one"
        )
    if records.digest(path) != digest:
        records.remember(path, digest)
    return found


def check_carrier_file(
    spec: ModelSpec, model_file: ModelFile, records: VerificationRecords, full: bool
) -> tuple[FileStatus, list[Path] | None]:
    """The carrier copy's status and its source paths (several when split)."""
    assert spec.carrier is not None
    carrier = spec.carrier
    source = carrier.files[model_file.name]
    expected = source.sha256 or model_file.sha256
    blank = FileStatus(
        model_file.name, FileState.MISSING, source="carrier", expected_size=model_file.size
    )
    sources = locate_sources(carrier, source)
    if sources is None:
        return replace(blank, detail=f"not installed ({carrier.pip_command})"), None
    found = replace(blank, path=sources[0], size=sum(p.stat().st_size for p in sources))

    def corrupt(digest: str, what: str) -> tuple[FileStatus, list[Path]]:
        detail = f"damaged {what}; reinstall it: {carrier.reinstall_command}"
        return replace(found, state=FileState.CORRUPT, sha256=digest, detail=detail), sources

    if source.path is not None:
        digest = _digest(sources[0], records, full)
        if digest != expected:
            return corrupt(digest, "carrier file")
        if records.digest(sources[0]) != digest:
            records.remember(sources[0], digest)
        return replace(found, state=FileState.OK, sha256=digest), sources

    parts = source.parts or ()
    whole: str | None = None
    if full:
        each, whole = sha256_of_parts(sources)
    elif all(part.sha256 for part in parts):
        each = [_digest(path, records, full) for path in sources]
    else:
        # unpinned parts: only the joined digest can tell, and joining checks it
        return replace(found, state=FileState.OK, detail="verified when joined"), sources
    for part_file, part, digest in zip(sources, parts, each, strict=True):
        if part.sha256 and digest != part.sha256:
            return corrupt(digest, f"part {part.path}")
        if records.digest(part_file) != digest:
            records.remember(part_file, digest)
    if whole is not None and whole != expected:
        return corrupt(whole, "carrier parts (their join)")
    detail = f"joined from {len(parts)} parts on first use"
    return replace(found, state=FileState.OK, sha256=whole, detail=detail), sources

"""sha256 of files, and a small sidecar that remembers which files were already hashed.

Hashing a 150 MB model on every start would cost about half a second each time, so after a
full hash we record ``size``, ``mtime_ns`` and the digest; while size and mtime are unchanged
the recorded digest is trusted. ``verify`` ignores the record and hashes again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20
RECORD_NAME = ".verified.json"


def sha256_of(paths: Iterable[Path]) -> str:
    """Digest of the files' bytes one after the other (one path: that file's digest)."""
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    return sha256_of([path])


def sha256_of_parts(paths: list[Path]) -> tuple[list[str], str]:
    """Each part's digest and the digest of their concatenation, reading every byte once."""
    whole = hashlib.sha256()
    each = []
    for path in paths:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                whole.update(chunk)
        each.append(digest.hexdigest())
    return each, whole.hexdigest()


@dataclass(frozen=True)
class Fingerprint:
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> Fingerprint:
        stat = path.stat()
        return cls(stat.st_size, stat.st_mtime_ns)


class VerificationRecords:
    """``{absolute path: size, mtime_ns, sha256}`` for one model, kept in its cache folder.

    A record that cannot be written (read-only cache) only costs a re-hash next time.
    """

    def __init__(self, file: Path):
        self.file = file
        self._entries: dict[str, dict[str, object]] = self._read()

    def _read(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        entries = data.get("files") if isinstance(data, dict) else None
        return {k: v for k, v in entries.items() if isinstance(v, dict)} if entries else {}

    def digest(self, path: Path) -> str | None:
        """The recorded digest if the file still has the recorded size and mtime."""
        entry = self._entries.get(str(path))
        if entry is None:
            return None
        try:
            now = Fingerprint.of(path)
        except OSError:
            return None
        if entry.get("size") != now.size or entry.get("mtime_ns") != now.mtime_ns:
            return None
        sha = entry.get("sha256")
        return sha if isinstance(sha, str) else None

    def recorded_digest(self, path: Path) -> str | None:
        """The digest recorded for ``path`` whatever its fingerprint now (bit-rot detection)."""
        entry = self._entries.get(str(path))
        sha = entry.get("sha256") if entry else None
        return sha if isinstance(sha, str) else None

    def recorded_fingerprint(self, path: Path) -> Fingerprint | None:
        entry = self._entries.get(str(path))
        if entry is None:
            return None
        size, mtime = entry.get("size"), entry.get("mtime_ns")
        return (
            Fingerprint(size, mtime) if isinstance(size, int) and isinstance(mtime, int) else None
        )

    def remember(self, path: Path, sha256: str) -> None:
        try:
            now = Fingerprint.of(path)
        except OSError:
            return
        self._entries[str(path)] = {"size": now.size, "mtime_ns": now.mtime_ns, "sha256": sha256}
        self._save()

    def forget(self, path: Path) -> None:
        if self._entries.pop(str(path), None) is not None:
            self._save()

    def clear(self) -> None:
        self._entries = {}
        self._save()

    def _save(self) -> None:
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.file.parent, prefix=".verified-", suffix=".tmp")
        except OSError:
            return
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"version": 1, "files": self._entries}, handle, indent=1, sort_keys=True)
            os.replace(tmp, self.file)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

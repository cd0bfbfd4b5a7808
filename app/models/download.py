"""Resumable, verified, cancellable HTTP download with the standard library only.

Bytes go to ``<dest>.part``; a later call sends ``Range: bytes=<have>-`` and appends. A
server that ignores Range (answers 200) makes us start over. The sha256 is computed while
streaming (the kept part is hashed once before resuming) and checked at the end: a mismatch
deletes the part, because resuming from wrong bytes could never succeed. Only a verified
file is renamed into place, so ``dest`` is either absent or complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.models.errors import ChecksumMismatch, DownloadCancelled, DownloadFailed

Progress = Callable[[int, int | None], None]
"""``progress(done_bytes, total_bytes)``; total is None when the server does not say."""

USER_AGENT = "dhuman-model-manager/1"
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
# statuses worth another try; other 4xx mean the URL or the request is wrong
_RETRY_STATUSES = {408, 425, 429, 500, 502, 503, 504}


class _Restart(Exception):
    """The server ignored or mangled our Range: discard the part and start from byte 0."""


class _Transient(Exception):
    """The connection broke; the part is intact and a retry resumes from it."""


@dataclass(frozen=True)
class DownloadOptions:
    timeout_s: float = 30.0
    retries: int = 2  # for broken connections and 5xx; the part is kept between tries
    backoff_s: float = 0.5
    chunk_size: int = 1 << 16


def part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


class Downloader:
    """Fetches one URL to one file; stateless apart from its options, safe to share."""

    def __init__(self, options: DownloadOptions | None = None):
        self.options = options or DownloadOptions()

    def fetch(
        self,
        url: str,
        dest: Path,
        *,
        sha256: str | None,
        size: int | None = None,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
        label: str | None = None,
        hint: str = "",
    ) -> str:
        """Download ``url`` to ``dest`` and return its sha256.

        ``sha256`` None means unpinned: only ``size`` (if known) is checked. ``label`` names
        the file in messages, ``hint`` tells the user how to try again.
        """
        label = label or dest.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = part_path(dest)
        attempt = 0
        restarted = False
        while True:
            try:
                digest = self._attempt(url, part, size, progress, cancel, label, hint)
                break
            except _Restart:
                part.unlink(missing_ok=True)
                if restarted:
                    raise DownloadFailed(
                        f"downloading {label} failed: {url} answers inconsistently. {hint}"
                    ) from None
                restarted = True
            except _Transient as exc:
                attempt += 1
                if attempt > self.options.retries:
                    raise DownloadFailed(
                        f"downloading {label} failed: {exc}. What arrived is kept. {hint}"
                    ) from None
                self._sleep(attempt, cancel, label, part, size, hint)
        self._check(part, digest, sha256, size, label, hint)
        os.replace(part, dest)
        return digest

    def _sleep(
        self,
        attempt: int,
        cancel: threading.Event | None,
        label: str,
        part: Path,
        size: int | None,
        hint: str,
    ) -> None:
        delay = self.options.backoff_s * (2 ** (attempt - 1))
        if cancel is not None:
            if cancel.wait(delay):
                raise self._cancelled(label, part, size, hint)
        else:
            time.sleep(delay)

    def _cancelled(self, label: str, part: Path, size: int | None, hint: str) -> DownloadCancelled:
        have = part.stat().st_size if part.exists() else 0
        of = f" of {size:,}" if size else ""
        return DownloadCancelled(f"download of {label} cancelled at {have:,}{of} bytes. {hint}")

    def _attempt(
        self,
        url: str,
        part: Path,
        size: int | None,
        progress: Progress | None,
        cancel: threading.Event | None,
        label: str,
        hint: str,
    ) -> str:
        have = part.stat().st_size if part.exists() else 0
        if size is not None and have > size:
            raise _Restart
        digest = hashlib.sha256()
        if have:
            with part.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
        if size is not None and have == size:
            # complete from an earlier run that stopped before the rename
            if progress:
                progress(have, size)
            return digest.hexdigest()
        if cancel is not None and cancel.is_set():
            raise self._cancelled(label, part, size, hint)

        request = urllib.request.Request(
            url,
            headers={
                "User-Agent": USER_AGENT,
                # a transparently compressed body would not match the pinned digest
                "Accept-Encoding": "identity",
            },
        )
        if have:
            request.add_header("Range", f"bytes={have}-")
        try:
            response = urllib.request.urlopen(request, timeout=self.options.timeout_s)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 416 and have:
                if size is None:
                    # we asked past the end: the part is probably whole; the digest decides
                    return digest.hexdigest()
                raise _Restart from None
            if exc.code in _RETRY_STATUSES:
                raise _Transient(f"{url} answered HTTP {exc.code}") from None
            raise DownloadFailed(
                f"downloading {label} failed: {url} answered HTTP {exc.code} {exc.reason}. {hint}"
            ) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            raise _Transient(f"cannot reach {url} ({reason})") from None

        with response:
            total = self._expected_total(response, have, size)
            if response.status == 200 and have:
                # Range ignored: the body is the whole file
                have = 0
                digest = hashlib.sha256()
                part.unlink(missing_ok=True)
            if size is not None and total is not None and total != size:
                raise DownloadFailed(
                    f"downloading {label} failed: the server offers {total:,} bytes, "
                    f"the catalog expects {size:,}. {hint}"
                )
            total = total if total is not None else size
            done = have
            if progress:
                progress(done, total)
            try:
                with part.open("ab") as out:
                    while True:
                        if cancel is not None and cancel.is_set():
                            out.flush()
                            raise self._cancelled(label, part, total, hint)
                        chunk = self._read(response, done)
                        if not chunk:
                            break
                        out.write(chunk)
                        digest.update(chunk)
                        done += len(chunk)
                        if progress:
                            progress(done, total)
                    out.flush()
                    os.fsync(out.fileno())
            except OSError as exc:
                raise DownloadFailed(f"cannot write {part}: {exc.strerror or exc}") from None
        if total is not None and done < total:
            raise _Transient(f"the connection closed after {done:,} of {total:,} bytes")
        return digest.hexdigest()

    def _read(self, response: http.client.HTTPResponse, done: int) -> bytes:
        try:
            return response.read(self.options.chunk_size)
        except (OSError, http.client.HTTPException) as exc:
            raise _Transient(f"the connection broke after {done:,} bytes ({exc!r})") from None

    @staticmethod
    def _expected_total(
        response: http.client.HTTPResponse, have: int, size: int | None
    ) -> int | None:
        length = response.headers.get("Content-Length")
        if response.status == 206:
            match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
            if not match or int(match.group(1)) != have:
                raise _Restart
            return int(match.group(3)) if match.group(3) != "*" else size
        return int(length) if length and length.isdigit() else None

    @staticmethod
    def _check(
        part: Path, digest: str, sha256: str | None, size: int | None, label: str, hint: str
    ) -> None:
        actual_size = part.stat().st_size
        if sha256 is not None and digest != sha256:
            with contextlib.suppress(OSError):
                part.unlink()
            raise ChecksumMismatch(
                f"the download of {label}", sha256, digest, f"It was removed. {hint}"
            )
        if size is not None and actual_size != size:
            with contextlib.suppress(OSError):
                part.unlink()
            raise DownloadFailed(
                f"the download of {label} was refused: {actual_size:,} bytes, expected {size:,}. "
                f"It was removed. {hint}"
            )

"""What can go wrong when a model is looked up; every message says what to do next."""

from __future__ import annotations


class ModelError(Exception):
    """Base of every model-manager error; ``str()`` is meant to be shown to the user."""


class UnknownModel(ModelError, KeyError):
    """The id is not in the catalog."""

    def __init__(self, model_id: str, known: list[str]):
        self.model_id = model_id
        self.known = known
        super().__init__(f"unknown model {model_id!r}; known models: {', '.join(known)}")

    # KeyError's own __str__ would wrap the message in quotes
    def __str__(self) -> str:
        return str(self.args[0])


class ModelNotAvailable(ModelError):
    """No verified copy on this machine and no way to fetch one (offline, or downloads off)."""


class ChecksumMismatch(ModelError):
    """A file's bytes are not the pinned ones: it was refused (and removed if it was ours)."""

    def __init__(self, what: str, expected: str, actual: str, remedy: str):
        self.what = what
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"{what} was refused: its sha256 is {actual}, expected {expected}. {remedy}".strip()
        )


class DownloadFailed(ModelError):
    """The hub could not be reached or broke off; what arrived is kept for a resume."""


class DownloadCancelled(ModelError):
    """The caller cancelled; the partial file is kept so the next pull resumes."""

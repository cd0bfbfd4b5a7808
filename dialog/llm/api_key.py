"""Where the LLM's API key comes from: the environment, then the OS keyring; never the config.

The key is looked up by :func:`resolve_api_key` (or :func:`lookup_api_key`, which also
says where it was found). Keyring entries live under the service ``"dhuman"`` with the
base URL's host as the user name (``"api.openai.com"``), or ``"llm"`` when the URL has no
host. Local servers (Ollama, vLLM, llama.cpp) need no key; the SDK still insists on a
non-empty one, so callers send :data:`PLACEHOLDER_API_KEY` when none is found.

Keyring backends fail in many ways (no backend at all, a locked or absent Secret Service,
D-Bus errors); a failing keyring is treated as "no key there", never as a crash.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from app.config.settings import LlmSettings

log = logging.getLogger(__name__)

KEYRING_SERVICE = "dhuman"
PLACEHOLDER_API_KEY = "not-needed"


class ApiKeyStoreError(RuntimeError):
    """The OS keyring could not store or delete a key; the message says what to do instead."""


def keyring_user(base_url: str) -> str:
    """The keyring user name for a base URL: its host (``api.openai.com``), else ``llm``."""
    try:
        host = urlsplit(base_url.strip()).hostname
    except ValueError:
        host = None
    return host or "llm"


def lookup_api_key(
    settings: LlmSettings, environ: Mapping[str, str] | None = None
) -> tuple[str | None, str | None]:
    """``(key, where)``: where is e.g. ``"environment variable OPENAI_API_KEY"``.

    Both are None when no key was found (fine for local servers).
    """
    env = os.environ if environ is None else environ
    name = settings.api_key_env.strip()
    if name:
        value = env.get(name, "").strip()
        if value:
            return value, f"environment variable {name}"
    user = keyring_user(settings.base_url)
    stored = _keyring_get(user)
    if stored:
        return stored, f"OS keyring (service {KEYRING_SERVICE!r}, user {user!r})"
    return None, None


def resolve_api_key(settings: LlmSettings, environ: Mapping[str, str] | None = None) -> str | None:
    """The API key from ``settings.api_key_env`` in ``environ``, else the OS keyring, else None."""
    return lookup_api_key(settings, environ)[0]


def store_api_key(base_url: str, key: str) -> str:
    """Save ``key`` in the OS keyring for ``base_url``; returns the keyring user name.

    Raises :class:`ApiKeyStoreError` with advice when no usable keyring exists.
    """
    key = key.strip()
    if not key:
        raise ApiKeyStoreError("The API key is empty; nothing was stored.")
    user = keyring_user(base_url)
    try:
        import keyring

        keyring.set_password(KEYRING_SERVICE, user, key)
    except Exception as exc:
        raise ApiKeyStoreError(_no_keyring_advice("store the key", exc)) from exc
    return user


def delete_api_key(base_url: str) -> bool:
    """Remove the stored key for ``base_url``; False when there was none."""
    user = keyring_user(base_url)
    try:
        import keyring
        from keyring.errors import PasswordDeleteError
    except Exception as exc:
        raise ApiKeyStoreError(_no_keyring_advice("delete the key", exc)) from exc
    try:
        keyring.delete_password(KEYRING_SERVICE, user)
    except PasswordDeleteError:
        return False
    except Exception as exc:
        raise ApiKeyStoreError(_no_keyring_advice("delete the key", exc)) from exc
    return True


def _keyring_get(user: str) -> str | None:
    try:
        import keyring

        value = keyring.get_password(KEYRING_SERVICE, user)
    except Exception as exc:  # any backend failure means "no key there"
        log.debug("OS keyring not usable (%s: %s)", type(exc).__name__, exc)
        return None
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _no_keyring_advice(what: str, exc: Exception) -> str:
    return (
        f"Could not {what} in the OS keyring ({type(exc).__name__}: {exc}). "
        "Put the key in an environment variable instead (by default OPENAI_API_KEY; "
        "choose another with `dhuman config set llm.api_key_env NAME`)."
    )

"""Plugin configuration: resolving ``$env`` / ``$file`` references, and redaction.

``App(plugin_config={"auth_mw": {"tokens": {"alice": {"$env": "ALICE_TOKEN"}}}})``
keeps secrets out of source code: a mapping with the single key ``"$env"``
stands for the value of that environment variable, and one with the single key
``"$file"`` for the text of that file, minus one trailing newline (what
``echo secret > file`` and most secret mounts leave behind). References are
resolved each time a plugin asks for its section, so nothing secret is cached
by lanner. Wherever config is shown (``lanner plugins --app``), :func:`redact`
hides referenced values and values under secret-looking keys.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

__all__ = ["REDACTED", "redact", "resolve_section"]

REDACTED: Final = "***"
"""What a hidden value is shown as."""

_ENV: Final = "$env"
_FILE: Final = "$file"

# Substrings of a key (lower-cased) whose value is treated as secret.
_SECRET_WORDS: Final = ("token", "secret", "password", "passwd", "key", "credential", "private")


def resolve_section(raw_config: Mapping[str, Any], name: str) -> dict[str, Any]:
    """Return plugin ``name``'s config section with every reference resolved.

    Args:
        raw_config: The ``plugin_config`` mapping given to ``App()``.
        name: The plugin name (its entry-point name, or its in-process name).

    Returns:
        A new dict (the caller may change it freely); ``{}`` when the config has
        no section for ``name``.

    Raises:
        TypeError: The section is not a mapping.
        ValueError: A reference is malformed, names an environment variable that
            is not set, or a file that cannot be read. The message names the
            plugin section and the key path.
    """
    section = raw_config.get(name)
    if section is None:
        return {}
    if not isinstance(section, Mapping):
        raise TypeError(
            f"plugin_config[{name!r}] must be a mapping of option names to values, "
            f"found {type(section).__name__} {section!r}. Write plugin_config="
            f'{{"{name}": {{"option": value}}}}.'
        )
    return {str(k): _resolve(v, f"plugin_config[{name!r}][{k!r}]") for k, v in section.items()}


def redact(section: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of a raw (unresolved) section that is safe to show.

    Values given as ``{"$env": ...}`` or ``{"$file": ...}`` and every value under
    a key that looks secret (containing ``token``, ``secret``, ``password``,
    ``key``, ...) become ``"***"``; the keys of a secret mapping stay visible, so
    ``{"tokens": {"alice": "s3cret"}}`` shows as ``{"tokens": {"alice": "***"}}``.
    The section is never resolved, so showing it reads no secret.

    Args:
        section: A plugin's config section as given to ``App(plugin_config=...)``.
    """
    return {str(k): _redact(v, secret=_looks_secret(str(k))) for k, v in section.items()}


def _resolve(value: Any, where: str) -> Any:
    if isinstance(value, Mapping):
        ref = _reference(value, where)
        if ref is not None:
            kind, target = ref
            return _read_env(target, where) if kind == _ENV else _read_file(target, where)
        return {k: _resolve(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_resolve(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def _reference(value: Mapping[Any, Any], where: str) -> tuple[str, str] | None:
    """Return ``(kind, target)`` if ``value`` is a ``$env``/``$file`` reference."""
    dollar_keys = [k for k in value if isinstance(k, str) and k.startswith("$")]
    if not dollar_keys:
        return None
    if len(value) != 1 or dollar_keys[0] not in (_ENV, _FILE):
        raise ValueError(
            f"{where} looks like a reference but is {dict(value)!r}; expected exactly "
            '{"$env": "VARIABLE"} or {"$file": "path/to/file"}.'
        )
    kind = dollar_keys[0]
    target = value[kind]
    if not isinstance(target, str) or not target:
        raise ValueError(
            f"{where}: {kind} takes a non-empty string, found {target!r}; write "
            f'{{"{kind}": "{"VARIABLE" if kind == _ENV else "path/to/file"}"}}.'
        )
    return kind, target


def _read_env(variable: str, where: str) -> str:
    try:
        return os.environ[variable]
    except KeyError:
        raise ValueError(
            f"{where} refers to the environment variable {variable}, which is not set. "
            f"Set {variable}, or give the value directly in plugin_config."
        ) from None


def _read_file(path: str, where: str) -> str:
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"{where} refers to the file {path!r}, which cannot be read ({exc}). "
            "Create the file (UTF-8 text), or fix the path (relative paths start "
            f"from the current directory, {os.getcwd()})."
        ) from exc
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith("\n"):
        return text[:-1]
    return text


def _looks_secret(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def _redact(value: Any, *, secret: bool) -> Any:
    if isinstance(value, Mapping):
        if _is_reference(value):
            return REDACTED
        return {
            str(k): _redact(v, secret=secret or _looks_secret(str(k))) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact(v, secret=secret) for v in value]
    if secret and value is not None:
        return REDACTED
    return value


def _is_reference(value: Mapping[Any, Any]) -> bool:
    return len(value) == 1 and next(iter(value)) in (_ENV, _FILE)

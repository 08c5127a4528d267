"""Typed readers for settings that come from the environment.

Each helper fails loudly (ImproperlyConfigured) on a value it cannot read, so a
typo in a deployment stops the process at start-up instead of silently falling
back to a default.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

# Every variable the settings read, with its meaning; docs/configuration.md lists the same
# (tests/hub/test_readme.py checks it).
DOCUMENTED: dict[str, str] = {}


def _raw(name: str, doc: str) -> str | None:
    DOCUMENTED[name] = doc
    value = os.environ.get(name)
    return value.strip() if value is not None else None


def env_str(name: str, default: str | None = None, *, doc: str = "", required: bool = False) -> str | None:
    value = _raw(name, doc)
    if value:
        return value
    if required:
        raise ImproperlyConfigured(f"{name} must be set ({doc or 'required'})")
    return default


def env_bool(name: str, default: bool, *, doc: str = "") -> bool:
    value = _raw(name, doc)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def env_int(name: str, default: int, *, doc: str = "", minimum: int | None = None) -> int:
    value = _raw(name, doc)
    if not value:
        return default
    try:
        number = int(value.replace("_", ""))
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum {minimum}")
    return number


def env_float(name: str, default: float, *, doc: str = "", minimum: float | None = None) -> float:
    value = _raw(name, doc)
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number") from None
    if number != number or (minimum is not None and number < minimum):  # NaN compares unequal to itself
        raise ImproperlyConfigured(f"{name}={value} is below the minimum {minimum} or not a number")
    return number


_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kb": 1024,
    "kib": 1024,
    "m": 1024**2,
    "mb": 1024**2,
    "mib": 1024**2,
    "g": 1024**3,
    "gb": 1024**3,
    "gib": 1024**3,
    "t": 1024**4,
    "tb": 1024**4,
    "tib": 1024**4,
}


def env_size(name: str, default: int, *, doc: str = "") -> int:
    """A byte size such as ``512MiB``, ``10G`` or ``1048576`` (binary units)."""
    value = _raw(name, doc)
    if not value:
        return default
    text = value.lower().replace(" ", "").replace("_", "")
    digits = text.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = text[len(digits) :]
    if not digits or unit not in _SIZE_UNITS:
        raise ImproperlyConfigured(f"{name}={value!r} is not a size (examples: 1048576, 512MiB, 10G)")
    try:
        return int(float(digits) * _SIZE_UNITS[unit])
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a size") from None


def env_list(name: str, default: list[str], *, doc: str = "") -> list[str]:
    value = _raw(name, doc)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]

"""Collecting config problems: every bad value is reported at once, each naming the key, the value and what is
allowed; the typed readers take each key's default, range and length cap from the schema."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from components.config.schema import KEYS_BY_NAME, PROJECT, max_chars


class ConfigError(ValueError):
    """Bad stack configuration; `problems` lists each one, ready to print."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        plural = "s" if len(problems) != 1 else ""
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid stack configuration ({len(problems)} problem{plural}):\n{lines}")


def allowed(values: Iterable[str]) -> str:
    """A list of allowed values as a message shows it."""
    return ", ".join(values)


class Collector:
    """The raw values and the problems found so far; each typed reader falls back to the key's schema default."""

    def __init__(self, raw: Mapping[str, Any]):
        self.problems: list[str] = []
        self.too_long: set[str] = set()
        for key, value in raw.items():
            if key in KEYS_BY_NAME and len(str(value)) > max_chars(key):
                self.fail(key, f"{len(str(value))} characters is too long; allowed: at most {max_chars(key)}")
                self.too_long.add(key)
        # a value that was too long counts as unset: one problem for it, not a cascade
        self.raw = {k: v for k, v in raw.items() if k not in self.too_long}

    def fail(self, key: str, message: str) -> None:
        if key not in self.too_long:
            self.problems.append(f"{PROJECT}:{key}: {message}")

    def has_problem(self, key: str) -> bool:
        return any(p.startswith(f"{PROJECT}:{key}:") for p in self.problems)

    def string(self, key: str) -> str | None:
        """The value, stripped; the default when unset (None for a key without one)."""
        value = self.raw.get(key)
        if value is None or value == "":
            default = KEYS_BY_NAME[key].default
            return default if isinstance(default, str) else None
        return str(value).strip()

    def text(self, key: str) -> str:
        """The value, stripped; the default when unset or blank (for a key that has a string default)."""
        default = KEYS_BY_NAME[key].default
        assert isinstance(default, str), f"{key} has no string default"
        return self.string(key) or default

    def boolean(self, key: str) -> bool:
        default = bool(KEYS_BY_NAME[key].default)
        value = self.raw.get(key)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "false"):
            return text == "true"
        self.fail(key, f"{value!r} is not a boolean; allowed: true, false")
        return default

    def integer(self, key: str) -> int:
        """A whole number within the key's range."""
        spec = KEYS_BY_NAME[key]
        assert spec.range is not None, f"{key} has no range"
        low, high = spec.range
        default = int(spec.default)
        value = self.raw.get(key)
        if value is None or value == "":
            return default
        try:
            number = int(str(value).strip())
        except ValueError:
            self.fail(key, f"{value!r} is not a whole number; allowed: {low} to {high}")
            return default
        if not low <= number <= high:
            self.fail(key, f"{number} is out of range; allowed: {low} to {high}")
            return default
        return number

    def array(self, key: str, strip: bool = True) -> list[str]:
        """A list of strings; strip=False keeps each item exactly as given (environment values)."""
        value = self.raw.get(key)
        if value is None or value == "":
            return list(KEYS_BY_NAME[key].default or [])
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:  # JSONDecodeError, or digits beyond Python's int-string limit
                value = [value]  # a single value given as plain text
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(key, f"{value!r} is not a list of strings")
            return []
        return [v.strip() for v in value] if strip else list(value)

"""Engine property values made plain, for the readers of a vendor's resources (the policy pack, the change model):
secrets unwrapped, lists and strings as Python has them. Vendor-neutral, no SDK."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

_SECRET_SIG = "4dabf18193072939515e22adb298388d"

#: What a reader gets for a value the engine does not know yet (a preview): never mistaken for unset.
UNKNOWN: Any = type("Unknown", (), {"__repr__": lambda self: "UNKNOWN"})()


def plain(value: Any) -> Any:
    """Unwrap a secret kept in wire format (mock inputs; the policy runtime unwraps them already)."""
    if isinstance(value, Mapping) and _SECRET_SIG in value and "value" in value:
        return value["value"]
    return value


def seq(value: Any) -> list[Any]:
    """A list property as a list (None and unknown-free proxies included); a lone string is not a list."""
    value = plain(value)
    if value is None or isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        return []
    return [plain(v) for v in value]


def text(value: Any) -> str:
    value = plain(value)
    return "" if value is None else str(value)


def as_int(value: Any) -> int | None:
    try:
        return int(float(plain(value)))
    except (TypeError, ValueError):
        return None


def input_text(props: Mapping[str, Any], name: str) -> tuple[str, str] | None:
    """(text, name) of a top-level text input that is set and not blank (where first-boot data sits on most
    vendors' servers); None otherwise."""
    data = text(props.get(name))
    return (data, name) if data.strip() else None


def text_input(name: str) -> Callable[[Mapping[str, Any]], tuple[str, str] | None]:
    """A reader of one top-level text input (where most vendors' servers hold their first-boot data)."""
    return lambda props: input_text(props, name)


def switch_on(name: str) -> Callable[[Mapping[str, Any]], bool]:
    """A reader of one top-level boolean input: whether it is exactly true (a backups switch)."""
    return lambda props: plain(props.get(name)) is True

"""Benchmark result files read and checked against the document's schema (components/benchmark/parse.py).

A file is the script's JSON document, or `pulumi stack output benchmark --json` saved to a file (the same
document). A malformed or partial one is refused with the file and the field named, never a traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components import catalog
from components.benchmark.parse import FIGURES, SCHEMA

#: Figures a result of the same schema may lack: they came after results were first saved (a missing one is null).
ADDED_LATER = frozenset({"kernel_after_create"})


class ResultError(ValueError):
    """A result file that cannot be used: its message names the file and the field."""


@dataclass(frozen=True)
class Result:
    """One run: where it ran, when, whether under emulation, and each figure's value (None: not measured)."""

    path: Path
    vendor: str
    plan: str
    region: str
    date: str
    emulated: bool
    virtualization: str
    figures: dict[str, float | None]
    web_load: str = ""  # the load generator's parameters, as people read them

    @property
    def monthly_usd(self) -> float | None:
        """The plan's list price from the catalog (None for a plan it does not list)."""
        size = catalog.vendor(self.vendor).size_by_slug(self.plan)
        return size.monthly_usd if size else None


def _field(document: Any, path: Path, *keys: str) -> Any:
    value = document
    for depth, key in enumerate(keys):
        if not isinstance(value, dict) or key not in value:
            raise ResultError(f"{path}: missing field {'.'.join(keys[:depth + 1])}")
        value = value[key]
    return value


def _text(document: Any, path: Path, *keys: str) -> str:
    value = _field(document, path, *keys)
    if not isinstance(value, str) or not value:
        raise ResultError(f"{path}: field {'.'.join(keys)} is not a non-empty string")
    return value


def parse_result(document: Any, path: Path) -> Result:
    """A checked Result from one parsed JSON document."""
    schema = _field(document, path, "schema")
    if schema != SCHEMA:
        raise ResultError(f"{path}: field schema is {schema!r}; this report reads {SCHEMA!r}")
    vendor = _text(document, path, "host", "vendor")
    if vendor not in catalog.VENDORS:
        raise ResultError(f"{path}: field host.vendor is {vendor!r}; allowed: {', '.join(catalog.VENDORS)}")
    emulated = _field(document, path, "environment", "emulated")
    if not isinstance(emulated, bool):
        raise ResultError(f"{path}: field environment.emulated is not true or false")
    figures: dict[str, float | None] = {}
    for name, (unit, _) in FIGURES.items():
        if name in ADDED_LATER and name not in _field(document, path, "figures"):
            figures[name] = None
            continue
        value = _field(document, path, "figures", name, "value")
        got_unit = _field(document, path, "figures", name, "unit")
        if got_unit != unit:
            raise ResultError(f"{path}: field figures.{name}.unit is {got_unit!r}, not {unit!r}")
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
            raise ResultError(f"{path}: field figures.{name}.value is {value!r}, not a number >= 0 or null")
        figures[name] = None if value is None else float(value)
    load = [_field(document, path, "parameters", key) for key in ("web_concurrency", "web_duration_s")]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in load):
        raise ResultError(f"{path}: field parameters.web_concurrency or web_duration_s is not a number")
    scheme = _text(document, path, "parameters", "web_scheme")
    return Result(path, vendor, _text(document, path, "host", "plan"), _text(document, path, "host", "region"),
                  _text(document, path, "date"), emulated,
                  _text(document, path, "environment", "virtualization"), figures,
                  f"{load[0]} clients, {load[1]:.0f} s, {scheme}")


def load_result(path: Path) -> Result:
    """Read and check one result file."""
    try:
        document = json.loads(path.read_text())
    except OSError as err:
        raise ResultError(f"{path}: cannot read it ({err.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ResultError(f"{path}: not a JSON document ({err})") from None
    return parse_result(document, path)


def load_results(paths: list[Path]) -> list[Result]:
    return [load_result(p) for p in paths]

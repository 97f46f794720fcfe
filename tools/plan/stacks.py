"""Stack files: found by name, and their config as the program receives it, secrets masked."""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

import yaml

from components.config import PROJECT, stack_name_of
from components.testing import mockrun
from tools.plan.values import SECRET

ROOT = Path(__file__).resolve().parents[2]
STACKS_DIR = ROOT / "stacks"
#: Config keys that hold credentials: masked even when a stack file stores them in plain text.
_CREDENTIAL_KEY = re.compile(r"(token|password|secret|accesskey|privatekey|apikey)$", re.IGNORECASE)


def find_stack(name: str, stacks_dir: Path = STACKS_DIR) -> Path:
    path = Path(name)
    if path.suffix in (".yaml", ".yml") and path.exists():
        return path
    candidate = stacks_dir / f"Pulumi.{name}.yaml"
    if candidate.exists():
        return candidate
    known = ", ".join(stack_name_of(p) for p in stack_files(stacks_dir))
    raise ValueError(f"no stack {name!r} (looked for {candidate}); stacks: {known}")


def stack_files(stacks_dir: Path = STACKS_DIR) -> list[Path]:
    return sorted(stacks_dir.glob("Pulumi.*.yaml"))


def declared_secret_keys(project_file: Path = ROOT / "Pulumi.yaml") -> set[str]:
    """Project config keys Pulumi.yaml declares `secret: true` (Pulumi insists they be set as secrets)."""
    document = yaml.safe_load(project_file.read_text()) or {}
    return {f"{PROJECT}:{key}" for key, entry in (document.get("config") or {}).items()
            if isinstance(entry, dict) and entry.get("secret")}


def config_rows(path: Path) -> list[list[str]]:
    """The stack file's config as the program receives it; secure, secret-declared and credential values masked."""
    _, config, secret_keys = mockrun.stack_file_config(path)
    masked = set(secret_keys) | declared_secret_keys()
    rows = []
    for key, text in config.items():
        if key in masked:
            shown = SECRET
        elif _CREDENTIAL_KEY.search(key.rsplit(":", 1)[-1]):
            shown = f"{SECRET} (stored in plain text: use `pulumi config set --secret {key}`)"
        else:
            shown = text
            if text.startswith("["):
                with contextlib.suppress(json.JSONDecodeError, TypeError):
                    shown = ", ".join(str(v) for v in json.loads(text))
        rows.append([key, shown])
    return rows

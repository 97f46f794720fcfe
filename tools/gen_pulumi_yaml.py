"""Regenerate Pulumi.yaml's `config:` schema from components.config.CONFIG_KEYS (tests check they agree)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from components.config import CONFIG_KEYS, PROJECT

ROOT = Path(__file__).resolve().parents[1]


def project_document() -> dict[str, Any]:
    config: dict[str, Any] = {}
    for key in CONFIG_KEYS:
        entry: dict[str, Any] = {"type": key.type, "description": key.description}
        if key.type == "array":
            entry["items"] = {"type": "string"}
        if key.secret:
            entry["secret"] = True
        if key.default is not None:
            entry["default"] = key.default
        elif not key.required:
            entry["default"] = ""  # Pulumi treats a typed key without default as required; "" means unset
        config[key.name] = entry
    return {
        "name": PROJECT,
        "description": "A hardened single VPS hosting a Python web app on DigitalOcean, Linode or AWS Lightsail",
        "runtime": {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}},
        "main": "__main__.py",
        "stackConfigDir": "stacks",
        "config": config,
    }


def render() -> str:
    head = "# Pulumi project. Regenerate the config schema with: python tools/gen_pulumi_yaml.py\n"
    return head + yaml.safe_dump(project_document(), sort_keys=False, width=110)


if __name__ == "__main__":
    (ROOT / "Pulumi.yaml").write_text(render())

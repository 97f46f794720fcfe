"""Regenerate Pulumi.yaml's `config:` schema from components.config.CONFIG_KEYS (tests check they agree).

Secret keys stay out of the schema. The Pulumi CLI applies a declared key's default as a plain value and then
refuses it for `secret: true` ("must be encrypted as it's secret"), and treats a declared key without default as
required on every stack; it leaves undeclared keys alone. So the program checks them instead: a plain value for
a secret key is a config error (components.config.parse_host_spec, secret_keys).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from components.config import CONFIG_KEYS, PROJECT
from components.vendors import VENDORS

ROOT = Path(__file__).resolve().parents[1]


def _vendor_titles() -> str:
    """The registered vendors, as a sentence names them ("A, B or C")."""
    titles = [v.title for v in VENDORS]
    return ", ".join(titles[:-1]) + " or " + titles[-1] if len(titles) > 1 else titles[0]


def project_document() -> dict[str, Any]:
    config: dict[str, Any] = {}
    for key in CONFIG_KEYS:
        if key.secret:
            continue
        entry: dict[str, Any] = {"type": key.type, "description": key.description}
        if key.type == "array":
            entry["items"] = {"type": "string"}
        if key.default is not None:
            entry["default"] = key.default
        elif not key.required:
            entry["default"] = ""  # Pulumi treats a typed key without default as required; "" means unset
        config[key.name] = entry
    return {
        "name": PROJECT,
        "description": "A hardened single VPS hosting a Python web app on " + _vendor_titles(),
        "runtime": {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}},
        "main": "__main__.py",
        "stackConfigDir": "stacks",
        "config": config,
    }


def render() -> str:
    secrets = ", ".join(k.name for k in CONFIG_KEYS if k.secret)
    head = ("# Pulumi project. Regenerate the config schema with: python tools/gen_pulumi_yaml.py\n"
            f"# Secret keys ({secrets}) are not declared here: set them with\n"
            f"#   pulumi config set --secret {PROJECT}:<key> <value>\n"
            "# and the program refuses a plain value. See the README, Configuration reference.\n")
    return head + yaml.safe_dump(project_document(), sort_keys=False, width=110)


if __name__ == "__main__":
    (ROOT / "Pulumi.yaml").write_text(render())

"""Values the mocks recorded, made readable and safe to print: secrets masked, deploy-time values named."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import rpc

from components.app import release_cache_dir
from components.config import PROJECT_DIR as ROOT  # the project root
from components.testing import mockrun

SECRET = "[secret]"
#: Inputs naming another resource by id (a server's `sshKeys` may hold key ids); a number there that no resource of
#: this run has was looked up.
_ID_KEY = re.compile(r"(Id|Ids)$|^sshKeys$")
_LONG_STRING = 200
_WIDTH = 100


def scalar_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value)
    return text if text and text.strip() == text and "\n" not in text else json.dumps(text)


def inline_text(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {inline_text(value[k])}" for k in sorted(value)) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(inline_text(v) for v in value) + "]"
    return scalar_text(value)


def field_lines(key: str, value: Any) -> list[str]:
    """`key: value` lines, YAML-like: lists of mappings (firewall rules) one item per line, sorted keys."""
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        lines = [f"{key}:"]
        for item in value:
            if not isinstance(item, dict):
                lines.append(f"  - {inline_text(item)}")
                continue
            flat = ", ".join(f"{k}: {inline_text(item[k])}" for k in sorted(item))
            if len(flat) <= _WIDTH:
                lines.append(f"  - {flat}")
            else:
                sub = [line for k in sorted(item) for line in field_lines(k, item[k])]
                lines += [f"  - {sub[0]}", *(f"    {line}" for line in sub[1:])]
        return lines
    inline = inline_text(value)
    if isinstance(value, dict) and len(key) + 2 + len(inline) > _WIDTH:
        return [f"{key}:", *(f"  {line}" for k in sorted(value) for line in field_lines(k, value[k]))]
    if isinstance(value, list) and len(key) + 2 + len(inline) > _WIDTH:
        return [f"{key}:", *(f"  - {inline_text(v)}" for v in value)]
    return [f"{key}: {inline}"]


@dataclass
class Shown:
    """Turns recorded values into printable ones: masks secrets, names deploy-time values, summarises blobs."""

    first_boot: Mapping[str, str]  # exact first-boot data -> its summary
    computed: Mapping[str, str]  # a mock's stand-in for a vendor-assigned value -> <resource.attribute>
    ids: Mapping[str, str]  # mock id -> <resource.id>
    #: Numbers the stack's own config gives under an id key (a vendor's image id): shown as they are.
    config_ids: frozenset[str] = frozenset()

    def value(self, value: Any, key: str = "", secret: bool = False) -> Any:
        """Printable form of a recorded value; inside a secret only first-boot data is named (never shown)."""
        if isinstance(value, pulumi.FileAsset):  # an upload: name the file, relative to the project or the cache
            path, cache = Path(str(value.path)).resolve(), release_cache_dir().resolve()
            shown = (path.relative_to(ROOT) if path.is_relative_to(ROOT) else
                     f"<release cache>/{path.relative_to(cache)}" if path.is_relative_to(cache) else path)
            return f"file {shown}"
        if isinstance(value, dict):
            if rpc._special_sig_key in value:
                if value[rpc._special_sig_key] != rpc._special_secret_sig:
                    return "<resource reference>"
                return self.value(value.get("value"), key, secret=True) if self._has_first_boot(value) else SECRET
            return {k: self.value(v, k, secret) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, key, secret) for v in value]
        if secret:  # first-boot data carries the host's private key: it is a secret, named by its summary
            return f"{SECRET} {self.first_boot[value]}" if isinstance(value, str) and value in self.first_boot \
                else SECRET
        if isinstance(value, str):
            if value in self.first_boot:
                return self.first_boot[value]
            if value in self.computed:
                return self.computed[value]
            if (_ID_KEY.search(key) or key == "triggers") and value in self.ids:  # a server id redeploys
                return self.ids[value]
            if len(value) > _LONG_STRING:
                return f"[{len(value.encode())} bytes, sha256 {hashlib.sha256(value.encode()).hexdigest()[:12]}]"
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
            as_id = str(int(value))
            if as_id in self.ids:
                return self.ids[as_id]
            if _ID_KEY.search(key) and as_id not in self.config_ids:
                return "<id looked up at deploy>"
        return value

    def _has_first_boot(self, value: Any) -> bool:
        if isinstance(value, dict):
            return any(self._has_first_boot(v) for v in value.values())
        if isinstance(value, list):
            return any(self._has_first_boot(v) for v in value)
        return isinstance(value, str) and value in self.first_boot

    def text(self, text: str, key: str = "") -> str:
        """An output string: as `value` (an output named like an id names its resource: `dataVolumeId`), and every
        stand-in inside it replaced (`ssh deploy@<...ip.ipAddress>`)."""
        whole = self.value(text, key)
        if whole != text:
            return str(whole)
        for stand_in in sorted(self.computed, key=len, reverse=True):
            text = re.sub(rf"(?<![\w.:]){re.escape(stand_in)}(?![\w:])", self.computed[stand_in], text)
        return text


def computed_refs(resources: Sequence[mockrun.RecordedResource]) -> dict[str, str]:
    """Each value the mocks made up for a vendor-assigned attribute -> `<resource.attribute>`.

    When resources of several types got the same stand-in (a static IP and its attachment), the first type
    (by token) is named. Two resources of one type (two SSH keys) get the type instead (`<SshKey.fingerprint>`):
    the mocks give them the same stand-in, so which is which cannot be told.
    """
    sources: dict[str, set[tuple[str, str, str]]] = {}
    for r in resources:
        for attr, value in mockrun.COMPUTED.get(r.type, {}).items():
            items = [(f"{attr}[{i}]", v) for i, v in enumerate(value)] if isinstance(value, list) else [(attr, value)]
            for name, item in items:
                # 2001:db8::30/128 is exported bare; a public key without the provider's trailing newline
                for variant in {str(item), str(item).strip(), str(item).split("/")[0]}:
                    sources.setdefault(variant, set()).add((r.type, r.name, name))
    refs = {}
    for value, found in sources.items():
        rtype, rname, attr = min(found)
        same_type = {n for t, n, _ in found if t == rtype}
        refs[value] = f"<{rname}.{attr}>" if len(same_type) == 1 else f"<{_short(rtype)}.{attr}>"
    return refs


def _short(rtype: str) -> str:
    return rtype.rsplit(":", 1)[-1]

"""Two boots, one host: the digests of every file first boot writes (and the concerns manifest), and the
comparison of two hosts' files, over everything or over the files two stacks render alike.
"""
from __future__ import annotations

import shlex
from pathlib import Path

from components.config import HostSpec
from components.firstboot import AS_ROOT, describe_first_boot
from components.firstboot.concerns import MANIFEST_PATH

from . import checks
from .vm import VM


def host_files(vm: VM, admin: str, key: Path, spec: HostSpec) -> dict[str, str]:
    """sha256 of the concerns manifest and of every file first boot writes, as the host holds them: two forms
    that provisioned the same host give the same map."""
    paths = sorted({MANIFEST_PATH, *(f.path for f in describe_first_boot(spec).files)})
    p = vm.ssh(admin, key, f"{AS_ROOT} sha256sum -- " + " ".join(shlex.quote(x) for x in paths) + " 2>&1", timeout=120)
    out: dict[str, str] = {}
    for line in p.stdout.splitlines():
        digest, _, path = line.partition("  ")      # "sha256sum: PATH: No such file..." has no two spaces
        out[path or line] = digest if path else "unreadable"
    return out


def same_host(files: dict[str, str], reference: dict[str, str] | None, reference_form: str) -> checks.CheckResult:
    """This form's host files against the fully audited form's, read at the same point (first boot complete)."""
    differ = sorted(p for p in set(files) | set(reference or {}) if files.get(p) != (reference or {}).get(p))
    return checks.CheckResult(f"same_host_as_{reference_form}", bool(reference) and bool(files) and not differ,
                              {"differing": differ[:20]}, figures={"files": len(files)})


def shared_files(a: HostSpec, b: HostSpec) -> set[str]:
    """The first-boot files two stacks render alike: on two hosts of those stacks they must be equal."""
    left = {f.path: f.content for f in describe_first_boot(a).files}
    return {f.path for f in describe_first_boot(b).files if left.get(f.path) == f.content}


def same_host_alike(tls_res: dict, reference: dict[str, str] | None, reference_form: str) -> checks.CheckResult:
    """The TLS host's files against the audited host's, over the files the two stacks render alike only (the
    paths the TLS run recorded); without the TLS host's record or the reference, nothing is proven."""
    alike = set(tls_res.get("alike_paths") or ())
    files = {p: d for p, d in (tls_res.get("host_files") or {}).items() if p in alike}
    return same_host(files, {p: d for p, d in (reference or {}).items() if p in alike} or None, reference_form)

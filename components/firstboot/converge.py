"""The converge bundle: first boot's files, without the host's private key, that every `pulumi up` sends over SSH,
and the short per-file digests its triggers (and the plan) show."""

from __future__ import annotations

import hashlib

from components.config import HostSpec
from components.firstboot.concerns import AS_ROOT, CONVERGE_CODE_PATH, HOST_KEY_PATH
from components.firstboot.description import FirstBoot, HostFile, bundle, describe_first_boot
from components.firstboot.templating import render_host_file

#: What the Pulumi program runs over SSH (as the admin, pinned host key) with base64(converge_bundle(spec)) on stdin.
#: Its own entry point (templates/usr/local/sbin/hvps-converge): on a host made before convergence existed it
#: is missing, so the command fails there instead of running that host's older provisioner. One converge at a
#: time (flock, waiting up to CONVERGE_LOCK_WAIT_S): through hvps-root a converge runs under PID 1 and outlives a
#: `pulumi up` that gave up on it, so the next one waits for it rather than sharing its staging directory.
CONVERGE_LOCK_WAIT_S = 600
CONVERGE_COMMAND = f"{AS_ROOT} flock -w {CONVERGE_LOCK_WAIT_S} /run/hvps-converge.lock /usr/local/sbin/hvps-converge"


#: How many hex digits of a file's SHA-256 name its content in the converge triggers and the plan.
SHORT_DIGEST = 12


def converge_code() -> HostFile:
    """The converge's own code (see CONVERGE_CODE_PATH): staged with every converge bundle, not installed."""
    return HostFile(CONVERGE_CODE_PATH, render_host_file(CONVERGE_CODE_PATH.lstrip("/"), {}), "0600")


def converge_payload(first_boot: FirstBoot) -> FirstBoot:
    """What a converge sends of these host files: all but the host's private key (never rotated by a converge,
    and never sent in plain text: the converge bundle is an ordinary, non-secret input), then the converge's
    code (staged and run, not installed)."""
    files = tuple(f for f in first_boot.files if f.path != HOST_KEY_PATH)
    return FirstBoot((*files, converge_code()), first_boot.admin_user)


def converge_files(spec: HostSpec) -> FirstBoot:
    """The files a converge sends (converge_payload): first boot's, with the concerns only the converge delivers
    (the data volume, its database and backups: concerns.py)."""
    return converge_payload(describe_first_boot(spec, converge=True))


def converge_bundle(spec: HostSpec) -> bytes:
    """The bundle `hvps-provision --converge` reads (base64) on stdin: reproducible, like first boot's bundle."""
    return bundle(converge_files(spec))


def short_digest(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()[:SHORT_DIGEST]


def file_digest(f: HostFile) -> str:
    """A host file's short SHA-256 over its mode and content: what the converge triggers and the plan show."""
    return short_digest(f"{f.mode}\0{f.content}")


def converge_digests(spec: HostSpec) -> dict[str, str]:
    """{host path: file_digest}: the converge's triggers, so a preview's diff names the files an edit changes."""
    return {f.path: file_digest(f) for f in converge_files(spec).files}

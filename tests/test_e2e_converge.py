"""The VM proof's day-2 scenario changes what it says it changes (e2e/converge.py; the VM run is `make e2e`)."""

from __future__ import annotations

import base64

import pytest

from components.config import load_stack_file
from components.firstboot import HOST_KEY_PATH, converge_bundle, describe_first_boot
from e2e import converge
from tests.conftest import STACK_FILES


def _changed(a, b) -> set[str]:
    old = {f.path: f.content for f in a.files}
    return {f.path for f in b.files if old.get(f.path) != f.content} | (set(old) - {f.path for f in b.files})


def test_day2_edits_one_sysctl_one_header_and_the_admin_keys() -> None:
    spec = load_stack_file(STACK_FILES[0])
    first = describe_first_boot(spec, converge=True)  # the host as the first converge left it
    day2 = converge.day2_first_boot(spec, (spec.ssh_keys[0],))
    changed = _changed(first, day2)
    assert {converge.SYSCTL_FILE, converge.HEADERS_FILE} <= changed
    assert changed - {converge.SYSCTL_FILE, converge.HEADERS_FILE} <= {"/etc/hvps/admin_authorized_keys",
                                                                       HOST_KEY_PATH}
    sysctl = next(f.content for f in day2.files if f.path == converge.SYSCTL_FILE)
    assert f"{converge.SYSCTL_KEY} = {converge.SYSCTL_NEW}" in sysctl.splitlines()
    headers = next(f.content for f in day2.files if f.path == converge.HEADERS_FILE)
    assert f'add_header {converge.HEADER} "{converge.HEADER_NEW}" always;' in headers.splitlines()


def test_broken_bundle_differs_only_in_the_nginx_headers_file() -> None:
    spec = load_stack_file(STACK_FILES[0])
    good = converge.day2_first_boot(spec, spec.ssh_keys)
    assert _changed(good, converge.broken_first_boot(good)) == {converge.HEADERS_FILE}


def test_the_harness_sends_what_the_host_config_resource_sends() -> None:
    """Same bytes as the product's converge bundle for an unedited stack: the VM proves the product's payload."""
    spec = load_stack_file(STACK_FILES[0])
    sent = converge.converge_stdin(describe_first_boot(spec, converge=True))
    assert base64.b64decode(sent) == converge_bundle(spec)


def test_an_edit_of_a_file_first_boot_does_not_write_is_refused() -> None:
    spec = load_stack_file(STACK_FILES[0])
    with pytest.raises(KeyError):
        converge.edit_file(describe_first_boot(spec), "/etc/not-ours.conf", str.upper)

"""`python -m e2e boot`: one VM from a user-data file, first boot awaited, commands run over SSH (a dev tool)."""
from __future__ import annotations

import argparse
from pathlib import Path

from . import build_image
from .apt_cache import AptCache
from .vm import VM


def main(argv: list[str] | None = None) -> int:
    b = argparse.ArgumentParser(prog="python -m e2e boot",
                                description="Boot one e2e VM from a user-data file, wait for first boot.")
    b.add_argument("--user-data", required=True, type=Path)
    b.add_argument("--key", required=True, type=Path, help="private key for ssh")
    b.add_argument("--user", default="deploy")
    b.add_argument("--release", default=build_image.DEFAULT_RELEASE)
    b.add_argument("--cache", action="store_true", help="use apt-cacher-ng on the host as the guest's apt proxy")
    b.add_argument("--run", dest="commands", action="append", default=[], help="command to run over ssh")
    b.add_argument("--timeout", type=float, default=900)
    b.add_argument("--workdir", type=Path)
    b.add_argument("--keep-workdir", action="store_true")
    a = b.parse_args(argv)

    cache = AptCache().start() if a.cache else None
    vm = VM(a.user_data, workdir=a.workdir, vendor_data=cache.vendor_data() if cache else None,
            release=a.release, name="cli")
    vm.diag_user, vm.diag_key = a.user, a.key
    rc = 0
    try:
        with vm:
            vm.start()
            vm.wait_first_boot(a.timeout)
            vm.wait_ssh(a.user, a.key, timeout=120)
            st, text = vm.cloud_init_status(a.user, a.key, timeout=120)
            print(text.strip())
            for c in a.commands:
                p = vm.ssh(a.user, a.key, c)
                print(f"$ {c}  (rc {p.returncode})\n{p.stdout}{p.stderr}", end="")
            vm.poweroff(a.user, a.key)
            rc = 0 if st == 0 else 1
    finally:
        if cache:
            cache.stop()
        if not a.keep_workdir and vm._own_workdir:
            vm.remove_workdir()
    print(vm.timings)
    return rc

#!/usr/bin/env python3
"""Prove the harness itself with tiny hand-written first-boot data (not the project's renderer).

Boots the cached image twice: once with a `#cloud-config` and once with the same thing as a `#!/bin/bash`
script (the launch-script form). Each must: finish cloud-init without error, accept ssh as the
admin user with a freshly generated key, and serve nginx's page through the 127.0.0.1 forward.

    .venv/bin/python -m e2e smoke [--cache] [--only cloud-config|script] [--release trixie]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

from .apt_cache import AptCache
from .processes import VMError, log
from .vm import VM

ADMIN = "deploy"


def gen_key(d: Path) -> tuple[Path, str]:
    key = d / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "e2e-test", "-f", str(key)], check=True)
    return key, (d / "id_ed25519.pub").read_text().strip()


def cloud_config(pub: str) -> str:
    return f"""#cloud-config
users:
  - name: {ADMIN}
    shell: /bin/bash
    sudo: "ALL=(ALL) NOPASSWD:ALL"
    lock_passwd: true
    ssh_authorized_keys:
      - {pub}
package_update: true
packages: [nginx]
"""


def launch_script(pub: str) -> str:
    return f"""#!/bin/bash
set -euxo pipefail
id {ADMIN} >/dev/null 2>&1 || useradd --create-home --shell /bin/bash {ADMIN}
install -d -m 700 -o {ADMIN} -g {ADMIN} /home/{ADMIN}/.ssh
echo '{pub}' > /home/{ADMIN}/.ssh/authorized_keys
chown {ADMIN}:{ADMIN} /home/{ADMIN}/.ssh/authorized_keys && chmod 600 /home/{ADMIN}/.ssh/authorized_keys
echo '{ADMIN} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/90-{ADMIN} && chmod 440 /etc/sudoers.d/90-{ADMIN}
export DEBIAN_FRONTEND=noninteractive
for i in 1 2 3; do apt-get update && break || sleep 10; done
apt-get install -y nginx
"""


def one(form: str, user_data: str, key: Path, cache: AptCache | None, release: str) -> dict:
    res: dict = {"form": form, "ok": False}
    vm = VM(user_data, vendor_data=cache.vendor_data() if cache else None, release=release, name=form)
    vm.diag_user, vm.diag_key = ADMIN, key
    try:
        with vm:
            vm.start()
            res["cloud_init_finished_s"] = round(vm.wait_first_boot(900), 1)
            res["healthy_s"] = round(vm.wait_http(80, "/", timeout=120), 1)   # power-on -> nginx answers
            vm.wait_ssh(ADMIN, key, timeout=120)
            rc, text = vm.cloud_init_status(ADMIN, key, timeout=120)
            res["cloud_init_status_rc"] = rc
            res["cloud_init_status"] = text.strip().splitlines()[:3]
            status, headers, body = vm.http_get(80, "/")
            res["http"] = {"status": status, "server": headers.get("Server"), "nginx_page": b"nginx" in body}
            p = vm.ssh(ADMIN, key, ". /etc/os-release; echo $PRETTY_NAME; uname -r; ssh -V 2>&1; "
                                   "cloud-init --version 2>&1; /usr/sbin/nginx -v 2>&1; cat /etc/debian_version")
            res["guest"] = p.stdout.strip().splitlines()
            t = time.monotonic()
            vm.poweroff(ADMIN, key)
            res["poweroff_s"] = round(time.monotonic() - t, 1)
            res["ok"] = rc == 0 and status == 200 and res["http"]["nginx_page"]
    except VMError as exc:
        res["error"] = str(exc)
        log(str(exc))
    finally:
        res["leftover_qemu"] = vm.running()
        vm.remove_workdir()
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m e2e smoke")
    ap.add_argument("--cache", action="store_true", help="apt-cacher-ng on the host as the guests' apt proxy")
    ap.add_argument("--only", choices=["cloud-config", "script"])
    ap.add_argument("--release", default="trixie")
    a = ap.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="e2e-smoke-") as d:
        key, pub = gen_key(Path(d))
        cache = AptCache().start() if a.cache else None
        try:
            forms = {"cloud-config": cloud_config(pub), "script": launch_script(pub)}
            for form, data in forms.items():
                if a.only and form != a.only:
                    continue
                results.append(one(form, data, key, cache, a.release))
                log(json.dumps(results[-1]))
        finally:
            if cache:
                cache.stop()
    print(json.dumps(results, indent=2))
    return 0 if results and all(r["ok"] for r in results) else 1

#!/usr/bin/env python3
"""Build (once) a Debian VM image shaped like a vendor cloud image, for the e2e proof.

Cache: ${XDG_CACHE_HOME:-~/.cache}/hardened-vps/images/<release>-<sha of this file>/{base.raw,vmlinuz,initrd.img}
The key is the hash of this file (the recipe): any edit to the recipe rebuilds the image, so the recipe stays in
one file. Where it is built from, its shape and what it leaves out: e2e/README.md, "The image".

Usage:  python -m e2e image [--release trixie|bookworm] [--force] [--print-dir]
Prints the image directory on stdout (last line).  Needs root (debootstrap, chroot).
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import fcntl
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

RECIPE_FILE = Path(__file__).resolve()
DEFAULT_RELEASE = "trixie"
IMAGE_SIZE = "4G"

# Packages on top of minbase.  python3-cffi-backend must be named: debootstrap does not resolve the virtual
# package cloud-init's dependency chain needs.  zstd: trixie's initramfs-tools compresses with zstd.
PACKAGES = [
    "linux-image-amd64", "systemd-sysv", "systemd-resolved", "udev", "dbus", "kmod",
    "cloud-init", "cloud-guest-utils", "python3-cffi-backend", "python3",
    "openssh-server", "openssh-client", "ca-certificates", "sudo", "curl", "gnupg",
    "netbase", "iproute2", "iputils-ping", "nftables", "locales", "procps", "e2fsprogs", "less", "zstd",
]

CLOUD_CFG = """\
# e2e image: local NoCloud seed only (the seed ISO labelled 'cidata'); 'None' keeps cloud-init from failing.
datasource_list: [ NoCloud, None ]
# Keep the apt sources written at image build time (they point at the mirror this machine uses).
apt:
  preserve_sources_list: true
"""

# Fallback DHCP for the first NIC, in case cloud-init renders nothing
# (cloud-init's 10-cloud-init-*.network sorts first and wins).
NETWORKD_FALLBACK = """\
[Match]
Name=eth* en*

[Network]
DHCP=yes
"""


def log(msg: str) -> None:
    print(f"[build_image {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess:
    log("$ " + " ".join(cmd))
    return subprocess.run(cmd, check=True, **kw)


def retry(fn: Callable[[], T], what: str, attempts: int = 3, delay: float = 10.0) -> T:
    """Run fn(); retry a bounded number of times on failure (transient mirror errors)."""
    for i in range(1, attempts + 1):
        try:
            return fn()
        except subprocess.CalledProcessError as exc:
            if i == attempts:
                raise
            log(f"{what} failed ({exc}); retry {i}/{attempts - 1} in {delay:.0f}s")
            time.sleep(delay)
    raise AssertionError("unreachable: the last attempt returns or raises")


def apt_source_entries() -> list[tuple[str, list[str]]]:
    """(uri, suites) for every 'deb' entry in this machine's apt sources (deb822 and one-line formats)."""
    entries: list[tuple[str, list[str]]] = []
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        for stanza in re.split(r"\n\s*\n", Path(path).read_text()):
            fields: dict[str, str] = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line:
                    continue
                k, v = line.split(":", 1)
                fields[k.strip().lower()] = v.strip()
            if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
                continue
            for uri in fields.get("uris", "").split():
                entries.append((uri, fields.get("suites", "").split()))
    lists = ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*.list"))]
    for path in lists:
        if not os.path.exists(path):
            continue
        for line in Path(path).read_text().splitlines():
            words = re.sub(r"\[[^\]]*\]", "", line.split("#", 1)[0]).split()
            if len(words) >= 3 and words[0] == "deb":
                entries.append((words[1], [words[2]]))
    return entries


def mirrors() -> tuple[str, str]:
    """(debian mirror, debian-security mirror) as configured for this machine's apt."""
    main = security = None
    for uri, suites in apt_source_entries():
        uri = uri.rstrip("/")
        if not uri.startswith(("http://", "https://")):
            continue
        if any(s.endswith("-security") or s.endswith("/updates") for s in suites):
            security = security or uri
        elif main is None or (uri.endswith("/debian") and not main.endswith("/debian")):
            main = uri
    if not main:
        sys.exit("build_image: no Debian mirror found in the apt sources")
    if not security:
        security = re.sub(r"/debian$", "/debian-security", main)
    return main, security


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "hardened-vps"


def recipe_sha() -> str:
    """Hash of this file's syntax tree (docstrings dropped, comments never in it): a change to what the recipe
    does rebuilds the image; reformatting, comments and docs do not."""
    tree = ast.parse(RECIPE_FILE.read_text())
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            body[0] = ast.Pass()
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()[:16]


def image_dir(release: str = DEFAULT_RELEASE) -> Path:
    return cache_root() / "images" / f"{release}-{recipe_sha()}"


def image_ready(d: Path) -> bool:
    return all((d / f).is_file() for f in ("base.raw", "vmlinuz", "initrd.img", "DONE"))


@contextlib.contextmanager
def chroot_mounts(root: Path) -> Iterator[None]:
    mounted: list[Path] = []
    try:
        for src, fstype in (("proc", "proc"), ("sysfs", "sysfs")):
            tgt = root / ("proc" if fstype == "proc" else "sys")
            run(["mount", "-t", fstype, src, str(tgt)])
            mounted.append(tgt)
        for sub in ("dev", "dev/pts"):
            tgt = root / sub
            run(["mount", "--bind", f"/{sub}", str(tgt)])
            mounted.append(tgt)
        yield
    finally:
        for tgt in reversed(mounted):
            subprocess.run(["umount", "-l", str(tgt)], check=False)


def in_chroot(root: Path, script: str) -> None:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "DEBIAN_FRONTEND": "noninteractive",
           "HOME": "/root"}
    run(["chroot", str(root), "/bin/sh", "-euxc", script], env=env)


def build(release: str, out: Path) -> None:
    main_mirror, sec_mirror = mirrors()
    log(f"release={release} mirror={main_mirror} security={sec_mirror} -> {out}")
    work = out.parent / (out.name + ".tmp")
    if work.exists():
        shutil.rmtree(work)
    root = work / "rootfs"
    root.mkdir(parents=True)
    debs = cache_root() / "debs" / release
    debs.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()

    def debootstrap() -> None:
        if root.exists():
            shutil.rmtree(root)
        root.mkdir()
        run(["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", "--components=main",
             f"--cache-dir={debs}", release, str(root), main_mirror])

    retry(debootstrap, "debootstrap")
    log(f"debootstrap done in {time.monotonic() - t0:.0f}s")

    # apt sources (deb822, like trixie's own images), resolv.conf for the build only, no daemons started.
    (root / "etc/apt/sources.list").write_text("")
    (root / "etc/apt/sources.list.d/debian.sources").write_text(
        f"Types: deb\nURIs: {main_mirror}\nSuites: {release} {release}-updates\nComponents: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        f"Types: deb\nURIs: {sec_mirror}\nSuites: {release}-security\nComponents: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n")
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    resolv = root / "etc/resolv.conf"
    resolv_target = os.readlink(resolv) if resolv.is_symlink() else None
    resolv.unlink(missing_ok=True)
    shutil.copy("/etc/resolv.conf", resolv)

    with chroot_mounts(root):
        retry(lambda: in_chroot(root, "apt-get update && apt-get -y -o Dpkg::Options::=--force-confold "
                                      "dist-upgrade"), "apt upgrade")
        in_chroot(root, """
            sed -i 's/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/' /etc/locale.gen
            locale-gen
            update-locale LANG=C.UTF-8
            systemctl enable systemd-networkd systemd-resolved ssh
            apt-get clean
        """)

    # resolv.conf: resolved's stub (fed by networkd's DHCP), as on trixie cloud images.
    resolv.unlink()
    os.symlink(resolv_target or "../run/systemd/resolve/stub-resolv.conf", resolv)
    policy.unlink()
    (root / "etc/fstab").write_text("/dev/vda / ext4 defaults,discard 0 1\n")
    (root / "etc/hostname").write_text("localhost\n")
    (root / "etc/hosts").write_text("127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n")
    (root / "etc/cloud/cloud.cfg.d/90_e2e_image.cfg").write_text(CLOUD_CFG)
    (root / "etc/systemd/network").mkdir(parents=True, exist_ok=True)
    (root / "etc/systemd/network/99-e2e-dhcp-fallback.network").write_text(NETWORKD_FALLBACK)
    (root / "etc/machine-id").write_text("")
    (root / "var/lib/dbus/machine-id").unlink(missing_ok=True)
    for key in glob.glob(str(root / "etc/ssh/ssh_host_*")):
        os.unlink(key)
    for stale in ("var/lib/apt/lists", "var/log/apt", "tmp"):
        for p in (root / stale).glob("*"):
            if p.is_file():
                p.unlink()
    (root / "var/lib/apt/lists/partial").mkdir(parents=True, exist_ok=True)

    # Kernel + initrd for direct kernel boot: the newest version present.
    def newest(pattern: str) -> Path:
        files = sorted(root.glob(pattern), key=lambda p: [int(x) if x.isdigit() else x
                                                          for x in re.split(r"(\d+)", p.name)])
        if not files:
            sys.exit(f"build_image: no {pattern} in rootfs")
        return files[-1]

    shutil.copy(newest("boot/vmlinuz-*"), work / "vmlinuz")
    shutil.copy(newest("boot/initrd.img-*"), work / "initrd.img")
    (work / "kernel-version").write_text(newest("boot/vmlinuz-*").name.removeprefix("vmlinuz-") + "\n")

    raw = work / "base.raw"
    run(["truncate", "-s", IMAGE_SIZE, str(raw)])
    run(["mkfs.ext4", "-q", "-F", "-L", "rootfs", "-d", str(root), str(raw)])
    shutil.rmtree(root)
    (work / "recipe.txt").write_text(f"release={release}\nrecipe_sha={recipe_sha()}\n")
    (work / "DONE").write_text(time.strftime("%Y-%m-%dT%H:%M:%S%z") + "\n")
    if out.exists():
        shutil.rmtree(out)
    work.rename(out)
    log(f"image built in {time.monotonic() - t0:.0f}s: {out}")


def ensure_image(release: str = DEFAULT_RELEASE, force: bool = False) -> Path:
    """Return the cached image directory for `release`, building it first if missing (or forced)."""
    out = image_dir(release)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / f".{release}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)   # one builder at a time; others wait and then reuse
        if force or not image_ready(out):
            if os.geteuid() != 0:
                sys.exit("build_image: building the image needs root (debootstrap/chroot)")
            build(release, out)
        else:
            log(f"cached image: {out}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m e2e image", description=__doc__.split("\n\n")[0])
    ap.add_argument("--release", default=DEFAULT_RELEASE, choices=["trixie", "bookworm"])
    ap.add_argument("--force", action="store_true", help="rebuild even if cached")
    ap.add_argument("--print-dir", action="store_true", help="only print where the image would be")
    a = ap.parse_args(argv)
    if a.print_dir:
        print(image_dir(a.release))
        return 0
    print(ensure_image(a.release, a.force))
    return 0

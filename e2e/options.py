"""The runner's options (each scenario of `python -m e2e` is a set of them), refused when they contradict."""
from __future__ import annotations

import argparse
from pathlib import Path

from .fixtures import REPO


def port_range(text: str) -> tuple[int, int]:
    """`LOW-HIGH` as two ports, LOW <= HIGH (apt-cacher-ng binds only below 32768)."""
    low, _, high = text.partition("-")
    if not (low.isdigit() and high.isdigit() and 1024 <= int(low) <= int(high) < 32768):
        raise argparse.ArgumentTypeError(f"{text!r}: want LOW-HIGH, 1024 <= LOW <= HIGH < 32768")
    return int(low), int(high)


def parser() -> argparse.ArgumentParser:
    """The runner's options (each scenario of `python -m e2e` is a set of them)."""
    ap = argparse.ArgumentParser(prog="python -m e2e SCENARIO")
    ap.add_argument("--stack", default="do-dev")
    ap.add_argument("--forms", default="cloud-config,script")
    ap.add_argument("--lynis-form", default="cloud-config",
                    help="the form Lynis runs on, or `tls` for the TLS boot (once per run, 815-1211 s alone under TCG)")
    ap.add_argument("--skip-lynis", action="store_true", help="no Lynis in this run")
    ap.add_argument("--skip-scan", action="store_true", help="dev: no in-guest nmap scan")
    ap.add_argument("--releases-form", default="cloud-config",
                    help="the form the app releases run on, once per run")
    ap.add_argument("--skip-releases", action="store_true", help="dev: no app releases")
    ap.add_argument("--skip-hostile", action="store_true", help="dev: releases without the hostile ones")
    ap.add_argument("--skip-converge", action="store_true", help="dev: no day-2 converge (on the releases form)")
    ap.add_argument("--negative", action="store_true",
                    help="boot a deliberately weakened config; exit 0 only when the checks catch it")
    ap.add_argument("--tls", action="store_true",
                    help="add the TLS run with pebble (a third boot, ~7 min: do-dev with a domain)")
    ap.add_argument("--negative-last", action="store_true",
                    help="with --tls: end the TLS run by weakening that host; the checks must catch it (the "
                         "negative case without a boot of its own)")
    ap.add_argument("--data", action="store_true",
                    help="with --tls: a data volume and PostgreSQL on that host, their checks, then a rebuild of the "
                         "server with the same disk, benchmarked (e2e/data_lane.py)")
    ap.add_argument("--benchmark", action="store_true",
                    help="with --tls: run the product's benchmark on that host once its TLS checks are done (before "
                         "the negative case): every figure, the VM's power-on standing in for the API's create")
    ap.add_argument("--tls-form", choices=("cloud-config", "script"), default="cloud-config",
                    help="the first-boot form of the TLS boot; when it is not among --forms, that boot is its form's "
                         "proof too (the same files as the audited form's host, the outage and TLS checks)")
    ap.add_argument("--apt-outage", action="store_true",
                    help="with --tls: boot it with the package mirror unreachable, check the locked-down host, "
                         "then restore the mirror and require first boot to complete")
    ap.add_argument("--boot-speed", action="store_true",
                    help="first a bare boot (admin + nginx) on the same image and cache, then time the cloud-config "
                         "form's first boot against it (e2e/bootspeed.py); the ratio goes into the report")
    ap.add_argument("--full-forms", action="store_true",
                    help="every audit on every form (default: the first form runs them all, the others prove they "
                         "provisioned the same host and run only what depends on the form)")
    ap.add_argument("--no-cache", action="store_true")
    ap.add_argument("--out", type=Path, default=REPO / "e2e" / "out")
    ap.add_argument("--name", help="the report's file name in --out (default: report, tls or negative)")
    ap.add_argument("--keys", type=Path, help="a directory of harness keys to reuse (made there when missing)")
    ap.add_argument("--apt-cache", default="acng", help="the apt cache's directory under the e2e cache: a lane "
                    "of `all` has its own, as two apt-cacher-ng must not write one cache")
    ap.add_argument("--apt-cache-ports", type=port_range, default=(20000, 32000),
                    help="LOW-HIGH: where the apt cache's port is chosen (each lane of `all` has its own range)")
    ap.add_argument("--cpus", type=int, default=2, help="vCPUs of each VM")
    return ap


def options(argv: list[str] | None = None) -> argparse.Namespace:
    """The runner's options, refused (argparse's exit 2 with the reason) when they contradict each other."""
    ap = parser()
    a = ap.parse_args(argv)
    if a.boot_speed and ("cloud-config" not in a.forms.split(",") or a.negative):
        ap.error("--boot-speed times the cloud-config form: keep it in --forms, without --negative")
    if not a.skip_lynis and not a.negative and not (a.lynis_form in a.forms.split(",")
                                                    or (a.lynis_form == "tls" and a.tls)):
        ap.error(f"--lynis-form {a.lynis_form}: Lynis would run nowhere; name one of --forms, or `tls` with --tls "
                 "(or --skip-lynis)")
    return a

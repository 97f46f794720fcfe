"""The real-VM proof's one entry point: `python -m e2e <scenario> [runner options]`, or `python -m e2e <tool>`
(see e2e/README.md). No other module of the harness runs as a script.

Each scenario is a set of the runner's options (e2e/run.py); options given after the scenario are passed on
(e.g. `python -m e2e tls --apt-outage --negative-last`, `python -m e2e releases --out DIR`). `all` is what
`make e2e` and CI run, as two lanes side by side (e2e/lanes.py): the cloud-config form with every audit but
Lynis, the releases and the day-2 converge; and the container audit (first boot and Lynis in systemd-nspawn, at
native speed), then the launch-script form of the domain stack for the apt outage, TLS and the weakened host.
Once both have ended, every file the two stacks render alike must hold the same digest on both hosts. Lynis in
the VM is the scenario `lynis`, not part of `all` (20-30 minutes under TCG).
"""
from __future__ import annotations

import sys
from collections.abc import Callable

from . import apt_outage, boot_tool, bootspeed, build_image, nspawn_lynis, parallel, run, smoke, summary, timings

_ONE_FORM = ["--forms", "cloud-config", "--skip-lynis", "--skip-scan"]

#: scenario -> (what it proves, the runner's options); apt-outage has a VM of its own (e2e/apt_outage.py), and
#: `all` runs the lanes of e2e/lanes.py (each phase a set of the runner's options).
SCENARIOS: dict[str, tuple[str, list[str]]] = {
    "forms": ("both first-boot forms, every audit, Lynis once (no releases, no converge)",
              ["--skip-releases", "--skip-converge"]),
    "releases": ("the app released three times around the zero-downtime witness (cloud-config form)",
                 [*_ONE_FORM, "--skip-converge", "--skip-hostile"]),
    "converge": ("day 2: the running host converged over SSH around the zero-downtime witness",
                 [*_ONE_FORM, "--skip-releases"]),
    "hostile": ("the releases, then hostile releases refused and env values intact",
                [*_ONE_FORM, "--skip-converge"]),
    "apt-outage": ("first boot with the package mirror unreachable: locked down, then complete", []),
    "tls": ("a domain stack: certificate from pebble, TLS checks, forced renewal (`--lynis-form tls` adds Lynis)",
            ["--forms", "", "--tls", "--skip-lynis"]),
    "lynis": ("Lynis inside the VM, on the launch-script domain stack after its TLS checks (not in `all`: 20-30 "
              "minutes under TCG; `all` runs Lynis in the container)",
              ["--forms", "", "--tls", "--tls-form", "script", "--lynis-form", "tls", "--name", "lynis"]),
    "container": ("the stack's first boot and Lynis in a systemd-nspawn container at native speed (the host's "
                  "kernel: its kernel-wide sysctl findings are counted apart)", []),
    "negative": ("a weakened first boot: the checks must catch it", ["--negative"]),
    "bootspeed": ("a bare boot against the stack's first boot on the same image and cache",
                  ["--forms", "cloud-config", "--boot-speed", "--skip-lynis", "--skip-scan", "--skip-releases",
                   "--skip-converge"]),
    "data": ("the launch-script domain stack with a data volume and PostgreSQL: TLS, then the data checks, the "
             "negative case, and a rebuild with the same disk, benchmarked (not in `all`: 50-57 minutes; its "
             "last runs passed every data check)",
             ["--forms", "", "--tls", "--tls-form", "script", "--negative-last", "--data", "--skip-lynis"]),
    "all": ("everything `make e2e` proves, in two lanes side by side: the cloud-config form with every audit but "
            "Lynis; the container audit with Lynis, then the launch script for the apt outage, TLS and the weakened "
            "host; then the same-host comparison", []),
}


#: scenarios that are not a set of the runner's options: what they prove, and who runs them
OWN_MAIN: dict[str, Callable[[list[str]], int]] = {
    "apt-outage": apt_outage.main, "container": nspawn_lynis.main, "all": parallel.main}

#: tool -> (what it does, its main): the harness's own utilities, and `run`, the runner with the options given
#: (what each phase of `all` is)
TOOLS: dict[str, tuple[str, Callable[[list[str]], int]]] = {
    "run": ("the runner with exactly the options given (`python -m e2e run --help`); each VM phase of `all`",
            run.main),
    "image": ("build the cached Debian image the VMs and the container boot (~2 min once; prints its directory)",
              build_image.main),
    "boot": ("boot one VM from a user-data file and run commands in it (`--user-data FILE --key KEY --run CMD`)",
             boot_tool.main),
    "smoke": ("prove the harness itself with hand-written first-boot data, both forms (~4 min)", smoke.main),
    "boot-times": ("the two boots of `bootspeed` only, no audits (e2e/out/bootspeed.json)", bootspeed.main),
    "summary": ("merge reports' summaries into e2e/last-report.json (then `make generate`)", summary.main),
    "timings": ("each scenario's and lane's wall time from a report (CI's closing lines)", timings.main),
}


def usage() -> str:
    width = max(map(len, [*SCENARIOS, *TOOLS]))
    rows = "\n".join(f"  {name:<{width}}  {what}" for name, (what, _) in SCENARIOS.items())
    tools = "\n".join(f"  {name:<{width}}  {what}" for name, (what, _) in TOOLS.items())
    return (f"usage: python -m e2e SCENARIO [runner options] | python -m e2e TOOL [its options]\n\n"
            f"scenarios:\n{rows}\n\ntools:\n{tools}\n")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in (*SCENARIOS, *TOOLS):
        print(usage(), file=sys.stderr)
        return 2
    name, rest = args[0], args[1:]
    if name in TOOLS:
        return TOOLS[name][1](rest)
    if name in OWN_MAIN:
        return OWN_MAIN[name](rest)
    return run.main([*SCENARIOS[name][1], *rest])


if __name__ == "__main__":
    sys.exit(main())

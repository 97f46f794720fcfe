"""The user's data, proven on a booted host and on its rebuild: the phases the launch-script lane runs around the
TLS host.

The TLS boot's stack gets a data volume and PostgreSQL (`data_spec`); a blank second qemu disk stands in for the
vendor volume (e2e/vm.py DataDisk, named as the test stack's vendor does). On that host (`prove_on_host`): the volume
is mounted as the product mounts it, the database answers on its unix socket only, the app's role writes rows, a
`kill -9` of PostgreSQL during writes loses no confirmed row, and a backup restored over changed rows brings them
back. Then the server is rebuilt (`rebuild_keeps_data`): a new root disk and a first boot from scratch on a 1 GiB
VM, the same disk attached: the same filesystem (not reformatted), the same rows, the idle memory with PostgreSQL
reported; the product's benchmark runs there, and the port scan after it finds only the public ports open.
"""

from __future__ import annotations

import dataclasses
import subprocess
import time
from pathlib import Path

from components.config import HostSpec
from components.firstboot import AS_ROOT, CONVERGE_COMMAND
from components.hostconfig import converge_stdin
from components.readiness import first_boot_wait

from . import bench_checks, data_checks, network_checks
from .apt_cache import AptCache
from .check_result import CheckResult
from .guest import VMGuest
from .processes import log
from .vm import VM, DataDisk

#: qemu gives a SCSI disk's serial at most 20 characters (what udev names it by), so the lane's host name is short
#: enough for "<hostName>-data" to fit: a longer one would be cut and the product would not find its volume.
HOST_NAME = "e2e-web"
#: The rebuilt server's memory: the smallest plan the product sells the database on.
REBUILD_MEMORY_MB = 1024
PUBLIC_PORTS = {22, 80}


def data_spec(spec: HostSpec) -> HostSpec:
    """The stack with a data volume and PostgreSQL (what a user adds with `dataVolumeGb` and `database`)."""
    return dataclasses.replace(spec, host_name=HOST_NAME, data_volume_gb=10, database="postgresql")


def new_disk(work: Path, spec: HostSpec) -> DataDisk:
    """A blank disk named as the vendor names the stack's volume."""
    return DataDisk(work / "data-volume.qcow2", spec.data_volume_name).create()


@dataclasses.dataclass
class DataState:
    """What the rebuild must find again."""

    uuid: str = ""
    digest: str | None = None


def converged(vm: VM, spec: HostSpec, key: Path, timeout: float = 1200) -> CheckResult:
    """What `pulumi up` does once the server is ready (HostConfig): the converge bundle on stdin of hvps-converge,
    as the admin, once first boot is complete (the readiness wait it depends on). The data concerns are set up by
    it (they are not in first-boot data)."""
    t = time.monotonic()
    wait = vm.ssh(spec.admin_user, key, first_boot_wait(), timeout=timeout)
    if wait.returncode != 0:
        return CheckResult("data_concerns_converged", False, f"first boot: {wait.stderr.strip()[-500:]}")
    p = subprocess.run([*vm.ssh_base(spec.admin_user, key), CONVERGE_COMMAND], input=converge_stdin(spec).encode(),
                       capture_output=True, timeout=timeout)
    out = (p.stdout + p.stderr).decode(errors="replace")
    if p.returncode != 0:
        journal = vm.ssh(spec.admin_user, key, f"{AS_ROOT} journalctl --no-pager -o cat -n 40 -u hvps-data-volume "
                                               "-u 'postgresql*'; findmnt /srv/data", timeout=60)
        out += "\n--- journal\n" + journal.stdout[-2500:]
    return CheckResult("data_concerns_converged", p.returncode == 0, out.strip()[-1500:],
                       figures={"converge_s": round(time.monotonic() - t, 1)})


def prove_on_host(vm: VM, spec: HostSpec, key: Path) -> tuple[list[CheckResult], DataState]:
    """The data checks on the first host, in an order where each one's evidence stands on the previous one."""
    admin, app = spec.admin_user, spec.app_name
    setup = converged(vm, spec, key)
    log(f"data: {setup.name}: {'ok' if setup.ok else 'FAIL'} {setup.figures}")
    if not setup.ok:
        return [setup], DataState()
    mounted = data_checks.volume_mounted(vm, admin, key)
    prefix = data_checks.volume_found_by_prefix(vm, admin, key, str(mounted.detail.get("volume_device", "")))
    results = [setup, mounted, prefix, data_checks.database_socket_only(vm, admin, key, app),
               data_checks.rows_written(vm, admin, key, app),
               data_checks.crash_recovery(vm, admin, key, app),
               data_checks.backup_then_restore(vm, admin, key, app)]
    for r in results:
        log(f"data: {r.name}: {'ok' if r.ok else 'FAIL'} {r.figures or ''}")
    state = DataState(uuid=str(mounted.figures.get("uuid", "")),
                      digest=data_checks.table_digest(vm, admin, key, app))
    return results, state


def rebuild_keeps_data(user_data: str, spec: HostSpec, key: Path, disk: DataDisk, cache: AptCache | None,
                       state: DataState, timings: dict[str, float], bench_out: Path) -> list[CheckResult]:
    """A new server from the same first-boot data with the same disk: what it must find; then the benchmark (its
    document in `bench_out`), and after it what the host exposes (the scan sees anything it left listening)."""
    admin = spec.admin_user
    vm = VM(user_data, vendor_data=cache.vendor_data() if cache else None, name="rebuild", data_disk=disk,
            memory_mb=REBUILD_MEMORY_MB)
    vm.diag_user, vm.diag_key = admin, key
    with vm:
        vm.start()
        healthy = vm.wait_healthy(80, spec.app_health_path, ok=(200, 301, 308), timeout=1500)
        timings.update({f"rebuild_{k}": v for k, v in healthy.items()})
        vm.wait_ssh(admin, key, timeout=120)
        setup = converged(vm, spec, key)
        results = [setup]
        if setup.ok:
            results += [data_checks.rebuilt_keeps_data(vm, admin, key, spec, state.uuid, state.digest),
                        data_checks.idle_memory(vm, admin, key, spec.app_name),
                        bench_checks.benchmark_run(VMGuest(vm, admin, key), spec, bench_out,
                                                   created_at=vm.power_on_iso()),
                        network_checks.firewall_scan(vm, admin, key, expected_open=PUBLIC_PORTS, allowed_closed={443})]
        for r in results:
            log(f"rebuild: {r.name}: {'ok' if r.ok else 'FAIL'} {r.figures or ''}")
        if not all(r.ok for r in results):
            vm.print_diagnostics()
        vm.kill()
    vm.remove_workdir()
    return results

"""The user's data in the VM: the volume mounted as the product mounts it, PostgreSQL on its unix socket only, rows
that survive a `kill -9` of the database, a backup restored over changed rows, and a rebuilt server that finds the
same filesystem (not reformatted) with the same rows.

Each check runs its evidence in the guest and compares it with what it names: the rows are counted and digested
(md5 over every row, in order), the filesystem is compared by UUID, the crash by the postmaster's pid before and
after and the ids a writer saw committed.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from components.config import HostSpec
from components.firstboot import AS_ROOT

from .check_result import CheckResult, _sh
from .vm import VM

DATA_MOUNT = "/srv/data"
DATA_LABEL = "hvps-data"
ROWS_TABLE = "e2e_rows"
CRASH_TABLE = "e2e_crash"


def psql(app: str, sql: str) -> str:
    """A psql call as the app's OS user, which peer auth maps to the app's role and database."""
    return (f"{AS_ROOT} runuser -u {shlex.quote(app)} -- psql -X -q -v ON_ERROR_STOP=1 -d {shlex.quote(app)} "
            f"-tAc {shlex.quote(sql)}")


def _digest_sql(table: str) -> str:
    return (f"select count(*) || ':' || coalesce(md5(string_agg(id || '=' || v, ',' order by id)), '-') "
            f"from {table}")


def table_digest(vm: VM, admin: str, key: Path, app: str, table: str = ROWS_TABLE) -> str | None:
    """`<rows>:<md5 of every row in id order>`, or None when the table cannot be read."""
    p = _sh(vm, admin, key, psql(app, _digest_sql(table)), timeout=60)
    out = p.stdout.strip()
    return out if p.returncode == 0 and re.fullmatch(r"\d+:([0-9a-f]{32}|-)", out) else None


def volume_mounted(vm: VM, admin: str, key: Path) -> CheckResult:
    """/srv/data is the attached volume (the device the host's own lookup finds, `hvps-data-volume device`), ext4
    with the product's label, mounted nodev,nosuid,noexec. Its filesystem UUID goes into the figures (the rebuild
    compares it)."""
    cmd = (f"findmnt -n -o SOURCE,FSTYPE,OPTIONS --mountpoint {DATA_MOUNT}; "
           f"{AS_ROOT} env HVPS_DATA_WAIT=0 /usr/local/sbin/hvps-data-volume device; "
           f"{AS_ROOT} blkid -o export \"$(findmnt -n -o SOURCE --mountpoint {DATA_MOUNT})\"")
    p = _sh(vm, admin, key, cmd, timeout=60)
    lines = p.stdout.split("\n")
    mount = lines[0].split() if lines and lines[0].strip() else []
    device = lines[1].strip() if len(lines) > 1 else ""
    tags = dict(line.split("=", 1) for line in lines[2:] if "=" in line)
    options = set(mount[2].split(",")) if len(mount) == 3 else set()
    ok = (len(mount) == 3 and mount[0] == device and mount[1] == "ext4" and tags.get("LABEL") == DATA_LABEL
          and {"nodev", "nosuid", "noexec"} <= options)
    return CheckResult("data_volume_mounted", ok, {"mount": mount, "volume_device": device,
                                                   "label": tags.get("LABEL"), "stderr": p.stderr.strip()[-200:]},
                       figures={"uuid": tags.get("UUID", "")})


#: The host's own volume lookup with every /dev/disk/by-id link as the prefix (the widest a vendor could name):
#: it must still find the one data disk and never the disk the root file system sits on. A copy is run, so the
#: installed script stays as first boot wrote it.
_BROADEST_PREFIX = (
    "sed 's|^DEVICES=.*|DEVICES=(/dev/disk/by-id/*)|' /usr/local/sbin/hvps-data-volume >/run/hvps-prefix-probe "
    "&& HVPS_DATA_WAIT=0 bash /run/hvps-prefix-probe device; echo rc=$?; rm -f /run/hvps-prefix-probe; "
    "lsblk -nrso NAME,TYPE \"$(findmnt -nvo SOURCE /)\" | awk '$2 == \"disk\" {print \"root=/dev/\" $1}'; "
    "for l in /dev/disk/by-id/*; do echo \"link=$(readlink -f \"$l\")\"; done")


def volume_found_by_prefix(vm: VM, admin: str, key: Path, device: str) -> CheckResult:
    """The prefix lookup (vendors that name the volume by an id they assign, such as virtio-<mount id>) on a
    real udev tree: with every by-id link as candidates, it finds `device` (the mounted volume), and the links
    include the root disk's (the VM gives it a serial), so it was there to be refused."""
    p = _sh(vm, admin, key, f"{AS_ROOT} bash -c {shlex.quote(_BROADEST_PREFIX)}", timeout=60)
    lines = p.stdout.split("\n")
    found = lines[0].strip() if lines else ""
    roots = sorted({line.split("=", 1)[1] for line in lines if line.startswith("root=")})
    links = sorted({line.split("=", 1)[1] for line in lines if line.startswith("link=")})
    ok = (bool(device) and found == device and "rc=0" in lines and bool(roots) and device not in roots
          and any(link in roots for link in links))
    return CheckResult("volume_found_by_prefix", ok, {"found": found, "volume": device, "root_disks": roots,
                                                      "linked_devices": links, "stderr": p.stderr.strip()[-200:]},
                       figures={"candidates": len(links)})


def database_socket_only(vm: VM, admin: str, key: Path, app: str) -> CheckResult:
    """The app's role reaches its database over the unix socket; PostgreSQL listens on no TCP port (ss shows no
    postgres listener, and a TCP connection to 127.0.0.1:5432 is refused)."""
    cmd = (f"{psql(app, 'select current_user')}; echo \"tcp_listeners=$({AS_ROOT} ss -ltnpH | grep -c postgres)\"; "
           "if timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/5432' 2>/dev/null; then echo tcp=open; "
           "else echo tcp=refused; fi")
    p = _sh(vm, admin, key, cmd, timeout=60)
    lines = p.stdout.split()
    ok = (bool(lines) and lines[0] == app and "tcp_listeners=0" in lines and "tcp=refused" in lines)
    return CheckResult("database_unix_socket_only", ok, {"out": lines, "stderr": p.stderr.strip()[-200:]})


def rows_written(vm: VM, admin: str, key: Path, app: str, rows: int = 2000) -> CheckResult:
    """The app's role creates a table and writes rows into it; the digest is the reference for later checks."""
    sql = (f"create table if not exists {ROWS_TABLE} (id integer primary key, v text not null); "
           f"insert into {ROWS_TABLE} select i, md5(i::text) from generate_series(1, {rows}) i "
           "on conflict (id) do nothing")
    p = _sh(vm, admin, key, psql(app, sql), timeout=120)
    digest = table_digest(vm, admin, key, app)
    ok = p.returncode == 0 and digest is not None and digest.startswith(f"{rows}:")
    return CheckResult("database_rows_written", ok, {"digest": digest, "stderr": p.stderr.strip()[-200:]},
                       figures={"rows": rows, "digest": digest})


# A writer inserts one row per transaction and records each id psql confirmed, until told to stop; the postmaster
# (the oldest postgres process) is killed with SIGKILL in the middle; the writer keeps trying; the database must
# answer again under a new postmaster, the writer gets some rows in after it, and every confirmed id must be there.
# The writer is stopped by a file, not by a count: a psql start takes about a second under TCG.
_CRASH_SCRIPT = f"""\
set -u
app=$1
q() {{ {AS_ROOT} runuser -u "$app" -- psql -X -q -v ON_ERROR_STOP=1 -d "$app" -tAc "$1"; }}
q "create table if not exists e2e_crash (id integer primary key, at timestamptz default now())" >/dev/null
rm -f /tmp/e2e-stop; : >/tmp/e2e-committed
( i=0
  while [ ! -e /tmp/e2e-stop ] && [ "$i" -lt 5000 ]; do
    i=$((i + 1))
    q "insert into e2e_crash (id) values ($i) returning id" >>/tmp/e2e-committed 2>/dev/null || true
  done ) &
writer=$!
sleep 8
old=$(pgrep -o -x postgres)
echo "before=$(grep -c . /tmp/e2e-committed)"
echo "killed=$old"
{AS_ROOT} kill -9 "$old"
t0=$(date +%s)
sleep 1
until q "select 1" >/dev/null 2>&1; do
  [ $(( $(date +%s) - t0 )) -lt 120 ] || {{ touch /tmp/e2e-stop; echo recovered=no; exit 1; }}
  sleep 1
done
echo "recovered_s=$(( $(date +%s) - t0 ))"
sleep 8
touch /tmp/e2e-stop
wait "$writer"
echo "new=$(pgrep -o -x postgres)"
echo "committed=$(grep -c . /tmp/e2e-committed)"
q "select id from e2e_crash order by id" >/tmp/e2e-present
echo "missing=$(sort -n /tmp/e2e-committed | comm -23 - <(sort -n /tmp/e2e-present) | grep -c .)"
echo "after=$(q "insert into e2e_crash (id) values (100000) returning id")"
"""


def crash_recovery(vm: VM, admin: str, key: Path, app: str) -> CheckResult:
    """`kill -9` of PostgreSQL's postmaster during writes: systemd brings it back (a new pid), every row the writer
    saw committed is there, and it takes writes again."""
    p = _sh(vm, admin, key, f"bash -c {shlex.quote(_CRASH_SCRIPT)} crash {shlex.quote(app)}", timeout=600)
    got = dict(line.split("=", 1) for line in p.stdout.split() if "=" in line)
    committed = int(got.get("committed", "0") or 0)
    before = int(got.get("before", "0") or 0)
    ok = (p.returncode == 0 and 0 < before < committed and got.get("killed", "") != ""
          and got.get("new", "") not in ("", got.get("killed"))
          and committed > 0 and got.get("missing") == "0" and got.get("after") == "100000")
    return CheckResult("database_survives_kill_9", ok, {**got, "stderr": p.stderr.strip()[-300:]},
                       figures={"committed_before_kill": before, "committed_in_all": committed,
                                "recovered_s": int(got.get("recovered_s", "-1") or -1)})


def backup_then_restore(vm: VM, admin: str, key: Path, app: str) -> CheckResult:
    """`hvps-backup` takes a backup; rows are then deleted and changed (the digest differs); `hvps-restore latest`
    brings back exactly the rows of the backup (the digest is the one before)."""
    before = table_digest(vm, admin, key, app)
    backup = _sh(vm, admin, key, f"{AS_ROOT} hvps-backup && {AS_ROOT} ls -1 /srv/data/backups | tail -n 3", timeout=300)
    change = f"delete from {ROWS_TABLE} where id % 2 = 0; update {ROWS_TABLE} set v = 'changed' where id < 100"
    _sh(vm, admin, key, psql(app, change), timeout=60)
    changed = table_digest(vm, admin, key, app)
    restore = _sh(vm, admin, key, f"{AS_ROOT} hvps-restore latest", timeout=300)
    after = table_digest(vm, admin, key, app)
    ok = (backup.returncode == 0 and restore.returncode == 0 and before is not None and changed != before
          and after == before)
    return CheckResult("backup_then_restore", ok, {
        "before": before, "changed": changed, "after": after, "backups": backup.stdout.split()[-3:],
        "backup_stderr": backup.stderr.strip()[-300:], "restore_stderr": restore.stderr.strip()[-300:]},
        figures={"rows": int((before or "0:").split(":")[0])})


def rebuilt_keeps_data(vm: VM, admin: str, key: Path, spec: HostSpec, uuid_before: str,
                       digest_before: str | None) -> CheckResult:
    """On the rebuilt server (new root disk, first boot from scratch, the same volume): the same filesystem (its
    UUID: not reformatted), the same rows, and the app's role can still write."""
    mounted = volume_mounted(vm, admin, key)
    digest = table_digest(vm, admin, key, spec.app_name)
    write = _sh(vm, admin, key, psql(spec.app_name, f"insert into {ROWS_TABLE} values (-1, 'after rebuild') "
                                                    "returning id"), timeout=60)
    uuid = mounted.figures.get("uuid", "")
    ok = (mounted.ok and bool(uuid_before) and uuid == uuid_before and digest_before is not None
          and digest == digest_before and write.stdout.strip() == "-1")
    return CheckResult("rebuilt_server_keeps_data", ok, {
        "uuid_before": uuid_before, "uuid_after": uuid, "digest_before": digest_before, "digest_after": digest,
        "mount": mounted.detail, "write": write.stdout.strip() or write.stderr.strip()[-200:]})


def idle_memory(vm: VM, admin: str, key: Path, app: str) -> CheckResult:
    """Resident memory of PostgreSQL and the app at idle, and the host's used and available memory: a report
    (ok when the host still has memory available), on the VM size the run gives it."""
    cmd = (f"ps -o rss= -C postgres | awk '{{s+=$1}} END {{print \"postgres_kb=\" s+0}}'; "
           f"ps -o rss= -u {shlex.quote(app)} | awk '{{s+=$1}} END {{print \"app_kb=\" s+0}}'; "
           "free -k | awk '/^Mem:/ {print \"total_kb=\" $2; print \"used_kb=\" $3; print \"available_kb=\" $7}'")
    p = _sh(vm, admin, key, cmd, timeout=60)
    kb = {k: int(v) for k, v in (line.split("=", 1) for line in p.stdout.split() if "=" in line)}
    mib = {k.replace("_kb", "_mib"): round(v / 1024) for k, v in kb.items()}
    ok = p.returncode == 0 and kb.get("postgres_kb", 0) > 0 and kb.get("available_kb", 0) > 0
    return CheckResult("idle_memory_with_database", ok, mib, figures=mib)

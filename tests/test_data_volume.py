"""The data volume's host side: the format decision on real file images, hvps-data-volume under stubs, the
rendering.

The blank/ours/foreign decision is the one thing that can destroy data: it runs here against real images made
with the real tools (truncate, mkfs.ext4, sfdisk, mkswap), reading them with the real blkid and wipefs, without
mounting anything. hvps-data-volume runs under bash in a temporary root (HVPS_ROOT) with stubs for what needs a
running host (tests/data_volume_support.py); so do hvps-backup and hvps-restore (tests/test_data_volume_backups.py).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from components.firstboot import CONCERNS, concern_paths, converge_files, describe_first_boot, render_first_boot
from components.firstboot.concerns import CONVERGE_CODE_PATH
from tests.conftest import ROOT
from tests.data_volume_support import BUCKET, DATA, calls, host_files, script, spec_with, stub_root
from tests.firstboot_support import provisioner_for_lint

needs_tools = pytest.mark.skipif(any(shutil.which(t) is None for t in ("blkid", "wipefs", "mkfs.ext4", "sfdisk")),
                                 reason="util-linux / e2fsprogs tools missing")


# First boot is the same with or without a volume (the data concerns come by the converge): byte for byte.

@pytest.mark.parametrize("stack", ["do-dev", "linode-dev", "lightsail-dev", "prod"])
def test_first_boot_is_the_same_with_or_without_a_volume(stack: str) -> None:
    import dataclasses

    from components.config import load_stack_file
    spec = load_stack_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    without = dataclasses.replace(spec, data_volume_gb=0, database="none")
    golden = (ROOT / "tests" / "golden" / f"plan-{stack}.md").read_text()
    (recorded,) = re.findall(r"\| firstBootDigest \| `([0-9a-f]{64})` \|", golden)
    assert render_first_boot(spec).digest == render_first_boot(without).digest == recorded
    # and without a volume the converge sends first boot's files (but the host key), those of the one concern only
    # it delivers to every host (ssh-sandbox), then its own code
    sent = [f.path for f in converge_files(without).files]
    first = [f.path for f in describe_first_boot(without).files if not f.path.endswith("ssh_host_ed25519_key")]
    assert [p for p in sent if p in first] == first
    sandbox = next(c for c in CONCERNS if c.name == "ssh-sandbox")
    assert [p for p in sent if p not in first] == [*concern_paths(sandbox, without), CONVERGE_CODE_PATH]


@pytest.mark.parametrize("vendor,region", [("linode", "fr-par"), ("lightsail", "eu-central-1")])
def test_a_volume_adds_nothing_to_first_boot_but_the_converge_delivers_it(vendor: str, region: str) -> None:
    plain = spec_with(vendor=vendor, region=region)
    full = spec_with(vendor=vendor, region=region, **DATA, **BUCKET)
    assert render_first_boot(full).digest == render_first_boot(plain).digest
    files = host_files(full)
    assert {"/usr/local/sbin/hvps-data-volume", "/usr/local/sbin/hvps-backup", "/usr/local/sbin/hvps-restore",
            "/etc/hvps/postgresql.conf"} <= set(files)
    manifest = files["/etc/hvps/concerns"]
    assert [line.split()[0] for line in manifest.splitlines() if line.split()[0] in
            ("data-volume", "database", "backups", "backup-upload")] == ["data-volume", "database", "backups",
                                                                        "backup-upload"]
    for fn in ("activate_data_volume", "activate_database", "health_database", "activate_backups"):
        assert f"{fn}() {{" in files["/usr/local/sbin/hvps-provision"], fn
    assert "activate_data_volume" not in host_files(plain)["/usr/local/sbin/hvps-provision"]


def test_only_what_is_configured_is_rendered() -> None:
    volume = host_files(spec_with(dataVolumeGb=10))
    assert "/usr/local/sbin/hvps-data-volume" in volume and "/usr/local/sbin/hvps-backup" in volume
    assert not any("postgres" in p for p in volume)
    assert "/etc/hvps/postgresql.conf" in host_files(spec_with(**DATA))
    assert "backup-upload" not in volume["/etc/hvps/concerns"]
    assert "backup-upload" in host_files(spec_with(**DATA, **BUCKET))["/etc/hvps/concerns"]


# The format decision, on real images.

@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("images")
    made = {}
    for name in ("blank", "ours", "other-ext4", "gpt", "swap", "ext4-on-gpt"):
        made[name] = d / f"{name}.img"
        subprocess.run(["truncate", "-s", "32M", str(made[name])], check=True)
    mkfs = ["mkfs.ext4", "-q", "-F"]
    subprocess.run([*mkfs, "-L", "hvps-data", str(made["ours"])], check=True)
    subprocess.run([*mkfs, "-L", "other", str(made["other-ext4"])], check=True)
    subprocess.run(["sfdisk", "-q", str(made["gpt"])], input="label: gpt\n", text=True, check=True)
    # our label's superblock inside a partitioned disk: two signatures, not a file system of ours alone
    subprocess.run(["sfdisk", "-q", str(made["ext4-on-gpt"])], input="label: gpt\n", text=True, check=True)
    with made["ours"].open("rb") as src, made["ext4-on-gpt"].open("r+b") as dst:
        src.seek(1024)
        dst.seek(1024)
        dst.write(src.read(4096))
    if shutil.which("mkswap"):
        subprocess.run(["mkswap", str(made["swap"])], check=True, capture_output=True)
    else:
        del made["swap"]
    if shutil.which("mkfs.vfat"):
        made["vfat"] = d / "vfat.img"
        subprocess.run(["truncate", "-s", "32M", str(made["vfat"])], check=True)
        subprocess.run(["mkfs.vfat", str(made["vfat"])], check=True, capture_output=True)
    return made


EXPECTED = {"blank": "blank", "ours": "ours", "other-ext4": "foreign", "gpt": "foreign", "swap": "foreign",
            "ext4-on-gpt": "foreign", "vfat": "foreign"}


@needs_tools
def test_format_decision_on_real_images(tmp_path: Path, images: dict[str, Path]) -> None:
    tool = script(tmp_path, spec_with(dataVolumeGb=10), "/usr/local/sbin/hvps-data-volume")
    seen = {}
    for name, image in images.items():
        before = image.read_bytes()
        run = subprocess.run(["bash", str(tool), "classify", str(image)], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        seen[name] = run.stdout.strip()
        assert image.read_bytes() == before, f"{name}: classify wrote to the device"
    assert seen == {name: EXPECTED[name] for name in images}


def test_no_volume_within_the_wait_exits_2_and_formats_nothing(tmp_path: Path) -> None:
    tool = script(tmp_path, spec_with(dataVolumeGb=10), "/usr/local/sbin/hvps-data-volume")
    root, env = stub_root(tmp_path, {"sleep": "", "mkfs.ext4": "exit 1", "mount": "exit 1"})
    run = subprocess.run(["bash", str(tool)], env={**env, "HVPS_DATA_WAIT": "4"}, capture_output=True, text=True)
    assert run.returncode == 2 and "no data volume at /dev/disk/by-id/scsi-0DO_Volume_" in run.stderr
    assert [c.split()[0] for c in calls(root)] == ["sleep", "sleep"]


def test_fstab_line_mounts_by_label_with_safe_options() -> None:
    text = host_files(spec_with(dataVolumeGb=10))["/usr/local/sbin/hvps-data-volume"]
    assert 'LABEL=$LABEL $DATA ext4 nofail,x-systemd.device-timeout=30s,$MOUNT_OPTS 0 2' in text
    assert "MOUNT_OPTS=nodev,nosuid,noexec" in text and "LABEL=hvps-data" in text


# The rendered scripts and settings: valid shell, a database on no port, units in their sandbox, values as data.

@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
def test_scripts_pass_bash_n_and_shellcheck(tmp_path: Path) -> None:
    files = host_files(spec_with(**DATA, **BUCKET))
    for path in ("/usr/local/sbin/hvps-data-volume", "/usr/local/sbin/hvps-backup", "/usr/local/sbin/hvps-restore",
                 "/usr/local/sbin/hvps-provision"):
        target = tmp_path / Path(path).name
        target.write_text(files[path] if not path.endswith("hvps-provision") else provisioner_for_lint(files[path]))
        assert subprocess.run(["bash", "-n", str(target)]).returncode == 0, path
        lint = subprocess.run(["shellcheck", "-s", "bash", str(target)], capture_output=True, text=True)
        assert lint.returncode == 0, f"{path}:\n{lint.stdout}"


def test_postgresql_settings_fit_the_plan_and_listen_on_no_port() -> None:
    small = host_files(spec_with(**DATA, size="small"))["/etc/hvps/postgresql.conf"]
    assert "listen_addresses = ''" in small.splitlines()
    assert "shared_buffers = 64MB" in small and "max_connections = 20" in small and "work_mem = 4MB" in small
    medium = host_files(spec_with(**DATA, size="medium"))["/etc/hvps/postgresql.conf"]
    assert "shared_buffers = 128MB" in medium
    hba = host_files(spec_with(**DATA))["/etc/hvps/pg_hba.conf"]
    assert [line.split()[0] for line in hba.splitlines() if not line.startswith("#")] == ["local", "local"]
    files = host_files(spec_with(**DATA, appName="shop"))
    assert files["/etc/hvps/database.env"].splitlines()[-1] == 'DATABASE_URL="postgresql:///shop?host=/run/postgresql"'
    assert "EnvironmentFile=/etc/hvps/database.env" in files["/etc/systemd/system/shop.service.d/hvps-database.conf"]
    dropin = files["/etc/systemd/system/postgresql@.service.d/hvps-sandbox.conf"]
    assert "RequiresMountsFor=/srv/data /etc/postgresql /var/lib/postgresql" in dropin
    assert "ProtectSystem=strict" in dropin and "PrivateUsers" not in dropin


SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed here")
def test_new_units_meet_their_sandbox_bound(tmp_path: Path) -> None:
    """hvps-data-volume and hvps-backup as shipped; PostgreSQL's drop-in over a stand-in of Debian's unit (runs
    as postgres, pg_ctlcluster), which has no sandbox of its own."""
    from components.firstboot.sandbox import exposures, sandboxed_units

    spec = spec_with(**DATA, appName="shop")
    for f in converge_files(spec).files:
        if f.path.startswith("/etc/systemd/system/"):
            target = tmp_path / f.path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f.content)
    (tmp_path / "etc/systemd/system/postgresql@.service").write_text(
        "[Unit]\nDescription=PostgreSQL Cluster %i\n[Service]\nType=forking\nUser=postgres\nGroup=postgres\n"
        "ExecStart=-/usr/bin/pg_ctlcluster --skip-systemctl-redirect %i start\n")
    bounds = {u.unit: u.bound for u in sandboxed_units(spec)
              if u.unit in ("hvps-data-volume.service", "hvps-backup.service", "postgresql@.service")}
    assert len(bounds) == 3
    for unit, bound in bounds.items():
        name = unit.replace("@.", "@17-main.")
        assert SYSTEMD_ANALYZE
        out = subprocess.run([SYSTEMD_ANALYZE, "security", "--offline=true", f"--root={tmp_path}", "--no-pager", name],
                             capture_output=True, text=True, timeout=60).stdout
        assert exposures(out)[name] <= bound, (name, exposures(out))
    assert not {"hvps-data-volume.service", "postgresql@.service"} & {u.unit for u in sandboxed_units(spec_with())}


def test_hostile_values_reach_the_data_scripts_as_data(tmp_path: Path) -> None:
    """Values built past validation (as a bug there would let through) land in each script as one intact word."""
    hostile = {"app_name": "a|touch>pwned&", "host_name": "h`touch pwned`", "backup_bucket": "b'; touch pwned #",
               "backup_endpoint": 'https://e"$(touch pwned)"', "backup_recipient": "age1\\$(touch pwned)"}
    from dataclasses import replace
    spec = replace(spec_with(**DATA, **BUCKET), app_name=hostile["app_name"], host_name=hostile["host_name"],
                   backup_bucket=hostile["backup_bucket"], backup_endpoint=hostile["backup_endpoint"],
                   backup_recipient=hostile["backup_recipient"])
    files = host_files(spec)
    for path, names in (("/usr/local/sbin/hvps-backup", ("APP", "HOST", "BUCKET", "ENDPOINT", "RECIPIENT")),
                        ("/usr/local/sbin/hvps-restore", ("APP",)), ("/usr/local/sbin/hvps-data-volume", ("APP",))):
        text = files[path]
        preamble = text[:text.index("\nlog() ")] + "\nprintf '%s\\0' " + " ".join(f'"${n}"' for n in names) + "\n"
        out = subprocess.run(["bash", "-c", preamble], cwd=tmp_path, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert not (tmp_path / "pwned").exists(), path
        fields = {"APP": "app_name", "HOST": "host_name", "BUCKET": "backup_bucket", "ENDPOINT": "backup_endpoint",
                  "RECIPIENT": "backup_recipient"}
        assert out.stdout.split("\0")[:-1] == [hostile[fields[n]] for n in names], path


# A vendor that names the volume's link by an id it assigns (Vultr: /dev/disk/by-id/virtio-<mount id>): the one
# disk linked under the prefix that is not the root disk; several: refused, nothing guessed or written.
def _by_id(root: Path, links: dict[str, str]) -> None:
    by_id = root / "dev/disk/by-id"
    by_id.mkdir(parents=True)
    for name, target in links.items():
        (root / "dev" / target).touch()
        (by_id / name).symlink_to(f"../../{target}")


#: The root file system on the first partition of vda (findmnt's SOURCE, then lsblk's inverse tree, raw).
ON_PARTITION = {"findmnt": '[ "$*" = "-nvo SOURCE /" ] && echo /dev/vda1',
                "lsblk": '[ "$*" = "-nrso NAME,TYPE /dev/vda1" ] && printf "vda1 part\\nvda disk\\n"'}


def _device(tmp_path: Path, links: dict[str, str], root_on: dict[str, str] | None = None,
            command: tuple[str, ...] = ("device",)) -> subprocess.CompletedProcess[str]:
    tool = script(tmp_path, spec_with(vendor="vultr", region="fra", dataVolumeGb=10),
                  "/usr/local/sbin/hvps-data-volume")
    root, env = stub_root(tmp_path, {"sleep": "", "mkfs.ext4": "exit 1", "mount": "exit 1",
                                     **(root_on or ON_PARTITION)})
    _by_id(root, links)
    return subprocess.run(["bash", str(tool), *command], env={**env, "HVPS_DATA_WAIT": "2"}, capture_output=True,
                          text=True)


def test_a_prefix_finds_the_one_volume_and_never_the_root_disk(tmp_path: Path) -> None:
    run = _device(tmp_path, {"virtio-rootserial": "vda", "virtio-rootserial-part1": "vda1", "virtio-9f2c1a": "vdb"})
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(tmp_path / "root/dev/vdb")


def test_a_prefix_with_only_the_root_disk_is_no_volume(tmp_path: Path) -> None:
    run = _device(tmp_path, {"virtio-rootserial": "vda"})
    assert run.returncode == 1 and run.stdout == ""


def test_a_root_disk_without_partitions_is_never_the_volume(tmp_path: Path) -> None:
    whole = {"findmnt": '[ "$*" = "-nvo SOURCE /" ] && echo /dev/vda',
             "lsblk": '[ "$*" = "-nrso NAME,TYPE /dev/vda" ] && echo "vda disk"'}
    run = _device(tmp_path, {"virtio-rootserial": "vda", "virtio-9f2c1a": "vdb"}, whole)
    assert run.returncode == 0 and run.stdout.strip() == str(tmp_path / "root/dev/vdb")


def test_a_prefix_matching_two_disks_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    run = _device(tmp_path, {"virtio-aaaa": "vdb", "virtio-bbbb": "vdc"})
    assert run.returncode == 3 and "several disks match" in run.stderr and run.stdout == ""
    (tmp_path / "main").mkdir()
    mounting = _device(tmp_path / "main", {"virtio-aaaa": "vdb", "virtio-bbbb": "vdc"}, command=())
    assert mounting.returncode == 3 and "several disks match" in mounting.stderr
    assert [c.split()[0] for c in calls(tmp_path / "main/root")
            if c.split()[0] in ("mkfs.ext4", "mount", "blkid", "wipefs")] == []

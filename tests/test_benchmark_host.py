"""The benchmark's host side: its parsers on recorded sysbench/fio output, and the whole script run with stub
commands (apt, sysbench, fio, systemd) against a fake root and a local web server."""

from __future__ import annotations

import http.server
import json
import os
import shlex
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.benchmark import host_argv, host_script, parse, script_text
from components.config import parse_host_spec
from components.firstboot import AS_ROOT
from tests.conftest import raw_config

SAMPLES = Path(__file__).parent / "data" / "bench"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


def test_sysbench_parsers_read_the_recorded_outputs() -> None:
    assert parse.sysbench_cpu(sample("sysbench-cpu-1.txt")) == 957.77
    assert parse.sysbench_cpu(sample("sysbench-cpu-2.txt")) > 0
    assert parse.sysbench_memory(sample("sysbench-memory.txt")) == 11027.13
    with pytest.raises(ValueError, match="events per second"):
        parse.sysbench_cpu(sample("sysbench-memory.txt"))
    with pytest.raises(ValueError, match="MiB/sec"):
        parse.sysbench_memory(sample("sysbench-cpu-1.txt"))


@pytest.mark.parametrize("rw", ["randread", "randwrite", "read", "write"])
def test_fio_parser_adds_reads_and_writes(rw: str) -> None:
    job = json.loads(sample(f"fio-{rw}.json"))["jobs"][0]
    side = "read" if "read" in rw else "write"
    got = parse.fio_job(sample(f"fio-{rw}.json"))
    assert got["iops"] == pytest.approx(job[side]["iops"]) and got["iops"] > 0
    assert got["mb_per_s"] == pytest.approx(job[side]["bw_bytes"] / 1e6)


def test_fio_parser_refuses_a_failed_job() -> None:
    document = json.loads(sample("fio-read.json"))
    document["jobs"][0]["error"] = 5
    with pytest.raises(ValueError, match="failed with error 5"):
        parse.fio_job(json.dumps(document))


def test_systemd_spans_and_timeline_parsers() -> None:
    assert parse.systemd_duration("1min 4.210s") == pytest.approx(64.21)
    assert parse.systemd_duration("850ms") == pytest.approx(0.85)
    with pytest.raises(ValueError):
        parse.systemd_duration("soon")
    assert parse.systemd_analyze(sample("systemd-analyze.txt")) == pytest.approx({"kernel": 1.532,
                                                                                  "userspace": 64.21})
    with pytest.raises(ValueError):
        parse.systemd_analyze("Bootup is not yet finished.")
    assert parse.cloud_init_finished(sample("cloud-init-status.json")) == 1796575691.5
    running = json.loads(sample("cloud-init-status.json"))
    running["v1"]["modules-final"]["finished"] = None
    assert parse.cloud_init_finished(json.dumps(running)) is None
    del running["v1"]["modules-final"]
    assert parse.cloud_init_finished(json.dumps(running)) is None, "no final stage: not finished"
    assert parse.cloud_init_finished(sample("cloud-init-status-25.1.json")) == 70026.51


@pytest.mark.parametrize(("finished", "written", "done"), [
    (131.5, 1796575700.0, 131.5),              # cloud-init 25.1: seconds since boot
    (1796575691.5, 1796575700.0, 91.5),        # older releases: epoch seconds
    (131.5, 1796575500.0, None),               # status.json of an earlier boot
    (1796575591.5, 1796575700.0, None),        # an epoch time before this boot
    (None, 1796575700.0, None), (131.5, None, None),
])
def test_cloud_init_done_reads_either_clock_and_only_this_boot(finished: float | None, written: float | None,
                                                               done: float | None) -> None:
    assert parse.cloud_init_done(finished, 1796575600.0, written) == done


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (parse.percentile(values, 50), parse.percentile(values, 99)) == (50.0, 99.0)
    assert parse.percentile([], 50) is None
    assert parse.percentile([7.0], 99) == 7.0


def test_figures_keep_their_unit_and_drop_non_numbers() -> None:
    assert parse.figure("web_rps", 123.45678) == {"value": 123.457, "unit": "req/s"}
    assert parse.figure("disk_rand_read", float("nan")) == {"value": None, "unit": "IOPS"}


def test_the_script_is_bash_clean_and_carries_its_python_verbatim() -> None:
    text = script_text()
    for name in ("parse.py", "collect.py"):
        assert (Path(parse.__file__).parent / name).read_text() in text
    assert "__HVPS_BENCH_PYTHON__" not in text
    subprocess.run(["bash", "-n"], input=text, text=True, check=True)
    if shutil.which("shellcheck"):
        lint = subprocess.run(["shellcheck", "-s", "bash", "-"], input=text, text=True, capture_output=True)
        assert lint.returncode == 0, lint.stdout


def test_the_command_quotes_every_stack_value() -> None:
    spec = parse_host_spec(raw_config(domain="shop.example.com", acmeEmail="ops@example.com"))
    script = host_script(spec)
    assert script.argv == host_argv(spec)
    named = dict(zip(script.argv[::2], script.argv[1::2], strict=True))
    assert (named["--host-header"], named["--scheme"], named["--path"]) == ("shop.example.com", "https", "/healthz")
    tail = script.command.split('bash "$f" ', 1)[1].split(";", 1)[0]
    assert tuple(shlex.split(tail)) == script.argv  # each value arrives as one argument
    assert script.command.startswith(f'f=$(mktemp) && cat >"$f" && {AS_ROOT} timeout -k 180 600 bash "$f" --vendor ')
    assert script.command.endswith('; rc=$?; rm -f "$f"; exit $rc')


STUBS = {
    "sysbench": 'case "$1 $2" in "cpu --threads=1") cat "$SAMPLES/sysbench-cpu-1.txt" ;;\n'
                'cpu*) cat "$SAMPLES/sysbench-cpu-2.txt" ;; memory*) cat "$SAMPLES/sysbench-memory.txt" ;; esac\n',
    "fio": 'for a; do case $a in --rw=*) cat "$SAMPLES/fio-${a#--rw=}.json" ;; '
           '--filename=*) : >"${a#*=}" ;; esac; done\n',
}


def _stub(path: Path, body: str) -> None:
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(0o755)


@pytest.fixture
def fake_host(tmp_path: Path) -> Path:
    """Stub commands in tmp/bin (sysbench and fio only once apt-get installs them: a machine's own copies are
    never run) and a fake root."""
    bin_dir, store, root = tmp_path / "bin", tmp_path / "store", tmp_path / "root"
    for d in (bin_dir, store):
        d.mkdir()
    for name, body in STUBS.items():
        _stub(store / name, body)
        _stub(bin_dir / name, "echo 'not installed yet' >&2; exit 127\n")
    (tmp_path / "packages").write_text("base-files\nbash\n")
    (root / "var" / "tmp").mkdir(parents=True)  # the work directory's parent (HVPS_ROOT/var/tmp)
    _stub(bin_dir / "dpkg-query", 'if [ $# = 3 ]; then grep -qx "$3" "$STUB/packages" && echo installed; exit; fi\n'
                                   'sort "$STUB/packages"\n')
    _stub(bin_dir / "apt-get", 'echo "$*" >>"$STUB/apt.log"\ncase " $* " in\n'
          '*" install "*) for p in sysbench fio libaio1; do echo "$p" >>"$STUB/packages"; done\n'
          '  cp "$STUB/store/sysbench" "$STUB/store/fio" "$STUB/bin/" ;;\n'
          '*" purge "*) for p in "$@"; do sed -i "/^$p\\$/d" "$STUB/packages"; done ;; esac\n')
    _stub(bin_dir / "systemd-analyze", 'cat "$SAMPLES/systemd-analyze.txt"\n')
    _stub(bin_dir / "systemd-detect-virt", "echo qemu\n")
    _stub(bin_dir / "systemctl", 'if [ "$1" = list-units ]; then case "$6" in "postgresql@*.service") '
                                 'echo "postgresql@17-main.service loaded active running PostgreSQL";; esac; exit; fi\n'
                                 'case "$4" in ControlGroup) echo "/system.slice/$5" ;; '
                                 "ActiveEnterTimestampMonotonic) echo 12500000 ;; esac\n")
    boot = 1796575600
    files = {"proc/meminfo": "MemTotal:        1000000 kB\nMemFree:  100 kB\nMemAvailable:     600000 kB\n",
             "proc/stat": f"cpu 1 2 3\nbtime {boot}\n", "proc/41/status": "Name:\tnginx\nVmRSS:\t   20480 kB\n",
             "proc/42/status": "Name:\tgunicorn\nVmRSS:\t   40960 kB\n",
             "sys/fs/cgroup/system.slice/nginx.service/cgroup.procs": "41\n",
             "sys/fs/cgroup/system.slice/app.service/cgroup.procs": "42\n",
             "proc/43/status": "Name:\tpostgres\nVmRSS:\t   10240 kB\n",
             # the cluster's unit on a hybrid host's systemd hierarchy (a container on an older host)
             "sys/fs/cgroup/systemd/system.slice/postgresql@17-main.service/cgroup.procs": "43\n",
             "var/lib/hvps/first-boot.state": "complete\n",
             "var/lib/cloud/data/status.json": sample("cloud-init-status.json")}
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    os.utime(root / "var/lib/hvps/first-boot.state", (boot + 236, boot + 236))
    return tmp_path


@pytest.fixture
def web_server() -> Iterator[int]:
    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            ok = self.path == "/healthz" and self.headers["Host"] == "localhost"
            self.send_response(200 if ok else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def test_the_script_measures_reports_and_leaves_nothing(fake_host: Path, web_server: int) -> None:
    spec = parse_host_spec(raw_config(database="postgresql", dataVolumeGb=10))
    argv = [*host_argv(spec, seconds=1, concurrency=4), "--port", str(web_server)]
    env = {**os.environ, "PATH": f"{fake_host / 'bin'}:{os.environ['PATH']}", "STUB": str(fake_host),
           "SAMPLES": str(SAMPLES), "HVPS_ROOT": str(fake_host / "root")}
    done = subprocess.run(["bash", "-s", "--", *argv], input=script_text(), text=True, capture_output=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)  # ONE document, nothing else on stdout
    figures = {name: f["value"] for name, f in result["figures"].items()}
    assert set(result["figures"]) == set(parse.FIGURES)
    assert all(result["figures"][n]["unit"] == parse.FIGURES[n][0] for n in parse.FIGURES)
    assert figures["cpu_single"] == parse.sysbench_cpu(sample("sysbench-cpu-1.txt"))
    assert figures["cpu_all"] == parse.sysbench_cpu(sample("sysbench-cpu-2.txt"))
    assert figures["disk_rand_write"] == round(parse.fio_job(sample("fio-randwrite.json"))["iops"], 3)
    assert figures["web_rps"] > 0 and figures["web_failed"] == 0 and 0 < figures["web_p50"] <= figures["web_p99"]
    assert set(result["details"]["web_statuses"]) == {"200"}
    assert (figures["cloud_init_done"], figures["first_boot_done"], figures["ssh_ready"]) == (91.5, 236.0, 12.5)
    assert (figures["boot_kernel"], figures["boot_userspace"]) == (1.532, 64.21)
    # nginx 20 MiB + app 40 MiB + PostgreSQL's cluster 10 MiB (under postgresql@*); the others run nothing here
    assert figures["rss_stack"] == 70.0
    assert result["details"]["rss_mib"]["postgresql@*.service"] == 10.0
    assert (figures["memory_used"], figures["memory_available"]) == (round(400000 / 1024, 3), round(600000 / 1024, 3))
    assert result["environment"]["virtualization"] == "qemu" and result["environment"]["emulated"] is True
    assert result["environment"]["kernel_start"] == 1796575600  # btime: what the program's creation figure needs
    assert result["host"] == {"vendor": "digitalocean", "plan": spec.size.slug, "region": spec.region,
                              "image": spec.image}
    assert result["schema"] == parse.SCHEMA and result["parameters"]["web_concurrency"] == 4
    # installed for the run, then exactly those purged; nothing left in /var/tmp
    assert result["parameters"]["installed_for_run"] == ["fio", "libaio1", "sysbench"]
    apt = (fake_host / "apt.log").read_text().splitlines()
    assert any(" install " in f" {line} " and "sysbench fio" in line for line in apt)
    assert apt[-1].endswith("purge -y -q -o DPkg::Lock::Timeout=120 fio libaio1 sysbench")
    assert sorted((fake_host / "packages").read_text().split()) == ["base-files", "bash"]
    assert list((fake_host / "root" / "var" / "tmp").iterdir()) == []


def test_a_failing_tool_fails_the_run_and_still_cleans_up(fake_host: Path, web_server: int) -> None:
    _stub(fake_host / "store" / "fio", "exit 1\n")
    env = {**os.environ, "PATH": f"{fake_host / 'bin'}:{os.environ['PATH']}", "STUB": str(fake_host),
           "SAMPLES": str(SAMPLES), "HVPS_ROOT": str(fake_host / "root")}
    argv = [*host_argv(parse_host_spec(raw_config()), seconds=1, concurrency=2), "--port", str(web_server)]
    done = subprocess.run(["bash", "-s", "--", *argv], input=script_text(), text=True, capture_output=True,
                          env=env, timeout=120)
    assert done.returncode != 0 and done.stdout == ""
    assert sorted((fake_host / "packages").read_text().split()) == ["base-files", "bash"]


def test_the_total_timeout_still_purges_and_removes(fake_host: Path, web_server: int) -> None:
    """`timeout` sends TERM to the script mid-run: it leaves through its clean-up."""
    _stub(fake_host / "store" / "fio", "sleep 10\n")
    env = {**os.environ, "PATH": f"{fake_host / 'bin'}:{os.environ['PATH']}", "STUB": str(fake_host),
           "SAMPLES": str(SAMPLES), "HVPS_ROOT": str(fake_host / "root")}
    argv = [*host_argv(parse_host_spec(raw_config()), seconds=1, concurrency=2), "--port", str(web_server)]
    script = fake_host / "hvps-bench"
    script.write_text(script_text())
    done = subprocess.run(["timeout", "-k", "90", "6", "bash", str(script), *argv], text=True,
                          capture_output=True, env=env, timeout=150)
    assert done.returncode == 124 and done.stdout == ""  # timed out
    assert sorted((fake_host / "packages").read_text().split()) == ["base-files", "bash"]
    assert list((fake_host / "root" / "var" / "tmp").iterdir()) == []

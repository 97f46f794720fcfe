"""Hostile stack values: every value from a stack file is refused with a ConfigError or lands encoded.

The rendered scripts are not only read: `bash -n` parses every one, and the parts that carry config values
(hvps-tls-issue whole; the provisioner's preamble, its install phase and the steps of every concern that takes
a stack value, as `concern_functions` renders them) run under bash with a PATH of stub commands that record
their arguments. An injected command would call the `touch` stub with `pwned` (or fail with "command not
found"); a value that arrives intact shows up byte for byte as one argument.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components import firstboot
from components.config import CONFIG_KEYS, KEYS_BY_NAME, ConfigError, HostSpec, parse_host_spec
from components.firstboot import PROVISION_SCRIPT, describe_first_boot, render_first_boot
from tests.conftest import ED25519_KEY, raw_config

BASH = shutil.which("bash") or "/bin/bash"
MARKER = "pwned"
#: Commands the value-carrying parts legitimately run (everything else is an injection or a bug).
LEGIT_COMMANDS = frozenset({"hostnamectl", "apt-get", "certbot", "install", "nginx", "systemctl", "curl", "seq", "sed",
                            "cp", "id", "python3", "chown", "chmod", "touch", "ln", "date", "rm"})
#: `touch` is legitimate (the sample release's .ready) except on the marker: an injection touches `pwned`.
STUB = f"""#!{BASH}
printf '%s\\0' "${{0##*/}}" "$@" >"$HVPS_CALLS/${{EPOCHREALTIME/./}}.$$.$RANDOM"
case "${{0##*/}}" in
  touch) for a in "$@"; do [ "${{a##*/}}" != {MARKER} ] || : >"$HVPS_MARKER"; done ;;
  seq) echo 1 ;;
esac
exit 0
"""
INJECTIONS = ("$(touch pwned)", "`touch pwned`", "; touch pwned;", "&& touch pwned", "| touch pwned", "\ntouch pwned\n",
              "$(touch${IFS}pwned)", "'$(touch pwned)'", '"$(touch pwned)"', "\\", "'", '"', "${IFS}", "$HOME", "\0",
              "\r", "\t", " ", "%n", "%%", "#", "{", "}", ";", "ALL", "é", "\U0001f600", "\u2028", "\u0085", "../",
              "@", ":", "=", ",", "*", "?", "[", "]", "!", "\x1b[31m", "-", ".", "/")
#: A valid value per key, to splice hostile fragments into (so they reach the deeper checks).
SEEDS: dict[str, str] = {
    "vendor": "digitalocean", "size": "small", "region": "fra1", "image": "debian-13", "hostName": "web-1",
    "adminUser": "ops", "sshPublicKeys": ED25519_KEY, "sshAllowedCidrs": "203.0.113.7/32",
    "domain": "app.example.com", "acmeEmail": "ops@example.com", "acmeServer": "https://acme.example.com/dir",
    "acmeCaCertificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", "manageDns": "true",
    "dnsZone": "example.com", "backups": "false", "monitoring": "true", "ipv6": "true", "swapSizeMb": "512",
    "rebootWindow": "03:30", "tags": "web", "appName": "shop", "appHealthPath": "/healthz",
    "appSource": "https://github.com/example/shop.git", "appRef": "v1.0.0", "appModule": "app:app",
    "appServer": "wsgi", "appEnv": "GREETING=hello", "appSecrets": "TOKEN=abc", "appWorkers": "2",
    "appKeepReleases": "5", "deployPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----", "production": "false",
    "protect": "false", "reprovision": "false", "growDisk": "false", "benchmark": "false",
    "dataVolumeGb": "10", "keepDataVolume": "true",
    "database": "postgresql", "backupGenerations": "7", "backupBucket": "shop-backups",
    "backupEndpoint": "https://fra1.digitaloceanspaces.com", "backupRecipient": "age1" + "q" * 58,
    "backupAccessKeyId": "AKIDEXAMPLE", "backupSecretAccessKey": "secret-example",
}
#: Context so that each key's value reaches first boot (TLS files exist only with a domain).
BASE = {"domain": "app.example.com", "acmeEmail": "ops@example.com"}


def test_every_config_key_has_a_seed() -> None:
    assert set(SEEDS) == set(KEYS_BY_NAME)


def _splice(seed: str, fragments: list[str], at: float) -> str:
    cut = int(len(seed) * at)
    return seed[:cut] + "".join(fragments) + seed[cut:]


def hostile_values(key: str) -> st.SearchStrategy[str]:
    fragments = st.lists(st.one_of(st.sampled_from(INJECTIONS), st.text(max_size=6)), min_size=1, max_size=4)
    spliced = st.builds(_splice, st.just(SEEDS[key]), fragments, st.floats(0, 1))
    long = st.builds(lambda ch, n: ch * n, st.sampled_from(["9", "a", "$(touch pwned)", "é"]), st.integers(200, 6000))
    scalar = st.one_of(spliced, st.text(max_size=40), long)
    if KEYS_BY_NAME[key].type != "array":
        return scalar
    return st.one_of(scalar, st.lists(st.one_of(st.just(SEEDS[key]), scalar), min_size=1, max_size=3).map(json.dumps))


# ---------------------------------------------------------------------------------------------------------
# Running the rendered scripts with stubs.

@dataclass
class Run:
    calls: list[list[str]]
    stderr: str
    marker: bool
    out: Path


def run_with_stubs(script: str, tmp: Path, dirs: tuple[str, ...] = ()) -> Run:
    """Run `script` under bash with only stub commands on PATH, in an empty working directory that is also
    HVPS_ROOT (the provisioner's files land there), with `dirs` made inside it beforehand."""
    stubs, calls, work = tmp / "stubs", tmp / "calls", tmp / "work"
    for d in (stubs, calls, work):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    for rel in dirs:
        (work / rel).mkdir(parents=True, exist_ok=True)
    for name in (*LEGIT_COMMANDS, "sh"):
        (stubs / name).write_text(STUB)
        (stubs / name).chmod(0o755)
    env = {"PATH": str(stubs), "HVPS_CALLS": str(calls), "HVPS_MARKER": str(tmp / MARKER), "HVPS_ROOT": str(work),
           "HOME": str(work), "LANG": "C.UTF-8"}
    (tmp / MARKER).unlink(missing_ok=True)
    result = subprocess.run([BASH, "-c", script], cwd=work, env=env, capture_output=True, timeout=20)
    recorded = [p.read_bytes() for p in sorted(calls.iterdir(), key=lambda p: p.name)]
    return Run(calls=[b.decode().split("\0")[:-1] for b in recorded], stderr=result.stderr.decode(errors="replace"),
               marker=(tmp / MARKER).exists() or (work / MARKER).exists(), out=work)


def assert_nothing_injected(run: Run) -> None:
    assert not run.marker, "an injected touch ran"
    assert "command not found" not in run.stderr, run.stderr
    assert {c[0] for c in run.calls} <= LEGIT_COMMANDS, run.calls


def calls_of(run: Run, command: str) -> list[list[str]]:
    return [c[1:] for c in run.calls if c[0] == command]


#: The concerns whose steps carry stack values (host name, app name and module, domain, health path).
VALUE_CONCERNS = ("login-and-identity", "app-runtime", "nginx", "tls")


def bash_function(script: str, name: str) -> str:
    """A top-level function of the script, from its `name() {` line to the `}` that closes it at column 0."""
    lines = script.splitlines()
    start = lines.index(f"{name}() {{")
    end = lines.index("}", start)
    return "\n".join(lines[start:end + 1]) + "\n"


def provision_value_parts(spec: HostSpec, script: str) -> str:
    """The parts of the generated provisioner that carry config values, runnable on their own with stubs.

    Its preamble (everything before the concern functions: the values, log, the apt command line), the steps of
    every concern in VALUE_CONCERNS as `concern_functions` renders them (each must be in the script verbatim),
    and its install phase, with `state`, `failed` and `run_phase` as no-ops (they only touch state files and
    run the concerns, which run here directly).
    """
    values = firstboot.template_values(spec)
    concerns = [c for c in firstboot.concerns_for(spec) if c.name in VALUE_CONCERNS]
    functions = [firstboot.concern_functions(c, values) for c in concerns]
    assert all(f in script for f in functions), "the concern functions are not in the provisioner as rendered"
    preamble = script[:script.index(str(values["concern_functions"]))]
    calls = [f"{step}_{c.function}" for c in concerns for step in ("activate", "health") if getattr(c, step)]
    return "".join([preamble, *functions, bash_function(script, "enable_units"), bash_function(script, "install_phase"),
                    "state() { :; }\nfailed() { :; }\nrun_phase() { :; }\n", *(f"{c}\n" for c in calls),
                    "install_phase\n"])


def check_first_boot(spec: HostSpec, tmp: Path) -> None:
    """The rendered first boot of `spec` parses, runs without injection, and carries each value intact."""
    files = {f.path: f.content for f in describe_first_boot(spec).files}
    scripts = {"launch-script": render_first_boot(spec).launch_script, "provision": files[PROVISION_SCRIPT]}
    if spec.domain:
        scripts["tls-issue"] = files["/usr/local/sbin/hvps-tls-issue"]
    for name, text in scripts.items():
        parsed = subprocess.run([BASH, "-n"], input=text.encode(), capture_output=True)
        assert parsed.returncode == 0, (name, parsed.stderr)

    sample = f"srv/{spec.app_name}/releases/sample"
    run = run_with_stubs(provision_value_parts(spec, files[PROVISION_SCRIPT]), tmp, ("etc", "var/lib/hvps", sample))
    assert_nothing_injected(run)
    assert calls_of(run, "hostnamectl") == [["set-hostname", spec.host_name]]
    installs = [c for c in calls_of(run, "apt-get") if "install" in c]
    installed = [p for c in installs for p in c[c.index("--no-install-recommends") + 1:]]
    assert installed == [*firstboot.packages_for(spec, firstboot.SERVE),
                         *firstboot.packages_for(spec, firstboot.DEFERRED)]
    assert sorted(installed) == sorted(firstboot.packages_for(spec))
    curls = calls_of(run, "curl")
    assert len(curls) >= 3  # the app's and nginx's health checks, then the install phase's
    for curl in curls:
        assert curl[-3:] == ["-H", f"Host: {spec.domain or '_'}", f"http://127.0.0.1{spec.app_health_path}"]
    assert (run.out / sample / "release.env").read_text() == (
        f"APP_MODULE={firstboot.SAMPLE_APP_MODULE}\nGUNICORN_CMD_ARGS=--workers {spec.workers}\nHVPS_RELEASE=sample\n")
    if spec.domain:
        assert ["start", "hvps-tls.timer"] in calls_of(run, "systemctl")
        run = run_with_stubs(scripts["tls-issue"], tmp)
        assert_nothing_injected(run)
        (certbot,) = calls_of(run, "certbot")
        assert certbot[certbot.index("--server") + 1] == spec.acme_server
        assert certbot[certbot.index("-m") + 1] == spec.acme_email
        assert certbot[certbot.index("-d") + 1] == spec.domain
        assert ["-m", "0644", "/etc/hvps/nginx-site-https.conf",
                f"/etc/nginx/sites-available/{spec.app_name}.conf"] in calls_of(run, "install")

    # No value adds a line to a config file (a newline would start a directive of its own), and the
    # Python files still parse with the health path as a literal.
    values = firstboot.template_values(spec)
    for name in firstboot.template_names():
        text = (firstboot.TEMPLATES / name).read_text()
        if "| raw }}" not in text and "| sh }}" not in text:
            rendered = firstboot.render_template(name, values)
            assert rendered.count("\n") == text.count("\n"), name
    sample_app = ast.parse(files["/etc/hvps/sample_app.py"])
    assert spec.app_health_path in [n.value for n in ast.walk(sample_app) if isinstance(n, ast.Constant)]
    ast.parse(files["/etc/hvps/gunicorn.conf.py"])


_checked: set[int] = set()


def accept_or_refuse(config: dict[str, str], tmp: Path) -> None:
    """The only outcomes: ConfigError, or first boot that check_first_boot accepts."""
    try:
        spec = parse_host_spec(config)
    except ConfigError:
        return
    fingerprint = hash(tuple(sorted((f.path, f.content) for f in describe_first_boot(spec).files)))
    if fingerprint not in _checked:  # the same rendering was already run
        check_first_boot(spec, tmp)
        _checked.add(fingerprint)


# ---------------------------------------------------------------------------------------------------------

def test_stub_harness_sees_an_injection(tmp_path) -> None:
    """The harness can fail: the pre-fix template form (a value pasted inside double quotes) is caught."""
    run = run_with_stubs('certbot -m "$(touch pwned)@example.com"\n', tmp_path)
    assert run.marker
    with pytest.raises(AssertionError, match="injected touch"):
        assert_nothing_injected(run)


def test_hostile_acme_email_is_passed_as_data_not_run(tmp_path) -> None:
    """Even a value that bypasses validation (built directly) reaches certbot as one intact argument."""
    spec = parse_host_spec(raw_config(**BASE))
    hostile = replace(spec, acme_email="$(touch pwned)@example.com", acme_server="https://a.example/`touch pwned`",
                      app_health_path="/$(touch pwned)'\"")
    check_first_boot(hostile, tmp_path)


@pytest.mark.parametrize("key", [k.name for k in CONFIG_KEYS])
@settings(max_examples=12, deadline=3000, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_hostile_value_is_refused_or_encoded(key: str, data: st.DataObject, tmp_path: Path) -> None:
    config = raw_config(**BASE)
    config[key] = data.draw(hostile_values(key), label=key)
    accept_or_refuse(config, tmp_path)


def test_seed_values_render_and_run(tmp_path) -> None:
    """The unspliced seeds are valid together, so the property test starts from values that get through."""
    config = {k: json.dumps([v]) if KEYS_BY_NAME[k].type == "array" else v for k, v in SEEDS.items()}
    for secret in ("appSecrets", "deployPrivateKey", "acmeCaCertificate", "appSource", "appRef"):
        del config[secret]
    check_first_boot(parse_host_spec(config), tmp_path)


def test_the_reported_exploit_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="acmeEmail"):
        parse_host_spec(raw_config(**BASE | {"acmeEmail": "$(touch${IFS}/tmp/x)@example.com"}))

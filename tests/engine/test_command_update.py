"""Deploys on the second `pulumi up`: pulumi-command's update rules, run over a fake host filesystem; longer than
300 lines because the model of those rules (with their sources) and the update paths it replays are one argument,
read together.

Models what the real engine and pulumi-command v1.2.1 do with the AppRelease's remote resources, which Pulumi's
mocks never show (they only record one run's inputs). Read from pulumi/pulumi-command:

- `provider/pkg/provider/common/inputs.go`: `triggers` is `replaceOnChanges`: a change REPLACES the resource
  (create the new one, then delete the old: the engine's default create-before-delete, pulumi/pulumi
  `pkg/resource/deploy/step_generator.go`).
- `provider/pkg/provider/remote/commandController.go`: Command has no custom diff, so ANY other input change is
  an Update, which runs `update`, or `create` again when there is no `update`. Delete runs `delete` (none here).
  The Python SDK (`pulumi_command/remote/command.py`) adds `replace_on_changes=["triggers[*]"]` itself, so a
  trigger change replaces even a Command that has an `update` (the HostConfig converge: a changed file digest
  replaces it; its `create` converges; the old one's delete runs nothing).
- `provider/pkg/provider/remote/command.go`: `stdin` is an ordinary input (diffed, stored in state); the
  command reads it (the converge bundle, the app's secrets).
- `provider/pkg/provider/remote/copyController.go`: CopyToRemote.Update copies again only when the source
  asset's hash or `remotePath` changed; it has no Delete, so nothing is ever removed from the host.
- `provider/pkg/provider/remote/connection.go` (+ `connection_unix.go`): the connection is an ordinary input,
  stored in state and diffed; `agentSocketPath`, when given, is part of it (left unset, SSH_AUTH_SOCK is read
  when the provider runs and never reaches state).

- terraform-provider-aws `internal/service/lightsail/instance.go`: a Lightsail instance's id is its name
  (`d.SetId(iName)`), which a rebuild keeps; its `arn` (set on read) holds an id Lightsail makes per instance.
  DigitalOcean and Linode give every new server a new id. The rebuild test runs on each vendor.

The model takes the resources the real program registers (under mocks), diffs them against the previous run's
like the engine, and "runs" the deploy command with bash against a directory standing in for the host: the
uploads land there, and the deploy command (its root prefix picks sudo: no no_new_privs here) runs the real
hvps-release script (systemctl, curl, pip stubbed).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from components.firstboot import CONVERGE_COMMAND, HOST_KEY_PATH, wire
from components.testing import mockrun
from components.testing.mockrun import RecordedResource, StackRun, run_program
from tests.conftest import ED25519_KEY, ROOT, RSA_4096_KEY, full_config
from tests.engine.test_env_file import systemd_env_file
from tests.release_script_support import STUBS

EXAMPLE = ROOT / "examples" / "flask-app"
ADMIN_KEYS = "/etc/hvps/admin_authorized_keys"
DEPLOY_KEY_1 = "-----BEGIN OPENSSH PRIVATE KEY-----\nZGVwbG95LWtleS0x\n-----END OPENSSH PRIVATE KEY-----\n"
DEPLOY_KEY_2 = "-----BEGIN OPENSSH PRIVATE KEY-----\nZGVwbG95LWtleS0y\n-----END OPENSSH PRIVATE KEY-----\n"


class DeployFailed(AssertionError):
    """The engine would report the update as failed: a remote command exited non-zero."""


def plain(value: Any) -> Any:
    """Inputs as the provider sees them: secrets unwrapped, assets as their content hash."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return plain(value["value"])
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, pulumi.FileAsset):
        return {"assetHash": hashlib.sha256(Path(str(value.path)).read_bytes()).hexdigest()}
    return value


@dataclass
class FakeHost:
    """A server's filesystem (a directory); a rebuilt server is a new, empty one."""

    root: Path

    @classmethod
    def new(cls, base: Path, label: str) -> FakeHost:
        root = base / f"host-{label}"
        for d in ("run/lock", "srv/app/releases", "etc", "var/tmp"):
            (root / d).mkdir(parents=True)
        return cls(root)

    def path(self, remote: str) -> Path:
        return self.root / remote.lstrip("/")

    def current(self) -> str | None:
        link = self.root / "srv/app/current"
        return os.readlink(link).rsplit("/", 1)[-1] if link.is_symlink() else None


@dataclass
class Engine:
    """The state of the remote resources between runs, and what each `up` did to them."""

    stubs: Path
    state: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    ran: list[tuple[str, str]] = field(default_factory=list)  # (resource, command) as run on the host

    def up(self, run: StackRun, host: FakeHost) -> list[str]:
        """Apply one run's remote resources: uploads first (the deploy depends on them). Returns the actions."""
        actions: list[str] = []
        remote = [r for r in run.resources if r.type.startswith("command:remote:")]
        upload_dirs = {str(Path(plain(r.inputs)["remotePath"]).parent) for r in remote if r.type.endswith("Remote")}
        for r in sorted(remote, key=lambda r: not r.type.endswith("CopyToRemote")):
            new = plain(r.inputs)
            old = self.state.get(r.name, (r.type, None))[1]
            if old == new:
                continue
            if old is None or old.get("triggers") != new.get("triggers"):
                verb, run_it = ("create" if old is None else "replace"), True  # the old one's delete: no-op
            else:
                verb = "update"
                run_it = (r.type.endswith("Command") or old["source"] != new["source"]
                          or old["remotePath"] != new["remotePath"])
            actions.append(f"{verb} {r.name}" + ("" if run_it else " (no copy)"))
            if run_it:
                self._apply(r, new, host, upload_dirs, verb)
            self.state[r.name] = (r.type, new)
        return actions

    def _apply(self, r: RecordedResource, inputs: dict[str, Any], host: FakeHost, upload_dirs: set[str],
               verb: str) -> None:
        if r.type.endswith("CopyToRemote"):
            target = host.path(inputs["remotePath"])
            target.parent.mkdir(parents=True, exist_ok=True)  # sftp MkdirAll
            target.write_bytes(Path(str(r.inputs["source"].path)).read_bytes())
            return
        command = (inputs.get("update") or inputs["create"]) if verb == "update" else inputs["create"]
        self.ran.append((r.name, command))
        for d in sorted(upload_dirs, key=len, reverse=True):  # the host's paths, inside the fake root
            command = command.replace(d, str(host.path(d)))
        # The fake host finished first boot: `hvps-provision --status` answers `complete` (see test_provision_script);
        # `hvps-converge` stands in for the host side: it unpacks the bundle read (base64) on stdin, as root would.
        prelude = ('sudo() { [ "$1" != -n ] || shift; [ "$1" != flock ] || shift 4; '
                   'if [ "$1" = /usr/local/sbin/hvps-converge ]; then '
                   'base64 -d >"$HVPS_ROOT/.bundle" && '
                   '"$HVPS_PYTHON" -c "$HVPS_UNPACK" "$HVPS_ROOT/.bundle" "$HVPS_ROOT" && rm "$HVPS_ROOT/.bundle"; '
                   'elif [ "$1" = /usr/local/sbin/hvps-provision ]; then echo complete; else "$@"; fi; }\n')
        env = os.environ | {"HVPS_ROOT": str(host.root), "PATH": f"{self.stubs}:{os.environ['PATH']}",
                            "HVPS_HEALTH_TRIES": "2", "HVPS_HEALTH_DELAY": "0",
                            "HVPS_UNPACK": wire.HOST_UNPACK, "HVPS_PYTHON": sys.executable}
        done = subprocess.run(["bash", "-c", prelude + command], env=env, input=inputs.get("stdin") or "",
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise DeployFailed(f"{r.name}: exit {done.returncode}: {done.stderr.strip()[-300:]}")


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for name, text in STUBS.items():
        (stubs / name).write_text(text)
        (stubs / name).chmod(0o755)
    return Engine(stubs)


SERVER_TYPES = {"digitalocean": "digitalocean:index/droplet:Droplet", "linode": "linode:index/instance:Instance",
                "lightsail": "aws:lightsail/instance:Instance"}
REGIONS = {"digitalocean": "fra1", "linode": "fr-par", "lightsail": "eu-central-1"}


@dataclass
class Servers:
    """The vendor's server objects behind the stack's one server resource; `rebuild` models a replacement.

    A rebuilt server is a new object at the vendor, and only what the vendor assigns anew tells it from the old
    one. DigitalOcean and Linode number every new server (the provider's id). The AWS provider makes a
    Lightsail instance's id its name (terraform-provider-aws internal/service/lightsail/instance.go
    `d.SetId(iName)`, so `components.testing.mockrun` answers with the name), which a rebuild keeps; its `arn` holds an
    id Lightsail makes per instance (set by the same file's read), so that is what changes.
    """

    vendor: str
    generation: int = 1

    def rebuild(self) -> None:
        self.generation += 1

    @property
    def label(self) -> str:
        return f"{self.vendor}-{self.generation}"

    def made_by_vendor(self, rid: str, state: dict[str, Any]) -> str:
        """The server object's id, and its vendor-made attributes in `state`, for the current generation."""
        if SERVER_TYPES[self.vendor] in mockrun.ID_FROM_INPUT:
            state["arn"] = state["arn"].rsplit("/", 1)[0] + f"/00000000-0000-4000-8000-{self.generation:012d}"
            return rid
        return str(7000 + self.generation)  # numeric: the adapters turn droplet and linode ids into ints


@pytest.fixture
def vendor(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "digitalocean"))


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch, vendor: str) -> Iterator[Servers]:
    """The mocks answer for the server with the current generation's vendor object."""
    servers = Servers(vendor)

    class Mocks(mockrun.RecordingMocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
            rid, state = super().new_resource(args)
            if args.typ == SERVER_TYPES[vendor] and rid is not None:
                rid = self.resources[-1].id = servers.made_by_vendor(rid, state)
            return rid, state

    monkeypatch.setattr(mockrun, "RecordingMocks", Mocks)
    yield servers


def program_run(monkeypatch: pytest.MonkeyPatch, agent: str = "/run/user/1000/agent.1", secrets: str | None = None,
                deploy_key: str | None = None, source: Path = EXAMPLE, vendor: str = "digitalocean",
                keys: list[str] | None = None) -> StackRun:
    """One `pulumi up`'s registrations, from a shell whose ssh-agent socket is `agent`."""
    monkeypatch.setenv("SSH_AUTH_SOCK", agent)
    overrides: dict[str, object] = {"appSource": str(source), "vendor": vendor, "region": REGIONS[vendor]}
    if keys is not None:
        overrides["sshPublicKeys"] = keys
    secret_keys = []
    if secrets is not None:
        overrides["appSecrets"] = secrets
        secret_keys.append("hardened-vps:appSecrets")
    if deploy_key is not None:
        overrides["deployPrivateKey"] = deploy_key
        secret_keys.append("hardened-vps:deployPrivateKey")
    return run_program(full_config(**overrides), stack="deploy", secret_keys=secret_keys)


@pytest.mark.parametrize("vendor", list(SERVER_TYPES), indirect=True)
def test_first_up_deploys(engine: Engine, servers: Servers, tmp_path: Path,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    host = FakeHost.new(tmp_path, servers.label)
    run = program_run(monkeypatch, vendor=servers.vendor)
    actions = engine.up(run, host)
    assert sorted(a.split()[0] for a in actions) == ["create"] * 5, actions
    assert [a for a in actions if a.endswith("-first-boot-ready")], actions  # the host's readiness wait
    assert [n for n, _ in engine.ran].index("host-config-converge") < [n for n, _ in engine.ran].index("app-deploy")
    assert host.current() == run.outputs["appRelease"]


def test_a_new_shell_redeploys_nothing(engine: Engine, servers: Servers, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A new terminal has another SSH_AUTH_SOCK: nothing the host needs changed, so nothing may run or fail."""
    host = FakeHost.new(tmp_path, servers.label)
    engine.up(program_run(monkeypatch, agent="/run/user/1000/agent.1"), host)
    assert engine.up(program_run(monkeypatch, agent="/tmp/ssh-XyZ/agent.77"), host) == []


def test_rotated_deploy_key_reruns_the_command_and_finds_its_uploads(engine: Engine, servers: Servers,
                                                                     tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Uploads unchanged (no copy), the command's connection changed: create runs again and must succeed."""
    host = FakeHost.new(tmp_path, servers.label)
    first = program_run(monkeypatch, deploy_key=DEPLOY_KEY_1)
    engine.up(first, host)
    actions = engine.up(program_run(monkeypatch, deploy_key=DEPLOY_KEY_2), host)
    assert any(a.endswith("(no copy)") for a in actions), actions  # CopyToRemote left the files alone
    assert any(a.startswith("update") and a.endswith("-deploy") for a in actions), actions
    assert host.current() == first.outputs["appRelease"]


def test_rotated_secrets_redeploy_with_the_new_environment(engine: Engine, servers: Servers, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    host = FakeHost.new(tmp_path, servers.label)
    engine.up(program_run(monkeypatch, secrets="SECRET_KEY=one"), host)
    actions = engine.up(program_run(monkeypatch, secrets="SECRET_KEY=two"), host)
    assert any(a.endswith("-deploy") for a in actions), actions
    assert systemd_env_file(host.path("/srv/app/current/secrets.env").read_text()) == {"SECRET_KEY": "two"}


def test_secrets_and_env_reach_the_unit_byte_for_byte(engine: Engine, servers: Servers, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """What the program sends, through the real host script, read back the way systemd reads EnvironmentFile."""
    host = FakeHost.new(tmp_path, servers.label)
    secrets = 'PASSWORD=pa\\ss"$HOME`id`\'\nexport TOKEN=export X=1\nTRAILING=ends in \\\nQUOTE=\'open'
    monkeypatch.setenv("SSH_AUTH_SOCK", "/run/user/1000/agent.1")
    run = run_program(full_config(appSource=str(EXAMPLE), appSecrets=secrets, appEnv=["GREETING=it's a \\ $x"]),
                      stack="deploy", secret_keys=["hardened-vps:appSecrets"])
    engine.up(run, host)
    got = systemd_env_file(host.path("/srv/app/current/secrets.env").read_text())
    assert got == {"PASSWORD": 'pa\\ss"$HOME`id`\'', "TOKEN": "export X=1", "TRAILING": "ends in \\",
                   "QUOTE": "'open"}
    release_env = systemd_env_file(host.path("/srv/app/current/release.env").read_text())
    assert release_env["GREETING"] == "it's a \\ $x" and release_env["APP_MODULE"] == "app:app"


@pytest.mark.parametrize("vendor", list(SERVER_TYPES), indirect=True)
def test_rebuilt_server_gets_the_current_release_back(engine: Engine, servers: Servers, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """reprovision: a new server (empty disk, same address, on Lightsail the same name and id) must not stay on
    the sample app."""
    engine.up(program_run(monkeypatch, vendor=servers.vendor), FakeHost.new(tmp_path, servers.label))
    servers.rebuild()
    rebuilt = FakeHost.new(tmp_path, servers.label)
    run = program_run(monkeypatch, vendor=servers.vendor)
    actions = engine.up(run, rebuilt)
    assert sorted(a.split()[0] for a in actions) == ["replace"] * 5, actions  # first-boot-ready waits again
    assert rebuilt.path(ADMIN_KEYS).is_file()  # the rebuilt server is converged again
    assert rebuilt.current() == run.outputs["appRelease"]


def test_a_new_release_keeps_only_the_uploads_its_command_names(engine: Engine, servers: Servers,
                                                                tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    host = FakeHost.new(tmp_path, servers.label)
    app = tmp_path / "app"
    app.mkdir()
    for f in ("app.py", "requirements.txt"):
        (app / f).write_bytes((EXAMPLE / f).read_bytes())
    engine.up(program_run(monkeypatch, source=app), host)
    (app / "app.py").write_text((app / "app.py").read_text() + "\n# release 2\n")
    second = program_run(monkeypatch, source=app)
    engine.up(second, host)
    assert host.current() == second.outputs["appRelease"]
    named = {plain(r.inputs)["remotePath"] for r in second.of_type("remote:CopyToRemote")}
    dirs = {Path(n).parent for n in named}
    left = {f"/{p.relative_to(host.root)}" for d in dirs for p in host.path(str(d)).iterdir()}
    assert left == named
    engine.up(program_run(monkeypatch, agent="/tmp/other", source=app, secrets="A=1"), host)  # re-run finds them


@pytest.mark.parametrize("vendor", list(SERVER_TYPES), indirect=True)
def test_a_host_config_edit_converges_the_host_and_nothing_else(engine: Engine, servers: Servers, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """An added admin key: only the converge re-runs (replaced: its triggers name the changed file), with the real
    command and the bundle on stdin; the release and the readiness wait are left alone, the server is not an input."""
    host = FakeHost.new(tmp_path, servers.label)
    engine.up(program_run(monkeypatch, vendor=servers.vendor), host)
    assert host.path(ADMIN_KEYS).read_text() == ED25519_KEY + "\n"
    assert not host.path(HOST_KEY_PATH).exists()  # a converge never carries the host key
    engine.ran.clear()
    actions = engine.up(program_run(monkeypatch, vendor=servers.vendor, keys=[ED25519_KEY, RSA_4096_KEY]), host)
    assert actions == ["replace host-config-converge"]
    assert engine.ran == [("host-config-converge", CONVERGE_COMMAND)]
    assert host.path(ADMIN_KEYS).read_text() == f"{ED25519_KEY}\n{RSA_4096_KEY}\n"


def test_a_new_connection_reruns_the_converge_as_an_update(engine: Engine, servers: Servers, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A rotated deploy key changes the converge's connection only: an Update, which runs `update`, the same
    converge command (idempotent on the host)."""
    host = FakeHost.new(tmp_path, servers.label)
    engine.up(program_run(monkeypatch, deploy_key=DEPLOY_KEY_1), host)
    engine.ran.clear()
    actions = engine.up(program_run(monkeypatch, deploy_key=DEPLOY_KEY_2), host)
    assert "update host-config-converge" in actions, actions
    assert ("host-config-converge", CONVERGE_COMMAND) in engine.ran

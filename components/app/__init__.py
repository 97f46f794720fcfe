"""Releases of the user's app: packaged by the program, shipped over SSH, activated by `hvps-release`.

A release is identified by a hash of its code (the packaged directory, or the git URL and ref) and its
settings, so `pulumi preview` shows a new release resource exactly when the app changes, and the server's
own inputs never change. The host-side work is `hvps-release.sh` beside this file (tested on its own).
"""

from __future__ import annotations

import fnmatch
import gzip
import hashlib
import io
import json
import os
import re
import shlex
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pulumi

from components import envfile, ssh
from components.config import HostSpec
from components.options import dependencies
from components.readiness import first_boot_wait

RELEASE_SCRIPT = Path(__file__).with_name("hvps-release.sh")
SKIPPED = frozenset({".git", "__pycache__", ".venv", "venv", "node_modules", ".mypy_cache", ".pytest_cache",
                     ".ruff_cache", ".DS_Store", ".hvpsignore"})
#: The file in the app directory that names more files to leave out: one glob per line (path or file name).
IGNORE_FILE = ".hvpsignore"
#: Files left out because their name says they hold secrets (glob on the file name, and why).
SECRET_NAMES: tuple[tuple[str, str], ...] = (
    (".env*", "an environment file"), ("id_rsa*", "an SSH key"), ("id_dsa*", "an SSH key"),
    ("id_ecdsa*", "an SSH key"), ("id_ed25519*", "an SSH key"), ("*.p12", "a key store"), ("*.pfx", "a key store"),
    ("*.jks", "a key store"), ("*.keystore", "a key store"), (".netrc", "credentials"), (".pgpass", "credentials"),
    (".git-credentials", "credentials"), ("secrets.json", "a secrets file"), ("secrets.yaml", "a secrets file"),
    ("secrets.yml", "a secrets file"), ("credentials.json", "a credentials file"), ("*.tfstate", "Terraform state"),
)
#: A private key in any file: PEM (RSA, EC, OpenSSH, PKCS#8, encrypted) or PuTTY.
_PRIVATE_KEY = re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----|PuTTY-User-Key-File-\d+:")


class AppPackageError(pulumi.RunError):
    """The app directory cannot be packaged safely; the message names the file and the way out (no traceback)."""


@dataclass(frozen=True)
class AppPackage:
    """A reproducible tar.gz of an app directory: same files, same bytes, same digest.

    skipped: the files left out because they look like secrets, as `path (why)`, to show the user.
    """

    data: bytes
    digest: str
    files: tuple[str, ...]
    skipped: tuple[str, ...] = ()


def _ignore_patterns(root: Path) -> tuple[str, ...]:
    path = root / IGNORE_FILE
    if not path.is_file():
        return ()
    lines = (line.strip() for line in path.read_text(errors="replace").splitlines())
    return tuple(line.rstrip("/") for line in lines if line and not line.startswith("#"))


def secret_reason(name: str, data: bytes) -> str | None:
    """Why a file (its relative path and content) must stay out of the archive, or None (pure)."""
    base = name.rsplit("/", 1)[-1]
    for pattern, why in SECRET_NAMES:
        if fnmatch.fnmatchcase(base, pattern):
            return why
    if (base.endswith((".pem", ".key"))) and _PRIVATE_KEY.search(data):
        return "a private key"
    return None


def package_directory(root: Path) -> AppPackage:
    """Pack an app directory deterministically, without VCS data, caches, virtualenvs, or secrets.

    Files named like secrets (SECRET_NAMES, and *.pem/*.key holding a private key) are left out and listed in
    `skipped`; any other file holding a private key stops the packaging (AppPackageError), since its name
    gives no sign it is one: the user moves it out or names it in .hvpsignore. Symbolic links are refused
    (the host refuses releases holding them), unless .hvpsignore leaves them out.
    """
    ignore = _ignore_patterns(root)
    members: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED)
        members += [Path(dirpath) / d for d in dirnames if (Path(dirpath) / d).is_symlink()]  # not walked into
        members += [Path(dirpath) / f for f in sorted(filenames) if f not in SKIPPED and not f.endswith(".pyc")]
    raw = io.BytesIO()
    names: list[str] = []
    skipped: list[str] = []
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for path in members:
            name = path.relative_to(root).as_posix()
            if any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(path.name, p) for p in ignore) or any(
                    name.startswith(p + "/") for p in ignore):
                continue
            if path.is_symlink() or not path.is_file():
                raise AppPackageError(
                    f"hardened-vps:appSource: {name} is a symbolic link or not a regular file; the host refuses "
                    f"releases holding links. Copy the file in, or list it in {IGNORE_FILE} to leave it out.")
            data = path.read_bytes()
            why = secret_reason(name, data)
            if why is not None:
                skipped.append(f"{name} ({why})")
                continue
            if _PRIVATE_KEY.search(data):
                raise AppPackageError(
                    f"hardened-vps:appSource: {name} holds a private key and would be shipped to the server. "
                    f"Move it out of the app directory, or add the line '{name}' to {root / IGNORE_FILE} "
                    "to leave it out of the release.")
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.uid, info.gid = len(data), 0, 0, 0
            info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
            tar.addfile(info, io.BytesIO(data))
            names.append(name)
    data = gzip.compress(raw.getvalue(), compresslevel=9, mtime=0)
    return AppPackage(data, hashlib.sha256(data).hexdigest(), tuple(names), tuple(skipped))


def release_settings(spec: HostSpec) -> dict[str, object]:
    """What, besides the code, makes a release different."""
    assert spec.app is not None
    app = spec.app
    return {"module": app.module, "server": app.server, "workers": spec.workers, "env": [list(p) for p in app.env],
            "health": spec.app_health_path, "keep": app.keep_releases, "secrets": list(app.secret_names)}


def release_id(spec: HostSpec, code_digest: str) -> str:
    """`r-` and 12 hex digits of the code digest plus settings: any change makes a new release."""
    text = json.dumps({"code": code_digest, "settings": release_settings(spec)}, sort_keys=True)
    return "r-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def code_digest(spec: HostSpec, package: AppPackage | None) -> str:
    assert spec.app is not None
    if package is not None:
        return package.digest
    return hashlib.sha256(f"{spec.app.source}@{spec.app.ref}".encode()).hexdigest()


#: How long one upload or the deploy may take, dial retries included (dial_error_limit -1 retries until then):
#: a new server answers SSH with the pinned key only once first boot installed it (about 5 minutes measured).
UPLOAD_TIMEOUT = "20m"
DEPLOY_TIMEOUT = "30m"  # also waits for the rest of first boot, then builds the release's virtualenv


def script_digest() -> str:
    return hashlib.sha256(RELEASE_SCRIPT.read_bytes()).hexdigest()


def release_cache_dir() -> Path:
    """Where archives wait for their upload: the user's cache (`$XDG_CACHE_HOME`, else ~/.cache), outside the
    working tree, so neither a preview nor a test run leaves files in the repository."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hardened-vps" / "releases"


def archive_file(app_name: str, package: AppPackage) -> Path:
    """The archive as a file, named by its content: the engine hashes a FileAsset's file when the resource is
    registered (preview included) and the upload copies it, so it must exist then. Written once per content,
    atomically (a concurrent run never reads a partial file); a file whose bytes differ is written again."""
    path = release_cache_dir() / f"{app_name}-{package.digest[:16]}.tar.gz"
    if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == package.digest:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_bytes(package.data)
    os.replace(partial, path)
    return path


def upload_dir(spec: HostSpec) -> str:
    """Where uploads live on the host: the admin's home (survives reboots, unlike /tmp; only the admin reads it)."""
    return f"/home/{spec.admin_user}/.hvps-uploads"


def remote_paths(spec: HostSpec, package: AppPackage | None) -> tuple[str, str | None]:
    """(release script, archive or None for git) upload paths, named by their content.

    Content-addressed, so a re-run of the deploy command (Pulumi re-runs it on ANY input change) finds the very
    files it names; `hvps-release --prune-uploads` removes older ones only after a release succeeded.
    """
    base = upload_dir(spec)
    archive = f"{base}/{spec.app_name}-{package.digest[:16]}.tar.gz" if package is not None else None
    return f"{base}/hvps-release-{script_digest()[:16]}.sh", archive


def deploy_command(spec: HostSpec, rid: str, package: AppPackage | None, with_secrets: bool) -> str:
    """The command the deploy resource runs on the host as the admin (pure, so tests read it).

    Self-contained: it only needs the uploads its own inputs name, and removes none of them.
    """
    assert spec.app is not None
    app = spec.app
    script, archive = remote_paths(spec, package)
    args = ["--app", spec.app_name, "--id", rid, "--module", app.module, "--server", app.server,
            "--workers", str(spec.workers), "--health", spec.app_health_path, "--keep", str(app.keep_releases)]
    args += ["--archive", archive] if archive is not None else ["--git", app.source, "--ref", app.ref or ""]
    for name, value in app.env:  # encoded here, once; the host writes the lines as they are
        args += ["--env", envfile.encode_line(name, value)]
    if with_secrets:
        args += ["--env-file", "-"]
    args += ["--prune-uploads", upload_dir(spec)]
    release = " ".join(shlex.quote(a) for a in ["sudo", "bash", script, *args])
    return f"{first_boot_wait()} && {release}"  # fails with the state text unless first boot completed


@dataclass
class AppReleaseArgs:
    """Inputs of an app release.

    spec: the host spec; `spec.app` must be set.
    host: the address Pulumi connects to (the host's stable IPv4).
    host_key: the server's SSH public host key (`WebHost.ssh_host_key`); every connection pins it.
    server_identity: what tells the server from a rebuilt one (`WebHost.server_identity`; not simply its id:
        a Lightsail instance's id is its name, kept by a rebuild): a rebuilt server gets the current release again.
    secret_env: dotenv text of the app's secrets (a Pulumi secret), or None.
    private_key: the deploy key (a Pulumi secret), or None to use the local ssh-agent.

    What must exist before connecting (server, firewall, address attachment, the readiness wait, the converge)
    goes in `opts.depends_on`; every upload and the deploy wait for it.
    """

    spec: HostSpec
    host: pulumi.Input[str]
    host_key: pulumi.Input[str]
    server_identity: pulumi.Input[str]
    secret_env: pulumi.Output[str] | None = None
    private_key: pulumi.Output[str] | None = None


class AppRelease(pulumi.ComponentResource):
    """One release of the user's app on the host; redeployed when the app, its secrets or the server change.

    Children: `script_upload`, `archive_upload` (local sources only), `deploy`. Outputs: the `pulumi.Output`
    attributes below, registered. Uploads and deploy share their triggers (release id, server identity, secrets
    digest): whenever the deploy is replaced, its uploads are copied again first.
    """

    release_id: pulumi.Output[str]
    """`r-` and 12 hex digits of the code digest and settings: a new value is a new release."""

    def __init__(self, name: str, args: AppReleaseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hardened-vps:index:AppRelease", name, None, opts)
        from pulumi_command import remote  # only stacks that deploy an app load this SDK

        spec = args.spec
        if spec.app is None:
            raise ValueError("AppRelease needs spec.app (appSource)")
        package, rid = planned_release(spec)
        if package is not None and package.skipped:
            pulumi.log.info(f"app release: left out {len(package.skipped)} file(s) that look like secrets: "
                            + ", ".join(package.skipped) + f"; set them through appSecrets ({IGNORE_FILE} "
                            "names more files to leave out)", resource=self)
        self.release_id = pulumi.Output.from_input(rid)
        depends_on = dependencies(opts)
        script_path, archive_path = remote_paths(spec, package)
        connection = ssh.connection(spec, args.host, args.host_key, args.private_key)
        secret_digest = (args.secret_env.apply(lambda text: hashlib.sha256(text.encode()).hexdigest())
                         if args.secret_env is not None else None)
        triggers: list[pulumi.Input[object]] = [rid, args.server_identity, secret_digest]
        upload_opts = pulumi.ResourceOptions(parent=self, depends_on=depends_on,
                                             custom_timeouts=pulumi.CustomTimeouts(create=UPLOAD_TIMEOUT,
                                                                                   update=UPLOAD_TIMEOUT))
        self.script_upload = remote.CopyToRemote(f"{name}-script", connection=connection,
                                                 source=pulumi.FileAsset(str(RELEASE_SCRIPT)),
                                                 remote_path=script_path, triggers=triggers, opts=upload_opts)
        uploads: list[pulumi.Resource] = [self.script_upload]
        self.archive_upload = None
        if package is not None and archive_path is not None:
            # Written when the engine resolves the input, never while this component is constructed.
            packed = package
            source = pulumi.Output.from_input(packed.digest).apply(
                lambda _: pulumi.FileAsset(str(archive_file(spec.app_name, packed))))
            self.archive_upload = remote.CopyToRemote(f"{name}-archive", connection=connection, source=source,
                                                      remote_path=archive_path, triggers=triggers, opts=upload_opts)
            uploads.append(self.archive_upload)
        # The secrets travel as the EnvironmentFile the host stores with the release, encoded like appEnv.
        secret_file = (args.secret_env.apply(lambda text: envfile.encode_file(envfile.parse_text(text)))
                       if args.secret_env is not None else None)
        self.deploy = remote.Command(
            f"{name}-deploy", connection=connection,
            create=deploy_command(spec, rid, package, with_secrets=args.secret_env is not None),
            stdin=secret_file, triggers=triggers,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*depends_on, *uploads],
                                        custom_timeouts=pulumi.CustomTimeouts(create=DEPLOY_TIMEOUT,
                                                                              update=DEPLOY_TIMEOUT)))
        self.register_outputs({"releaseId": self.release_id})


def planned_release(spec: HostSpec) -> tuple[AppPackage | None, str]:
    """This stack's release: its package (None for a git source, which the host clones) and its release id.
    AppRelease builds it; the policy pack derives the commands it allows from the same call."""
    assert spec.app is not None
    package = None if spec.app.is_git else package_directory(_source_dir(spec.app.source))
    return package, release_id(spec, code_digest(spec, package))


def _source_dir(source: str) -> Path:
    path = Path(source)
    return path if path.is_absolute() else Path(__file__).resolve().parents[2] / path

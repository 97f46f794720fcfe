"""The secrets scan (policy/hardening_policies/secrets.py): credentials anywhere in first-boot data, in every
encoding, found without echoing them, in linear time; only the bundle's own host key is spared."""

from __future__ import annotations

import base64
import bz2
import gzip
import hashlib
import io
import lzma
import re
import tarfile
import time
from dataclasses import replace
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

from components.config import load_stack_file, parse_host_spec
from components.firstboot import (
    HOST_KEY_PATH,
    HostFile,
    cloud_config_gzip_base64,
    describe_first_boot,
    render_cloud_config,
    render_first_boot,
    render_launch_script,
    wire,
)
from policy.hardening_policies.first_boot import RawFirstBoot, render_as_vendor
from policy.hardening_policies.pack import first_boot_present, first_boot_secrets
from policy.hardening_policies.resources import plain
from policy.hardening_policies.secrets import _looks_like_aws_secret, find_secrets
from policy.offline import StackCase, analysing, check_resource
from tests.conftest import ROOT, raw_config
from tests.policy_support import (
    DEV_STACKS,
    DROPLET,
    LIGHTSAIL_INSTANCE,
    LINODE_INSTANCE,
    PROD,
    SERVER_OF,
    first_boot_props,
    names_resource_and_fix,
    openssh_key,
)

# --- first-boot-no-secrets ---------------------------------------------------------------------------------------
#: Test material only: shaped like real credentials, valid nowhere.
PRIVATE_KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\n"
               "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
               "-----END OPENSSH PRIVATE KEY-----\n")


DO_TOKEN = "dop_v1_" + "0123456789abcdef" * 4


AWS_KEY_ID = "AKIA" + "Z7EXAMPLEZ7EXAMP"


def _rendered_with(stack: str, extra: HostFile) -> str:
    """The stack's real first-boot data, re-rendered with one more bundled file, in the vendor's form."""
    spec = load_stack_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    first_boot = describe_first_boot(spec)
    first_boot = replace(first_boot, files=(*first_boot.files, extra))
    if spec.vendor == "lightsail":
        return render_launch_script(first_boot)
    cloud_config = render_cloud_config(first_boot)
    return cloud_config_gzip_base64(cloud_config) if spec.vendor == "linode" else cloud_config


@pytest.mark.parametrize("stack", [*DEV_STACKS, PROD])
def test_private_key_inside_the_bundle_is_found(stacks: dict[str, StackCase], stack: str) -> None:
    server = stacks[stack].one(SERVER_OF[stack])
    data = _rendered_with(stack, HostFile("/root/.ssh/id_ed25519", PRIVATE_KEY, "0600"))
    props = first_boot_props(server, data)
    with analysing(stacks[stack]):  # not this stack's first boot: the render for its config has no such file
        (refused,) = check_resource(first_boot_present, server, props)
    assert "/root/.ssh/id_ed25519" in refused and "holds files the render does not" in refused
    (message,) = check_resource(first_boot_secrets, server, props)
    assert "private key" in message and "root/.ssh/id_ed25519:1" in message
    assert "> xz > root/.ssh/id_ed25519" in message and names_resource_and_fix(message, server)


@pytest.mark.parametrize(("content", "what"), [
    (f"DIGITALOCEAN_TOKEN={DO_TOKEN}\n", "DigitalOcean API token"),
    (f"[default]\naws_access_key_id = {AWS_KEY_ID}\n", "AWS access key id"),
    ("DATABASE_URL=postgres://app:Sup3rS3cret@db.internal/app\n", "password in a URL"),
    ("SMTP_PASSWORD=correct-horse-battery\n", "credential assignment"),
    ("Authorization: Bearer abcdefghijklmnop1234\n", "bearer/basic credential"),
])
def test_tokens_and_passwords_in_bundled_files_are_found(stacks: dict[str, StackCase], content: str,
                                                         what: str) -> None:
    server = stacks["linode-dev"].one(LINODE_INSTANCE)
    data = _rendered_with("linode-dev", HostFile("/etc/hvps/app.env", content, "0600"))
    messages = check_resource(first_boot_secrets, server, first_boot_props(server, data))
    assert any(what in m and "etc/hvps/app.env" in m for m in messages), messages
    secret_value = content.split("=", 1)[-1].split(":")[-1].strip()
    assert all(secret_value not in m for m in messages)  # never echo the secret


def test_secrets_in_the_cloud_config_itself_are_found(stacks: dict[str, StackCase]) -> None:
    server = stacks["do-dev"].one(DROPLET)
    extra = ("chpasswd:\n  expire: false\n  users:\n  - {name: root, password: hunter2hunter2, type: text}\n"
             "write_files:\n- path: /root/key.b64\n  encoding: b64\n  content: "
             + base64.b64encode(PRIVATE_KEY.encode()).decode() + "\n")
    data = plain(server.inputs["userData"]).replace("\nwrite_files:\n", "\n" + extra, 1)  # before the bundle's entry
    with analysing(stacks["do-dev"]):
        (refused,) = check_resource(first_boot_present, server, first_boot_props(server, data))
    assert "differs from a fresh render" in refused  # and the secrets scan still names what it holds:
    messages = check_resource(first_boot_secrets, server, first_boot_props(server, data))
    assert any("cloud-config password" in m and "chpasswd.users[0].password" in m for m in messages), messages
    assert any("private key" in m and "base64" in m for m in messages), messages
    assert all("hunter2" not in m for m in messages)


def test_the_cloud_config_is_read_as_cloud_init_reads_it(stacks: dict[str, StackCase]) -> None:
    """cloud-init reads user data with PyYAML's pure-Python loader; LibYAML's refuses this text (a line of spaces
    and a tab inside a block scalar) that it accepts: the scan must still find the password cloud-init would set."""
    server = stacks["do-dev"].one(DROPLET)
    extra = "chpasswd:\n  users:\n  - name: root\n    password: |\n     \t\n      hunter2hunter2\n"
    data = plain(server.inputs["userData"]).replace("\nwrite_files:\n", "\n" + extra + "write_files:\n", 1)
    messages = check_resource(first_boot_secrets, server, first_boot_props(server, data))
    assert any("cloud-config password" in m and "chpasswd.users[0].password" in m for m in messages), messages


def test_launch_script_lines_are_scanned(stacks: dict[str, StackCase]) -> None:
    server = stacks["lightsail-dev"].one(LIGHTSAIL_INSTANCE)
    data = plain(server.inputs["userData"]).replace("set -eu\n",
                                             f"set -eu\nexport GITHUB_TOKEN=ghp_{'a1B2' * 9}\n", 1)
    lineno = data.splitlines().index(f"export GITHUB_TOKEN=ghp_{'a1B2' * 9}") + 1
    (message,) = check_resource(first_boot_secrets, server, first_boot_props(server, data))
    assert "GitHub token" in message and f"userData:{lineno}" in message


def test_multipart_user_data_parts_are_scanned(stacks: dict[str, StackCase]) -> None:
    server = stacks["linode-dev"].one(LINODE_INSTANCE)
    message = MIMEMultipart()
    message.attach(MIMEText(f"#!/bin/sh\necho {DO_TOKEN} > /root/.token\n", "x-shellscript"))
    data = base64.b64encode(gzip.compress(message.as_string().encode())).decode()
    (finding,) = check_resource(first_boot_secrets, server, first_boot_props(server, data))
    assert "DigitalOcean API token" in finding and "part 1" in finding and DO_TOKEN not in finding


# Encodings a secret may be hidden in. The scan decodes each of them, or refuses what it cannot read.
def _wrap(value: str, width: int) -> str:
    return "".join(value[i:i + width] + "\n" for i in range(0, len(value), width))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


KEY_BYTES = (PRIVATE_KEY + "# ~~~>>>???\n").encode()  # the comment puts + and / in its base64


PPK = ("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: test\nPublic-Lines: 2\n"
       "AAAAC3NzaC1lZDI1NTE5AAAAIFQ+WcI53fHeIf/+stPF+ivnechQ5PAbCTitw6VKY85w\nPrivate-Lines: 1\n"
       "AAAAIGmNb4yPyJ6gYmyVJ9Yh3aIxe3K5xLd3x8zDdNfj8ZAx\n")


AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYZ7EXAMPLEZ"  # the shape of an AWS secret access key (40 chars)


@pytest.mark.parametrize(("content", "what", "layer"), [
    pytest.param(_wrap(_b64(KEY_BYTES), 12), "private key", "base64", id="base64-wrapped-at-12"),
    pytest.param(_wrap(_b64(KEY_BYTES), 4), "private key", "base64", id="base64-wrapped-at-4"),
    pytest.param(_b64(lzma.compress(KEY_BYTES)), "private key", "xz", id="xz"),
    pytest.param(_b64(bz2.compress(KEY_BYTES)), "private key", "bz2", id="bz2"),
    pytest.param(base64.urlsafe_b64encode(KEY_BYTES).decode().rstrip("="), "private key", "base64",
                 id="urlsafe-base64-unpadded"),
    pytest.param(KEY_BYTES.hex(), "private key", "hex", id="hex"),
    pytest.param(_wrap(KEY_BYTES.hex(), 60), "private key", "hex", id="hex-wrapped"),
    pytest.param("printf '" + "".join(f"\\x{b:02x}" for b in KEY_BYTES) + "'\n", "private key", "hex",
                 id="hex-escapes"),
    pytest.param(PPK, "private key", "app.env:1", id="putty-ppk"),
    pytest.param(f"{AWS_KEY_ID}\n{AWS_SECRET}\n", "AWS secret access key", "app.env:2", id="aws-pair"),
    pytest.param(f"creds {AWS_SECRET} here\n", "AWS secret access key", "app.env:1", id="aws-secret-alone"),
    pytest.param(_b64(gzip.compress(b"x" * 100) + gzip.compress(KEY_BYTES)), "private key", "gzip",
                 id="second-gzip-member"),
    pytest.param(_b64(gzip.compress(b"\0" * (16 * 1024 * 1024 + 1) + KEY_BYTES)), "over the", "gzip",
                 id="past-the-inflate-limit"),
    pytest.param(_b64(gzip.compress(KEY_BYTES)[:-12]), "does not decompress", "gzip", id="truncated-gzip"),
    pytest.param(_b64(bz2.compress(KEY_BYTES)[:-8]), "does not decompress", "bz2", id="truncated-bz2"),
    pytest.param(_b64(b"\x28\xb5\x2f\xfd" + bytes(range(64))), "cannot open", "zstd", id="zstd"),
])
def test_hidden_secrets_are_found_or_refused(stacks: dict[str, StackCase], content: str, what: str,
                                            layer: str) -> None:
    """Fail closed: a secret in any of these encodings is found; data the scan cannot read is a violation."""
    server = stacks["do-dev"].one(DROPLET)
    data = _rendered_with("do-dev", HostFile("/etc/hvps/app.env", content, "0600"))
    messages = check_resource(first_boot_secrets, server, first_boot_props(server, data))
    assert any(what in m and layer in m and "etc/hvps/app.env" in m for m in messages), messages
    assert all(names_resource_and_fix(m, server) for m in messages)


@pytest.mark.parametrize("line", [
    pytest.param("a." * 32768, id="a-dot"), pytest.param("a" * 65536, id="one-base64-token"),
    pytest.param("a\n" * 32768, id="base64-block-of-short-lines"), pytest.param("0a" * 32768, id="hex"),
    pytest.param("password=" * 7282, id="assignments"), pytest.param("x://a:" * 10922, id="urls"),
    pytest.param("-----BEGIN " * 5958, id="pem-headers"), pytest.param("Authorization: Bearer " * 2978, id="auth"),
    pytest.param("AKIA" * 16384, id="aws-ids"), pytest.param("\\x41" * 16384, id="hex-escapes"),
    pytest.param("a_-" * 21845, id="urlsafe"), pytest.param("a=" * 32768, id="padding"),
])
def test_secret_scan_is_linear_on_adversarial_input(line: str) -> None:
    """64 KiB crafted to make a backtracking regex or a retrying decoder go quadratic is scanned in well under
    a second (the quadratic scan took 10 s on a quarter of this)."""
    raw = RawFirstBoot(line, "userData")
    started = time.perf_counter()
    find_secrets(raw)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("stack", [*DEV_STACKS, PROD])
def test_only_the_pinned_host_key_may_travel_in_first_boot(stacks: dict[str, StackCase], stack: str) -> None:
    """The host key at its one path is the project's own (secret user data); the same key anywhere else is not."""
    server = stacks[stack].one(SERVER_OF[stack])
    spec = load_stack_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    assert any(f.path == HOST_KEY_PATH for f in describe_first_boot(spec).files)
    assert check_resource(first_boot_secrets, server, server.inputs) == []  # as the program sends it
    data = _rendered_with(stack, HostFile(HOST_KEY_PATH + ".bak", PRIVATE_KEY, "0600"))
    (message,) = check_resource(first_boot_secrets, server, first_boot_props(server, data))
    assert "private key" in message and "ssh_host_ed25519_key.bak:1" in message


def _tar(name: str, content: str) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size = len(content.encode())
        tar.addfile(info, io.BytesIO(content.encode()))
    return raw.getvalue()


RSA_PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n" \
          "-----END RSA PRIVATE KEY-----\n"


@pytest.mark.parametrize("stack", [*DEV_STACKS, PROD])
@pytest.mark.parametrize("case_", ["nested-bundle", "other-key-at-the-path", "second-key-member", "encrypted-key"])
def test_host_key_exemption_covers_only_the_bundles_own_key(stacks: dict[str, StackCase], stack: str,
                                                            case_: str) -> None:
    """The secrets scan spares one private key: the member at the host-key path of the top-level bundle, once,
    shaped as the program makes it. The same path inside a bundled archive, an RSA or encrypted key there, or a
    second member of that name is reported."""
    server = stacks[stack].one(SERVER_OF[stack])
    spec = load_stack_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    first_boot = describe_first_boot(spec)
    if case_ == "nested-bundle":
        nested = base64.encodebytes(_tar(HOST_KEY_PATH.lstrip("/"), RSA_PEM)).decode()
        first_boot = replace(first_boot, files=(*first_boot.files, HostFile("/etc/hvps/extra.b64", nested, "0600")))
    elif case_ == "second-key-member":
        first_boot = replace(first_boot, files=(*first_boot.files, HostFile(HOST_KEY_PATH, RSA_PEM, "0600")))
    else:
        key = RSA_PEM if case_ == "other-key-at-the-path" else openssh_key(cipher=b"aes256-ctr")
        first_boot = describe_first_boot(spec, host_key=key)
    props = first_boot_props(server, render_as_vendor(server.type, first_boot))
    messages = check_resource(first_boot_secrets, server, props)
    # Linode's user data is two layers deeper (base64 of gzip): there the nested copy is past the depth limit,
    # refused as unreadable; everywhere else the key itself is reported.
    expected = "layers deep" if (stack, case_) == ("linode-dev", "nested-bundle") else "plaintext private key"
    assert messages and all(expected in m and "ssh_host_ed25519_key" in m for m in messages), messages
    assert all(names_resource_and_fix(m, server) for m in messages)


@pytest.mark.parametrize("host_name", [f"web{'x' * n}" for n in range(8)])
def test_launch_script_payload_is_never_read_past_its_end(host_name: str) -> None:
    """The heredoc's end line is not base64, so the scan never decodes payload + end line as one block (whose
    trailing bytes after the gzip stream it would refuse): clean for every payload length modulo 4."""
    spec = parse_host_spec(raw_config(vendor="lightsail", region="eu-central-1", hostName=host_name))
    raw = RawFirstBoot(render_first_boot(spec).launch_script, "userData")
    assert find_secrets(raw) == []


def _gzip_body_ending_in_a_40_character_line() -> str:
    """A wrapped base64 body of gzip data whose last line has the shape of an AWS secret access key."""
    noise = b"".join(hashlib.sha256(b"%d" % i).digest() for i in range(64))  # does not compress
    for size in range(200, 2048):
        lines = base64.encodebytes(gzip.compress(noise[:size], mtime=0)).decode().split()
        if len(lines) > 1 and re.fullmatch(r"[A-Za-z0-9+/]{40}", lines[-1]) and _looks_like_aws_secret(lines[-1]):
            return "\n".join(lines)
    raise AssertionError("no such payload")


def test_the_last_line_of_a_wrapped_payload_is_not_an_aws_secret() -> None:
    """A launch script's heredoc ends in a line of any length: 40 mixed-case characters are the end of the gzip
    body, read decoded, not a secret. The same 40 characters as a line of their own after it are still found."""
    body = _gzip_body_ending_in_a_40_character_line()
    end = wire.PAYLOAD_END
    script = f"#!/bin/sh\nbase64 -d >/tmp/x <<'{end}'\n{body}\n{end}\n"
    assert find_secrets(RawFirstBoot(script, "userData")) == []
    leaked = script.replace(f"\n{end}", f"\n{AWS_SECRET}\n{end}")
    assert [f.what for f in find_secrets(RawFirstBoot(leaked, "userData"))] == ["AWS secret access key"]

"""The first-boot wire format: what pack() makes parse() reads back exactly, nothing else parses, and the
host's own unpack command (python3 -c HOST_UNPACK, run here in a scratch root) writes exactly the rendered files."""

from __future__ import annotations

import base64
import gzip
import lzma
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from components.config import load_stack_file
from components.firstboot import PROVISION_SCRIPT, bundle, describe_first_boot, render_first_boot, wire
from policy.hardening_policies.first_boot import RawFirstBoot
from policy.hardening_policies.secrets import find_secrets
from tests.conftest import ROOT, STACK_FILES

PYTHON3 = shutil.which("python3")
needs_python3 = pytest.mark.skipif(PYTHON3 is None, reason="python3 is the host's unpacker")
#: An archive with no file: the magic line and the unpacker, what every archive starts with.
HEAD = wire.pack([])
ENTRIES = [wire.Entry("/etc/a.conf", 0o644, b"one\n"), wire.Entry("/etc/x/y", 0o600, b""),
           wire.Entry("/usr/local/sbin/s", 0o700, "#!/bin/sh\nécho\n\n".encode())]


def test_pack_then_parse_gives_back_the_files_in_order() -> None:
    archive = wire.pack(ENTRIES)
    assert archive.startswith(wire.MAGIC)
    assert wire.parse(archive) == ENTRIES
    assert wire.unpack(wire.compress(archive)) == ENTRIES
    assert wire.compress.__wrapped__(archive) == wire.compress.__wrapped__(archive)  # reproducible, uncached


@pytest.mark.parametrize("archive", [
    b"", b"hvps-bundle 2\n", wire.pack(ENTRIES)[:-1], wire.pack(ENTRIES) + b"x",
    HEAD + b"0644 5 /etc/a\nabc",  # runs past the end
    HEAD + b"644 0 /etc/a\n", HEAD + b"0644 -1 /etc/a\n", HEAD + b"0644 01 /etc/a\nx",
    HEAD + b"0644 0 etc/a\n", HEAD + b"0644 0 /etc/../root/x\n", HEAD + b"0644 0 /\xff\n",
    wire.MAGIC + b"0644 0 /etc/a\n", HEAD.replace(b"\ni=k\n", b"\ni=0\n"),
], ids=["empty", "version", "truncated", "trailing", "past-end", "mode", "negative", "leading-zero", "relative",
        "dotdot", "not-utf8", "no-unpacker", "another-unpacker"])
def test_parse_refuses_what_pack_would_not_make(archive: bytes) -> None:
    with pytest.raises(wire.WireError):
        wire.parse(archive)


@pytest.mark.parametrize("path", ["etc/a", "/etc/../x", "/etc/a\nb", "/etc/"])
def test_pack_refuses_paths_the_host_would_write_elsewhere(path: str) -> None:
    with pytest.raises(wire.WireError):
        wire.pack([wire.Entry(path, 0o644, b"")])


def test_unpack_refuses_what_is_not_xz() -> None:
    with pytest.raises(wire.WireError, match="xz"):
        wire.unpack(wire.pack(ENTRIES))


def test_host_unpack_fits_in_one_single_quoted_sh_word() -> None:
    assert "'" not in wire.HOST_UNPACK


@pytest.mark.parametrize("stack", ["vultr-dev", "lightsail-dev"])
def test_the_unpacker_travels_once_and_compressed(stack: str) -> None:
    """The forms carry only the short step that runs the bundle's own unpacker, and so does the provisioner,
    which unpacks converge bundles with it: one copy of the unpacker per bundle."""
    spec = load_stack_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    rendered = render_first_boot(spec)
    assert "O_NOFOLLOW" not in rendered.cloud_config and "O_NOFOLLOW" not in rendered.launch_script
    assert yaml.safe_load(rendered.cloud_config)["runcmd"][0] == wire.host_unpack_argv()
    assert f"\n{shlex.join(wire.host_unpack_argv())}\n" in rendered.launch_script
    archive = lzma.decompress(bundle(describe_first_boot(spec)))
    assert archive.count(b"O_NOFOLLOW") == 1 and archive.startswith(HEAD)
    provisioner = next(f for f in describe_first_boot(spec).files if f.path == PROVISION_SCRIPT)
    assert f"python3 -c {shlex.quote(wire.HOST_UNPACK)} " in provisioner.content


def _run_host_unpack(bundle_file: Path, root: Path) -> subprocess.CompletedProcess[str]:
    argv = wire.host_unpack_argv(f"{root}/")
    assert argv[-2] == wire.BUNDLE_PATH
    argv[-2] = str(bundle_file)
    assert PYTHON3 is not None
    return subprocess.run([PYTHON3, *argv[1:]], capture_output=True, text=True, timeout=30,
                          preexec_fn=lambda: os.umask(0o077))  # a strict umask: the modes must not follow it


@needs_python3
@pytest.mark.parametrize("stack", ["do-dev", "prod"])
def test_cloud_config_form_unpacks_with_the_host_command(tmp_path: Path, stack: str) -> None:
    """write_files' bytes, then runcmd's unpack argv as cloud-init runs it (root relocated): every file, its
    bytes and mode; a symlink planted at a path is replaced, never followed; missing directories are made."""
    spec = load_stack_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    document = yaml.safe_load(render_first_boot(spec).cloud_config)
    (entry,) = document["write_files"]
    assert document["runcmd"] == [wire.host_unpack_argv(), [PROVISION_SCRIPT]]
    bundle_file = tmp_path / "bundle"
    bundle_file.write_bytes(base64.b64decode(entry["content"]))
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.write_text("untouched\n")
    (root / "etc/issue.net").symlink_to(outside)

    done = _run_host_unpack(bundle_file, root)

    assert done.returncode == 0, done.stderr
    assert outside.read_text() == "untouched\n"
    written = {str(p.relative_to(root)): p for p in root.rglob("*") if p.is_file() or p.is_symlink()}
    expected = describe_first_boot(spec).files
    assert sorted(written) == sorted(f.path.lstrip("/") for f in expected)
    for f in expected:
        path = written[f.path.lstrip("/")]
        assert not path.is_symlink() and path.read_text() == f.content, f.path
        assert oct(path.stat().st_mode & 0o7777) == oct(int(f.mode, 8)), f.path


@needs_python3
@pytest.mark.parametrize("archive", [
    HEAD + b"0644 3 /../escaped\nabc", HEAD + b"0644 9 /etc/a\nabc", b"not a bundle\n",
    HEAD + b"0644 -3 /etc/a\nabc", wire.MAGIC + b"0644 3 /etc/a\nabc", HEAD[:-1],
    HEAD.replace(b"0644 ", b"0644 x", 1),
], ids=["dotdot", "past-end", "magic", "negative", "no-unpacker", "short-unpacker", "unpacker-size"])
def test_host_unpack_stops_on_a_malformed_bundle(tmp_path: Path, archive: bytes) -> None:
    bundle_file = tmp_path / "bundle"
    bundle_file.write_bytes(wire.compress(archive))
    root = tmp_path / "root"
    root.mkdir()
    done = _run_host_unpack(bundle_file, root)
    assert done.returncode != 0 and "hvps:" in done.stderr
    assert not (tmp_path / "escaped").exists() and list(root.rglob("*")) == []


def test_forms_are_read_back_by_the_wire_readers() -> None:
    spec = load_stack_file(ROOT / "stacks" / "Pulumi.lightsail-dev.yaml")
    rendered = render_first_boot(spec)
    expected = bundle(describe_first_boot(spec))
    assert wire.bundle_of_cloud_config(rendered.cloud_config) == expected
    assert wire.bundle_of_launch_script(rendered.launch_script) == expected
    with pytest.raises(wire.WireError):
        wire.bundle_of_launch_script(rendered.launch_script.replace(wire.PAYLOAD_END, "EOF"))
    with pytest.raises(wire.WireError):
        wire.bundle_of_cloud_config("#cloud-config\nruncmd: []\n")


def test_launch_script_payload_is_one_line() -> None:
    """A wrapped payload's last line can be 40 base64 characters, which the secrets scan takes for an AWS key."""
    spec = load_stack_file(ROOT / "stacks" / "Pulumi.lightsail-dev.yaml")
    script = render_first_boot(spec).launch_script
    body = base64.b64encode(bundle(describe_first_boot(spec))).decode()
    assert f"\n{body}\n" in script and len(body) > 1000


def test_a_malformed_bundle_is_unreadable_to_the_secrets_scan() -> None:
    """The pack reads bundles with wire.parse: one that does not parse is refused (fail closed), not skipped."""
    data = base64.b64encode(wire.compress(HEAD + b"0600 99 /etc/hvps/app.env\nTOKEN=x")).decode()
    findings = find_secrets(RawFirstBoot(data, "userData"))
    assert [f.unreadable for f in findings] == [True] and "does not parse" in findings[0].what


def test_each_form_is_told_apart_and_read_back_by_its_first_line() -> None:
    spec = load_stack_file(ROOT / "stacks" / "Pulumi.linode-dev.yaml")
    rendered = render_first_boot(spec)
    expected = bundle(describe_first_boot(spec))
    assert wire.form_of(rendered.cloud_config) == "cloud-config"
    assert wire.form_of(rendered.launch_script) == "launch-script"
    assert wire.bundle_of_user_data(rendered.cloud_config) == wire.bundle_of_user_data(rendered.launch_script) \
        == expected
    metadata = wire.gzip_base64(rendered.cloud_config)
    assert wire.cloud_config_of_gzip_base64(metadata) == rendered.cloud_config
    with pytest.raises(wire.WireError, match="neither"):
        wire.bundle_of_user_data("echo hello\n")


def test_readers_stop_at_their_inflation_limit() -> None:
    """Hostile user data reaches these readers (the policy pack): a decompression bomb is refused, not inflated."""
    big = b"x" * 4096
    with pytest.raises(wire.WireError, match="inflates past"):
        wire.cloud_config_of_gzip_base64(base64.b64encode(gzip.compress(big)).decode(), limit=1024)
    with pytest.raises(wire.WireError, match="inflates past"):
        wire.unpack(wire.compress(wire.pack([wire.Entry("/etc/a", 0o644, big)])), limit=1024)
    assert wire.unpack(wire.compress(wire.pack([wire.Entry("/etc/a", 0o644, big)])), limit=8192)[0].content == big
    with pytest.raises(wire.WireError, match="not base64"):
        wire.cloud_config_of_gzip_base64("not base64 at all!")


def test_a_bundle_entry_whose_content_is_not_text_is_refused() -> None:
    """The parser never turns a YAML node into text: an alias chain as `content` is refused, not unfolded."""
    chain = "\n".join(["x0: &x0 [a]", *(f"x{n}: &x{n} [*x{n - 1}, *x{n - 1}]" for n in range(1, 40))])
    text = (f"#cloud-config\n{chain}\nwrite_files:\n- path: {wire.BUNDLE_PATH}\n  encoding: b64\n"
            "  content: *x39\n")
    with pytest.raises(wire.WireError, match="base64-encoded text"):
        wire.bundle_of_cloud_config(text)


@pytest.mark.parametrize("stack", [p.name for p in STACK_FILES])
def test_the_cloud_config_text_is_the_same_with_or_without_libyaml(stack: str) -> None:
    """The form is emitted with LibYAML where PyYAML has it: the pure-Python emitter must write the same text, or
    the user data would depend on the machine that runs `pulumi up` (a replacement-forcing input)."""
    rendered = render_first_boot(load_stack_file(ROOT / "stacks" / stack))
    header, body = rendered.cloud_config.split("\n", 2)[1:]
    document = yaml.load(body, Loader=yaml.SafeLoader)
    assert wire.cloud_config_text(header, document) == rendered.cloud_config
    pure = yaml.dump(document, Dumper=yaml.SafeDumper, sort_keys=False, width=100_000)
    assert rendered.cloud_config == f"{wire.CLOUD_CONFIG_LINE}\n{header}\n{pure}"
    assert wire.cloud_config_document(rendered.cloud_config) == document


def test_a_bundle_decodes_within_two_mib_of_decoder_memory() -> None:
    """The dictionary is the bundle's size, not preset 9's 64 MiB: a 512 MB server's decoder needs little."""
    packed = bundle(describe_first_boot(load_stack_file(ROOT / "stacks" / "Pulumi.prod.yaml")))
    decoder = lzma.LZMADecompressor(lzma.FORMAT_XZ, memlimit=2 << 20)
    assert wire.parse(decoder.decompress(packed)) and decoder.eof
    with pytest.raises(lzma.LZMAError):  # what the limit refuses: the same files with preset 9's dictionary
        lzma.LZMADecompressor(lzma.FORMAT_XZ, memlimit=2 << 20).decompress(
            lzma.compress(b"x" * 1000, format=lzma.FORMAT_XZ, preset=9))

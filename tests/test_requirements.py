"""Dependencies: each pinned once, every one pinned, and the hash locks agree with the pins.

The requirement files (requirements.txt, policy/requirements.txt, requirements-dev.txt, each including the one
before) hold the direct pins; requirements.lock and requirements-dev.lock (`make lock`) hold the transitive set
with hashes, and the Makefile installs from those with `--require-hashes`.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ROOT

SOURCES = ("requirements.txt", "policy/requirements.txt", "requirements-dev.txt")
#: Each lock and the requirement files whose pins it must hold.
LOCKED = {"requirements.lock": SOURCES[:2], "requirements-dev.lock": SOURCES}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)$")


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a file, comments and includes (`-r`) left out."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-r ")]


def pins(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in requirement_lines(path):
        match = PIN.match(line)
        assert match, f"{path.relative_to(ROOT)}: not pinned with ==: {line!r}"
        found[normalized(match[1])] = match[2]
    return found


def lock_entries(path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """name -> (version, sha256 hashes) of a pip-compile lock with --generate-hashes."""
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    entries = {}
    for line in text.splitlines():
        if line and not line.startswith((" ", "#")):
            spec, *rest = line.split()
            name, version = spec.split("==")
            hashes = frozenset(h.removeprefix("--hash=sha256:") for h in rest if h.startswith("--hash=sha256:"))
            entries[normalized(name)] = (version, hashes)
    return entries


def test_every_requirement_is_pinned_and_each_pin_is_written_once() -> None:
    seen: dict[str, str] = {}
    for source in SOURCES:
        for name in pins(ROOT / source):
            assert name not in seen, f"{name} is pinned in both {seen[name]} and {source}: keep one"
            seen[name] = source
    assert {"pip", "types-pyyaml", "pulumi-policy", "grpcio", "protobuf"} <= set(seen)


def test_the_requirement_files_include_each_other_in_a_chain() -> None:
    assert "-r ../requirements.txt" in (ROOT / "policy/requirements.txt").read_text()
    assert "-r policy/requirements.txt" in (ROOT / "requirements-dev.txt").read_text()


def test_the_locks_hold_every_pin_with_hashes() -> None:
    for lock, sources in LOCKED.items():
        entries = lock_entries(ROOT / lock)
        for source in sources:
            for name, version in pins(ROOT / source).items():
                assert name in entries, f"{lock} lacks {name} (pinned in {source}); run: make lock"
                assert entries[name][0] == version, (f"{lock} has {name}=={entries[name][0]}, {source} pins "
                                                     f"{version}; run: make lock")
        unhashed = [name for name, (_, hashes) in entries.items() if not hashes]
        assert not unhashed, f"{lock}: entries without a sha256: {unhashed}"


def test_the_runtime_lock_is_the_dev_lock_restricted_to_the_runtime() -> None:
    runtime, dev = lock_entries(ROOT / "requirements.lock"), lock_entries(ROOT / "requirements-dev.lock")
    assert len(runtime) >= 10 and len(dev) > len(runtime)
    differing = {name: (entry, dev.get(name)) for name, entry in runtime.items() if dev.get(name) != entry}
    assert not differing, f"the locks disagree (run: make lock): {differing}"


def test_the_makefile_installs_only_from_the_locks_with_hashes() -> None:
    installs = re.findall(r"^\t.*pip install.*$", (ROOT / "Makefile").read_text(), re.M)
    assert installs, "the Makefile installs nothing?"
    for command in installs:
        assert "--require-hashes" in command and re.search(r"-r requirements(-dev)?\.lock\b", command), command


def test_lock_entries_reads_versions_and_hashes(tmp_path: Path) -> None:
    sample = ("a-b==1.0 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n    # via x\n"
              "C_d==2 \\\n    --hash=sha256:cc\n")
    path = tmp_path / "sample.lock"
    path.write_text(sample)
    assert lock_entries(path) == {"a-b": ("1.0", frozenset({"aa", "bb"})), "c-d": ("2", frozenset({"cc"}))}

"""Write the hash-pinned lock files from the requirement files: `make lock` (python -m tools.lock).

The requirement files pin each direct dependency once; the locks pin the whole transitive set with the sha256 of
every file PyPI publishes for that version, so `pip install --require-hashes` refuses anything else. The dev lock
is resolved first and the runtime lock within it, so both agree on every shared package. Resolution uses PyPI
alone (pip's default index; local pip configuration is set aside) and the interpreter running this, which should
be CI's: Python 3.11.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: (lock file, the requirement file it locks), in the order they are written: the dev lock constrains the runtime.
LOCKS = (("requirements-dev.lock", "requirements-dev.txt"), ("requirements.lock", "policy/requirements.txt"))
#: The environment variables through which local pip configuration would add indexes, links or constraints.
PIP_CONFIG_VARIABLES = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CONSTRAINT", "PIP_NO_INDEX")


def pypi_only_environment(environ: dict[str, str]) -> dict[str, str]:
    """The environment minus local pip configuration, so the lock names PyPI's files only."""
    clean = {k: v for k, v in environ.items() if k not in PIP_CONFIG_VARIABLES}
    clean["PIP_CONFIG_FILE"] = os.devnull
    clean["CUSTOM_COMPILE_COMMAND"] = "make lock"
    return clean


def compile_command(lock: str, source: str, constraint: str | None) -> list[str]:
    """pip-compile resolving `source` into `lock` with hashes (pip itself included: `make setup` installs it)."""
    command = [sys.executable, "-m", "piptools", "compile", "--quiet", "--generate-hashes", "--allow-unsafe",
               "--strip-extras", "--no-emit-index-url", "--no-emit-find-links", "--no-emit-trusted-host",
               "--newline", "LF", "--output-file", lock, source]
    if constraint:
        command += ["--constraint", constraint]
    return command


def main() -> int:
    env = pypi_only_environment(dict(os.environ))
    written: list[str] = []
    for lock, source in LOCKS:
        subprocess.run(compile_command(lock, source, written[0] if written else None), check=True, cwd=ROOT,
                       env=env)
        written.append(lock)
    print("wrote", " ".join(written))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`python -m e2e <scenario>` is the real-VM proof's one entry point (e2e/__main__.py), and what runs it uses it."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from e2e import __main__ as entry
from e2e import nspawn_lynis
from e2e import options as opts
from tests.conftest import ROOT


@pytest.mark.parametrize("name", [n for n in entry.SCENARIOS if n not in ("apt-outage", "container")])
def test_every_scenario_is_a_valid_set_of_runner_options(name: str) -> None:
    opts.options(entry.SCENARIOS[name][1])


def test_lynis_in_the_vm_is_a_scenario_of_its_own_and_all_runs_it_in_the_container() -> None:
    vm = opts.options(entry.SCENARIOS["lynis"][1])
    assert not vm.skip_lynis and vm.lynis_form == "tls" and vm.tls and vm.tls_form == "script"
    assert vm.name == "lynis" and not vm.negative_last          # the report is named; the host is not weakened
    assert nspawn_lynis.parser().parse_args(entry.SCENARIOS["container"][1]).no_lynis is False


@pytest.mark.parametrize("argv", [["--forms", "", "--tls"], ["--forms", "cloud-config", "--lynis-form", "tls"],
                                  ["--forms", "script", "--lynis-form", "cloud-config"]])
def test_options_where_lynis_would_run_nowhere_are_refused(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        opts.options(argv)
    assert exit_.value.code == 2 and "Lynis would run nowhere" in capsys.readouterr().err
    opts.options([*argv, "--skip-lynis"])


def test_the_scenarios_are_what_exists() -> None:
    assert set(entry.SCENARIOS) == {"forms", "releases", "converge", "hostile", "apt-outage", "tls", "negative",
                                    "bootspeed", "data", "lynis", "container", "all"}
    d = opts.parser().parse_args(entry.SCENARIOS["data"][1])
    assert d.data and d.tls and d.tls_form == "script" and d.forms == ""
    assert entry.SCENARIOS["all"][1] == []          # its lanes' options: tests/test_e2e_lanes.py
    f = opts.parser().parse_args(entry.SCENARIOS["forms"][1])
    assert f.forms == "cloud-config,script" and not f.full_forms
    c = opts.parser().parse_args(entry.SCENARIOS["converge"][1])
    assert c.skip_releases and not c.skip_converge and c.forms == "cloud-config"


def test_an_unknown_or_missing_scenario_prints_the_list() -> None:
    p = subprocess.run([sys.executable, "-m", "e2e", "nope"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "scenarios:" in p.stderr and "  all " in p.stderr


def test_make_ci_and_the_vm_test_go_through_the_entry_point() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "-m e2e.run" not in makefile and "-m e2e negative" in makefile
    assert '"-m", "e2e", "all"' in (ROOT / "tests" / "test_e2e_vm.py").read_text()
    assert "make e2e" in (ROOT / ".ci" / "run").read_text()


def test_the_entry_point_is_the_only_script_of_the_harness() -> None:
    """Every tool and scenario goes through `python -m e2e`; no other module runs as a script."""
    scripts = [p.name for p in sorted((ROOT / "e2e").glob("*.py"))
               if p.name != "__main__.py" and re.search(r"__name__ == .__main__.", p.read_text())]
    assert scripts == []
    documented = "\n".join((ROOT / f).read_text() for f in ("README.md", "e2e/README.md", "Makefile", ".ci/run"))
    assert re.findall(r"python -m e2e\.\w+", documented) == []
    assert set(entry.TOOLS) & set(entry.SCENARIOS) == set()


@pytest.mark.parametrize("tool", ["run", "image", "boot", "smoke", "boot-times", "summary", "timings", "container"])
def test_every_tool_answers_help_through_the_entry_point(tool: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        entry.main([tool, "--help"])
    assert exit_.value.code == 0 and "python -m e2e" in capsys.readouterr().out


def test_no_e2e_module_has_a_run_as_a_script_import_shim() -> None:
    for path in sorted((ROOT / "e2e").glob("*.py")):
        text = path.read_text()
        assert not re.search(r"except ImportError|sys\.path\.insert", text), path.name


def test_the_harness_is_type_checked_like_the_rest() -> None:
    """e2e/ is in mypy's files, and no override silences it (ignore_errors, follow_imports)."""
    import tomllib
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert "e2e" in mypy["files"]
    for override in mypy.get("overrides", []):
        modules = override["module"] if isinstance(override["module"], list) else [override["module"]]
        assert not any(m == "e2e" or m.startswith("e2e.") for m in modules), override

"""No code reads comments, the wire format's lines or the provisioner's log lines as data:
components/firstboot/wire.py alone renders and parses first-boot data (each form's first line, its header
comment, the heredoc, the bundle), and components/firstboot/progress.py alone reads what the provisioner reports
(its progress record, the converge report). Purposes and steps come from the host-configuration data
(components/firstboot/concerns.py), never from a comment or a log line.

The scan walks the syntax tree of every module in components/, tools/, policy/ and e2e/ and flags:
`startswith`/`endswith`/`removeprefix` with a `#...` argument, a regular expression anchored on `#`, and a
string holding one of the markers used as data outside its owner: compared, searched for, split on, or laid out
as a line (in a list, a tuple or a concatenation); prose that names a marker (a docstring, a message) is not data.
The wire module may read comment lines: its format has them.
Five functions read comment lines of files that are not first-boot data, by design; they are listed with why,
and must still exist.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from components.firstboot import progress, wire
from tests.conftest import ROOT

SCANNED = ("components", "tools", "policy", "e2e")
WIRE = ROOT / "components" / "firstboot" / "wire.py"
PROGRESS = ROOT / "components" / "firstboot" / "progress.py"
#: Each marker and the one module that may spell it: the wire format's, and the provisioner's report lines (its
#: journal lines are for people; the progress record is the data).
MARKERS = {**dict.fromkeys((wire.CLOUD_CONFIG_LINE, wire.LAUNCH_SCRIPT_LINE, wire.PAYLOAD_END,
                            wire.MAGIC.decode().strip(), "hardened-vps first boot"), WIRE),
           "hvps-provision:": PROGRESS, progress.CONVERGE_PREFIX.strip(): PROGRESS}
#: (module, function) -> why it may match comment lines: none of them reads first-boot data.
ALLOWED = {
    ("components/firstboot/templating.py", "without_comment_lines"):
        "renders a template for the host: drops its comment lines, reads nothing from them",
    ("components/envfile.py", "parse_line"): "the app's dotenv text from the stack: comment lines are skipped",
    ("components/app/package.py", "_ignore_patterns"): "the app's ignore file: comment lines are skipped",
    ("e2e/build_image.py", "apt_source_entries"): "this machine's apt sources: comment lines are skipped",
    ("e2e/lynis.py", "parse"): "Lynis's report file: its comment lines are skipped",
}
_STRING_TESTS = frozenset({"startswith", "endswith", "removeprefix", "removesuffix"})
_RE_CALLS = frozenset({"compile", "search", "match", "fullmatch", "findall", "finditer", "sub", "subn", "split"})
_ANCHORED_ON_HASH = re.compile(r"^\^?(?:\\s[*+]\+?|\s)*#")
#: Methods that search text for their argument: a marker passed to one is matched against data.
_SEARCHES = _STRING_TESTS | _RE_CALLS | {"index", "find", "rfind", "count", "replace", "partition", "rpartition"}


def _strings(node: ast.AST) -> list[str]:
    """The string constants of an argument (a tuple's too)."""
    items = node.elts if isinstance(node, ast.Tuple) else [node]
    return [i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)]


def _used_as_data(node: ast.Constant, parent: ast.AST | None) -> bool:
    """A string compared, searched for, or laid out as a line of rendered data (not prose in a message)."""
    if isinstance(parent, (ast.Compare, ast.List, ast.Tuple, ast.BinOp)):
        return True
    return isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute) and parent.func.attr in _SEARCHES


def comment_matching(source: str, path: Path | None = None) -> list[tuple[str, int, str]]:
    """(enclosing function, line, what) for each place `source` (the module at `path`) matches comment lines or
    a marker it does not own."""
    tree = ast.parse(source)
    parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    owner: dict[int, str] = {}
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(fn):
                owner.setdefault(id(inner), fn.name)
    found = []
    for node in ast.walk(tree):
        where = (owner.get(id(node), "<module>"), getattr(node, "lineno", 0))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args and path != WIRE:
            name = node.func.attr
            if name in _STRING_TESTS and any(s.startswith("#") for s in _strings(node.args[0])):
                found.append((*where, f".{name}() of a '#' line"))
            if name in _RE_CALLS and any(_ANCHORED_ON_HASH.match(s) for s in _strings(node.args[0])):
                found.append((*where, f"re.{name}() anchored on '#'"))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and _used_as_data(node, parents.get(id(node))):
            found += [(*where, f"the marker {m!r}") for m, owner in MARKERS.items()
                      if m in node.value and owner != path]
    return found


def _modules() -> list[Path]:
    return sorted(p for d in SCANNED for p in (ROOT / d).rglob("*.py"))


def test_no_module_but_the_wire_format_matches_comment_lines_or_wire_markers() -> None:
    problems = [f"{path.relative_to(ROOT)}:{line} in {fn}: {what}"
                for path in _modules() for fn, line, what in comment_matching(path.read_text(), path)
                if (str(path.relative_to(ROOT)), fn) not in ALLOWED]
    assert problems == [], "\n".join(problems)


def test_each_allowed_exception_still_exists_and_still_matches() -> None:
    """An allowance whose function is gone or no longer matches comment lines is removed, not kept as a hole."""
    for (module, function), why in ALLOWED.items():
        assert why
        hits = [fn for fn, _, _ in comment_matching((ROOT / module).read_text())]
        assert function in hits, (module, function)


def test_the_scan_catches_what_the_code_used_to_do() -> None:
    """Lines the project had before the wire module owned the format: each is found."""
    old = '''
def scan(value, layer, data):
    if value.startswith("#cloud-config"):
        pass
    header = "".join(line for line in data.splitlines() if line.startswith("#"))
    lines = ["#cloud-config", "# hardened-vps first boot"]
    body = data.split("<<'HVPS.EOF'\\n", 1)[1]
    steps = re.findall(r"^# step: (.*)$", data, re.M)
    converged = [line for line in data.splitlines() if line.startswith("hvps-converge:")]
    ready = "hvps-provision: state: locked-down" in data
'''
    whats = [what for _, _, what in comment_matching(old)]
    assert whats.count(".startswith() of a '#' line") == 2
    assert "re.findall() anchored on '#'" in whats
    assert {f"the marker {m!r}" for m in ("#cloud-config", "hardened-vps first boot", "HVPS.EOF")} <= set(whats)
    # the e2e harness's old readers of the provisioner's log (boot timing, the converge report)
    assert {f"the marker {m!r}" for m in ("hvps-converge:", "hvps-provision:")} <= set(whats)
    assert "the marker 'HVPS.EOF'" not in [what for _, _, what in comment_matching(old, WIRE)]    # its owner may
    prose = 'def ok(text):\n    """Mentions #cloud-config."""\n    report(f"{text}: #cloud-config is ignored")\n'
    assert comment_matching(prose) == []

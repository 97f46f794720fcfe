"""A vendor is one unit: outside its own folder (components/vendors/<name>/) only the registry
(components/vendors/__init__.py) names it, so adding or dropping a vendor touches one folder and one list."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ROOT

#: Where vendor names belong: the vendor folders and the registry that lists them. Stacks, tests and docs are
#: not Python modules of the product and are never scanned.
SCANNED = ("components", "tools", "policy", "e2e")
REGISTRY = "components/vendors/__init__.py"
VENDOR_HOME = "components/vendors/"
#: Modules that still name a vendor while the move into vendor folders goes on. The list may only shrink: a name
#: that no longer needs to be here fails the test.
#: On the code before the registry, 29 modules named a vendor.
NOT_YET_MOVED: frozenset[str] = frozenset({
    "components/app/component.py", "components/changes.py", "components/config/schema.py",
    "components/firstboot/__init__.py", "components/firstboot/concerns.py", "components/firstboot/description.py",
    "components/firstboot/forms.py", "components/firstboot/templating.py", "components/firstboot/wire.py",
    "components/host.py", "tools/gen_pulumi_yaml.py", "tools/plan/firstboot.py",
    "policy/hardening_policies/compute.py", "policy/hardening_policies/first_boot.py",
    "policy/hardening_policies/network.py", "policy/hardening_policies/pack.py",
    "policy/hardening_policies/resources.py", "policy/hardening_policies/secrets.py",
    "policy/hardening_policies/stack_graph.py", "e2e/smoke.py",
})


def vendor_names() -> tuple[str, ...]:
    from components.vendors import VENDORS
    return tuple(v.name for v in VENDORS)


def _pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(n) for n in names), re.IGNORECASE)


def offenders(names: tuple[str, ...], root: Path = ROOT) -> dict[str, list[str]]:
    """Each Python module outside the vendor folders and the registry that names a vendor -> the names it uses."""
    pattern = _pattern(names)
    found: dict[str, list[str]] = {}
    for top in SCANNED:
        for path in sorted((root / top).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel == REGISTRY or (rel.startswith(VENDOR_HOME) and rel.count("/") >= 3):
                continue
            hits = sorted({m.group(0).lower() for m in pattern.finditer(path.read_text())})
            if hits:
                found[rel] = hits
    return found


def test_only_the_registry_and_vendor_folders_name_a_vendor() -> None:
    found = offenders(vendor_names())
    unexpected = {path: names for path, names in found.items() if path not in NOT_YET_MOVED}
    assert not unexpected, f"modules naming a vendor outside components/vendors/<name>/: {unexpected}"
    assert not NOT_YET_MOVED - set(found), f"no longer name a vendor, drop from NOT_YET_MOVED: " \
                                           f"{sorted(NOT_YET_MOVED - set(found))}"


def test_the_scan_sees_a_vendor_name(tmp_path: Path) -> None:
    (tmp_path / "components" / "vendors" / "acme").mkdir(parents=True)
    (tmp_path / "components" / "vendors" / "acme" / "__init__.py").write_text("NAME = 'acme'\n")
    (tmp_path / "components" / "vendors" / "__init__.py").write_text("from . import acme\n# Acme\n")
    (tmp_path / "components" / "catalog.py").write_text("# prices of ACME plans\n")
    (tmp_path / "components" / "clean.py").write_text("x = 1\n")
    assert offenders(("acme",), tmp_path) == {"components/catalog.py": ["acme"]}


def test_every_vendor_has_its_folder() -> None:
    for name in vendor_names():
        assert (ROOT / VENDOR_HOME / name / "__init__.py").is_file(), name


def test_the_registry_imports_no_vendor_sdk() -> None:
    import subprocess
    import sys
    code = ("import sys; import components.vendors, components.catalog, components.regions, "
            "components.testing.mockrun; print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('pulumi_digitalocean', 'pulumi_linode', 'pulumi_aws')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_each_adapter_is_its_vendors_host_class() -> None:
    from components.vendors import VENDORS, host_class
    for vendor in VENDORS:
        cls = host_class(vendor.name)
        assert cls.__module__ == f"components.vendors.{vendor.name}.adapter"
        assert cls.type_token.startswith("hardened-vps:index:")

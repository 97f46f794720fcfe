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
#: Modules that name a vendor by design, each with why. Any other module naming one fails the test, and so does
#: an entry here that no longer names one. (On the code before the registry, 29 modules named a vendor.)
NAMES_A_VENDOR_BY_DESIGN: dict[str, str] = {
    "policy/hardening_policies/secrets.py": "a secret pattern names the service whose API token it finds",
    "components/firstboot/description.py": "the monitoring agent drop-in's first line, written on running hosts: "
                                           "rewording it would converge (and restart the agent on) each of them",
}


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
    unexpected = {path: names for path, names in found.items() if path not in NAMES_A_VENDOR_BY_DESIGN}
    assert not unexpected, f"modules naming a vendor outside components/vendors/<name>/: {unexpected}"
    gone = sorted(set(NAMES_A_VENDOR_BY_DESIGN) - set(found))
    assert not gone, f"no longer name a vendor, drop from NAMES_A_VENDOR_BY_DESIGN: {gone}"


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


def test_each_vendor_states_the_same_vendor_dependent_keys() -> None:
    """components/changes.py takes these keys from each vendor's folder: a vendor missing one, or stating one the
    table takes from nowhere, is caught here rather than by a KeyError at import or a fact nobody reads."""
    from components import changes
    from components.vendors import VENDORS
    own = {key for key, by_vendor in changes.CHANGES.items()
           if any(by_vendor[v.name] is v.changes.get(key) for v in VENDORS)}
    assert own and all(set(v.changes) == own for v in VENDORS), {v.name: sorted(v.changes) for v in VENDORS}


def test_each_vendors_resource_facts_name_its_own_types() -> None:
    """Every type token a vendor's facts name is of that vendor's SDK package, and no two vendors share one."""
    from components.vendors import VENDORS
    seen: set[str] = set()
    for vendor in VENDORS:
        types = vendor.resources.types
        assert len({t.split(":")[0] for t in types}) == 1, (vendor.name, sorted(types))
        assert not types & seen, vendor.name
        seen |= types


def test_each_vendors_sent_form_carries_its_first_boot_form() -> None:
    """The policy pack reads the form from `first_boot_form`, the renderer encodes by `sent_form`: they agree."""
    from components.firstboot import SENT_FORMS
    from components.vendors import VENDORS
    for vendor in VENDORS:
        assert SENT_FORMS[vendor.sent_form].carries == vendor.first_boot_form, vendor.name

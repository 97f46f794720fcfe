"""The offline plan and vendor comparison (tools/plan.py), its golden files and the region table."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from pulumi.runtime import rpc

from components import catalog, changes
from components.config import DEFAULT_REGIONS, load_stack_file, stack_name_of
from components.cost import monthly_cost
from components.firstboot import (
    CONVERGE_COMMAND,
    HOST_KEY_PATH,
    converge_files,
    describe_first_boot,
    file_digest,
    linode_user_data,
    render_first_boot,
)
from components.firstboot.concerns import concern_of, concerns_for
from components.hostconfig import converge_stdin
from components.regions import REGION_LOCATIONS, distance_km, find_place, nearest
from components.testing import mockrun
from policy import hardening_policies as hp
from tests.conftest import ALL_STACK_FILES, STACK_FILES
from tools import plan

REFRESH = f"If the change is intended, review the diff and run: {plan.REFRESH_COMMAND}"


def _section(text: str, title: str) -> str:
    """One `### title` section of a Markdown document."""
    match = re.search(rf"^### {re.escape(title)}.*?\n(.*?)(?=^### |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"no section {title!r}"
    return match.group(1)


def _assert_markdown_well_formed(text: str) -> None:
    assert text.count("```") % 2 == 0
    for block in re.findall(r"(?:^\|.*\|\n)+", text, re.MULTILINE):
        rows = [re.split(r"(?<!\\)\|", row)[1:-1] for row in block.splitlines()]
        assert len({len(r) for r in rows}) == 1, block
        assert all(re.fullmatch(r"---:?", cell) for cell in rows[1]), block


# ----------------------------------------------------------------------------------------------------------
# The plan of every stack


@pytest.fixture(scope="module")
def plans() -> dict[Path, tuple[plan.Document, mockrun.StackRun]]:
    """Each stack's plan, built once, with a run of its own to compare against."""
    return {path: (plan.build_plan(path), mockrun.run_stack_file(path)) for path in ALL_STACK_FILES}


def test_plan_shows_every_resource_with_its_key_inputs(stack_file, plans):
    doc, run = plans[stack_file]
    spec = load_stack_file(stack_file)
    text = plan.render_text(doc)
    tree = _section(plan.render_markdown(doc), "Resources")
    assert doc.title == f"Plan for stack {stack_name_of(stack_file)}"
    for r in run.resources:
        assert f"{r.type}  {r.name}" in tree
    assert f"Resources ({sum(r.custom for r in run.resources)})" in text
    for value in (spec.size.slug, spec.region, spec.image_slug):
        assert re.search(rf": {re.escape(value)}$", tree, re.MULTILINE), value
    for port in ("22", "80", "443"):
        assert re.search(rf"(portRange|ports|fromPort): [0-9,]*\b{port}\b", tree), port
    assert "(options) protect: " + ("true" if spec.protect else "false") in tree


def test_plan_summarises_first_boot_instead_of_printing_it(stack_file, plans):
    doc, _ = plans[stack_file]
    spec = load_stack_file(stack_file)
    rendered = render_first_boot(spec)
    text = plan.render_markdown(doc)
    for blob in (rendered.cloud_config, rendered.launch_script, linode_user_data(rendered.cloud_config)):
        assert blob[-200:] not in text
    assert "#cloud-config" not in text and "H4sI" not in text  # no YAML, no gzip+base64 payload
    assert max(len(line) for line in _section(text, "Resources").splitlines()) < 160
    assert re.search(r"userData: \[secret\] \[first boot: [a-z-]+ form, \d+ bytes, digest [0-9a-f]{12}; "
                     r"see First boot\]", text)

    boot = _section(text, "First boot")
    first_boot = describe_first_boot(spec)
    for f in first_boot.files:
        owner = concern_of(f.path, spec)
        assert owner, f"no concern owns {f.path}"
        assert re.search(rf"^\| `{re.escape(f.path)}` \| {f.mode} \| {file_digest(f)} \| {owner.name} \|$",
                         boot, re.MULTILINE), f.path
    for form, size in rendered.sizes.items():
        assert re.search(rf"^\| {form} \| {size:,} \| \d+% \|", boot, re.MULTILINE)
    assert "Of the 16 KiB limit" in boot
    for concern in concerns_for(spec):
        assert f"| `{concern.name}` | {', '.join(concern.phases)} | {concern.purpose} |" in boot, concern.name
    lockdown, serve, deferred = plan.phase_steps(spec)
    assert lockdown.startswith("lockdown: provisioner, admin-and-ssh") and "- " + lockdown in boot
    assert ("tls" in serve.split(": ")[1].split(", ")) == bool(spec.domain) and "- " + serve in boot
    assert deferred.startswith("deferred: ") and "- " + deferred in boot


def test_plan_shows_the_monthly_cost(stack_file, plans):
    doc, _ = plans[stack_file]
    spec = load_stack_file(stack_file)
    cost = monthly_cost(spec)
    section = _section(plan.render_markdown(doc), "Monthly cost")
    assert f"| Server ({spec.size.slug}) | {plan.usd(cost.server_usd)} |" in section
    assert f"| Backups ({'on: ' if spec.backups else 'off'}" in section
    assert f"| {plan.usd(cost.backups_usd)} |" in section
    assert f"| {plan.usd(cost.static_ip_usd)} |" in section
    assert f"| Total | {plan.usd(cost.total_usd)} |" in section


def test_plan_prints_no_mock_value(stack_file, plans):
    """Mock ids and the mocks' stand-in addresses/fingerprints never show: they would mislead and churn."""
    doc, run = plans[stack_file]
    text = plan.render_markdown(doc)
    stand_ins = [str(v) for attrs in mockrun.COMPUTED.values() for value in attrs.values()
                 for v in (value if isinstance(value, list) else [value])]
    for value in stand_ins:
        assert value.split("/")[0] not in text
    for r in run.resources:
        if r.type in mockrun.ID_FROM_INPUT:  # not a mock value: the provider's id is one of the inputs (a name)
            continue
        assert not re.search(rf"(?<![\w,.]){r.id}(?![\w,])", _section(text, "Resources"))
    outputs = _section(text, "Outputs")
    assert re.search(r"\| ipv4 \| `<[a-z0-9-]+\.(ipAddress|ipv4s\[0\])>` \|", outputs)
    assert "sshCommand | `ssh deploy@<" in outputs


def test_plan_text_and_markdown_carry_the_same_content(stack_file, plans):
    doc, _ = plans[stack_file]
    text, markdown = plan.render_text(doc), plan.render_markdown(doc)
    _assert_markdown_well_formed(markdown)
    tree = _section(markdown, "Resources").split("```text\n")[1].split("```")[0]
    assert tree in text  # the tree is the same block in both
    assert "|" not in text.replace("│", "")  # aligned columns, no Markdown pipes in the terminal form
    assert re.search(r"^Key +Value$", text, re.MULTILINE)


def test_plan_is_deterministic():
    path = STACK_FILES[0]
    assert plan.render_markdown(plan.build_plan(path)) == plan.render_markdown(plan.build_plan(path))


def test_secure_and_credential_config_values_are_masked(tmp_path):
    document = yaml.safe_load((plan.STACKS_DIR / "Pulumi.do-dev.yaml").read_text())
    document["config"]["digitalocean:token"] = {"secure": "v1:c2VjdXJlLWNpcGhlcnRleHQ="}
    document["config"]["linode:token"] = "plain-text-token-0123"
    path = tmp_path / "Pulumi.do-dev.yaml"
    path.write_text(yaml.safe_dump(document))
    text = plan.render_text(plan.build_plan(path))
    assert "c2VjdXJl" not in text and "plain-text-token-0123" not in text
    assert re.search(r"^digitalocean:token +\[secret\]$", text, re.MULTILINE)
    assert "linode:token                [secret] (stored in plain text: use `pulumi config set --secret" in text


def test_secret_inputs_and_outputs_are_masked():
    """Anything Pulumi marks secret (wire-format secret inputs, secret exports) prints as [secret]."""
    path = STACK_FILES[0]
    spec = load_stack_file(path)
    run = mockrun.run_stack_file(path)
    server = next(r for r in run.resources if r.custom)
    wrapped = {rpc._special_sig_key: rpc._special_secret_sig, "value": "hunter2-input"}
    server.inputs["adminPassword"] = wrapped
    server.inputs["nested"] = [{"password": wrapped}]
    run.outputs["rootPassword"] = "hunter2-output"
    run.secret_outputs.add("rootPassword")
    doc = plan.plan_document("do-dev", spec, render_first_boot(spec), run, plan.config_rows(path))
    text = plan.render_markdown(doc)
    assert "hunter2" not in text
    assert "adminPassword: [secret]" in text and "- password: [secret]" in text
    assert "| rootPassword | `[secret]` |" in text


# ----------------------------------------------------------------------------------------------------------
# Policy checks: the plan runs the policy pack (policy/) on the run it already made


def _prod_without_safety(stacks: Path) -> Path:
    """The prod stack as shipped, but with backups and protection off (still declared production)."""
    document = yaml.safe_load((plan.STACKS_DIR / "Pulumi.prod.yaml").read_text())
    assert document["config"]["hardened-vps:production"] is True
    document["config"]["hardened-vps:backups"] = False
    document["config"]["hardened-vps:protect"] = False
    stacks.mkdir(exist_ok=True)
    path = stacks / "Pulumi.prod.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def _text_section(text: str, title: str) -> str:
    """One section of the plain-text plan: from its underlined title to the next one."""
    match = re.search(rf"^{re.escape(title)}\n-+\n(.*?)(?=^\S[^\n]*\n-+\n|\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"no section {title!r}"
    return match.group(1)


def test_production_without_backups_or_protection_fails_the_plan(tmp_path, capsys):
    path = _prod_without_safety(tmp_path / "stacks")
    assert plan.main([str(path)]) != 0
    out, err = capsys.readouterr()
    checks = _text_section(out, "Policy checks")
    server = "digitalocean:index/droplet:Droplet  host-server"
    lines = [line for line in checks.splitlines() if "production-backups-and-protection" in line]
    assert len(lines) == 2 and all("mandatory" in line and server in line for line in lines), checks
    assert any("has no automatic backups. Fix: set hardened-vps:backups: true" in line for line in lines)
    assert any("is not protected from deletion. Fix: set hardened-vps:protect: true" in line for line in lines)
    assert "Refused: `pulumi preview --policy-pack policy` would fail on this stack" in checks
    assert "2 mandatory policy violations" in err
    assert "all 9 policies pass" not in out.lower()

    # The same stack with only backups restored still fails, on protection alone.
    path.write_text(path.read_text().replace("hardened-vps:backups: false", "hardened-vps:backups: true"))
    assert plan.main([str(path), "--format", "markdown"]) != 0
    checks = _section(capsys.readouterr().out, "Policy checks")
    assert "not protected from deletion" in checks and "no automatic backups" not in checks


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_shipped_stacks_pass_the_policy_checks(path, plans, capsys):
    doc, _ = plans[path]
    checks = _section(plan.render_markdown(doc), "Policy checks")
    total = len(hp.POLICIES)
    if load_stack_file(path).production:
        assert f"All {total} policies pass" in checks
    else:  # dev stacks keep SSH open to anyone: a warning that does not stop the preview
        assert f"{total - 1} of {total} policies pass" in checks
        (warning,) = [line for line in checks.splitlines() if line.startswith("- ")]
        assert "advisory" in warning and "ssh-open-to-internet" in warning
        assert any(f"on {firewall}  " in warning for firewall in hp.FIREWALL_TYPES), warning
    assert "mandatory" not in checks.replace("no mandatory", "")
    assert plan.main([str(path)]) == 0
    assert capsys.readouterr().err == ""


# ----------------------------------------------------------------------------------------------------------
# The vendor comparison


@pytest.mark.parametrize("tier", catalog.TIERS)
def test_compare_every_tier(tier):
    doc = plan.build_compare(tier)
    markdown = plan.render_markdown(doc)
    _assert_markdown_well_formed(markdown)
    table = plan.render_text(doc)
    near = find_place(plan.DEFAULT_NEAR)[1]
    totals = []
    for name in catalog.VENDORS:
        vendor = catalog.vendor(name)
        assert vendor.title in table
        size = vendor.size_for(tier)
        closest = nearest(name, near, 3)
        assert len(closest) == 3 and f"{closest[0].region} ({closest[0].location.label}) {closest[0].km:,} km" in table
        if size is None:
            assert re.search(r"^Plan +.*not offered", table, re.MULTILINE)
            continue
        ram = f"{size.ram_mb} MB" if size.ram_mb < 1024 else f"{size.ram_gb:g} GB"
        column = [size.slug, str(size.vcpus), ram, f"{size.disk_gb} GB", f"{size.transfer_tb:g} TB",
                  plan.usd(size.monthly_usd), plan.usd(vendor.backup_usd(size))]
        for label, value in zip(["Plan", "vCPU", "RAM", "Disk", "Transfer / month", "Server / month",
                                 "Backups / month"], column, strict=True):
            row = next(line for line in markdown.splitlines() if line.startswith(f"| {label} |"))
            assert f"| {value} |" in row, (label, value, row)
        totals.append((size.monthly_usd, vendor.title))
        static = "yes, free while attached" if vendor.has_static_ipv4 else "no separate static IP; the server's own"
        assert static in next(line for line in markdown.splitlines() if line.startswith("| Static IPv4 |"))
    cheapest = min(totals)[0]
    assert f"at {plan.usd(cheapest)} per month" in markdown
    assert all(title in markdown.split("Cheapest for")[1].split(" at ")[0]
               for total, title in totals if total == cheapest)


def test_compare_for_a_stack_uses_its_tier_region_and_backups():
    prod = plan.STACKS_DIR / "Pulumi.prod.yaml"
    spec = load_stack_file(prod)
    text = plan.render_text(plan.build_compare(spec=spec, stack="prod"))
    assert f"tier {spec.size.tier}, near {spec.region} (stack prod)" in text
    assert "DigitalOcean (this stack)" in text
    assert f"Total / month (backups on)  {plan.usd(monthly_cost(spec).total_usd)}" in text
    text = plan.render_text(plan.build_compare("large", "tokyo", spec, "prod"))
    assert "near Tokyo" in text and "ap-northeast-1 (Tokyo, JP) 0 km" in text


def test_tier_of_a_plain_plan_slug():
    spec = load_stack_file(STACK_FILES[0], override=lambda v: v.update(size="s-2vcpu-2gb"))
    assert plan.tier_of(spec) == "medium"  # same memory as the medium tier
    spec = load_stack_file(STACK_FILES[0], override=lambda v: v.update(size="s-4vcpu-8gb"))
    with pytest.raises(ValueError, match="pass --tier"):
        plan.tier_of(spec)


# ----------------------------------------------------------------------------------------------------------
# Regions


def test_every_catalog_region_has_a_location_and_no_other():
    for name, vendor in catalog.CATALOG.items():
        assert set(REGION_LOCATIONS[name]) == set(vendor.regions), name
    assert set(REGION_LOCATIONS) == set(catalog.VENDORS)


def test_nearest_region_to_the_default_is_each_vendors_default():
    origin = find_place(plan.DEFAULT_NEAR)[1]
    for name in catalog.VENDORS:
        assert nearest(name, origin, 1)[0].region == DEFAULT_REGIONS[name]


def test_places_and_distances():
    assert find_place("FRA1")[0] == "fra1" and find_place("frankfurt")[0] == "Frankfurt"
    with pytest.raises(ValueError, match=r"not a known region or city; regions: .*fra1"):
        find_place("atlantis")
    london, frankfurt = find_place("lon1")[1], find_place("eu-central-1")[1]
    assert 600 < distance_km(london, frankfurt) < 680
    new_york = nearest("digitalocean", find_place("nyc3")[1], 1)[0]
    assert new_york.regions == ("nyc1", "nyc3") and new_york.km == 0  # one city, one entry; nyc2 is closed


# ----------------------------------------------------------------------------------------------------------
# Golden files


def golden_problems() -> list[str]:
    """check_golden over stacks/, except that a user's own stack needs no golden file (it may have one)."""
    unreviewed = {f"plan-{stack_name_of(p)}.md: no golden file (new stack?)"
                  for p in ALL_STACK_FILES if p not in STACK_FILES}
    return [p for p in plan.check_golden() if p not in unreviewed]


def copy_examples(stacks: Path) -> Path:
    """A stacks directory holding only the shipped examples."""
    stacks.mkdir()
    for path in STACK_FILES:
        shutil.copy(path, stacks)
    return stacks


def test_golden_files_are_up_to_date():
    problems = golden_problems()
    assert not problems, "\n".join([*problems, REFRESH])


def test_golden_check_fails_on_an_unreviewed_change(tmp_path):
    stacks = copy_examples(tmp_path / "stacks")
    stack = stacks / "Pulumi.do-dev.yaml"
    stack.write_text(stack.read_text().replace("hardened-vps:size: small", "hardened-vps:size: medium"))

    problems = plan.check_golden(stacks, plan.GOLDEN_DIR)
    assert len(problems) == 1
    diff = problems[0]
    assert diff.startswith("--- golden/plan-do-dev.md\n+++ now/plan-do-dev.md\n")
    assert re.search(r"^-.*size: s-1vcpu-1gb$", diff, re.MULTILINE)
    assert re.search(r"^\+.*size: s-1vcpu-2gb$", diff, re.MULTILINE)
    assert re.search(r"^\+\| Total \| \$12\.00 \|$", diff, re.MULTILINE)
    assert plan.main(["--check-golden", "--stacks-dir", str(stacks)]) == 1


def test_golden_update_then_check_and_stale_or_missing_files(tmp_path, capsys):
    stacks, golden = tmp_path / "stacks", tmp_path / "golden"
    stacks.mkdir()
    shutil.copy(plan.STACKS_DIR / "Pulumi.lightsail-dev.yaml", stacks)
    assert plan.main(["--update-golden", "--stacks-dir", str(stacks), "--golden-dir", str(golden)]) == 0
    assert sorted(p.name for p in golden.iterdir()) == sorted(
        ["plan-lightsail-dev.md", *(f"compare-{t}.md" for t in catalog.TIERS)])
    assert (golden / "plan-lightsail-dev.md").read_text() == (plan.GOLDEN_DIR / "plan-lightsail-dev.md").read_text()
    assert plan.check_golden(stacks, golden) == []

    shutil.copy(plan.STACKS_DIR / "Pulumi.lightsail-dev.yaml", stacks / "Pulumi.new.yaml")
    (golden / "plan-gone.md").write_text("old\n")
    problems = plan.check_golden(stacks, golden)
    assert problems == ["plan-new.md: no golden file (new stack?)",
                        "plan-gone.md: golden file for a stack or tier that no longer exists"]
    capsys.readouterr()
    assert plan.main(["--update-golden", "--stacks-dir", str(stacks), "--golden-dir", str(golden)]) == 0
    assert capsys.readouterr().out == "updated plan-new.md\nupdated plan-gone.md (removed)\n"
    assert plan.check_golden(stacks, golden) == []


# ----------------------------------------------------------------------------------------------------------
# Command line


def test_cli_plan_and_compare(capsys):
    assert plan.main(["lightsail-dev"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Plan for stack lightsail-dev\n====") and "aws:lightsail/instance:Instance" in out
    assert plan.main([str(plan.STACKS_DIR / "Pulumi.prod.yaml"), "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("## Plan for stack prod\n")
    assert plan.main(["--compare", "--tier", "large", "--near", "tokyo", "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("## Vendor comparison: tier large, near Tokyo\n")
    assert plan.main(["linode-dev", "--compare"]) == 0
    assert "tier small, near fr-par (stack linode-dev)" in capsys.readouterr().out


def test_cli_errors(capsys, tmp_path):
    assert plan.main(["no-such-stack"]) == 2
    assert "no stack 'no-such-stack'" in capsys.readouterr().err
    assert plan.main(["--compare", "--near", "atlantis"]) == 2
    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_text("config:\n  hardened-vps:vendor: digitalocean\n  hardened-vps:size: huge\n")
    assert plan.main([str(bad)]) == 2
    err = capsys.readouterr().err
    assert "invalid stack configuration" in err and "sshPublicKeys" in err
    for argv in (["do-dev", "--tier", "small"], []):
        with pytest.raises(SystemExit):
            plan.main(argv)


def test_plan_shows_what_host_config_converges_file_by_file(stack_file, plans):
    """The converge's stdin is summarised (never printed), its triggers name every file it writes with the digest
    the First boot table shows, and the host key is not among them."""
    doc, _ = plans[stack_file]
    spec = load_stack_file(stack_file)
    text = plan.render_markdown(doc)
    resources = _section(text, "Resources")
    assert converge_stdin(spec)[-200:] not in text
    files = converge_files(spec).files
    assert f"stdin: [converge bundle, base64: {len(files)} files, {len(converge_stdin(spec))} bytes" in resources
    for f in files:
        assert f"{f.path}: {file_digest(f)}" in resources, f.path
    assert f"{HOST_KEY_PATH}:" not in resources
    section = _section(text, "Host configuration")
    assert CONVERGE_COMMAND in section and "never the server" in section
    needs = changes.keys_by_effect(spec.vendor).get(changes.FIRST_BOOT, [])
    assert needs and ", ".join(needs) in section


def test_plan_lists_the_files_read_back_from_the_sent_bundle(stack_file):
    """The plan's file table comes from the bytes sent (the wire format's parser), and they are the render's."""
    spec = load_stack_file(stack_file)
    assert plan.bundled_files(render_first_boot(spec)) == list(describe_first_boot(spec).files)

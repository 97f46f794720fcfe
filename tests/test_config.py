"""Stack config validation: every bad input fails before any resource, naming key, value and what is allowed."""

from __future__ import annotations

import pytest
import yaml

from components import catalog
from components.config import CONFIG_KEYS, ConfigError, load_stack_file, parse_host_spec, parse_ssh_key
from tests.conftest import ED25519_KEY, ROOT, RSA_2048_KEY, RSA_4096_KEY, raw_config


def problems(**overrides: object) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse_host_spec(raw_config(**overrides))
    return err.value.problems


def test_minimal_config_gets_documented_defaults() -> None:
    spec = parse_host_spec(raw_config(), stack="dev")
    assert spec.vendor == "digitalocean"
    assert spec.size.slug == "s-1vcpu-1gb"  # tier "small"
    assert spec.region == "fra1"
    assert spec.image == "debian-13"
    assert spec.host_name == "hardened-vps-dev"
    assert spec.admin_user == "deploy"
    assert spec.ssh_allowed_cidrs == ("0.0.0.0/0", "::/0")
    assert spec.reboot_window == "04:00"
    assert (spec.backups, spec.protect, spec.reprovision, spec.production) == (False, False, False, False)


@pytest.mark.parametrize(("vendor", "tier", "slug"), [
    ("digitalocean", "nano", "s-1vcpu-512mb-10gb"), ("linode", "small", "g6-nanode-1"),
    ("lightsail", "medium", "small_3_0"), ("linode", "large", "g6-standard-2"),
])
def test_tiers_map_to_vendor_plans(vendor: str, tier: str, slug: str) -> None:
    region = {"digitalocean": "nyc3", "linode": "us-iad", "lightsail": "us-east-1"}[vendor]
    spec = parse_host_spec(raw_config(vendor=vendor, size=tier, region=region))
    assert spec.size.slug == slug


def test_exact_vendor_slug_is_accepted() -> None:
    assert parse_host_spec(raw_config(size="s-2vcpu-2gb")).size.monthly_usd == 18.0


def test_unknown_vendor_names_allowed_values() -> None:
    (msg,) = problems(vendor="aws")
    assert msg.startswith("hardened-vps:vendor: 'aws'")
    assert "digitalocean, linode, lightsail" in msg


def test_missing_vendor() -> None:
    assert any("hardened-vps:vendor: missing" in p for p in problems(vendor=None))


def test_tier_the_vendor_lacks() -> None:
    (msg,) = problems(vendor="linode", region="us-iad", size="nano")
    assert "hardened-vps:size: tier 'nano' is not offered by linode" in msg
    assert "small, medium, large" in msg and "g6-nanode-1" in msg


def test_unknown_size_region_image() -> None:
    found = problems(size="s-99vcpu", region="mars-1", image="centos-7")
    assert any(p.startswith("hardened-vps:size: 's-99vcpu' is not a digitalocean plan") for p in found)
    assert any(p.startswith("hardened-vps:region: 'mars-1' is not a digitalocean region") and "fra1" in p
               for p in found)
    assert any(p.startswith("hardened-vps:image: 'centos-7' is not supported") and "debian-13" in p for p in found)


def test_missing_and_malformed_ssh_keys() -> None:
    assert any("sshPublicKeys: missing" in p for p in problems(sshPublicKeys=None))
    assert any("sshPublicKeys: missing" in p for p in problems(sshPublicKeys=[]))
    (bad_type,) = problems(sshPublicKeys=["ssh-dss AAAAB3NzaC1kc3MAAACBAP"])
    assert "key type 'ssh-dss' is not accepted" in bad_type
    (truncated,) = problems(sshPublicKeys=[ED25519_KEY.split()[0] + " " + ED25519_KEY.split()[1][:-8]])
    assert "hardened-vps:sshPublicKeys: entry 0" in truncated
    (not_b64,) = problems(sshPublicKeys=["ssh-ed25519 not*base64"])
    assert "not valid base64" in not_b64


def test_short_rsa_keys_are_refused_because_sshd_would_refuse_them() -> None:
    (msg,) = problems(sshPublicKeys=[RSA_2048_KEY])
    assert "RSA key has 2048 bits; at least 3072" in msg
    assert parse_ssh_key(RSA_4096_KEY).type == "ssh-rsa"


def test_malformed_cidr() -> None:
    found = problems(sshAllowedCidrs=["10.0.0.1/8", "300.1.1.1/32", "2001:db8::/129"])
    assert len(found) == 3 and all(p.startswith("hardened-vps:sshAllowedCidrs:") for p in found)
    assert "'10.0.0.1/8' is not a CIDR" in found[0]


def test_empty_cidr_list_would_lock_everyone_out() -> None:
    assert any("sshAllowedCidrs: empty" in p for p in problems(sshAllowedCidrs=[]))


@pytest.mark.parametrize("domain", ["localhost", "-bad.example.com", "exa mple.com", "a..b.com", "1.2.3.4",
                                    "under_score.example.com"])
def test_malformed_domain(domain: str) -> None:
    found = problems(domain=domain, acmeEmail="ops@example.com")
    assert any(p.startswith("hardened-vps:domain:") and "not a valid domain name" in p for p in found)


def test_domain_needs_acme_email() -> None:
    (msg,) = problems(domain="app.example.com")
    assert msg == "hardened-vps:acmeEmail: missing; required when domain is set (the ACME account contact)"


def test_dns_zone_defaults_and_must_contain_domain() -> None:
    spec = parse_host_spec(raw_config(domain="app.example.com", acmeEmail="ops@example.com"))
    assert (spec.dns_zone, spec.dns_record_name) == ("example.com", "app")
    apex = parse_host_spec(raw_config(domain="example.com", acmeEmail="ops@example.com"))
    assert (apex.dns_zone, apex.dns_record_name) == ("example.com", "@")
    (msg,) = problems(domain="app.example.com", acmeEmail="ops@example.com", dnsZone="other.org")
    assert "hardened-vps:dnsZone: 'other.org' does not contain domain" in msg


def test_other_bad_values() -> None:
    found = problems(backups="yes", swapSizeMb="lots", rebootWindow="25:00", tags=["Bad Tag"],
                     adminUser="root", acmeServer="http://insecure.example/dir", appHealthPath="healthz")
    keys = sorted(p.split(":")[1] for p in found)
    assert keys == ["acmeServer", "adminUser", "appHealthPath", "backups", "rebootWindow", "swapSizeMb", "tags"]


def test_unknown_key_is_reported_as_probable_typo() -> None:
    (msg,) = problems(sshPublicKey=[ED25519_KEY])
    assert msg.startswith("hardened-vps:sshPublicKey: unknown key") and "sshPublicKeys" in msg


def test_several_problems_are_reported_together() -> None:
    with pytest.raises(ConfigError) as err:
        parse_host_spec(raw_config(vendor="linode", size="nano", region="fra1", sshPublicKeys=[]))
    text = str(err.value)
    assert text.startswith("invalid stack configuration (3 problems):")
    for key in ("size", "region", "sshPublicKeys"):
        assert f"hardened-vps:{key}:" in text


def test_every_stack_file_validates(stack_file) -> None:
    spec = load_stack_file(stack_file)
    assert spec.vendor in catalog.VENDORS


def test_pulumi_yaml_schema_matches_config_keys() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["stackConfigDir"] == "stacks"
    schema = project["config"]
    assert list(schema) == [k.name for k in CONFIG_KEYS if not k.secret]  # secrets: see tools/gen_pulumi_yaml.py
    for key in CONFIG_KEYS:
        if key.secret:
            continue
        entry = schema[key.name]
        assert entry["type"] == key.type and entry["description"] == key.description
        if key.required:
            assert "default" not in entry
        else:
            assert entry["default"] == (key.default if key.default is not None else "")

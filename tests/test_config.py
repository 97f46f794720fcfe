"""Stack config validation: every bad input fails before any resource, naming key, value and what is allowed."""

from __future__ import annotations

import pytest
import yaml

from components import catalog
from components.config import (
    CONFIG_KEYS,
    ConfigError,
    StackFileError,
    load_stack_file,
    max_chars,
    parse_host_spec,
    parse_ssh_key,
)
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


# ---------------------------------------------------------------------------------------------------------
# Hostile values: strict shapes, explicit CIDRs, bounded lengths, readable stack-file errors.

@pytest.mark.parametrize("email", ["$(touch${IFS}/tmp/x)@example.com", "`id`@example.com", "a'b@example.com",
                                   "ops@localhost", ".ops@example.com", "o..ps@example.com", "ops@exa$mple.com",
                                   "ops@@example.com", "ops\n@example.com", "öps@example.com"])
def test_acme_email_is_a_strict_address(email: str) -> None:
    (msg,) = problems(domain="app.example.com", acmeEmail=email)
    assert msg.startswith("hardened-vps:acmeEmail:") and "allowed: name@example.com" in msg


def test_acme_email_accepts_ordinary_addresses() -> None:
    for email in ("ops+tls@example.com", "First.Last@Example.COM", "o_p-s%x@mail.example.co.uk"):
        assert parse_host_spec(raw_config(domain="app.example.com", acmeEmail=email)).acme_email == email


@pytest.mark.parametrize(("url", "why"), [
    ("http://acme.example.com/dir", "not an https"),
    ("https://user:pw@acme.example.com/dir", "user name or password"),
    ("https://acme.example.com/dir?x=1", "query or fragment"),
    ("https://acme.example.com/dir#x", "query or fragment"),
    ("https://acme.example.com/$(touch${IFS}x)", "path with characters"),
    ("https://acme.example.com/`id`", "path with characters"),
    ("https://acme.example.com/a b", "spaces, control"),
    ("https://acme.example.com/di\tr", "spaces, control"),
    ("https://localhost/dir", "no valid host"),
    ("https://[acme.example.com]/dir", "no valid host"),
    ("https://acme.example.com:0/dir", "invalid port"),
    ("https://acme.example.com:70000/dir", "invalid port"),
])
def test_acme_server_is_a_plain_https_url(url: str, why: str) -> None:
    (msg,) = problems(acmeServer=url)
    assert msg.startswith("hardened-vps:acmeServer:") and why in msg


def test_acme_server_accepts_public_and_private_directories() -> None:
    for url in ("https://acme-v02.api.letsencrypt.org/directory", "https://10.0.2.2:14000/dir",
                "https://[2001:db8::1]:9000/acme/acme/directory", "https://ca.example.com"):
        assert parse_host_spec(raw_config(acmeServer=url)).acme_server == url


def test_newline_in_a_key_comment_cannot_smuggle_a_second_key_line() -> None:
    smuggled = ED25519_KEY + '\ncommand="/bin/sh" ' + RSA_2048_KEY
    (msg,) = problems(sshPublicKeys=[smuggled])
    assert msg.startswith("hardened-vps:sshPublicKeys: entry 0") and "control character" in msg
    for bad in (ED25519_KEY + " a\rb", ED25519_KEY.replace(" ", "\t", 1), ED25519_KEY + " x\x00y"):
        with pytest.raises(ValueError, match="control character"):
            parse_ssh_key(bad)
    assert parse_ssh_key(ED25519_KEY + " laptop (work) é").comment.endswith("(work) é")


@pytest.mark.parametrize(("cidr", "intent"), [("0.0.0.0", "0.0.0.0/0 for anywhere"), ("::", "::/0 for anywhere"),
                                              ("203.0.113.7", "203.0.113.7/32 for this one address"),
                                              ("2001:db8::1", "2001:db8::1/128 for this one address")])
def test_cidr_needs_an_explicit_prefix_length(cidr: str, intent: str) -> None:
    (msg,) = problems(sshAllowedCidrs=[cidr])
    assert msg == f"hardened-vps:sshAllowedCidrs: {cidr!r} has no prefix length; write it out, e.g. {intent}"


def test_huge_number_for_a_list_key_is_a_config_error() -> None:
    # json.loads raises a plain ValueError beyond Python's int-string limit (4300 digits)
    found = problems(sshPublicKeys="9" * 5000, appEnv="9" * 5000, sshAllowedCidrs="9" * 5000)
    assert sorted(p.split(":")[1] for p in found) == ["appEnv", "sshAllowedCidrs", "sshPublicKeys"]


def test_unreadable_app_source_path_is_a_config_error() -> None:
    (msg,) = problems(appSource="a" * 300)  # one path component longer than the file system allows
    assert msg.startswith("hardened-vps:appSource:") and "neither a directory" in msg


@pytest.mark.parametrize("key", [k.name for k in CONFIG_KEYS])
def test_every_key_has_a_length_cap(key: str) -> None:
    cap = max_chars(key)
    found = problems(**{key: "x" * (cap + 1)})
    assert f"hardened-vps:{key}: {cap + 1} characters is too long; allowed: at most {cap}" in found
    assert not any(p.startswith(f"hardened-vps:{key}:") and "too long" not in p for p in found)  # no cascade
    assert not any("x" * 50 in p for p in found)  # the value itself (maybe a secret) is never echoed


def _stack(tmp_path, text: str):
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("text", "where"), [
    ("config:\n  hardened-vps:vendor: do\n  hardened-vps:tags: [a, b\n  hardened-vps:x: y\n", ":4: not valid"),
    ("config:\n  hardened-vps:vendor: digitalocean\n  hardened-vps:swapSizeMb: " + "9" * 5000 + "\n", ":3: not valid"),
    ("config:\n\thardened-vps:vendor: x\n", ":2: not valid"),
    ("- just\n- a list\n", ": expected a mapping"),
    ("config: [a]\n", ": expected a mapping"),
])
def test_stack_file_errors_name_the_file_and_line(tmp_path, text: str, where: str) -> None:
    path = _stack(tmp_path, text)
    with pytest.raises(StackFileError) as err:
        load_stack_file(path)
    message = str(err.value)
    assert isinstance(err.value, ConfigError) and "\n" not in message
    assert message.startswith(f"invalid stack file {path}{where}")


def test_plan_reports_a_broken_stack_file_in_one_line(tmp_path, capsys) -> None:
    from tools import plan

    path = _stack(tmp_path, "config:\n  hardened-vps:vendor: [digitalocean\n")
    assert plan.main([str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}:" in err and "Traceback" not in err
    assert load_stack_file(_stack(tmp_path, "config:\n  hardened-vps:vendor: digitalocean\n  hardened-vps:"
                                            f"sshPublicKeys: ['{ED25519_KEY}']\n")).vendor == "digitalocean"

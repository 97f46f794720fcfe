"""parse_host_spec: the sections together; every problem of every section is reported at once, each naming the
key, the value and what is allowed."""

from __future__ import annotations

import pytest

from components.config import CONFIG_KEYS, ConfigError, max_chars, parse_host_spec
from tests.conftest import ED25519_KEY, raw_config
from tests.conftest import config_problems as problems


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


def test_a_plain_value_for_a_secret_key_is_refused_when_secrets_are_known() -> None:
    raw = raw_config(appSecrets="TOKEN=abc")
    with pytest.raises(ConfigError) as err:
        parse_host_spec(raw, secret_keys=[])
    (msg,) = err.value.problems
    assert msg.startswith("hardened-vps:appSecrets: stored in plain text, but it is a secret") and "abc" not in msg
    assert parse_host_spec(raw, secret_keys=["appSecrets"]).app is None


def test_huge_number_for_a_list_key_is_a_config_error() -> None:
    # json.loads raises a plain ValueError beyond Python's int-string limit (4300 digits)
    found = problems(sshPublicKeys="9" * 5000, appEnv="9" * 5000, sshAllowedCidrs="9" * 5000)
    assert sorted(p.split(":")[1] for p in found) == ["appEnv", "sshAllowedCidrs", "sshPublicKeys"]


@pytest.mark.parametrize("key", [k.name for k in CONFIG_KEYS])
def test_every_key_has_a_length_cap(key: str) -> None:
    cap = max_chars(key)
    found = problems(**{key: "x" * (cap + 1)})
    assert f"hardened-vps:{key}: {cap + 1} characters is too long; allowed: at most {cap}" in found
    assert not any(p.startswith(f"hardened-vps:{key}:") and "too long" not in p for p in found)  # no cascade
    assert not any("x" * 50 in p for p in found)  # the value itself (maybe a secret) is never echoed

"""Stack files: read as Pulumi hands their values to the program; a broken one is one line naming file and line."""

from __future__ import annotations

import pytest

from components import catalog
from components.config import (
    SECRET_PLACEHOLDER,
    ConfigError,
    StackFileError,
    load_stack_file,
    stack_config_values,
    stack_name_of,
)
from tests.conftest import ED25519_KEY


def test_every_stack_file_validates(stack_file) -> None:
    spec = load_stack_file(stack_file)
    assert spec.vendor in catalog.VENDORS


def test_values_become_pulumi_strings_and_secrets_a_marker() -> None:
    mine, other = stack_config_values({"config": {
        "hardened-vps:backups": True, "hardened-vps:tags": ["a", "b"], "hardened-vps:swapSizeMb": 512,
        "hardened-vps:appSecrets": {"secure": "v1:abc"}, "digitalocean:token": "t"}})
    assert mine == {"backups": "true", "tags": '["a", "b"]', "swapSizeMb": "512", "appSecrets": SECRET_PLACEHOLDER}
    assert other == {"digitalocean:token": "t"}


def test_stack_name_comes_from_the_file_name() -> None:
    assert stack_name_of("stacks/Pulumi.prod.yaml") == "prod"
    assert stack_name_of("elsewhere/shop.yaml") == "shop"


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


def test_an_encrypted_secret_is_not_refused_as_plain_text(tmp_path) -> None:
    path = _stack(tmp_path, "config:\n  hardened-vps:vendor: digitalocean\n  hardened-vps:sshPublicKeys: "
                            f"['{ED25519_KEY}']\n  hardened-vps:appSecrets:\n    secure: v1:abc\n")
    assert load_stack_file(path).app is None
    plain = _stack(tmp_path, path.read_text().replace("\n    secure: v1:abc", " TOKEN=abc"))
    with pytest.raises(ConfigError, match="appSecrets: stored in plain text"):
        load_stack_file(plain)


def test_plan_reports_a_broken_stack_file_in_one_line(tmp_path, capsys) -> None:
    from tools import plan

    path = _stack(tmp_path, "config:\n  hardened-vps:vendor: [digitalocean\n")
    assert plan.main([str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}:" in err and "Traceback" not in err
    assert load_stack_file(_stack(tmp_path, "config:\n  hardened-vps:vendor: digitalocean\n  hardened-vps:"
                                            f"sshPublicKeys: ['{ED25519_KEY}']\n")).vendor == "digitalocean"

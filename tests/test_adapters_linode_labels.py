"""Linode's labels: letters, digits, - _ . ; alphanumeric at both ends; no two of - _ . in a row. The firewall's
label derived from any host name config accepts for Linode is valid and distinct, and the host names that cannot be
labels are refused by config."""

from __future__ import annotations

import pytest

from components.config import parse_host_spec
from tests.adapters_support import build
from tests.conftest import raw_config


def is_linode_label(label: str, max_len: int) -> bool:
    """The Linode API's label rule (instances and firewalls), written out independently of the adapter."""
    return (3 <= len(label) <= max_len and label[0].isalnum() and label[-1].isalnum()
            and all(ch.isascii() and (ch.isalnum() or ch in "-_.") for ch in label)
            and not any(run in label for run in ("--", "__", "..")))


@pytest.mark.parametrize(("host_name", "expected"), [
    ("web", "web-fw"),
    ("a" * 29, "a" * 29 + "-fw"),  # 32 with the suffix: fits as it is
    ("a" * 30, None), ("a" * 31, None), ("a" * 32, None), ("a" * 33, None), ("a" * 50, None),
    ("a" * 28 + "-b", None),  # plain truncation would leave "...a-" + "-fw": a double hyphen
    ("a" * 29 + "-b", None),  # `<host>-fw` cut at 32 would end in "-"
    ("shop-web-1", "shop-web-1-fw"),
])
def test_linode_firewall_label_is_always_valid(host_name: str, expected: str | None) -> None:
    from components.vendors.linode.adapter import FIREWALL_LABEL_MAX, firewall_label

    label = firewall_label(host_name)
    assert is_linode_label(label, FIREWALL_LABEL_MAX), label
    assert FIREWALL_LABEL_MAX == 32
    if expected is not None:
        assert label == expected
    else:  # shortened: still recognisable, and distinct from its neighbours'
        assert label.startswith(host_name[:20]) and label.endswith("-fw")


def test_linode_firewall_labels_of_long_names_stay_distinct() -> None:
    from components.vendors.linode.adapter import firewall_label

    names = [f"{'shop-web-production-frankfurt'}-{i}" for i in range(50)]
    assert len({firewall_label(n) for n in names}) == len(names)


def test_linode_firewall_label_holds_for_every_name_config_accepts() -> None:
    """A seeded sweep over host names config validation lets through for Linode (hyphens at every position)."""
    import random

    from components.config import ConfigError
    from components.vendors.linode.adapter import FIREWALL_LABEL_MAX, firewall_label

    rng = random.Random(7)
    alphabet = "ab1-"
    tried = 0
    for _ in range(400):
        name = "h" + "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 55)))
        try:
            spec = parse_host_spec(raw_config(vendor="linode", region="us-iad", hostName=name))
        except ConfigError:
            continue
        tried += 1
        assert is_linode_label(spec.host_name, 50), name
        assert is_linode_label(firewall_label(spec.host_name), FIREWALL_LABEL_MAX), name
    assert tried > 50


@pytest.mark.parametrize(("host_name", "problem"), [
    ("web--1", "no '--'"),
    ("ab", "3-50 characters"),
    ("a" * 51, "3-50 characters"),
])
def test_linode_refuses_host_names_that_cannot_be_labels(host_name: str, problem: str) -> None:
    from components.config import ConfigError

    with pytest.raises(ConfigError) as err:
        parse_host_spec(raw_config(vendor="linode", region="us-iad", hostName=host_name))
    (message,) = err.value.problems
    assert message.startswith("hardened-vps:hostName:") and "linode" in message and problem in message


def test_other_vendors_keep_their_own_host_name_rule() -> None:
    assert parse_host_spec(raw_config(vendor="digitalocean", hostName="web--1")).host_name == "web--1"


@pytest.mark.parametrize("host_name", ["a" * 31, "a" * 28 + "-b", "a" * 31 + "-b"])
def test_linode_adapter_labels_are_valid(host_name: str) -> None:
    """31 characters + "-fw" cut at 32 used to end in "-"; 33 cut at 32 ended in "-" too."""
    _, _, run = build("linode", hostName=host_name)
    assert run.one("instance:Instance").inputs["label"] == host_name
    assert is_linode_label(run.one("firewall:Firewall").inputs["label"], 32)

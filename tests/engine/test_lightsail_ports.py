"""Lightsail public ports through a replacement, as the real engine and provider would drive them.

Models, from their upstream sources:

- The Pulumi engine's replacement order (pulumi/pulumi `pkg/resource/deploy/step_generator.go`): by default a
  replaced resource gets CreateReplacement first and its old copy DeleteReplaced afterwards (create-before-delete);
  `deleteBeforeReplace` turns that into DeleteBeforeReplace, then CreateReplacement. The Terraform bridge forces
  delete-first only for resources with an explicit name on an auto-named property; InstancePublicPorts has no
  name, so only the option the adapter passes counts.
- terraform-provider-aws `internal/service/lightsail/instance_public_ports.go`: `port_info` is ForceNew and the
  resource has no Update, so any change of the rules is a replacement. Create = one PutInstancePublicPorts with
  every rule (Lightsail closes whatever is not in it); Delete = CloseInstancePublicPorts for each rule of the OLD
  state. `expandPortInfo` drops an empty `cidrs`/`ipv6_cidrs` list, i.e. sends it unset.
- Lightsail's port API (API reference PutInstancePublicPorts / CloseInstancePublicPorts / PortInfo): one firewall
  per address family, whose open state is modelled as a set of (protocol, port range, source CIDR) rules. The
  reference names no default for an omitted `cidrs`/`ipv6Cidrs`; the provider's schema marks both Computed with
  "0.0.0.0/0" and "::/0" as the (commented) defaults, so the model takes an omitted list to mean anywhere, the
  unsafe reading.

The resource options and port rules are the ones the adapter really registers under mocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pulumi
import pytest

from tests.adapters_support import build

Rule = tuple[str, int, int, str]  # protocol, from port, to port, source CIDR
#: What Lightsail is taken to apply for an omitted list (see the module docstring).
OMITTED_MEANS = {"cidrs": "0.0.0.0/0", "ipv6Cidrs": "::/0"}


def sent(port_info: Mapping[str, Any]) -> dict[str, Any]:
    """The PortInfo the provider sends: `expandPortInfo` leaves an empty list out of the request."""
    return {k: v for k, v in port_info.items() if not (isinstance(v, list) and not v)}


def rules_of(port_info: Mapping[str, Any]) -> set[Rule]:
    """Lightsail's reading of one sent PortInfo: one rule per source in each family's firewall."""
    info = sent(port_info)
    span = (str(info["protocol"]), int(info["fromPort"]), int(info["toPort"]))
    out: set[Rule] = set()
    for key, default in OMITTED_MEANS.items():
        for cidr in info.get(key) or [default]:
            out.add((*span, str(cidr)))
    return out


class LightsailPorts:
    """One instance's open ports on the Lightsail side."""

    def __init__(self) -> None:
        self.open: set[Rule] = {("tcp", 22, 22, "0.0.0.0/0"), ("tcp", 80, 80, "0.0.0.0/0")}  # a new instance

    def put(self, port_infos: Iterable[Mapping[str, Any]]) -> None:
        """PutInstancePublicPorts: exactly these rules are open afterwards."""
        self.open = set().union(*(rules_of(p) for p in port_infos))

    def close(self, port_info: Mapping[str, Any]) -> None:
        """CloseInstancePublicPorts: the given rules are closed, whoever opened them."""
        self.open -= rules_of(port_info)


def replace_public_ports(api: LightsailPorts, old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]],
                         opts: pulumi.ResourceOptions) -> None:
    """The engine replacing an InstancePublicPorts, in the order its options ask for, through the TF provider."""
    def create() -> None:
        api.put(new)

    def delete() -> None:
        for info in old:
            api.close(info)

    steps = (delete, create) if opts.delete_before_replace else (create, delete)
    for step in steps:
        step()


def registered_ports(**overrides: object) -> tuple[list[dict[str, Any]], pulumi.ResourceOptions]:
    """The port rules the Lightsail adapter registers for a config, and the options it gives them."""
    _, options, run = build("lightsail", **overrides)
    (ports,) = run.of_type("instancePublicPorts:InstancePublicPorts")
    return list(ports.inputs["portInfos"]), options["web-firewall"]


def ssh_sources(rules: set[Rule]) -> set[str]:
    return {cidr for proto, lo, hi, cidr in rules if proto == "tcp" and lo <= 22 <= hi}


@pytest.mark.parametrize("change", [
    {"sshAllowedCidrs": ["203.0.113.0/24", "2001:db8::/32"]},
    {"ipv6": False},
], ids=["ssh-cidrs", "ipv6-off"])
def test_replacing_the_rules_leaves_the_new_rules_open(change: dict[str, object]) -> None:
    old, _ = registered_ports()
    new, opts = registered_ports(**change)
    assert old != new  # a ForceNew input changed: the engine replaces the resource

    api = LightsailPorts()
    api.put(old)  # the first `pulumi up`
    replace_public_ports(api, old, new, opts)

    expected = set().union(*(rules_of(p) for p in new))
    assert api.open == expected, f"state says {sorted(expected)}, Lightsail has {sorted(api.open)}"
    assert {("tcp", p, p, "0.0.0.0/0") for p in (80, 443)} <= api.open


def test_the_model_catches_create_before_delete() -> None:
    """Without delete-first the old rules' Close undoes the new Put: the model must see the outage."""
    old, _ = registered_ports()
    new, _ = registered_ports(sshAllowedCidrs=["203.0.113.0/24"])
    api = LightsailPorts()
    api.put(old)
    replace_public_ports(api, old, new, pulumi.ResourceOptions(delete_before_replace=False))
    assert ("tcp", 80, 80, "0.0.0.0/0") not in api.open


@pytest.mark.parametrize("cidrs", [["203.0.113.0/24"], ["2001:db8::/32"]], ids=["ipv4-only", "ipv6-only"])
def test_one_family_ssh_cidrs_never_open_ssh_to_the_other_family(cidrs: list[str]) -> None:
    infos, _ = registered_ports(sshAllowedCidrs=cidrs)
    assert all(info["cidrs"] and info["ipv6Cidrs"] for info in infos)  # nothing left for Lightsail to default
    api = LightsailPorts()
    api.put(infos)
    sources = ssh_sources(api.open)
    assert "0.0.0.0/0" not in sources and "::/0" not in sources, sources
    assert set(cidrs) <= sources

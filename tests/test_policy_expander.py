"""The secrets scan's decoder (policy/hardening_policies/expander.py): it reaches the bundled files of real
first-boot data."""

from __future__ import annotations

from policy.hardening_policies.expander import Expander
from policy.hardening_policies.first_boot import raw_first_boot
from policy.hardening_policies.secrets import find_secrets
from policy.offline import StackCase
from tests.policy_support import LINODE_INSTANCE


def test_clean_first_boot_has_no_findings_in_any_layer(stacks: dict[str, StackCase]) -> None:
    """The scan does reach the bundled files (so a clean result means something)."""
    server = stacks["linode-dev"].one(LINODE_INSTANCE)
    raw = raw_first_boot(server.type, server.inputs)
    assert raw is not None
    expander = Expander()
    expander.textual(raw.where, raw.data)
    layers = [where for where, _ in expander.layers]
    assert any(w.endswith("> usr/local/sbin/hvps-provision") for w in layers), layers
    assert find_secrets(raw) == []


def alias_chain(levels: int) -> str:
    """A cloud-config of a few hundred bytes whose YAML aliases unfold into 2**levels strings."""
    lines = ["#cloud-config", "l0: &l0 [secret]"]
    lines += [f"l{n}: &l{n} [*l{n - 1}, *l{n - 1}]" for n in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def test_yaml_aliases_are_walked_once() -> None:
    """A hostile stack cannot stall the policy pack: shared YAML nodes are read once, not once per alias."""
    import time

    document = alias_chain(40)  # unfolded: 2**40 strings; walked once: 41 lists
    assert len(document) < 1000
    started = time.monotonic()
    Expander().textual("user_data", document)
    assert time.monotonic() - started < 5

"""The secrets scan's decoder (policy/hardening_policies/expander.py): it reaches the bundled files of real
first-boot data."""

from __future__ import annotations

from policy.hardening_policies.expander import Expander
from policy.hardening_policies.first_boot import raw_first_boot
from policy.hardening_policies.resources import LINODE_INSTANCE
from policy.hardening_policies.secrets import find_secrets
from policy.offline import StackCase


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

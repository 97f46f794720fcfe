"""CrossGuard policies: the hardening invariants of a hardened-vps stack, checked at `pulumi preview` time.

Every policy is a plain object whose `validate` can be called directly (tests do); only `policy/__main__.py`
builds the `PolicyPack`, which starts a gRPC server and blocks.

Production: a stack is production when its config says `hardened-vps:production: true`. The Pulumi CLI hands a
policy pack the stack's whole config (the `PULUMI_CONFIG` environment of the analyzer process, which
pulumi_policy loads into `pulumi.Config` before each analysis), so the policies read the same key the program
reads. A policy config `{"<policy>": {"production": true}}` (`--policy-pack-config`) forces the production
rules on whatever the stack says; it cannot turn them off.

Resources are matched by type token; properties use the engine's camelCase names. Resource policies see a
resource's inputs before it is created; the stack policies see the planned outputs and the property
dependencies, which name the server a firewall points at even while its id is still unknown in a preview.

The pack judges effect, not spelling: SSH exposure by the public address space the CIDRs cover, first-boot data
by byte-for-byte equality with what components/firstboot renders for this stack's own config (parsed by
components.config, rendered by the project's renderer: called, not copied, so the check follows both), the one
free member, the SSH host key, held to the shape of the key the program makes; resource types against the
allowlist of what the product builds, and the secrets scan fails closed on anything it cannot read to the end.
A check that needs the stack's config and cannot read it fails closed.

One idea per module (as pulumi-policy-aws keeps `network.ts` and `compute.ts`): `resources` (types and engine
values), `network` (firewall rules and SSH exposure), `archives` (compressed data and archives), `expander` (the
first-boot decoder the secrets scan walks), `stack_config`, `host_key`, `first_boot`, `secrets`, `compute`,
`remote` (remote commands), `stack_graph` (firewall attachment, allowed types) and `pack` (the policies).
"""

from policy.hardening_policies.pack import PACK_DESCRIPTION, PACK_NAME, POLICIES, RESOURCE_POLICIES, STACK_POLICIES

__all__ = ["PACK_DESCRIPTION", "PACK_NAME", "POLICIES", "RESOURCE_POLICIES", "STACK_POLICIES"]

"""Every resource's URN as the Pulumi engine builds it, per stack: the identity a refactoring must not change.

    python -m tools.urns STACK                 # print the stack's URNs
    python -m tools.urns --check-golden        # exit 1 when a URN differs from tests/golden/urns-<stack>.txt
    python -m tools.urns --update-golden       # rewrite those files after reviewing the change

Pulumi finds a resource's old state by its URN. Renaming a component class's type token, a resource's name or
moving it to another parent changes the URN (and the URNs of all its children): the engine then creates a new
resource and deletes the old one, the server included, unless the new resource carries `aliases` naming the old
identity.

One idea per module: `engine` (the engine's URN and alias rules, pure), `registrations` (what a program registers
under mocks, with engine URNs), `goldens` (the pinned tests/golden/urns-<stack>.txt) and `cli`.

URNs are rebuilt here from what the program registers (type, name, parent), because the mock monitor's own URNs
differ from the engine's: it prefixes the root stack's type to the stack's children and keeps only the last
type of a parent chain. The model follows pulumi/pulumi:

- `sdk/go/common/resource/urn/urn.go` `New` (wrapped by `NewURN` in `sdk/go/common/resource/urn.go`):
  `urn:pulumi:<stack>::<project>::<qualified type>::<name>`, the qualified type being `<parent type>$<type>`
  unless the parent type is empty or the root stack's `pulumi:pulumi:Stack`.
- `pkg/resource/deploy/deployment.go` `generateURN`: the parent type is the parent URN's whole qualified type,
  so a grandchild's type chains every ancestor below the stack (`A$B$C`).
- Aliases (`pkg/resource/deploy/step_generator.go` `collapseAliasToUrn`, `inheritedChildAlias`,
  `generateAliases`, `getOldResource`; `sdk/go/common/resource/alias.go` `CreateURN`): an alias spec's empty
  fields default to the resource's own; a child of an aliased parent also gets the alias under the parent's old
  URN; the engine looks up the resource's own URN in the old state first, then each alias in order.
"""

from tools.urns.cli import main
from tools.urns.engine import (
    ROOT_STACK_TYPE,
    AliasSpec,
    collapse_alias,
    create_urn,
    generate_aliases,
    generate_urn,
    inherited_child_alias,
    new_urn,
    qualified_type,
    urn_name,
    urn_type,
)
from tools.urns.goldens import (
    GOLDEN_DIR,
    REFRESH_COMMAND,
    RENAME_HINT,
    STACKS_DIR,
    check_golden,
    golden_documents,
    golden_name,
    stack_files,
    update_golden,
    urn_changes,
)
from tools.urns.registrations import (
    IdentityChange,
    Registration,
    RegistrationLog,
    program_registrations,
    record_registrations,
    stack_file_registrations,
    stack_urns,
)

__all__ = [
    "GOLDEN_DIR", "REFRESH_COMMAND", "RENAME_HINT", "ROOT_STACK_TYPE", "STACKS_DIR", "AliasSpec", "IdentityChange",
    "Registration", "RegistrationLog", "check_golden", "collapse_alias", "create_urn", "generate_aliases",
    "generate_urn", "golden_documents", "golden_name", "inherited_child_alias", "main", "new_urn",
    "program_registrations", "qualified_type", "record_registrations", "stack_file_registrations", "stack_files",
    "stack_urns", "update_golden", "urn_changes", "urn_name", "urn_type",
]

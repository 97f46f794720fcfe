"""The stack's own config, as the CLI hands it to the pack: what this stack's first boot and deploy must be."""

from __future__ import annotations

from collections.abc import Collection

import pulumi

from components.config import CONFIG_KEYS, PROJECT, PROJECT_DIR, ConfigError, HostSpec, parse_host_spec


# --- the stack's own config, as the CLI hands it to the pack -------------------------------------------------
class StackConfigError(ValueError):
    """The pack cannot tell what this stack's first boot or deploy must be: the checks that need it fail closed."""


#: Keys that never shape first boot: the app's secret environment and the deploy key travel over SSH after boot.
#: The pack may see them decrypted, as a placeholder or not at all, so the first-boot check leaves them out.
NOT_IN_FIRST_BOOT = frozenset(k.name for k in CONFIG_KEYS if k.secret)


def stack_config() -> dict[str, str]:
    """Every `hardened-vps:*` value of the stack under analysis, as the program reads them (key without namespace)."""
    prefix = f"{PROJECT}:"
    return {key[len(prefix):]: str(value) for key, value in pulumi.runtime.config.CONFIG.get().items()
            if key.startswith(prefix)}


def stack_spec(leave_out: Collection[str] = ()) -> HostSpec:
    """The HostSpec the program builds for the stack under analysis: its config (PULUMI_CONFIG) through the
    program's own validation, for the stack the CLI names (PULUMI_STACK: the default host name follows it).
    StackConfigError when there is no config, no stack name or a config the program itself refuses."""
    raw = {k: v for k, v in stack_config().items() if k not in leave_out}
    if not raw:
        raise StackConfigError(f"the pack sees no {PROJECT}:* config for this stack (the CLI passes it as "
                               "PULUMI_CONFIG)")
    if pulumi.get_project() != PROJECT:
        raise StackConfigError(f"the pack does not know which {PROJECT} stack it analyses (the CLI names it in "
                               "PULUMI_PROJECT and PULUMI_STACK)")
    try:
        return parse_host_spec(raw, stack=pulumi.get_stack(), base_dir=PROJECT_DIR)
    except ConfigError as err:
        raise StackConfigError(f"the stack's config is invalid ({'; '.join(err.problems)})") from None

"""Resource options as components pass them on: what a component was told to wait for, its children wait for."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi


def dependencies(opts: pulumi.ResourceOptions | None) -> list[pulumi.Resource]:
    """The resources in `opts.depends_on`, for the component's children.

    The engine does not make a component's children wait for the component's own dependencies, so a component
    whose children act on the world (commands over SSH) hands them the list itself.
    """
    wanted = opts.depends_on if opts is not None else None
    if wanted is None:
        return []
    if isinstance(wanted, pulumi.Resource):
        return [wanted]
    if isinstance(wanted, Sequence):
        resources = [r for r in wanted if isinstance(r, pulumi.Resource)]
        if len(resources) == len(wanted):
            return resources
    raise TypeError("depends_on of this component takes resources (a resource or a list of them), not Outputs")

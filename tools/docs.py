"""Generated README sections: config reference, each vendor's regions, plans and images, cost table and
config-change effects, from the code that enforces them; the example outputs of `make plan` and `make compare`,
from the tools that print them; and the real-VM proof table, from the committed summary of an e2e run
(e2e/last-report.json).

`python -m tools.docs` (part of `make generate`) rewrites the marked blocks in README.md; tests/test_docs.py fails
when they drift.
"""

from __future__ import annotations

import json
import re
from functools import partial
from pathlib import Path

from components import catalog, changes
from components.config import CONFIG_KEYS, PROJECT, ConfigKey
from e2e import summary as e2e_summary
from tools import plan

README = Path(__file__).resolve().parents[1] / "README.md"


def config_reference() -> str:
    """One row per key, section by section, with what validation allows where the schema lists it."""
    rows = ["| key | section | type | default | allowed | meaning |", "|---|---|---|---|---|---|"]
    for key in CONFIG_KEYS:
        if key.required:
            default = "**required**"
        elif key.default is None:
            default = "(unset)"
        else:
            default = f"`{json.dumps(key.default) if not isinstance(key.default, str) else key.default}`"
        kind = f"{key.type}, secret" if key.secret else key.type
        rows.append(f"| `{PROJECT}:{key.name}` | {key.section} | {kind} | {default} | {_allowed(key)} | "
                    f"{key.description} |")
    return "\n".join(rows)


def _allowed(key: ConfigKey) -> str:
    if key.choices:
        return ", ".join(key.choices)
    if key.range:
        return f"{key.range[0]} to {key.range[1]}"
    return "true, false" if key.type == "boolean" else ""


def cost_table() -> str:
    head = "| tier | " + " | ".join(v.title for v in catalog.CATALOG.values()) + " |"
    rows = [head, "|---" * (len(catalog.CATALOG) + 1) + "|"]
    for tier in catalog.TIERS:
        cells = []
        for vendor in catalog.CATALOG.values():
            size = vendor.size_for(tier)
            cells.append("not offered" if size is None else
                         f"`{size.slug}`: {size.vcpus} vCPU, {size.ram_gb:g} GB, {size.disk_gb} GB, "
                         f"${size.monthly_usd:g}")
        rows.append(f"| {tier} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def vendor_offer_table() -> str:
    """Per vendor, what `region`, `size` and `image` accept: its open regions with where they are, its plans, its
    images; the regions it lists but the project refuses are named apart."""
    rows = ["| vendor | regions (`region`) | plans (`size`) | images (`image`) |", "|---|---|---|---|"]
    for vendor in catalog.CATALOG.values():
        regions = ", ".join(f"`{r}` ({vendor.locations[r].label})" for r in vendor.open_regions)
        if vendor.closed_regions:
            regions += "; refused: " + ", ".join(f"`{r}`" for r in vendor.closed_regions)
        plans = ", ".join(f"`{s.slug}`" + (f" ({s.tier})" if s.tier else "") for s in vendor.sizes)
        images = ", ".join(f"`{name}`" for name in vendor.images if name not in vendor.withheld_images)
        rows.append(f"| {vendor.title} | {regions} | {plans} | {images} |")
    return "\n".join(rows)


def change_table() -> str:
    """Per key and vendor, what a change does to a running server (components.changes)."""
    head = "| key | " + " | ".join(v.title for v in catalog.CATALOG.values()) + " |"
    rows = [head, "|---" * (len(catalog.CATALOG) + 1) + "|"]
    for key, by_vendor in changes.CHANGES.items():
        cells = []
        for vendor in catalog.CATALOG:
            found = by_vendor[vendor]
            text = f"**{found.text}**" if found.kind in (changes.REPLACE, changes.REBOOT) else found.text
            if found.volume != changes.VOLUME_KEPT:
                volume = changes.VOLUME_TEXT[found.volume]
                text += "; " + (f"**{volume}**" if found.volume == changes.VOLUME_REPLACE else volume)
            cells.append(f"{text} ({found.note})")
        rows.append(f"| `{key}` | " + " | ".join(cells) + " |")
    return "\n".join(rows)


#: The README's examples: what `make plan STACK=...` shows as the resource tree and `make compare TIER= NEAR=` prints.
PLAN_EXAMPLE_STACK = "do-dev"
COMPARE_EXAMPLE = ("small", "fra1")


def _text_fence(lines: list[str]) -> str:
    return "\n".join(["```text", *lines, "```"])


def plan_example() -> str:
    """The resource tree of the example stack's plan, as `make plan` prints it (first-boot size and digest too)."""
    doc = plan.build_plan(plan.find_stack(PLAN_EXAMPLE_STACK))
    (resources,) = [s for s in doc.sections if s.title.startswith("Resources (")]
    return _text_fence([resources.title, "-" * len(resources.title), *plan.section_text_lines(resources.blocks)])


def compare_example() -> str:
    """The comparison table `make compare TIER=small NEAR=fra1` prints, without its title."""
    tier, near = COMPARE_EXAMPLE
    (section,) = plan.build_compare(tier, near).sections
    return _text_fence(plan.section_text_lines(section.blocks))


BLOCKS = {"config-reference": config_reference, "vendor-offers": vendor_offer_table, "cost-table": cost_table,
          "config-changes": change_table, "compare-example": compare_example, "plan-example": plan_example,
          "e2e-proof": e2e_summary.committed_table}


def _fill(match: re.Match[str], block: str) -> str:
    return match.group(1) + block + "\n" + match.group(2)


def rewrite(text: str) -> str:
    for name, make in BLOCKS.items():
        pattern = re.compile(rf"(<!-- {name}:begin -->\n)(?:.*?\n)?(<!-- {name}:end -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md lacks the <!-- {name}:begin/end --> markers")
        text = pattern.sub(partial(_fill, block=make()), text)
    return text


if __name__ == "__main__":
    README.write_text(rewrite(README.read_text()))

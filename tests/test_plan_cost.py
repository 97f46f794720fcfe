"""The plan's monthly cost (tools/plan/cost.py)."""

from __future__ import annotations

from components.config import load_stack_file
from components.cost import monthly_cost
from tests.plan_support import markdown_section
from tools import plan


def test_plan_shows_the_monthly_cost(stack_file, plans):
    doc, _ = plans[stack_file]
    spec = load_stack_file(stack_file)
    cost = monthly_cost(spec)
    section = markdown_section(plan.render_markdown(doc), "Monthly cost")
    assert f"| Server ({spec.size.slug}) | {plan.usd(cost.server_usd)} |" in section
    assert f"| Backups ({'on: ' if spec.backups else 'off'}" in section
    assert f"| {plan.usd(cost.backups_usd)} |" in section
    assert f"| {plan.usd(cost.static_ip_usd)} |" in section
    assert f"| Total | {plan.usd(cost.total_usd)} |" in section
    if spec.has_data_volume:  # billed per GB-month at the vendor's list price
        assert cost.data_volume_usd == round(spec.data_volume_gb * spec.vendor_info.volume_usd_per_gb, 2) > 0
        assert f"| Data volume ({spec.data_volume_gb} GB at " in section
        assert cost.total_usd == round(cost.server_usd + cost.backups_usd + cost.static_ip_usd
                                       + cost.data_volume_usd, 2)
    else:
        assert cost.data_volume_usd == 0 and "Data volume" not in section

"""The header's mark for each target: stale only when the target is overdue at the pace its resources are read
(with push, the safety net reads them a minute or more apart), never every half minute of a quiet region."""

from __future__ import annotations

from datetime import timedelta

from console.model import FleetState, TargetStatus
from screens.widgets.fleet_header import header_facts
from tests.ui.conftest import ago, fixed_clock, sandbox_target

EAST, WEST = sandbox_target("us-east-1"), sandbox_target("us-west-2")


def marks(state: FleetState) -> dict[str, str]:
    facts = header_facts("wavedeck", (EAST, WEST), state, fixed_clock())
    return {name: glyph for glyph, name, _ in facts.targets}


def test_a_target_is_stale_past_its_own_window_not_the_default() -> None:
    statuses = (TargetStatus(EAST, read_at=ago(50), push="on"), TargetStatus(WEST, read_at=ago(50)))
    # us-east-1 is pushed to: its resources are read every 60 s, so its window is 120 s; us-west-2 polls (30 s).
    state = FleetState(targets=statuses, default_stale_after=30.0, target_stale_after={EAST.name: 120.0})
    assert marks(state) == {EAST.name: "✓", WEST.name: "≈ stale"}
    late = (TargetStatus(EAST, read_at=fixed_clock() - timedelta(seconds=121), push="on"), statuses[1])
    assert marks(FleetState(targets=late, target_stale_after={EAST.name: 120.0}))[EAST.name] == "≈ stale"

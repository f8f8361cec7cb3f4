"""How stage conditions look: the mark of a stage held by one (glyph + word), and a rule in a line.

A stage is held while its entry conditions or its success conditions (a bake) are evaluated. The mark says
which in a word that fits a wave-board cell: `◷ bake 4m` (the time left when AWS's state gives the start and
the rule's WaitTime), `◆ window` (a deployment window is closed), `◆ alarm` (entry waits for alarms to clear),
`◆ held` (any other rule). What the rule watches and AWS's own summary are shown literally beside it.
"""

from __future__ import annotations

from datetime import datetime

from console.codepipeline.model import ConditionKind, Rule, StageCondition
from screens.status import StatusLook, Tone
from screens.timefmt import until

BAKING = StatusLook("◷", "bake", Tone.BUSY)
HELD = StatusLook("◆", "held", Tone.WAIT)


def hold_look(condition: StageCondition) -> StatusLook:
    """The glyph and the word of a stage held by `condition` (which is in progress)."""
    if condition.kind is ConditionKind.ON_SUCCESS:
        return BAKING
    waiting = [r for r in condition.rules if r.status == "InProgress"] or list(condition.rules)
    if any(r.provider == "DeploymentWindow" for r in waiting):
        return StatusLook(HELD.glyph, "window", HELD.tone)
    if any(r.alarms for r in waiting):
        return StatusLook(HELD.glyph, "alarm", HELD.tone)
    return HELD


def hold_label(condition: StageCondition, now: datetime) -> str:
    """`◷ bake 4m`, `◆ window`: the mark and, for a wait with a known end, the time left."""
    look = hold_look(condition)
    left = time_left(condition.ends(), now)
    return f"{look.label} {left}" if left else look.label


def time_left(ends: datetime | None, now: datetime) -> str:
    """`4m`, `12s`, `0s` (due), or empty when the end is unknown."""
    if ends is None:
        return ""
    text = until(ends, now)
    return "0s" if text == "expired" else text.removeprefix("in ")


def rule_watches(rule: Rule, now: datetime) -> str:
    """What a rule looks at and, while it waits, for how much longer: `alarm Prod-5xx · 4m left`."""
    parts = [rule.watches()]
    if rule.status == "InProgress":
        left = time_left(rule.ends(), now)
        if left:
            parts.append(f"{left} left of {rule.wait_minutes:g}m")
    return " · ".join(p for p in parts if p)

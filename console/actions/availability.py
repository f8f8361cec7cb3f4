"""Whether an action makes sense for a selection, judged from the picture alone (no IO, no waiting).

Screens call it for every key on every redraw to grey out what cannot run now and say why; the gate's plan
and execute check again against fresh state, so a picture that is a little old can only grey out too much
or too little, never send anything.
"""

from __future__ import annotations

from collections.abc import Iterable

from console.actions.plan import ActionKind, ActionPlan, Availability
from console.actions.preconditions import Preconditions
from console.actions.registry import unavailable
from console.model import FleetState
from console.resources import (
    Selection,
)


def availability(
    kind: ActionKind,
    selection: Selection,
    state: FleetState,
    preconditions: Preconditions,
    in_flight: Iterable[ActionPlan],
) -> Availability:
    """Whether `kind` makes sense for `selection` in `state`, and why not."""
    refusal = preconditions.read_only_refusal(selection.target)
    if refusal:
        return Availability(False, refusal)
    if not preconditions.knows(selection.target):
        return Availability(False, f"unknown target {selection.target}")
    busy = next((p for p in in_flight if overlaps(p, kind, selection)), None)
    if busy is not None:
        return Availability(False, f"{busy.kind.label.lower()} is being sent")
    # The rest is the service's own (its package's `unavailable`, found through the registry).
    why = unavailable(kind, selection, state, preconditions.context)
    return Availability(why is None, why or "")


def overlaps(plan: ActionPlan, kind: ActionKind, selection: Selection) -> bool:
    """Whether an in-flight plan acts on what `selection` names with the same family of action."""
    if plan.kind.family != kind.family or plan.selection.key != selection.key:
        return False
    mine, theirs = selection.resource + "/", plan.selection.resource + "/"
    return mine.startswith(theirs) or theirs.startswith(mine)

"""One key binding's description (`KeySpec`): the type of console/keys.py's table, apart so that a service package
can declare its section key (its `parts.py`) without importing the table that gathers every service's."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One binding: its stable id, default keys, full description (help, palette), group, and the short
    label the footer shows (it has one line for every key). An action key names the action kind it runs (the
    value of `console.actions.plan.ActionKind`): the screens bind it and run it through the gate from that alone."""

    id: str
    keys: str  # Textual key names, comma-separated
    description: str
    group: str
    short: str
    kind: str | None = None

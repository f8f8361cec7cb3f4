"""Every key binding of the console by stable id, with its default keys and what it does.

The screens build their BINDINGS from this table, the config's `keymap:` remaps ids from it (checked here, so a
typo in the config names its file and line), and the help screen lists it. Kept in the core so the config can be
validated without importing the UI.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KeySpec:
    id: str
    keys: str  # Textual key names, comma-separated
    description: str
    group: str


KEYS: tuple[KeySpec, ...] = (
    KeySpec("help", "question_mark,f1", "Help: every key of this screen", "app"),
    KeySpec("quit", "q", "Quit (asks if an action is in flight)", "app"),
    KeySpec("palette", "ctrl+p", "Command palette", "app"),
    KeySpec("filter", "slash", "Filter", "app"),
    KeySpec("back", "escape", "Back", "app"),
    KeySpec("open", "enter", "Open the selection", "app"),
    KeySpec("fleet", "1", "Fleet: pipelines", "app"),
    KeySpec("state_machines", "2", "Fleet: state machines", "app"),
    KeySpec("approvals", "3", "Approvals waiting for a person", "app"),
    KeySpec("activity", "4", "Activity: live transitions", "app"),
    KeySpec("refresh", "ctrl+r", "Refresh now", "app"),
    KeySpec("approve", "a", "Approve", "action"),
    KeySpec("reject", "x", "Reject", "action"),
    KeySpec("stop", "s", "Stop (let running actions finish)", "action"),
    KeySpec("stop_abandon", "S", "Stop and abandon running actions", "action"),
    KeySpec("rollback", "b", "Roll back to the last good execution", "action"),
    KeySpec("retry", "r", "Retry the failed stage / redrive", "action"),
    KeySpec("pause", "p", "Pause / resume promotion into the stage", "action"),
    KeySpec("goto", "g", "Go to the linked execution", "navigation"),
    KeySpec("view_input", "i", "Show the input (JSON)", "screen"),
    KeySpec("view_output", "o", "Show the output, or the error and cause (JSON)", "screen"),
    KeySpec("down", "j,down", "Move down", "navigation"),
    KeySpec("up", "k,up", "Move up", "navigation"),
)

KEY_IDS: frozenset[str] = frozenset(spec.id for spec in KEYS)


def spec(binding_id: str) -> KeySpec:
    return next(s for s in KEYS if s.id == binding_id)

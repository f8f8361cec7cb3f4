"""Every key binding of the console by stable id, with its default keys and what it does (each source of
deployments' section key comes from its package, through the registry of services).

The screens build their BINDINGS from this table, the config's `keymap:` remaps ids from it (checked here, so a
typo in the config names its file and line), and the help screen lists it. Kept in the core so the config can be
validated without importing the UI.
"""

from __future__ import annotations

from console.key_spec import KeySpec
from console.services import SERVICES

__all__ = ["KEYS", "KEY_IDS", "KeySpec", "keymap_conflicts", "spec"]


KEYS: tuple[KeySpec, ...] = (
    KeySpec("help", "question_mark,f1", "Help: every key of this screen", "app", "Help"),
    KeySpec("quit", "q", "Quit (asks if an action is in flight)", "app", "Quit"),
    KeySpec("palette", "ctrl+p", "Command palette", "app", "Palette"),
    KeySpec("filter", "slash", "Filter", "app", "Filter"),
    KeySpec("back", "escape", "Back", "app", "Back"),
    KeySpec("open", "enter", "Open the selection", "app", "Open"),
    # The sections, reached from anywhere: each source of deployments' view on the fleet screen (its section key,
    # from its package's `parts.py` through the registry of services: its line in screens/fleet/views.py names
    # the id, and the app binds it from that line), then each section screen (console/app.py SECTION_SCREENS).
    # In the core, not the screens, so the config checks a keymap without importing the UI.
    *(parts.section for parts in SERVICES.values()),
    KeySpec("approvals", "3", "Approvals waiting for a person", "app", "Approvals"),
    KeySpec("activity", "4", "Activity: live transitions", "app", "Activity"),
    KeySpec("refresh", "ctrl+r", "Refresh now", "app", "Refresh"),
    KeySpec("approve", "a", "Approve", "action", "Approve", "approve"),
    KeySpec("reject", "x", "Reject", "action", "Reject", "reject"),
    KeySpec("stop", "s", "Stop (let running actions finish)", "action", "Stop", "stop"),
    KeySpec("stop_abandon", "S", "Stop and abandon running actions", "action", "Abandon", "stop-abandon"),
    KeySpec("rollback", "b", "Roll back to the last good execution", "action", "Rollback", "rollback"),
    KeySpec("retry", "r", "Retry the failed stage / redrive", "action", "Retry", "retry"),
    KeySpec("pause", "p", "Pause / resume promotion into the stage", "action", "Pause/resume", "pause"),
    KeySpec(
        "override",
        "O",
        "Override the condition holding the stage (end a bake, enter past an alarm)",
        "action",
        "Override",
        "override",
    ),
    KeySpec("goto", "g", "Go to the linked execution", "navigation", "Go to"),
    KeySpec("view_input", "i", "Show the input (JSON)", "screen", "Input"),
    KeySpec("view_output", "o", "Show the output, or the error and cause (JSON)", "screen", "Output"),
    KeySpec("down", "j,down", "Move down", "navigation", "Down"),
    KeySpec("up", "k,up", "Move up", "navigation", "Up"),
)

KEY_IDS: frozenset[str] = frozenset(spec.id for spec in KEYS)


def spec(binding_id: str) -> KeySpec:
    return next(s for s in KEYS if s.id == binding_id)


def keymap_conflicts(keymap: dict[str, str] | None) -> list[tuple[str, str, str]]:
    """(key, first id, second id) for every key that `keymap` leaves bound to two bindings.

    Every screen has the "app" bindings, and the execution screen has the actions, the screen's own keys and
    the navigation together, so the table is one namespace: a key may do one thing only. Without this check
    `keymap: {reject: a}` silently makes `a` reject and leaves approve with no key.
    """
    owner: dict[str, str] = {}
    found: list[tuple[str, str, str]] = []
    for key_spec in KEYS:
        keys = (keymap or {}).get(key_spec.id, key_spec.keys)
        for key in (k.strip() for k in keys.split(",")):
            if not key:
                continue
            first = owner.setdefault(key, key_spec.id)
            if first != key_spec.id:
                found.append((key, first, key_spec.id))
    return found

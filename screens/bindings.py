"""Key bindings built from the one table in console/keys.py: stable id, keys, description.

Every binding of the console is made here, so each has an id the config's `keymap:` can remap
(`App.set_keymap`), a description the footer, the help screen and the command palette show, and a group.
"""

from __future__ import annotations

from textual.binding import Binding

from console import keys
from console.key_spec import KeySpec
from console.keys import spec

GROUP_TITLES = {
    "app": "Everywhere",
    "navigation": "Moving around",
    "action": "Actions on the selection",
    "screen": "This screen",
}


def binding(binding_id: str, action: str | None = None, *, show: bool = True, priority: bool = False) -> Binding:
    """The binding with this id from console/keys.py, running `action` (default: the id).

    The footer shows the short label; `tooltip` keeps the full description, which help and the palette show.
    """
    key_spec = spec(binding_id)
    return Binding(
        key_spec.keys,
        action or binding_id,
        key_spec.short,
        show=show,
        priority=priority,
        tooltip=key_spec.description,
        id=key_spec.id,
    )


def describe_binding(bound: Binding) -> str:
    """The full description of a binding: console/keys.py's for ours, the binding's own otherwise."""
    key_spec = spec_for(bound.id)
    return key_spec.description if key_spec else bound.description


def spec_for(binding_id: str | None) -> KeySpec | None:
    """The key spec of a binding id, or None for Textual's own bindings (which have no id here)."""
    if binding_id is None:
        return None
    return next((s for s in keys.KEYS if s.id == binding_id), None)

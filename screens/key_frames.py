"""A key's frame drawn as soon as the key is handled.

Textual draws a screen's changes at the next tick of its update timer (60 a second), which keeps running on
its grid while anything changes: a key handled just after a tick waits most of a frame (16.7 ms) for it, and
on a console whose watcher keeps publishing that is half a frame on average. `draw_now` runs that same update
at once, from the screen's idle handler (its message queue is empty: the key is handled), when the app says
a key's frame is due. The timer's next tick then finds nothing left to draw.

Textual's internals used here (`tests/ui/test_key_frames.py` names them, so an upgrade that moves them fails
there first): `Screen._on_timer_update`, the flags it reads (`_layout_required`, `_scroll_required`,
`_repaint_required`, `_dirty_widgets`) and `App._batch_count`.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen


def pending(screen: Screen[Any]) -> bool:
    """Whether `screen` has changes its update timer would draw."""
    return bool(screen._layout_required or screen._scroll_required or screen._repaint_required or screen._dirty_widgets)


def draw_now(screen: Screen[Any]) -> bool:
    """Draw `screen`'s pending changes now, as its update timer would at its next tick; False when there is
    nothing to draw or the screen cannot draw now (not on top, or inside an app's batch update)."""
    if not screen.is_current or screen.app._batch_count or not pending(screen):
        return False
    screen._on_timer_update()
    return True

"""A section screen shown again keeps the styles it was hidden with, unless something they depend on changed.

Textual applies the whole stylesheet again to every widget of a screen it resumes after `push_screen` or
`switch_screen` (`ScreenResume.refresh_styles`): the screen was off the stack, so a theme chosen meanwhile did not
reach it. Applying them clears every widget's rendered lines, so the frame that shows the screen renders all of
them anew: at 2,000 pipelines, 2 to 3 ms of styles and up to 10 ms more of rendering in each `3` or `4`, for
styles that had not changed.

`hidden_with(app)` is what a screen's styles depend on beyond its own widgets: the app's CSS generation (a new
theme, a reparsed stylesheet), its classes (dark or light), whether the terminal has the focus (`:focus` of the
app), and the ANSI colour mode. A screen keeps it when it is suspended and, when it is resumed with the same,
tells Textual to keep its styles (`keep_styles`). Anything else (its first showing, a change meanwhile) applies
them as Textual does.

The Textual internals read here (`App._css_update_count`, `ScreenResume.refresh_styles`) are named in
tests/ui/test_resume_styles.py.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from textual import events
from textual.app import App


def hidden_with(app: App[Any]) -> Hashable:
    """What a screen's styles depend on beyond its own widgets, now."""
    return (app._css_update_count, app.classes, app.app_focus, app.ansi_color, app.theme)


def keep_styles(event: events.ScreenResume, hidden: Hashable | None, app: App[Any]) -> bool:
    """Tell Textual not to apply the styles again when nothing they depend on changed since the screen was
    hidden (`hidden`: what `hidden_with` said then; None when it was never shown); True if kept."""
    if not event.refresh_styles or hidden is None or hidden != hidden_with(app):
        return False
    event.refresh_styles = False
    return True

"""Section screens built before their first visit, so that the first `3` or `4` is as quick as the next.

Textual composes and mounts a screen when it is first pushed: the approvals inbox's and the activity stream's
widgets, their styles, and their rows from the whole picture (460 approvals, thousands of transitions at 2,000
pipelines), all in the key that opens it: 130 to 340 ms live, five to ten times a later visit. `prepare` registers
the screen as `App.push_screen` would (`App._get_screen` starts a screen that is not running, `App._load_screen_css`
reads its styles) without putting it on the stack: it composes and mounts while hidden, between keys, and the key
that shows it later finds it running and only resumes it. A hidden screen draws nothing and tells the watcher
nothing (console/app.py draws only the screen shown; what is visible is told on resume).

Once mounted, `lay_out_hidden` also lays it out for the terminal's size and renders it once, without showing it
(`Screen._refresh_layout`, `Compositor.render_update`): its first showing then finds every widget placed and its
lines drawn, as a later showing does (the first `3` and `4` took 40 to 70 ms, twice a later one). A terminal
resized meanwhile is laid out again when shown, as Textual does for any screen.

The Textual internals this calls are named in tests/ui/test_prepared_screens.py.
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.screen import Screen


def prepare(app: App[Any], name: str, screen: Screen[Any]) -> None:
    """Install `screen` under `name` and start it (compose, mount) without showing it."""
    app.install_screen(screen, name)
    started, _ = app._get_screen(name)
    app._load_screen_css(started)


def lay_out_hidden(screen: Screen[Any]) -> None:
    """Lay `screen` out for the terminal's size and render it once, off screen (see the module docstring); nothing
    when it is shown or gone."""
    if screen.is_current or not screen.is_attached:
        return
    screen._refresh_layout(screen.app.size)
    screen._compositor.render_update(full=True)

"""Section screens built before their first visit, so that the first `3` or `4` is as quick as the next.

Textual composes and mounts a screen when it is first pushed: the approvals inbox's and the activity stream's
widgets, their styles, and their rows from the whole picture (460 approvals, thousands of transitions at 2,000
pipelines), all in the key that opens it: 130 to 340 ms live, five to ten times a later visit. `prepare` registers
the screen as `App.push_screen` would (`App._get_screen` starts a screen that is not running, `App._load_screen_css`
reads its styles) without putting it on the stack: it composes and mounts while hidden, between keys, and the key
that shows it later finds it running and only resumes it. A hidden screen draws nothing and tells the watcher
nothing (console/app.py draws only the screen shown; what is visible is told on resume).

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

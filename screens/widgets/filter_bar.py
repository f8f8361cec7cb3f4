"""The filter bar of the screens that filter a list (`/`): hidden until opened, says what is typed by a message.

One widget instead of a copy per screen: `/` opens it (`open()`), every edit posts `FilterBar.FilterChanged`
with the text as typed, enter leaves it (hidden again when empty) and posts `FilterBar.FilterLeft` so the
screen gives the focus back to its list, and esc (the screen's `back`) asks `clear()`, which empties and hides
it and says whether there was anything to clear (if not, esc means going back); the screen then drops its
filter and takes the focus back in the same turn, so the picture without the filter is the next one drawn.
"""

from __future__ import annotations

from textual import on
from textual.message import Message
from textual.widgets import Input


class FilterBar(Input):
    """A one-line filter box, hidden while unused; posts what is typed (see the module docstring)."""

    class FilterChanged(Message):
        """The text of the filter changed (as typed: the screen decides how to strip it)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class FilterLeft(Message):
        """The operator left the filter with enter: the screen's list takes the focus back."""

    def __init__(self, placeholder: str, *, id: str = "filter") -> None:
        super().__init__(placeholder=placeholder, id=id)
        # Opened, focus not taken yet: the screen puts what is typed meanwhile into the bar (type-ahead).
        self.opening = False

    def on_mount(self) -> None:
        self.display = False

    def open(self) -> None:
        """`/`: show the bar and type into it."""
        self.display = True
        self.opening = True
        self.focus()

    def on_focus(self) -> None:
        self.opening = False

    def clear_filter(self) -> bool:
        """esc: empty and hide the bar when it is open or filters; False when there was nothing to clear."""
        if not self.display and not self.value.strip():
            return False
        self.value = ""
        self.display = False
        return True

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.FilterChanged(event.value))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            self.display = False
        self.post_message(self.FilterLeft())

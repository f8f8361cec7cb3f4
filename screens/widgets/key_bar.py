"""The key bar at the bottom of every console screen: each key with a short label, greyed out when unavailable.

Textual's Footer mounts one widget per key and is rebuilt whenever availability changes, which on the fleet
screen is every cursor move between a pipeline that waits for approval and one that does not. This bar draws
one line of text instead, and only when what it says changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import RenderableType
from rich.text import Text
from textual.screen import Screen
from textual.widget import Widget


@dataclass(frozen=True, slots=True)
class KeyHint:
    key: str
    label: str
    enabled: bool


class KeyBar(Widget):
    """One line of key hints for the screen it is on (bindings with `show=True`), keymap applied."""

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._hints: tuple[KeyHint, ...] = ()

    @property
    def hints(self) -> tuple[KeyHint, ...]:
        return self._hints

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.call_after_refresh(self._bindings_changed, self.screen)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if screen is not self.screen:
            return
        seen: set[str] = set()
        hints: list[KeyHint] = []
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if not binding.show or not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            hints.append(KeyHint(self.app.get_key_display(binding.with_key(key)), binding.description, active.enabled))
        found = tuple(hints)
        if found != self._hints:
            self._hints = found
            self.refresh()

    def render(self) -> RenderableType:
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        for hint in self._hints:
            # Unavailable keys stay listed, dimmed (help and pressing the key say why).
            text.append(f" {hint.key}", style="bold" if hint.enabled else "dim")
            text.append(f" {hint.label} ", style="" if hint.enabled else "dim")
        return text

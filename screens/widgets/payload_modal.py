"""`PayloadModal`: an execution's or an event's input, output, parameters, error and cause, shown literally.

A JSON document is pretty-printed (two-space indent, keys in their order); anything that does not parse is
shown as it is. Either way it is plain text: never markup, control characters removed (`json.dumps`
escapes them inside strings already). The body scrolls with the keyboard (j/k, arrows, page up/down).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from screens.text import clean, literal


def pretty(value: str | None) -> Text:
    """`value` as an operator reads it: pretty JSON when it parses, else the text itself; `—` when absent."""
    if value is None or value == "":
        return Text("—", style="dim", end="")
    try:
        document = json.loads(value)
    except ValueError:
        return literal(value, keep_newlines=True)
    # ensure_ascii=False keeps names readable; json.dumps still escapes control characters in strings.
    return literal(json.dumps(document, indent=2, ensure_ascii=False), keep_newlines=True)


class PayloadModal(ModalScreen[None]):
    """A title and sections (label, raw text), each shown with `pretty` (or a `body` already made literal);
    esc, q, i or o closes it."""

    DEFAULT_CSS = """
    PayloadModal {
        align: center middle;
    }
    PayloadModal #payload-dialog {
        width: 90%;
        max-width: 120;
        height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    PayloadModal #payload-title {
        height: auto;
        text-style: bold;
    }
    PayloadModal #payload-body {
        height: 1fr;
    }
    PayloadModal .payload-label {
        margin-top: 1;
        text-style: bold underline;
    }
    PayloadModal #payload-hint {
        height: 1;
        color: $text-muted;
    }
    """
    AUTO_FOCUS = "#payload-body"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,i,o", "close", "Close", id="payload.close"),
        Binding("j,down", "scroll('down')", "Scroll down", show=False, id="payload.down"),
        Binding("k,up", "scroll('up')", "Scroll up", show=False, id="payload.up"),
    ]

    def __init__(self, title: str, sections: Sequence[tuple[str, str | None]], *, body: Text | None = None) -> None:
        super().__init__()
        self.title_text = clean(title)
        self.sections = tuple(sections)
        self.body = body  # text the screen already made safe (literal), shown above the sections

    def compose(self) -> ComposeResult:
        with Vertical(id="payload-dialog"):
            yield Static(literal(self.title_text, style="bold"), id="payload-title")
            with VerticalScroll(id="payload-body"):
                if self.body is not None:
                    yield Static(self.body, classes="payload-value")
                for label, value in self.sections:
                    yield Static(literal(label), classes="payload-label")
                    yield Static(pretty(value), classes="payload-value")
            yield Static(Text("j/k scroll · esc closes", style="dim"), id="payload-hint")

    def action_scroll(self, direction: str) -> None:
        body = self.query_one("#payload-body", VerticalScroll)
        if direction == "down":
            body.scroll_down(animate=False)
        else:
            body.scroll_up(animate=False)

    def action_close(self) -> None:
        self.dismiss(None)

    @property
    def text(self) -> str:
        """Everything the modal shows, as plain text (for tests and copy)."""
        parts = [self.title_text]
        if self.body is not None:
            parts.append(self.body.plain)
        for label, value in self.sections:
            parts.extend([label, pretty(value).plain])
        return "\n".join(parts)

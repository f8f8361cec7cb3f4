"""`ChooseModal`: pick one of a few things (which stage to pause, which approval to answer)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from screens.text import literal


class ChooseModal(ModalScreen[int | None]):
    """A question and a list of labels; returns the index picked, or None on esc."""

    CSS_PATH = "choose.tcss"
    AUTO_FOCUS = "#choices"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="choose.cancel")]

    def __init__(self, question: str, labels: Sequence[str], preferred: int = 0) -> None:
        super().__init__()
        self.question = question
        self.labels = tuple(labels)
        self.preferred = preferred

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(literal(self.question, style="bold"), id="question")
            yield OptionList(*(Option(literal(label), id=str(i)) for i, label in enumerate(self.labels)), id="choices")
            yield Static(Text("enter picks · esc cancels", style="dim"), id="hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = self.preferred

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option_index)

    def action_cancel(self) -> None:
        self.dismiss(None)

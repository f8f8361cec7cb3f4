"""Help (F1 and `?`): every key of the screen it was opened from, with its description and whether it can be
used now (and why not), the command palette, and what each status glyph means."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from screens.base import explain
from screens.bindings import GROUP_TITLES, describe_binding, spec_for
from screens.status import LEGEND


@dataclass(frozen=True, slots=True)
class HelpRow:
    """One binding as help lists it."""

    group: str
    keys: str
    description: str
    enabled: bool
    reason: str | None


def help_rows(screen: Screen[object]) -> tuple[HelpRow, ...]:
    """Every binding active on `screen` (its own, its focused widget's, the app's), keymap applied,
    one row per binding with all of its keys."""
    app = screen.app
    rows: dict[str, tuple[str, list[str], str, bool, str | None]] = {}
    order: list[str] = []
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.description or binding.system:
            continue
        key_spec = spec_for(binding.id)
        group = key_spec.group if key_spec else "screen"
        ident = binding.id or f"{type(active.node).__name__}.{binding.action}"
        display = app.get_key_display(binding.with_key(key))
        reason = None if active.enabled else explain(active)
        if ident in rows:
            rows[ident][1].append(display)
            continue
        rows[ident] = (group, [display], describe_binding(binding), active.enabled, reason)
        order.append(ident)
    ranked = sorted(order, key=lambda i: list(GROUP_TITLES).index(rows[i][0]) if rows[i][0] in GROUP_TITLES else 9)
    return tuple(
        HelpRow(rows[i][0], " / ".join(dict.fromkeys(rows[i][1])), rows[i][2], rows[i][3], rows[i][4]) for i in ranked
    )


class HelpScreen(ModalScreen[None]):
    """Every key of the screen below, grouped; greyed keys say why they are unavailable now."""

    CSS_PATH = "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,f1,question_mark", "close", "Close help", id="help.close"),
    ]

    def __init__(self, of: Screen[object]) -> None:
        super().__init__()
        self.rows = help_rows(of)
        self.screen_title = getattr(of, "HELP_TITLE", type(of).__name__)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(Text(f"Keys — {self.screen_title}", style="bold"), id="help-title")
            yield Static(self._keys_table(), id="help-keys")
            yield Static(
                Text.assemble(
                    ("ctrl+p", "bold"),
                    " opens the command palette: every key above is there by name, searchable.",
                ),
                id="help-palette",
            )
            yield Static(self._legend(), id="help-legend")
            yield Static(Text("esc, q, F1 or ? closes this help", style="dim"), id="help-close")

    def _keys_table(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True, min_width=10)
        table.add_column()
        group = None
        for row in self.rows:
            if row.group != group:
                group = row.group
                if table.row_count:
                    table.add_row("", "")
                table.add_row(Text(GROUP_TITLES.get(group, group), style="bold underline"), "")
            description = Text(row.description)
            if not row.enabled:
                description.stylize("dim")
                description.append(f"  (unavailable: {row.reason})" if row.reason else "  (unavailable now)")
            table.add_row(Text(row.keys, style="bold" if row.enabled else "dim"), description)
        return table

    def _legend(self) -> Text:
        text = Text("Status glyphs\n", style="bold underline")
        for look in LEGEND:
            text.append(f"  {look.glyph} ", style=look.tone.style)
            text.append(look.word)
            text.append("\n")
        return text

    def action_close(self) -> None:
        self.dismiss(None)

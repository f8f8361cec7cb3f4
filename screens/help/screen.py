"""Help (F1 and `?`): every key of the screen it was opened from, with its description and whether it can be
used now (and why not), the command palette, and what each status glyph means."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from screens.base import why_unavailable
from screens.bindings import GROUP_TITLES, describe_binding, spec_for
from screens.status import LEGEND
from screens.text import clean, literal


@dataclass(frozen=True, slots=True)
class HelpRow:
    """One binding as help lists it."""

    group: str
    keys: str
    description: str
    enabled: bool
    reason: str | None


def screen_bindings(screen: Screen[Any]) -> list[tuple[str, Binding, DOMNode, bool]]:
    """(key, binding, owner, enabled) for every binding that works on `screen` now, keymap applied.

    The console's own bindings (with an id from console/keys.py) come first and win a key they share with a
    widget's built-in binding (enter opens, even though the table also binds it), so help and the palette
    describe what the key does here.
    """
    app = screen.app
    ours: list[tuple[str, Binding, DOMNode, bool]] = []
    theirs: list[tuple[str, Binding, DOMNode, bool]] = []
    for namespace, bindings in screen._modal_binding_chain:
        for key, bound in bindings:
            state = app._check_action_state(bound.action, namespace)
            if state is False or not bound.description or bound.system:
                continue
            entry = (key, bound, namespace, bool(state))
            (ours if spec_for(bound.id) else theirs).append(entry)
    taken = {key for key, *_ in ours}
    seen_ids: set[tuple[str, str]] = set()
    result = []
    for key, bound, node, enabled in ours + [t for t in theirs if t[0] not in taken]:
        ident = (key, bound.id or bound.action)
        if ident in seen_ids:
            continue
        seen_ids.add(ident)
        result.append((key, bound, node, enabled))
    return result


def help_rows(screen: Screen[Any]) -> tuple[HelpRow, ...]:
    """Every binding that works on `screen`, one row per binding with all of its keys, grouped."""
    app = screen.app
    rows: dict[str, tuple[str, list[str], str, bool, str | None]] = {}
    order: list[str] = []
    for key, bound, node, enabled in screen_bindings(screen):
        key_spec = spec_for(bound.id)
        group = key_spec.group if key_spec else "screen"
        ident = bound.id or f"{type(node).__name__}.{bound.action}"
        display = app.get_key_display(bound.with_key(key))
        if ident in rows:
            if display not in rows[ident][1]:
                rows[ident][1].append(display)
            continue
        reason = None if enabled else why_unavailable(node, bound.action)
        rows[ident] = (group, [display], describe_binding(bound), enabled, reason)
        order.append(ident)
    groups = list(GROUP_TITLES)
    ranked = sorted(order, key=lambda i: groups.index(rows[i][0]) if rows[i][0] in groups else len(groups))
    return tuple(HelpRow(rows[i][0], " / ".join(rows[i][1]), rows[i][2], rows[i][3], rows[i][4]) for i in ranked)


class HelpScreen(ModalScreen[None]):
    """Every key of the screen below, grouped; greyed keys say why they are unavailable now."""

    CSS_PATH = "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,f1,question_mark", "close", "Close help", id="help.close"),
    ]

    def __init__(self, of: Screen[Any]) -> None:
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
            description = literal(row.description)
            if not row.enabled:
                description.stylize("dim")
                description.append(f"  (unavailable: {clean(row.reason)})" if row.reason else "  (unavailable now)")
            table.add_row(Text(row.keys, style="bold" if row.enabled else "dim"), description)
        return table

    def _legend(self) -> Text:
        # Always here, whatever the size of the screen below: a glyph-only cell is never a mystery.
        text = Text("Status glyphs\n", style="bold underline")
        for entry in LEGEND:
            text.append(f"  {entry.glyph} ", style=entry.tone.style)
            text.append(entry.meaning)
            text.append("\n")
        return text

    def action_close(self) -> None:
        self.dismiss(None)

"""`KeyedTable`: a DataTable of keyed rows that redraws only what changed and keeps the cursor on its row.

The pipeline, state machine and execution screens hand it the whole list of rows on every picture;
`sync(rows)` works out the least it has to do:
- the same keys in the same order: only the cells that read differently are updated;
- the old keys followed by new ones (an execution's history growing): the new rows are appended;
- anything else: the rows are rebuilt and the cursor is put back on the row it was on (by key).

Column widths come from `layout(width)`, a function of the table's width given by the screen, so a screen
can show fewer or narrower columns at 80 columns; cells longer than their column end in an ellipsis.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.widgets import DataTable


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its key (what rows name their cells by), its label, its width in cells."""

    key: str
    label: str
    width: int


@dataclass(frozen=True, slots=True)
class Row:
    """One row: a stable key and its cells by column key (a column a row does not name is blank)."""

    key: str
    cells: Mapping[str, Text]

    def cell(self, column: str) -> Text:
        return self.cells.get(column) or Text("")


Layout = Callable[[int], Sequence[Column]]


def fit(cell: Text, width: int) -> Text:
    """`cell` cut to `width` cells with an ellipsis (a copy; the row keeps the whole text)."""
    if cell.cell_len <= width:
        return cell
    cut = cell.copy()
    cut.truncate(width, overflow="ellipsis")
    return cut


class KeyedTable(DataTable[Text]):
    """Rows by key, synced from the screen's picture (see the module docstring)."""

    DEFAULT_CSS = """
    KeyedTable {
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(self, layout: Layout, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        self._layout_of = layout
        self._columns_now: tuple[Column, ...] = ()
        self._keys: list[str] = []
        self._rows: dict[str, Row] = {}

    # --- what is shown --------------------------------------------------------------------------------

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self._keys)

    @property
    def columns_shown(self) -> tuple[Column, ...]:
        return self._columns_now

    @property
    def highlighted_key(self) -> str | None:
        """The key of the row under the cursor, or None when the table is empty."""
        if not self._keys or not 0 <= self.cursor_row < len(self._keys):
            return None
        return self._keys[self.cursor_row]

    def row(self, key: str) -> Row | None:
        return self._rows.get(key)

    def move_to(self, key: str) -> bool:
        """Put the cursor on the row of `key`; False when there is no such row."""
        if key not in self._keys:
            return False
        self.move_cursor(row=self._keys.index(key), animate=False)
        return True

    @property
    def at_last_row(self) -> bool:
        return not self._keys or self.cursor_row >= len(self._keys) - 1

    # --- syncing --------------------------------------------------------------------------------------

    def sync(self, rows: Sequence[Row]) -> None:
        """Show `rows`, doing as little as possible (see the module docstring)."""
        self._ensure_columns()
        keys = [r.key for r in rows]
        if keys == self._keys:
            self._update_cells(rows)
        elif self._keys and keys[: len(self._keys)] == self._keys:
            self._update_cells(rows[: len(self._keys)])
            for row in rows[len(self._keys) :]:
                self.add_row(*self._fitted(row), key=row.key)
                self._rows[row.key] = row
            self._keys = keys
        else:
            self._rebuild(rows)

    def _update_cells(self, rows: Sequence[Row]) -> None:
        for row in rows:
            old = self._rows.get(row.key)
            if old is None or old == row:
                self._rows[row.key] = row
                continue
            for column in self._columns_now:
                before, after = fit(old.cell(column.key), column.width), fit(row.cell(column.key), column.width)
                if before != after:
                    self.update_cell(row.key, column.key, after)
            self._rows[row.key] = row

    def _rebuild(self, rows: Sequence[Row]) -> None:
        highlighted = self.highlighted_key
        index = self.cursor_row
        self.clear()
        for row in rows:
            self.add_row(*self._fitted(row), key=row.key)
        self._keys = [r.key for r in rows]
        self._rows = {r.key: r for r in rows}
        if highlighted is not None and highlighted in self._keys:
            self.move_cursor(row=self._keys.index(highlighted), animate=False)
        elif self._keys:
            self.move_cursor(row=max(min(index, len(self._keys) - 1), 0), animate=False)

    def _fitted(self, row: Row) -> tuple[Text, ...]:
        return tuple(fit(row.cell(c.key), c.width) for c in self._columns_now)

    # --- columns --------------------------------------------------------------------------------------

    def _width(self) -> int:
        return self.size.width or self.app.size.width

    def _ensure_columns(self) -> bool:
        """Lay the columns out for the current width; True when they changed (the rows were redrawn)."""
        wanted = tuple(self._layout_of(self._width()))
        if wanted == self._columns_now:
            return False
        self._columns_now = wanted
        rows = [self._rows[k] for k in self._keys]
        highlighted = self.highlighted_key
        self.clear(columns=True)
        for column in wanted:
            self.add_column(Text(column.label, style="bold"), key=column.key, width=column.width)
        self._keys, self._rows = [], {}
        if rows:
            self._rebuild(rows)
            if highlighted is not None:
                self.move_to(highlighted)
        return True

    def on_resize(self, event: events.Resize) -> None:
        self._ensure_columns()
        if self._keys:
            # Rows may have arrived (and the cursor moved) before the table had its final size: scroll the
            # cursor's row into view again now that it has one.
            self.call_after_refresh(self.move_cursor, row=self.cursor_row, animate=False)


def usable_width(width: int, columns: int, padding: int = 1) -> int:
    """What is left for cell text in a table `width` wide with `columns` columns (scrollbar included)."""
    return max(width - 1 - 2 * padding * columns, 10)

"""`KeyedList`: keyed rows in fixed-width columns with a row cursor, drawing only the lines on screen.

Every list of the console is one: the fleet (hundreds of pipelines, a few of them changing several times a
second), the approvals inbox, a pipeline's stages and executions, a state machine's executions, an execution's
states and history, and the activity stream (a bounded window of thousands of transitions). Textual's DataTable
invalidates every cached line of the table whenever any cell changes (one counter in every cache key), so a
change to a row far off screen redrew the whole visible table, and a filter rebuilt every row. This widget keeps
each row by key and its drawn line per key:

- `set_rows(keys, rows)` shows these rows in this order. When the order is the same, only the rows that read
  differently are redrawn, and only if they are on screen; when the old keys come first (a history growing), the
  new rows are appended; otherwise (a row came or went, the order changed) the lines on screen are drawn again
  from the cache. `update_row(key, row)` replaces one row, `append(rows)` adds rows at the end (with `limit`, the
  oldest leave: a bounded window), `remove_rows(keys)` takes rows away.
- The cursor stays on the row it was on (by key) through all of these. Moving it redraws two lines.
- `set_filter(query)` shows only the rows whose words (`words(row)`) contain every word of the query; the rows
  filtered away are kept, so clearing the filter shows everything that came meanwhile.
- `follow=True`: while the cursor is on the last row, appended rows move it down and keep it in view (`tail -f`).
  Moving up stops following; appended rows then move neither the cursor nor the view (the lines being read stay
  where they are, even when old ones leave the window above them) and `unseen` counts them. end follows again.
- `on_change`, when given, is called in the same turn as the cursor moves, the rows change or other rows come on
  screen (not a message later), so what the screen draws from the cursor lands in the same frame as the cursor.

A row is a tuple of cells (by column position), a `Row` (a key and its cells by column key: a column a row does
not name is blank), a mapping of cells by column key, or any value that `cells(row)` turns into a tuple or a
mapping; `cells` is called only for the lines drawn, so a window of thousands costs nothing until it is scrolled
through. Rows are compared with `==` to decide what to redraw. Cells are `rich.text.Text`, drawn literally; a cell
longer than its column is cut with an ellipsis (at its end, or in its middle for `ListColumn(overflow="middle")`:
`checkout-api/…/DeployOneBox`).

Columns are fixed widths (`ListColumn`), given with `set_columns` or worked out from the widget's width by
`layout(width)` (again whenever the width changes). There are two looks: "list" (one space before the first
column and between columns, the vertical scrollbar always shown so that rows coming and going never lay the
screen out again) and "table" (a cell of padding either side of every column, the scrollbar only when the rows
overflow, a tint while focused and the cursor's colours over the cells', as Textual's DataTable draws);
`spacing` changes the blanks around the columns of either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

Cells = Sequence[Text] | Mapping[str, Text]
Look = Literal["list", "table"]
# Rows whose drawn lines are kept: the fleet's 600 with room; in a bounded window (the stream), the lines scrolled
# away are seldom drawn again and a few hundred do (thousands would cost megabytes).
_STRIP_KEYS = 1024
_STRIP_KEYS_BOUNDED = 512


@dataclass(frozen=True, slots=True)
class ListColumn:
    """One column: its key (what rows given by column key name their cells by), its label, its width in cells,
    and where a cell too long for it is cut ("ellipsis": at its end; "middle": in its middle)."""

    key: str
    label: Text | str
    width: int
    overflow: Literal["ellipsis", "middle"] = "ellipsis"


@dataclass(frozen=True, slots=True)
class Row:
    """One row with its key, its cells by column key (a column a row does not name is blank)."""

    key: str
    cells: Mapping[str, Text]

    def cell(self, column: str) -> Text:
        return self.cells.get(column) or Text("")


@dataclass(frozen=True, slots=True)
class Spacing:
    """Blank cells before the first column, between columns and after the last; whether a short cell is padded
    in its own style (the list) or with blanks of no style (the table, as DataTable pads)."""

    indent: int
    gap: int
    trail: int
    plain_padding: bool


SPACING: dict[Look, Spacing] = {"list": Spacing(1, 1, 0, False), "table": Spacing(1, 2, 1, True)}


def fit(cell: Text, width: int, overflow: str = "ellipsis", *, pad: bool = True) -> Text:
    """`cell` cut to `width` cells (see `ListColumn.overflow`), or padded to it (a copy when it changes)."""
    length = cell.cell_len
    if length == width or (length < width and not pad):
        return cell
    if length > width and overflow == "middle" and width > 1 and len(cell) == length:
        head = width // 2
        tail = width - 1 - head
        fitted = cell[:head]
        fitted.append("…")
        if tail:
            fitted.append_text(cell[-tail:])
        return fitted
    fitted = cell.copy()
    if length > width:
        fitted.truncate(width, overflow="ellipsis")
    if pad:
        fitted.pad_right(width - fitted.cell_len)
    return fitted


def _cells_in(columns: Sequence[ListColumn], cells: Cells) -> list[Text]:
    if isinstance(cells, Mapping):
        return [cells.get(column.key) or Text("") for column in columns]
    return [cells[index] if index < len(cells) else Text("") for index in range(len(columns))]


def line_text(columns: Sequence[ListColumn], cells: Cells, spacing: Spacing = SPACING["list"]) -> Text:
    """One line of the list: every cell fitted to its column, the columns `spacing` apart."""
    line = Text(" " * spacing.indent, end="", no_wrap=True)
    for index, (column, cell) in enumerate(zip(columns, _cells_in(columns, cells), strict=True)):
        if index:
            line.append(" " * spacing.gap)
        fitted = fit(cell, column.width, column.overflow, pad=not spacing.plain_padding)
        line.append_text(fitted)
        if fitted.cell_len < column.width:
            line.append(" " * (column.width - fitted.cell_len))
    if spacing.trail:
        line.append(" " * spacing.trail)
    return line


def columns_width(columns: Sequence[ListColumn], spacing: Spacing = SPACING["list"]) -> int:
    """The cells a line of these columns takes."""
    gaps = spacing.gap * max(len(columns) - 1, 0)
    return spacing.indent + sum(c.width for c in columns) + gaps + spacing.trail


def usable_width(width: int, columns: int, padding: int = 1) -> int:
    """What is left for cell text in a "table" list `width` wide with `columns` columns (scrollbar included)."""
    return max(width - 1 - 2 * padding * columns, 10)


def matches(words: str, query: str) -> bool:
    """Every word of the query appears in `words` (case-insensitive substrings: `fail` finds failed)."""
    return all(part in words for part in query.lower().split())


class KeyedList(ScrollView, can_focus=True, inherit_bindings=False):
    """Keyed rows in fixed-width columns with a row cursor that stays on its key (see the module docstring)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"keyed-list--header", "keyed-list--cursor"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "cursor_down", "Next row", show=False),
        Binding("up", "cursor_up", "Previous row", show=False),
        Binding("pagedown", "page_down", "A page down", show=False),
        Binding("pageup", "page_up", "A page up", show=False),
        Binding("home,ctrl+home", "first", "First row (a following list stops following)", show=False),
        Binding("end,ctrl+end", "last", "Last row (a following list follows again)", show=False),
    ]
    DEFAULT_CSS = """
    KeyedList {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: scroll;
        scrollbar-size-vertical: 1;
        & > .keyed-list--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .keyed-list--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .keyed-list--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .keyed-list--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        &:nocolor > .keyed-list--cursor {
            text-style: reverse;
        }
        &.-table {
            height: auto;
            max-height: 100%;
            overflow-y: auto;
            &:focus {
                background-tint: $foreground 5%;
                & > .keyed-list--header {
                    background-tint: $foreground 5%;
                }
            }
        }
    }
    """

    class Selected(Message):
        """A row was clicked while it was under the cursor (the keyboard opens through the screen's enter)."""

        def __init__(self, keyed_list: KeyedList, key: str) -> None:
            super().__init__()
            self.keyed_list = keyed_list
            self.key = key

        @property
        def control(self) -> KeyedList:
            return self.keyed_list

    def __init__(
        self,
        *,
        layout: Callable[[int], Sequence[ListColumn]] | None = None,
        look: Look = "list",
        spacing: Spacing | None = None,
        header: bool = True,
        cells: Callable[[Any], Cells] | None = None,
        words: Callable[[Any], str] | None = None,
        follow: bool = False,
        limit: int | None = None,
        on_change: Callable[[], None] | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        if look == "table":
            self.add_class("-table")
        self._layout_of = layout
        self._spacing = spacing or SPACING[look]
        self._cursor_over_cells = look == "table"  # DataTable's cursor colours win over the cells'
        self._header_lines = 1 if header else 0
        self._cells_of = cells
        self._words_of = words
        self._follow = follow
        self._limit = max(limit, 1) if limit is not None else None
        self._strip_keys = _STRIP_KEYS if limit is None else _STRIP_KEYS_BOUNDED
        self._on_change = on_change
        self._columns: tuple[ListColumn, ...] = ()
        self._laid_out_for = -1  # the width `layout` last laid the columns out for
        self._order: list[str] = []  # every row kept, in order (the filter's input)
        self._keys: list[str] = self._order  # the rows shown, in order (the same list while unfiltered)
        self._position: dict[str, int] = {}  # shown key → index + `_base` (dropping the oldest moves `_base`)
        self._base = 0
        self._rows: dict[str, Any] = {}  # by key: the rows kept, and lately shown ones (their lines are kept)
        self._cursor = 0
        self.filter_text = ""  # the filter's words, lower case
        self.following = follow
        self.unseen = 0  # rows appended below while not following
        # Drawn lines: key → (columns, cursor?, width, base style) → strip. Dropped per key when its row changes.
        # The columns are part of the key, so lines drawn in other columns (the fleet's other view) are kept for
        # when those columns come back.
        self._strips: dict[str, dict[tuple[int, bool, int, Style], Strip]] = {}
        self._window: tuple[int, int] | None = None  # (first row shown, rows shown) while `_update_rows` runs
        self._column_sets: list[tuple[tuple[ListColumn, ...], int]] = []  # (columns, id): labels do not hash
        self._columns_id = 0
        self._columns_made = 0
        self._most_rows = 0  # the most rows shown at once: how many kept rows are too many
        self._header: tuple[tuple[int, Style], Strip] | None = None
        self._styles_now: tuple[Style, Style] | None = None

    # --- what it shows ---------------------------------------------------------------------------------

    @property
    def columns(self) -> tuple[ListColumn, ...]:
        return self._columns

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys of the rows shown, in order."""
        return tuple(self._keys)

    @property
    def row_count(self) -> int:
        """Rows shown (that pass the filter)."""
        return len(self._keys)

    @property
    def kept(self) -> int:
        """Rows kept, filtered away or not."""
        return len(self._order)

    @property
    def limit(self) -> int | None:
        return self._limit

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def highlighted_key(self) -> str | None:
        """The key of the row under the cursor, or None when no row is shown."""
        if not 0 <= self._cursor < len(self._keys):
            return None
        return self._keys[self._cursor]

    @property
    def highlighted(self) -> Any:
        """The row under the cursor, or None."""
        key = self.highlighted_key
        return None if key is None else self._rows[key]

    @property
    def at_last_row(self) -> bool:
        return not self._keys or self._cursor >= len(self._keys) - 1

    def row(self, key: str) -> Any:
        """The row of `key` as given, or None when it is not shown."""
        return self._rows.get(key) if key in self._position else None

    def shown_rows(self) -> list[Any]:
        """The rows shown, in order."""
        return [self._rows[key] for key in self._keys]

    def cells(self, key: str) -> list[Text]:
        """The cells of the row of `key` in the columns shown, as given (not cut to the columns)."""
        return _cells_in(self._columns, self._cells(self._rows[key]))

    def row_text(self, key: str) -> str:
        """The row of `key` as plain text, cells one space apart (for tests and logs)."""
        return " ".join(cell.plain for cell in self.cells(key))

    @property
    def first_shown(self) -> int:
        """The index of the top row on screen."""
        return int(self.scroll_offset.y)

    @property
    def page_height(self) -> int:
        """How many rows fit on screen (under the header)."""
        return max(self.scrollable_content_region.height - self._header_lines, 1)

    def shown_keys(self) -> tuple[str, ...]:
        """The keys of the rows on screen now."""
        first = self.first_shown
        return tuple(self._keys[first : first + self.page_height])

    def _cells(self, row: Any) -> Cells:
        if self._cells_of is not None:
            return self._cells_of(row)
        return row.cells if isinstance(row, Row) else row

    def _index(self, key: str) -> int | None:
        position = self._position.get(key)
        return None if position is None else position - self._base

    # --- columns -----------------------------------------------------------------------------------------

    def set_columns(self, columns: Sequence[ListColumn]) -> None:
        """Lay the rows out in these columns (every line is drawn again)."""
        columns = tuple(columns)
        if columns == self._columns:
            return
        self._columns = columns
        known = next((ident for seen, ident in self._column_sets if seen == columns), None)
        if known is None:
            if len(self._column_sets) >= 8:
                self._column_sets.clear()  # layouts of sizes long gone: their lines go too
                self._strips.clear()
            self._columns_made += 1
            known = self._columns_made
            self._column_sets.append((columns, known))
        self._columns_id = known
        self._header = None
        self._update_virtual_size()
        self.refresh()

    def _lay_out(self) -> None:
        """Columns from `layout` for the width now (when the width changed)."""
        if self._layout_of is None:
            return
        width = self.size.width or self.app.size.width
        if width == self._laid_out_for:
            return
        self._laid_out_for = width
        before = self._columns
        self.set_columns(self._layout_of(width))
        if self._columns != before:
            self._changed()  # what the screen draws from the columns (a header of its own) follows

    # --- rows --------------------------------------------------------------------------------------------

    def set_rows(self, keys: Sequence[str], rows: Mapping[str, Any], *, select: str | None = None) -> None:
        """Show the rows of `keys` in this order, each from `rows` (see the module docstring).

        The cursor stays on the row it was on, or goes to the row of `select` when given and shown."""
        self._lay_out()
        keys = list(keys)
        if select is None and keys == self._order:
            self._update_rows(keys, rows)
            return
        old = len(self._order)
        if select is None and not self.filter_text and old and keys[:old] == self._order:
            self._update_rows(self._order, rows)
            self.append([(key, rows[key]) for key in keys[old:]])
            return
        highlighted = select if select is not None else self.highlighted_key
        for key in keys:
            new = rows[key]
            before = self._rows.get(key)
            if before is not None and new is not before and new != before:
                self._strips.pop(key, None)
            self._rows[key] = new
        self._order = keys
        self._refilter()
        self._most_rows = max(self._most_rows, len(self._order))
        if len(self._rows) > 2 * self._most_rows + 64:
            # Rows filtered away (or of the other view) keep their lines for when they come back; forget the
            # long gone.
            kept = set(self._order)
            self._rows = {key: row for key, row in self._rows.items() if key in kept}
            self._strips = {key: s for key, s in self._strips.items() if key in kept}
        self._cursor_to(highlighted)

    def sync(self, rows: Sequence[Row]) -> None:
        """`set_rows` for `Row`s: show these, in this order."""
        self.set_rows([row.key for row in rows], {row.key: row for row in rows})

    def update_row(self, key: str, row: Any) -> None:
        """Replace the row of `key`; its line is redrawn if it is on screen."""
        before = self._rows.get(key)
        self._rows[key] = row
        if before is not None and (before is row or before == row):
            return
        self._strips.pop(key, None)
        index = self._index(key)
        if index is not None:
            self._refresh_row(index)

    def _update_rows(self, keys: Sequence[str], rows: Mapping[str, Any]) -> None:
        """`update_row` for each of `keys` whose row is a new object, with the lines on screen worked out once: a
        new minute gives each of 2,000 pipelines a new row, and asking the widget's region for each cost 13 ms in a
        bare list (`set_rows` of 2,000 new rows: 3 ms now)."""
        kept = self._rows
        self._window = (self.first_shown, self.page_height)
        try:
            for key in keys:
                new = rows[key]
                if new is not kept.get(key):
                    self.update_row(key, new)
        finally:
            self._window = None

    def append(self, rows: Iterable[tuple[str, Any]]) -> int:
        """Add rows (of keys new to the list) at the end, the oldest leaving beyond `limit`; returns how many of
        them are shown."""
        shown: list[str] = []
        for key, row in rows:
            before = self._rows.get(key)
            if before is not None and row is not before and row != before:
                self._strips.pop(key, None)
            self._rows[key] = row
            self._order.append(key)  # also `_keys`, while unfiltered
            if not self.filter_text or self._passes(row):
                shown.append(key)
        if self._keys is not self._order:
            self._keys.extend(shown)
        top = self._base + len(self._keys) - len(shown)
        for offset, key in enumerate(shown):
            self._position[key] = top + offset
        dropped = self._drop_oldest()
        if not shown and not dropped:
            return 0  # nothing shown changed: no redraw
        self._most_rows = max(self._most_rows, len(self._order))
        self._update_virtual_size()
        if self.following:
            self._cursor = max(len(self._keys) - 1, 0)
            self.unseen = 0
            self._scroll_to_cursor()
        elif self._follow:
            # The lines being read stay where they are, even when older ones left the window above them.
            self._cursor = max(self._cursor - dropped, 0)
            self._scroll_y_to(max(self.first_shown - dropped, 0))
            self.unseen += len(shown)
        else:
            self._cursor = max(min(self._cursor - dropped, len(self._keys) - 1), 0)
            self._scroll_to_cursor()
        self.refresh()
        self._changed()
        return sum(1 for key in shown if key in self._position)

    def _drop_oldest(self) -> int:
        """Keep at most `limit` rows; returns how many shown rows left."""
        if self._limit is None or len(self._order) <= self._limit:
            return 0
        gone = self._order[: len(self._order) - self._limit]
        gone_set = set(gone)
        shown_gone = 0
        if self._keys is self._order:
            shown_gone = len(gone)
        else:
            while shown_gone < len(self._keys) and self._keys[shown_gone] in gone_set:
                shown_gone += 1
            del self._keys[:shown_gone]
        del self._order[: len(gone)]
        self._base += shown_gone
        for key in gone:
            self._position.pop(key, None)
            self._rows.pop(key, None)
            self._strips.pop(key, None)
        return shown_gone

    def remove_rows(self, keys: Iterable[str]) -> None:
        """Take the rows of `keys` away (the cursor stays on its row, or the nearest one)."""
        gone = set(keys) & set(self._order)
        if gone:
            self.set_rows([key for key in self._order if key not in gone], self._rows)

    def clear(self) -> None:
        self.set_rows((), {})

    # --- the filter ----------------------------------------------------------------------------------------

    def set_filter(self, query: str) -> None:
        """Show only rows whose words contain every word of `query` ('' shows all); the others are kept."""
        query = query.strip().lower()
        if query == self.filter_text:
            return
        keep = None if self.following else self.highlighted_key
        self.filter_text = query
        self._refilter()
        if keep is not None and keep in self._position:
            self._cursor_to(keep, center=True)
        else:
            self.following = self._follow
            self.unseen = 0
            self._cursor_to(None)

    def _passes(self, row: Any) -> bool:
        return self._words_of is None or matches(self._words_of(row), self.filter_text)

    def _refilter(self) -> None:
        if self.filter_text:
            self._keys = [key for key in self._order if self._passes(self._rows[key])]
        else:
            self._keys = self._order
        self._base = 0
        self._position = {key: index for index, key in enumerate(self._keys)}

    def _cursor_to(self, key: str | None, *, center: bool = False) -> None:
        """After the rows changed: a following list's cursor on its last row, another's on `key` if shown, else
        where it was (clamped)."""
        self._update_virtual_size()
        last = len(self._keys) - 1
        index = self._index(key) if key is not None else None
        if self._follow and self.following:
            index = last
        elif index is None:
            index = self._cursor
        self._cursor = max(min(index, last), 0)
        self._scroll_to_cursor(center=center and not self.following)
        self.refresh()
        self._changed()

    # --- the cursor --------------------------------------------------------------------------------------

    def move_cursor(self, row: int) -> None:
        """Put the cursor on row `row` (clamped) and scroll it into view; on the last row a following list
        follows again, anywhere else it stops."""
        if not self._keys:
            return
        row = min(max(row, 0), len(self._keys) - 1)
        following = self.following
        if self._follow:
            self.following = row == len(self._keys) - 1
            if self.following:
                self.unseen = 0
        if row == self._cursor:
            self._scroll_to_cursor()
            if following != self.following:
                self._changed()
            return
        before = self._cursor
        self._cursor = row
        self._refresh_row(before)
        self._refresh_row(row)
        self._scroll_to_cursor()
        self._changed()

    def move_to(self, key: str) -> bool:
        """Put the cursor on the row of `key`; False when it is not shown."""
        index = self._index(key)
        if index is None:
            return False
        self.move_cursor(index)
        return True

    def action_cursor_down(self) -> None:
        self.move_cursor(self._cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(self._cursor - 1)

    def action_page_down(self) -> None:
        self.move_cursor(self._cursor + self.page_height)

    def action_page_up(self) -> None:
        self.move_cursor(self._cursor - self.page_height)

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self._keys) - 1)

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self._changed()  # other rows on screen (the mouse wheel scrolls without moving the cursor)

    def _scroll_y_to(self, y: int) -> None:
        # Immediately, not after the next refresh (Textual's default): a deferred scroll draws the list twice,
        # the second time a frame later, and what follows the rows on screen lands a frame late.
        self.scroll_to(y=y, animate=False, force=True, immediate=True)

    def _scroll_to_cursor(self, *, center: bool = False) -> None:
        if not self.size.height:
            return
        top = self.first_shown
        height = self.page_height
        if self.following and self._follow:
            self._scroll_y_to(max(len(self._keys) - height, 0))
        elif center:
            self._scroll_y_to(max(self._cursor - height // 2, 0))
        elif self._cursor < top:
            self._scroll_y_to(self._cursor)
        elif self._cursor >= top + height:
            self._scroll_y_to(self._cursor - height + 1)

    def _refresh_row(self, index: int) -> None:
        first, height = self._window or (self.first_shown, self.page_height)
        line = index - first + self._header_lines
        if self._header_lines <= line < self._header_lines + height:
            self.refresh(Region(0, line, self.size.width, 1))

    def _update_virtual_size(self) -> None:
        size = Size(columns_width(self._columns, self._spacing), len(self._keys) + self._header_lines)
        if size == self.virtual_size:
            return
        if self.styles.overflow_y != "scroll" or self.styles.height is None or self.styles.height.is_auto:
            self.virtual_size = size  # the scrollbar may come or go, the height may change: a new layout
            return
        # Not `self.virtual_size = size`: that reactive lays the whole screen out again, though only the
        # scrollbar's thumb changes (the scrollbar is always shown, so the widget's size never does).
        self.set_reactive(ScrollView.virtual_size, size)
        self._scroll_update(size)

    # --- the mouse (never needed, but it must not fight the keyboard) ------------------------------------------

    def on_click(self, event: events.Click) -> None:
        if event.y < self._header_lines:
            return
        index = self.first_shown + event.y - self._header_lines
        if not 0 <= index < len(self._keys):
            return
        if index == self._cursor:
            self.post_message(self.Selected(self, self._keys[index]))
        else:
            self.move_cursor(index)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        # Scrolling back to read: appended rows must not pull the view away.
        if self._follow and self.following and self._keys:
            self.following = False
            self._changed()

    # --- drawing -------------------------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._lay_out()
        self._update_virtual_size()
        self._scroll_to_cursor()
        self._changed()  # more or fewer rows on screen

    # The styles are part of every drawn line's key, so a new style (focus, a theme) draws new lines without
    # throwing the others away: moving focus away and back costs nothing.

    def on_focus(self) -> None:
        self._refresh_focus()

    def on_blur(self) -> None:
        self._refresh_focus()

    def _refresh_focus(self) -> None:
        if self._cursor_over_cells:
            self.refresh()  # the tint changes every line
        else:
            self._refresh_row(self._cursor)

    def render_lines(self, crop: Region) -> list[Strip]:
        # The styles once per frame, not once per line (each lookup walks the widget's styles).
        self._styles_now = (self.rich_style, self.get_component_rich_style("keyed-list--cursor"))
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base, cursor_style = self._styles_now or (
            self.rich_style,
            self.get_component_rich_style("keyed-list--cursor"),
        )
        if y < self._header_lines:
            return self._header_strip(width, base)
        index = self.first_shown + y - self._header_lines
        if not 0 <= index < len(self._keys):
            return Strip.blank(width, base)
        key = self._keys[index]
        cursor = index == self._cursor
        cache = self._strips.get(key)
        if cache is None:
            if len(self._strips) >= self._strip_keys:
                del self._strips[next(iter(self._strips))]  # the longest kept
            cache = self._strips[key] = {}
        if cursor:
            base = base + cursor_style
        token = (self._columns_id, cursor, width, base)
        strip = cache.get(token)
        if strip is None:
            if len(cache) >= 6:
                cache.clear()  # widths and styles long gone
            text = line_text(self._columns, self._cells(self._rows[key]), self._spacing)
            # A table's cursor colours win over the cells' own, as in Textual's DataTable.
            over = None
            if cursor and self._cursor_over_cells:
                over = Style.from_color(cursor_style.color, cursor_style.bgcolor)
            strip = self._line_strip(text, width, base, over)
            cache[token] = strip
        return strip

    def _header_strip(self, width: int, base: Style) -> Strip:
        style = base + self.get_component_rich_style("keyed-list--header")
        if self._header is not None and self._header[0] == (width, style):
            return self._header[1]
        labels = {c.key: c.label if isinstance(c.label, Text) else Text(c.label) for c in self._columns}
        strip = self._line_strip(line_text(self._columns, labels, self._spacing), width, style)
        self._header = ((width, style), strip)
        return strip

    def _line_strip(self, text: Text, width: int, base: Style, over: Style | None = None) -> Strip:
        if not text.plain:
            # Rich renders an empty text as one segment without a style, which Textual's NO_COLOR filter
            # cannot read (it crashed the console): a blank line is spaces in the base style.
            return Strip.blank(width, base)
        text.stylize_before(base)
        if over is not None:
            text.stylize(over)
        if text.cell_len > width:
            text.truncate(width)
        return Strip(list(text.render(self.app.console)), text.cell_len).adjust_cell_length(width, base)

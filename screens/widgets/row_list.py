"""`RowList`: a keyed list of rows in fixed-width columns, with a cursor, that draws only the lines on screen.

The fleet screen lists hundreds of pipelines and the watcher changes a few of them several times a second.
Textual's DataTable invalidates every cached line of the table whenever any cell changes (one counter in every
cache key), so a change to a row far off screen redrew the whole visible table, and a filter rebuilt hundreds
of rows. This widget keeps the rows' cells by key and a rendered line per key:

- `set_rows(keys, cells)` shows these rows in this order. When the order is the same, only the rows whose cells
  changed are redrawn, and only if they are on screen; otherwise (a row came or went, the filter changed) the
  lines on screen are drawn again from the cache and the cursor stays on the row it was on (by key).
- `update_row(key, cells)` replaces the cells of one row.
- The cursor is a row index; moving it redraws two lines. `on_change`, when given, is called in the same turn
  as the cursor moves, the rows change or other rows come on screen (not a message later), so what the screen
  draws from the cursor lands in the same frame as the cursor.

Columns are fixed widths (`ListColumn`), one space apart, with a header line on top that does not scroll; a
cell longer than its column ends in an ellipsis. Cells are `rich.text.Text` and are drawn literally.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

GAP = 1  # spaces between columns
INDENT = 1  # space before the first column


@dataclass(frozen=True, slots=True)
class ListColumn:
    """One column: its key, its header label and its width in cells."""

    key: str
    label: Text
    width: int


def fit(cell: Text, width: int) -> Text:
    """`cell` cut to `width` cells with an ellipsis, or padded to it (a copy when it changes)."""
    length = cell.cell_len
    if length == width:
        return cell
    fitted = cell.copy()
    if length > width:
        fitted.truncate(width, overflow="ellipsis")
    fitted.pad_right(width - fitted.cell_len)
    return fitted


def line_text(columns: Sequence[ListColumn], cells: Sequence[Text]) -> Text:
    """One line of the list: every cell fitted to its column, one space apart."""
    line = Text(" " * INDENT, end="", no_wrap=True)
    for index, column in enumerate(columns):
        if index:
            line.append(" " * GAP)
        cell = cells[index] if index < len(cells) else Text("")
        line.append_text(fit(cell, column.width))
    return line


def columns_width(columns: Sequence[ListColumn]) -> int:
    """The cells a line of these columns takes."""
    return INDENT + sum(c.width for c in columns) + GAP * max(len(columns) - 1, 0)


class RowList(ScrollView, can_focus=True, inherit_bindings=False):
    """Keyed rows in fixed-width columns with a row cursor (see the module docstring)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"row-list--header", "row-list--cursor"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "cursor_down", "Next row", show=False),
        Binding("up", "cursor_up", "Previous row", show=False),
        Binding("pagedown", "page_down", "A page down", show=False),
        Binding("pageup", "page_up", "A page up", show=False),
        Binding("home,ctrl+home", "first", "First row", show=False),
        Binding("end,ctrl+end", "last", "Last row", show=False),
    ]
    DEFAULT_CSS = """
    RowList {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: scroll;
        scrollbar-size-vertical: 1;
        & > .row-list--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .row-list--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .row-list--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .row-list--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        &:nocolor > .row-list--cursor {
            text-style: reverse;
        }
    }
    """

    class Selected(Message):
        """A row was clicked while it was under the cursor (the keyboard opens through the screen's enter)."""

        def __init__(self, row_list: RowList, key: str) -> None:
            super().__init__()
            self.row_list = row_list
            self.key = key

        @property
        def control(self) -> RowList:
            return self.row_list

    def __init__(
        self,
        *,
        on_change: Callable[[], None] | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._on_change = on_change
        self._columns: tuple[ListColumn, ...] = ()
        self._keys: list[str] = []
        self._index: dict[str, int] = {}
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._cursor = 0
        # Rendered lines: key → (columns, cursor?, width, base style) → strip. Dropped per key when its cells
        # change. The columns are part of the key, so lines drawn in other columns (the fleet's other view, the
        # same key in another list) are kept for when those columns come back.
        self._strips: dict[str, dict[tuple[int, bool, int, Style], Strip]] = {}
        self._column_sets: list[tuple[tuple[ListColumn, ...], int]] = []  # (columns, id): labels do not hash
        self._columns_id = 0
        self._columns_made = 0
        self._most_rows = 0  # the most rows shown at once: how many kept cells are too many
        self._header: tuple[tuple[int, Style], Strip] | None = None
        self._styles_now: tuple[Style, Style] | None = None

    # --- what it shows ---------------------------------------------------------------------------------

    @property
    def columns(self) -> tuple[ListColumn, ...]:
        return self._columns

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self._keys)

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def highlighted_key(self) -> str | None:
        """The key of the row under the cursor, or None when the list is empty."""
        if not 0 <= self._cursor < len(self._keys):
            return None
        return self._keys[self._cursor]

    def cells(self, key: str) -> tuple[Text, ...]:
        """The cells of the row of `key` as given (not cut to the columns)."""
        return self._cells[key]

    def row_text(self, key: str) -> str:
        """The row of `key` as plain text, cells one space apart (for tests and logs)."""
        return " ".join(cell.plain for cell in self._cells[key])

    @property
    def first_shown(self) -> int:
        """The index of the top row on screen."""
        return int(self.scroll_offset.y)

    @property
    def page_height(self) -> int:
        """How many rows fit on screen (the header takes a line)."""
        return max(self.scrollable_content_region.height - 1, 1)

    def shown_keys(self) -> tuple[str, ...]:
        """The keys of the rows on screen now."""
        first = self.first_shown
        return tuple(self._keys[first : first + self.page_height])

    # --- changing it -------------------------------------------------------------------------------------

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
        self.refresh()

    def set_rows(
        self, keys: Sequence[str], cells: Mapping[str, tuple[Text, ...]], *, select: str | None = None
    ) -> None:
        """Show the rows of `keys` in this order, with their cells from `cells` (see the module docstring).

        The cursor stays on the row it was on, or goes to the row of `select` when given and shown."""
        if list(keys) == self._keys and select is None:
            for key in keys:
                new = cells[key]
                if new is not self._cells.get(key):
                    self.update_row(key, new)
            return
        highlighted = select if select is not None else self.highlighted_key
        self._keys = list(keys)
        self._index = {key: index for index, key in enumerate(self._keys)}
        for key in self._keys:
            new = cells[key]
            old = self._cells.get(key)
            if old is not None and new is not old and new != old:
                self._strips.pop(key, None)
            self._cells[key] = new
        self._most_rows = max(self._most_rows, len(self._keys))
        if len(self._cells) > 2 * self._most_rows + 64:
            # Rows filtered away (or of the other view) keep their lines for when they come back; forget the
            # long gone.
            self._cells = {key: self._cells[key] for key in self._keys}
            self._strips = {key: s for key, s in self._strips.items() if key in self._index}
        self._update_virtual_size()
        if highlighted is not None and highlighted in self._index:
            cursor = self._index[highlighted]
        else:
            cursor = min(self._cursor, len(self._keys) - 1)
        self._cursor = max(cursor, 0)
        self._scroll_to_cursor()
        self.refresh()
        self._cursor_changed()

    def update_row(self, key: str, cells: tuple[Text, ...]) -> None:
        """Replace the cells of the row of `key`; its line is redrawn if it is on screen."""
        old = self._cells.get(key)
        self._cells[key] = cells
        if old is not None and old == cells:
            return
        self._strips.pop(key, None)
        index = self._index.get(key)
        if index is not None:
            self._refresh_row(index)

    def clear(self) -> None:
        self.set_rows((), {})

    # --- the cursor --------------------------------------------------------------------------------------

    def move_cursor(self, row: int) -> None:
        """Put the cursor on row `row` (clamped) and scroll it into view."""
        if not self._keys:
            return
        row = min(max(row, 0), len(self._keys) - 1)
        if row == self._cursor:
            self._scroll_to_cursor()
            return
        before = self._cursor
        self._cursor = row
        self._refresh_row(before)
        self._refresh_row(row)
        self._scroll_to_cursor()
        self._cursor_changed()

    def move_to(self, key: str) -> bool:
        """Put the cursor on the row of `key`; False when there is no such row."""
        index = self._index.get(key)
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

    def _cursor_changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self._cursor_changed()  # other rows on screen (the mouse wheel scrolls without moving the cursor)

    def _scroll_to_cursor(self) -> None:
        # Immediately, not after the next refresh (Textual's default): a deferred scroll draws the list twice,
        # the second time a frame later, and what follows the rows on screen (the board) lands a frame late.
        if not self.size.height:
            return
        top = self.first_shown
        height = self.page_height
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, force=True, immediate=True)
        elif self._cursor >= top + height:
            self.scroll_to(y=self._cursor - height + 1, animate=False, force=True, immediate=True)

    def _refresh_row(self, index: int) -> None:
        line = index - self.first_shown + 1
        if 1 <= line <= self.page_height:
            self.refresh(Region(0, line, self.size.width, 1))

    def _update_virtual_size(self) -> None:
        size = Size(columns_width(self._columns), len(self._keys) + 1)
        if size == self.virtual_size:
            return
        # Not `self.virtual_size = size`: that reactive lays the whole screen out again, though only the
        # scrollbar's thumb changes (the scrollbar is always shown, so the widget's size never does).
        self.set_reactive(ScrollView.virtual_size, size)
        self._scroll_update(size)

    # --- the mouse (never needed, but it works) ------------------------------------------------------------

    def on_click(self, event: events.Click) -> None:
        if event.y < 1:
            return
        index = self.first_shown + event.y - 1
        if not 0 <= index < len(self._keys):
            return
        if index == self._cursor:
            self.post_message(self.Selected(self, self._keys[index]))
        else:
            self.move_cursor(index)

    # --- drawing -------------------------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._update_virtual_size()
        self._scroll_to_cursor()
        self._cursor_changed()  # more or fewer rows on screen

    # The styles are part of every cached line's key, so a new style (focus, a theme) draws new lines without
    # throwing the others away: moving focus away and back costs nothing.

    def on_focus(self) -> None:
        self._refresh_row(self._cursor)

    def on_blur(self) -> None:
        self._refresh_row(self._cursor)

    def render_lines(self, crop: Region) -> list[Strip]:
        # The styles once per frame, not once per line (each lookup walks the widget's styles).
        self._styles_now = (self.rich_style, self.get_component_rich_style("row-list--cursor"))
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base, cursor_style = self._styles_now or (self.rich_style, self.get_component_rich_style("row-list--cursor"))
        if y == 0:
            return self._header_strip(width, base)
        index = self.first_shown + y - 1
        if not 0 <= index < len(self._keys):
            return Strip.blank(width, base)
        key = self._keys[index]
        cursor = index == self._cursor
        if cursor:
            base = base + cursor_style
        cache = self._strips.get(key)
        if cache is None:
            cache = self._strips[key] = {}
        token = (self._columns_id, cursor, width, base)
        strip = cache.get(token)
        if strip is None:
            if len(cache) >= 6:
                cache.clear()  # widths and styles long gone
            strip = self._line_strip(line_text(self._columns, self._cells[key]), width, base)
            cache[token] = strip
        return strip

    def _header_strip(self, width: int, base: Style) -> Strip:
        style = base + self.get_component_rich_style("row-list--header")
        if self._header is not None and self._header[0] == (width, style):
            return self._header[1]
        strip = self._line_strip(line_text(self._columns, [c.label for c in self._columns]), width, style)
        self._header = ((width, style), strip)
        return strip

    def _line_strip(self, text: Text, width: int, base: Style) -> Strip:
        text.stylize_before(base)
        if text.cell_len > width:
            text.truncate(width)
        return Strip(list(text.render(self.app.console)), text.cell_len).adjust_cell_length(width, base)

"""The fleet screen (home): every pipeline with its wave board (`1`), every state machine (`2`).

Rows are keyed by Pipeline.key / StateMachine.key and sorted by name, in one `KeyedList` (screens/widgets/
keyed_list.py) that draws only the lines on screen: an update redraws the rows that read differently, and only if
they are on screen; the filter changes which keys are shown, never the rows themselves; the cursor stays on the
same pipeline either way. `1` and `2` give the list the other view's columns and rows (each view keeps its own
cursor). `/` filters by name, target and status words (`fail` shows what failed, `approval`,
`paused`, `stale`; typed into the bar, enter keeps it, esc clears it). The wave board under the list shows the
highlighted pipeline in full (the state machine view: the highlighted machine's newest executions), drawn in the
same frame as the cursor that moved to it; a one-line legend of the glyphs sits under it when the screen has
room.
Each view is one source of deployments' module, made from its line in the registry (screens/fleet/views.py, as
the app was given it: its rows, columns, detail pane, what enter opens, what an action key means): the screen asks
the view shown and never branches on which one it is. What each action key means for the selection:
screens/fleet/actions.py.

Nothing here lays the screen out again or moves the focus on a key press or an update (in Textual, a layout
takes a frame of its own and a focus change repaints every line of the screen): one list and one detail pane
serve both views, the filter is typed into the view bar (the screen takes the keys while it is open, the list
keeps the focus), the detail pane has a fixed height, and the legend only comes or goes with the terminal's
size.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.timer import Timer
from textual.widgets import Static

from console.keys import spec
from console.model import FleetState
from screens.action_flow import ActionScreen, Choices
from screens.context import ResourceRef
from screens.fleet.rows import target_labels
from screens.fleet.view import FleetView, Frame
from screens.status import LEGEND, legend_line
from screens.text import clean
from screens.widgets.key_bar import KeyBar
from screens.widgets.keyed_list import KeyedList
from screens.widgets.wave_board import WaveBoard

# The legend under the list: the glyphs the pipeline list and its board use.
FLEET_LEGEND = tuple(e for e in LEGEND if e.glyph not in ("↺", "…", "▲"))
# The legend is shown when the list keeps at least this many rows with it.
LEGEND_MIN_ROWS = 10
# The filter's words of rows built since are worked out ahead in slices this long, this far apart (seconds).
SEARCH_AHEAD_SLICE = 0.003
SEARCH_AHEAD_EVERY = 0.02


class FleetScreen(ActionScreen):
    """Home: pipelines with their wave boards, or state machines; filterable; actions on the selection."""

    HELP_TITLE = "Fleet"
    CSS_PATH = "fleet.tcss"
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self) -> None:
        super().__init__(id="fleet")
        # One view per source of deployments (screens/fleet/views.py), each with its rows and caches.
        self.views: dict[str, FleetView] = {}
        self._view_of_binding: dict[str, str] = {}  # the name of the view each app binding shows
        self._keys: dict[str, str] = {}  # each view's key, shown in the view bar: its binding's first
        for source in self.ctx.views:
            view = source.view()
            self.views[view.name] = view
            self._view_of_binding[source.binding] = view.name
            self._keys[view.name] = spec(source.binding).keys.split(",")[0]
        self.view = next(iter(self.views))  # the name of the view shown
        self.query_text = ""
        self._cursor_keys: dict[str, str | None] = dict.fromkeys(self.views)
        self._focus_sent: tuple[str, ...] | None = None
        self._bar = Text("")
        self._legend_text = Text("")
        self.filtering = False  # the filter is being typed: printable keys go into it
        self._typed = ""
        self._searching: Timer | None = None  # the next slice of `_search_ahead`

    # --- layout -------------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # Kept as attributes: updates can arrive while the screen is being torn down, when queries fail.
        self._bar_widget = Static(id="view-bar")
        self._list = KeyedList(id="fleet-list", cells=self._row_cells, on_change=self._list_changed)
        self._board = WaveBoard(id="board")
        self._legend = Static(id="legend")
        yield self.header()
        yield self._bar_widget
        yield self._list
        yield self._board
        yield self._legend
        yield KeyBar()

    def on_mount(self) -> None:
        self._legend.display = False
        self._build_columns()
        self._list.focus()

    @property
    def table(self) -> KeyedList:
        """The list of the view shown (pipelines or state machines)."""
        return self._list

    @property
    def shown(self) -> FleetView:
        """The view shown."""
        return self.views[self.view]

    def _frame(self, state: FleetState, now: datetime) -> Frame:
        return Frame(state, now, target_labels(self.ctx.targets), self.query_text, self.ctx.waves.waves)

    def _width(self) -> int:
        return self.size.width or self.app.size.width

    def _build_columns(self) -> bool:
        """Every view's columns for the terminal's width; True when one of them changed."""
        labels = target_labels(self.ctx.targets)
        target_width = max(max((len(v) for v in labels.values()), default=6), 6)
        width = self._width()
        frame = self._frame(self.ctx.state, self.now())
        changed = [view.lay_out(width, target_width, frame) for view in self.views.values()]
        columns = self.shown.list_columns()
        if columns is not None:
            self._list.set_columns(columns)
        return any(changed)

    def on_resize(self) -> None:
        changed = self._build_columns()
        self._show_legend()
        if changed:
            state, now = self.ctx.state, self.now()
            self._sync_views(state, now)
            self._update_detail()

    def _show_legend(self) -> None:
        # One line of the glyphs' words, when the list keeps enough rows with it (never at the list's expense).
        height = self.size.height or self.app.size.height
        list_rows = height - 3 - 7 - 1 - 1  # header and bar, board, list header, key bar
        show = list_rows - 1 >= LEGEND_MIN_ROWS
        if show:
            legend = legend_line(max(self._width() - 2, 10), FLEET_LEGEND)
            if legend != self._legend_text:
                self._legend_text = legend
                self._legend.update(legend, layout=False)
        if self._legend.display != show:
            self._legend.display = show

    # --- drawing ------------------------------------------------------------------------------------------

    def show_state(self, state: FleetState) -> None:
        now = self.now()
        self._sync_views(state, now)
        self._update_bar()
        self._update_detail()
        self._tell_focus()

    def on_tick(self, state: FleetState, now: datetime) -> None:
        # Staleness and coarse ages move with the clock; rows that read the same are not touched.
        self._sync_views(state, now)
        self._update_detail()
        self._tell_focus()

    def _sync_views(self, state: FleetState, now: datetime) -> None:
        frame = self._frame(state, now)
        built = False  # rows were built (or shown anew): their words are worked out ahead
        for view in self.views.values():
            if view.reshape(frame):
                self._build_columns()
            if view.sync(frame) and view.changed:
                built = True
                if view is self.shown:
                    self._list.set_rows(view.keys, view.rows)
        if built:
            self._search_later()

    def _search_later(self) -> None:
        if self._searching is None and not self.is_closing:
            self._searching = self.set_timer(SEARCH_AHEAD_EVERY, self._search_ahead, name="search ahead")

    def _search_ahead(self) -> None:
        """A short slice of working out what the filter searches in the rows built since (`search_ahead` of the
        views): the filter's first letter then finds it done, and keys and pictures pass between the slices."""
        self._searching = None
        if getattr(self.app, "key_frame_due", False):
            self._search_later()  # a key's frame first
            return
        if any([view.search_ahead(SEARCH_AHEAD_SLICE) for view in self.views.values()]):
            self._search_later()

    def highlighted_key(self, view: str | None = None) -> str | None:
        """The key of the highlighted row of `view` (default: the one shown)."""
        view = view or self.view
        if view != self.view:
            return self._cursor_keys[view]  # where the cursor was when that view was last shown
        return self._list.highlighted_key

    def _update_bar(self) -> None:
        shown = self.shown
        bar = Text(end="", no_wrap=True, overflow="ellipsis")
        if self.filtering:
            # The line is the filter's while it is typed: what is typed, how many rows it leaves, how to leave.
            bar.append(f" {shown.label} ", style="reverse bold")
            bar.append(" / ", style="bold")
            bar.append(clean(self.filter_text))
            bar.append(" ", style="reverse")  # where typing goes
            bar.append(f"  {len(shown.keys)} of {shown.total} shown · enter keeps, esc clears", style="dim")
            if not self.filter_text:
                bar.append(" · name, target or status (fail, approval, paused, stale)", style="dim")
            self._set_bar(bar)
            return
        for name, view in self.views.items():
            style = "reverse bold" if view is shown else ""
            bar.append(f" {self._keys[name]} ", style="bold")
            bar.append(f" {view.label} ({view.total}) ", style=style)
            bar.append(" ")
        if self.query_text:
            bar.append("  filter: ", style="dim")
            bar.append(clean(self.query_text), style="bold")
            bar.append(f"  ({len(shown.keys)} shown)", style="dim")
        elif not self.ctx.state.targets and not any(view.total for view in self.views.values()):
            bar.append("  reading the targets…", style="dim")
        self._set_bar(bar)

    def _set_bar(self, bar: Text) -> None:
        if bar != self._bar:
            self._bar = bar
            self._bar_widget.update(bar, layout=False)

    def _update_detail(self) -> None:
        self.shown.show_detail(self._board, self.highlighted_key(), self.ctx.state, self.now())

    # --- what is visible ----------------------------------------------------------------------------------

    def visible_keys(self) -> tuple[str, ...]:
        return self._list.shown_keys()

    def _tell_focus(self) -> None:
        keys = self.visible_keys()
        if keys != self._focus_sent and self.tell_watcher(keys):
            self._focus_sent = keys

    def tell_watcher_what_is_visible(self) -> None:
        self._focus_sent = None
        self._tell_focus()

    # --- navigation ---------------------------------------------------------------------------------------

    def show_view(self, view: str) -> None:
        """Show the view named `view` (`1` pipelines, `2` state machines): the list takes that view's columns and
        rows, the cursor goes back to where it was in that view."""
        if view != self.view:
            self._cursor_keys[self.view] = self._list.highlighted_key
            self.view = view
            shown = self.shown
            columns = shown.list_columns()
            if columns is not None:
                self._list.set_columns(columns)
                # Where the cursor was left in this view, or its first row the first time: not the other view's
                # row number (the list is shared: the cursor landed anywhere, often on the last row).
                left = self._cursor_keys[view]
                self._list.set_rows(shown.keys, shown.rows, select=left or (shown.keys[0] if shown.keys else None))
        if not self._list.has_focus:
            self._list.focus()
        self._update_bar()
        self._update_detail()
        self.tell_watcher_what_is_visible()
        self.refresh_availability()

    def show_binding(self, binding_id: str) -> bool:
        """Show the view the app's binding `binding_id` names (`fleet`, `state_machines`); False when none does."""
        name = self._view_of_binding.get(binding_id)
        if name is None:
            return False
        self.show_view(name)
        return True

    def _row_cells(self, row: Any) -> tuple[Text, ...]:
        return self.shown.row_cells(row)  # the list holds the shown view's rows

    def _list_changed(self) -> None:
        """A list's cursor moved, its rows changed or others came on screen: the board, the watcher's focus and
        the keys follow in the same turn, so they land in the same frame as the cursor."""
        if not self._ready or self.is_closing:
            return
        self._update_detail()
        self._tell_focus()
        self.refresh_availability()

    @on(KeyedList.Selected)
    def _row_selected(self, event: KeyedList.Selected) -> None:
        event.stop()
        self.action_open()

    def selected_ref(self) -> ResourceRef | None:
        """What enter opens: the highlighted pipeline or state machine."""
        key = self.highlighted_key()
        return None if key is None else self.shown.ref(key)

    def why_unavailable(self, action: str) -> str | None:
        if action == "open":
            ref = self.selected_ref()
            if ref is None:
                return f"no {self.shown.noun} is selected"
            return self.ctx.registry.cannot_open(ref)
        if action == "filter":
            return None
        return super().why_unavailable(action)

    def action_open(self) -> None:
        """enter: the highlighted pipeline or state machine."""
        self.request_open(self.selected_ref())

    # --- filter ---------------------------------------------------------------------------------------------

    @property
    def filter_text(self) -> str:
        """What has been typed into the filter (the rows shown match `query_text`, the same stripped)."""
        return self._typed

    def action_filter(self) -> None:
        """`/`: type into the filter (in the view bar); the list keeps the focus, so arrows still move."""
        self.filtering = True
        self._typed = self.query_text
        self._update_bar()

    async def on_key(self, event: events.Key) -> None:
        # While the filter is open the screen takes the keys that edit it, before any binding sees them
        # (prevent_default also keeps ConsoleScreen.on_key, which Textual calls next, from seeing them).
        if self.filtering and self._edit_filter(event):
            event.stop()
            event.prevent_default()

    def on_paste(self, event: events.Paste) -> None:
        if self.filtering:
            event.stop()
            self._type(self._typed + clean(event.text))

    def _edit_filter(self, event: events.Key) -> bool:
        key = event.key
        if key == "enter":
            self._close_filter()
        elif key == "escape":
            self._typed = ""
            self._close_filter()
            self.set_filter("")
        elif key == "backspace":
            self._type(self._typed[:-1])
        elif key in ("ctrl+u", "ctrl+w"):
            self._type("" if key == "ctrl+u" else self._typed.rstrip().rpartition(" ")[0])
        elif event.is_printable and event.character:
            self._type(self._typed + event.character)
        else:
            return False
        return True

    def _type(self, text: str) -> None:
        self._typed = text
        before = self.query_text
        self.set_filter(text)
        if self.query_text == before:
            self._update_bar()  # the typed text changed, not the rows (a space, say)

    def _close_filter(self) -> None:
        self.filtering = False
        self._update_bar()

    def set_filter(self, text: str) -> None:
        """Show only rows whose name, target or status words contain every word of `text`."""
        query = text.strip()
        if query == self.query_text:
            return
        self.query_text = query
        # The picture on screen, not a newer one: its rows are built and their words worked out ahead, so a letter
        # only matches them; the newest picture follows at the redraw pace (console/app.py REDRAW_EVERY).
        state, now = self._shown_state or self.ctx.state, self.now()
        self._sync_views(state, now)
        self._update_bar()
        self._update_detail()
        self._tell_focus()
        self.refresh_availability()

    # --- actions ----------------------------------------------------------------------------------------------

    def action_choices(self, binding_id: str) -> Choices:
        key = self.highlighted_key()
        choices = None if key is None else self.shown.choices(binding_id, key, self.ctx.state)
        return choices if choices is not None else Choices((), nothing="nothing is selected")

    def action_back(self) -> None:
        if self.filtering or self.query_text:
            self._typed = ""
            self.filtering = False
            self.set_filter("")
            self._update_bar()
            return
        first = next(iter(self.views))
        if self.view != first:
            self.show_view(first)

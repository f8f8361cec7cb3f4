"""The activity screen (`4`): the live transition stream of the whole fleet, what `wavedeck watch` prints.

Every transition the watcher reports is kept by the app in its bounded `TransitionLog`, also while this screen
is hidden; the screen reads what is new (`since(seq)`) on every update and on resume, so nothing is lost to
coalesced redraw messages, and the window keeps memory flat over hours. Newest at the bottom, following the
newest unless the operator moved up (a following `KeyedList`, screens/widgets/keyed_list.py; what a line
says: screens/activity/rows.py). `/` filters by any word of a
line (resource, target, kind, wave, status, detail: `fail`, `prod`, `canary approval`) without dropping what
arrives meanwhile. The bar says whether each target's transitions come by push (EventBridge → SQS) or by
polling; each line says how it came (push, poll, or team: read by another console on the topic). enter
opens the pipeline or execution of the highlighted line.
"""

from __future__ import annotations

from datetime import UTC
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Static

from console.model import FleetState, TargetStatus, Transition
from screens.activity.rows import (
    StreamEntry,
    entry_cells,
    header_text,
    stream_columns,
    stream_layout,
    wave_text,
)
from screens.base import ConsoleScreen
from screens.context import ResourceRef
from screens.fleet.rows import target_labels
from screens.status import look
from screens.text import clean, literal
from screens.widgets.filter_bar import FilterBar
from screens.widgets.key_bar import KeyBar
from screens.widgets.keyed_list import KeyedList, ListColumn, Spacing

# The stream's lines: no blank before the first column (the stream's padding is there), one between columns.
STREAM_SPACING = Spacing(indent=0, gap=1, trail=0, plain_padding=False)


class ActivityScreen(ConsoleScreen):
    """The live transition stream of the fleet: bounded, filterable, following the newest."""

    HELP_TITLE = "Activity"
    CSS_PATH = "activity.tcss"
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self) -> None:
        super().__init__(id="activity")
        self._seq = 0  # the newest transition of the app's log this screen has read
        self._missed = 0  # transitions that left the log's window before this screen read them
        self._bar = Text("")
        self._bar_lines = 0  # the bar's height now (0 until first drawn)
        self._columns = Text("")
        self._detail = Text("")
        self._sources: tuple[TargetStatus, ...] = ()
        self._labels: dict[str, str] = {}  # target → its label (from the config, when composed)

    # --- layout -------------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self._labels = target_labels(self.ctx.targets)
        yield self.header()
        yield Static(id="activity-bar")
        yield FilterBar("filter: resource, target, kind, wave, status, detail (fail, prod, canary)")
        yield Static(id="stream-columns")
        # Newest at the bottom, following the newest; a bounded window, filtered without dropping what arrives.
        yield KeyedList(
            layout=self._stream_columns,
            header=False,
            spacing=STREAM_SPACING,
            cells=self._entry_cells,
            words=_words,
            follow=True,
            limit=self.ctx.transitions.window,
            on_change=self._stream_changed,
            id="stream",
        )
        yield Static(id="transition-detail")
        yield KeyBar()

    def on_mount(self) -> None:
        self.stream.focus()

    @property
    def stream(self) -> KeyedList:
        return self.query_one("#stream", KeyedList)

    def label(self, target: str) -> str:
        """The target's name as the config labels it."""
        return self._labels.get(target, target)

    def _stream_columns(self, width: int) -> tuple[ListColumn, ...]:
        target_width = max((len(v) for v in self._labels.values()), default=6)
        # The scrollbar is always shown: the lines have the width less its column.
        return stream_columns(stream_layout(width - 1, target_width, len(self._labels) > 1))

    def _entry_cells(self, entry: StreamEntry) -> dict[str, Text]:
        return entry_cells(entry, self.label(entry.transition.target))

    # --- the watcher's updates ---------------------------------------------------------------------------

    def apply_state(self, state: FleetState) -> None:
        super().apply_state(state)
        if self._ready and not self.is_closing:
            self.read_new_transitions()
            self._stream_changed()  # the counts and sources in the bar; nothing is redrawn that reads the same

    def show_state(self, state: FleetState) -> None:
        self._sources = state.targets  # the bar says how each target's transitions arrive

    def read_new_transitions(self) -> int:
        """Take what the app's log has that this screen has not shown yet; returns how many."""
        news = self.ctx.transitions.since(self._seq)
        if news.total == self._seq:
            return 0
        self._missed += news.missed
        first = news.total - len(news.transitions) + 1
        self._seq = news.total
        entries = (StreamEntry(first + offset, t, self.label(t.target)) for offset, t in enumerate(news.transitions))
        self.stream.append((entry.key, entry) for entry in entries)
        return len(news.transitions)

    def _stream_changed(self) -> None:
        """The stream moved, filled or relaid: the bar, the columns and the detail follow in the same frame."""
        if not self._ready or self.is_closing:
            return  # the first picture draws it (apply_state)
        self._update_columns()
        self._update_bar()
        self._update_detail()
        self.refresh_availability()

    # --- drawing ------------------------------------------------------------------------------------------

    def _update_columns(self) -> None:
        columns = header_text(self.stream.columns)
        if columns != self._columns:
            self._columns = columns
            self.query_one("#stream-columns", Static).update(columns, layout=False)  # always one line

    def _update_bar(self) -> None:
        stream = self.stream
        bar = Text(end="")
        bar.append(" Activity ", style="reverse bold")
        bar.append(f"  {self._seq} seen")
        if self._seq > stream.kept:
            bar.append(f" · newest {stream.kept} kept", style="dim")
        bar.append("  ")
        if stream.following:
            bar.append("▼ following the newest", style="bold")
        else:
            bar.append("‖ held", style="bold")
            if stream.unseen:
                bar.append(f" · {stream.unseen} newer below", style="bold")
            bar.append(" · end follows", style="dim")
        if stream.filter_text:
            bar.append("  filter: ", style="dim")
            bar.append(clean(stream.filter_text), style="bold")
            bar.append(f" ({stream.row_count} shown)", style="dim")
        sources = self._source_text()
        if sources.cell_len:
            width = self.size.width or self.app.size.width
            bar.append("\n" if bar.cell_len + 2 + sources.cell_len > width - 2 else "  ")
            bar.append_text(sources)
        if bar != self._bar:
            # A new layout only when the bar goes from one line to two or back: it costs far more than a redraw.
            lines = bar.plain.count("\n") + 1
            self._bar = bar
            self.query_one("#activity-bar", Static).update(bar, layout=lines != self._bar_lines)
            self._bar_lines = lines

    def _source_text(self) -> Text:
        """How each target's transitions arrive: push (EventBridge through SQS) or polling."""
        statuses = self._sources or self.ctx.state.targets
        labels = target_labels(self.ctx.targets)
        text = Text("via ", style="dim", end="")
        for index, status in enumerate(statuses):
            if index:
                text.append(" · ", style="dim")
            if len(statuses) > 1:
                text.append(clean(labels.get(status.target.name, status.target.name)) + " ")
            if status.push == "on":
                text.append("push", style="bold")
            elif status.push == "failed":
                text.append("poll (push failed)", style="bold yellow")
            else:
                text.append("poll", style="dim")
        return text if statuses else Text("")

    def _update_detail(self) -> None:
        stream = self.stream
        entry: StreamEntry | None = stream.highlighted
        if entry is None:
            if stream.filter_text and stream.kept:
                text = Text.assemble(
                    "No transition matches ",
                    (clean(stream.filter_text), "bold"),
                    f" ({stream.kept} kept). The filter keeps everything that arrives; esc clears it.",
                )
            else:
                text = Text(
                    "No transitions yet: every change the watcher sees anywhere in the fleet shows here as it "
                    "happens (the first read of a resource is not a change).",
                    style="dim",
                )
        else:
            text = detail_text(entry.transition, self.label(entry.transition.target))
        if text != self._detail:
            self._detail = text
            self.query_one("#transition-detail", Static).update(text, layout=False)  # a fixed height

    # --- keys -----------------------------------------------------------------------------------------------

    def selected(self) -> Transition | None:
        entry: StreamEntry | None = self.stream.highlighted
        return entry.transition if entry else None

    def selected_ref(self) -> ResourceRef | None:
        """What enter opens: the transition's pipeline, or its execution (its state machine if unknown)."""
        transition = self.selected()
        if transition is None:
            return None
        key = f"{transition.target}:{transition.resource.split('/', 1)[0]}"
        return self.ctx.opens(transition.kind.service, transition.target, key, transition.execution)

    def why_unavailable(self, action: str) -> str | None:
        if action == "open":
            ref = self.selected_ref()
            if ref is None:
                return "no transition is selected" if self.selected() is None else "nothing opens it here"
            return self.ctx.registry.cannot_open(ref)
        if action == "filter":
            return None
        return super().why_unavailable(action)

    def action_open(self) -> None:
        """enter: the pipeline, or the Step Functions execution, of the highlighted transition."""
        self.request_open(self.selected_ref())

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    def on_filter_bar_filter_changed(self, event: FilterBar.FilterChanged) -> None:
        self.stream.set_filter(event.text)

    def on_filter_bar_filter_left(self) -> None:
        self.stream.focus()

    def action_back(self) -> None:
        if self.query_one(FilterBar).clear_filter() or self.stream.filter_text:
            self.stream.set_filter("")
            self.stream.focus()
            return
        super().action_back()


def detail_text(transition: Transition, target_label: str) -> Text:
    """The highlighted transition in full: when, where, what, from → to, wave, execution, how it came, detail."""
    text = Text(end="")
    text.append(transition.time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"), style="dim")
    text.append("  ")
    text.append(clean(target_label), style="dim")
    text.append("  ")
    text.append(clean(transition.kind), style="dim")
    text.append("  ")
    text.append(clean(transition.resource), style="bold")
    text.append("\n")
    before = look(transition.from_status) if transition.from_status else None
    if before is None:
        text.append("· (new)", style="dim")
    else:
        text.append_text(before.text())
    text.append(" → ", style="dim")
    text.append_text(look(transition.to_status).text())
    if transition.wave is not None:
        text.append(" · wave ", style="dim")
        text.append_text(wave_text(transition))
    text.append(" · via ", style="dim")
    text.append(clean(transition.source), style="bold" if transition.source == "push" else "")
    if transition.execution:
        text.append("\nexecution ", style="dim")
        text.append(clean(_short_execution(transition.execution)))
    if transition.detail:
        text.append("\n")
        text.append_text(literal(transition.detail))
    return text


def _short_execution(execution: str) -> str:
    if execution.startswith("arn:"):
        return execution.rsplit(":", 1)[-1]
    return execution


def _words(entry: StreamEntry) -> str:
    return entry.words

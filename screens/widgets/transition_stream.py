"""The activity stream: one line per transition, newest at the bottom, a cursor, following the newest.

A Line API widget (`ScrollView` + `render_line`): it keeps a bounded window of entries (`deque(maxlen=…)`),
the filtered view of them, and draws only the lines on screen, so a window of thousands costs nothing more
per update than the few lines that changed. Newest at the bottom, as `wavedeck watch` prints and `tail -f`
reads: the operator's eye stays at one place while lines arrive.

Following: while the cursor is on the newest line, new lines move it down and keep it in view. Moving up
(k, up, home, page up, the mouse) stops following, and arrivals then neither move the cursor nor scroll the
view (the lines the operator reads stay where they are, even when old ones leave the window above them);
`unseen` counts what arrived below. end (or moving down onto the newest line) follows again.

The filter only changes what is shown: every transition that arrives is kept in the window either way, so
clearing the filter shows everything that came meanwhile.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from console.model import Transition, TransitionKind
from screens.status import look
from screens.text import clean

KIND_LABELS = {
    TransitionKind.PIPELINE_EXECUTION: "run",
    TransitionKind.STAGE: "stage",
    TransitionKind.ACTION: "action",
    TransitionKind.SFN_EXECUTION: "sfn run",
    TransitionKind.SFN_STATE: "sfn state",
    TransitionKind.CONDITION: "condition",
}
PRODUCTION_MARK = "▲"


@dataclass(frozen=True, slots=True)
class StreamEntry:
    """One transition of the stream: its sequence number in the app's log and the words the filter searches."""

    seq: int
    transition: Transition
    words: str


def transition_words(transition: Transition, target_label: str) -> str:
    """Target, kind, resource, execution, wave, both statuses (AWS's words and ours), detail and source."""
    wave = transition.wave
    parts = [
        transition.target,
        target_label,
        transition.kind,
        KIND_LABELS.get(transition.kind, ""),
        transition.resource,
        transition.execution or "",
        wave.name if wave else "",
        "production" if wave is not None and wave.is_production else "",
        transition.from_status or "",
        transition.to_status or "",
        look(transition.from_status).word if transition.from_status else "",
        look(transition.to_status).word,
        transition.detail,
        transition.source,
    ]
    return clean(" ".join(parts)).lower()


def matches(words: str, query: str) -> bool:
    """Every word of the query appears in the entry's words (case-insensitive substrings: `fail` finds failed)."""
    return all(part in words for part in query.lower().split())


# --- layout and lines ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StreamLayout:
    """Column widths for a line width; 0 hides a column (the detail pane under the stream shows it all)."""

    time: int
    target: int
    kind: int
    resource: int
    wave: int
    status: int
    wide_status: bool
    source: int
    detail: int


def stream_layout(width: int, target_width: int, several_targets: bool) -> StreamLayout:
    """Time, [target], kind, resource, wave, from → to, [source], [detail]: what fits in `width` cells."""
    time, kind, wave = 8, 9, 13
    wide = width >= 110
    status = 27 if wide else 15
    source = 4 if width >= 100 else 0
    target = min(max(target_width, 6), 16) if several_targets and width >= 96 else 0
    fixed = [time, kind, wave, status, source, target]
    gaps = sum(1 for w in fixed if w)  # one space after every column but the last
    rest = width - sum(fixed) - gaps
    resource = min(rest, 44)
    detail = rest - resource - 1
    if detail < 16:
        resource, detail = rest, 0
    return StreamLayout(time, target, kind, max(resource, 8), wave, status, wide, source, max(detail, 0))


def middle(text: str, width: int) -> str:
    """`text` cut to `width` cells by dropping its middle: `checkout-api/…/DeployOneBox`."""
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    head = width // 2
    tail = width - 1 - head
    return text[:head] + "…" + (text[-tail:] if tail else "")


def _cell(text: Text, width: int) -> Text:
    if text.cell_len > width:
        text = text.copy()
        text.truncate(width, overflow="ellipsis")
    text.pad_right(width - text.cell_len)
    return text


def status_text(transition: Transition, *, wide: bool) -> Text:
    """`▶ in progress → ✓ succeeded`, or narrow `▶→✓ succeeded`; `·` for a status never seen."""
    before = look(transition.from_status) if transition.from_status else None
    after = look(transition.to_status)
    text = Text(end="")
    if before is None:
        text.append("·", style="dim")
    elif wide:
        text.append_text(before.text())
    else:
        text.append(before.glyph, style=before.tone.style)
    text.append(" → " if wide else "→", style="dim")
    text.append_text(after.text())
    return text


def wave_text(transition: Transition) -> Text:
    wave = transition.wave
    if wave is None:
        return Text("", end="")
    if wave.is_production:
        return Text(f"{PRODUCTION_MARK} {clean(wave.name)}", style="bold", end="")
    return Text(clean(wave.name), end="")


def line_text(entry: StreamEntry, layout: StreamLayout, target_label: str) -> Text:
    """One line of the stream, every column cut to its width."""
    transition = entry.transition
    time = transition.time.astimezone(UTC).strftime("%H:%M:%S")
    columns: list[tuple[Text, int]] = [(Text(time, style="dim", end=""), layout.time)]
    if layout.target:
        columns.append((Text(clean(target_label), style="dim", end=""), layout.target))
    kind = KIND_LABELS.get(transition.kind, clean(transition.kind))
    columns.append((Text(kind, style="dim", end=""), layout.kind))
    columns.append((Text(middle(clean(transition.resource), layout.resource), end=""), layout.resource))
    columns.append((wave_text(transition), layout.wave))
    columns.append((status_text(transition, wide=layout.wide_status), layout.status))
    if layout.source:
        source = clean(transition.source)
        columns.append((Text(source, style="bold" if source == "push" else "dim", end=""), layout.source))
    if layout.detail:
        columns.append((Text(clean(transition.detail), end=""), layout.detail))
    line = Text(end="", no_wrap=True)
    for index, (cell, width) in enumerate(columns):
        if index:
            line.append(" ")
        line.append_text(_cell(cell, width))
    return line


def header_text(layout: StreamLayout) -> Text:
    """The column names over the stream, aligned with `line_text`."""
    labels = [("Time UTC", layout.time)]
    if layout.target:
        labels.append(("Target", layout.target))
    labels += [("Kind", layout.kind), ("Resource", layout.resource), ("Wave", layout.wave)]
    labels.append(("From → To" if layout.wide_status else "Status", layout.status))
    if layout.source:
        labels.append(("Via", layout.source))
    if layout.detail:
        labels.append(("Detail", layout.detail))
    return Text(" ".join(label[:width].ljust(width) for label, width in labels).rstrip(), style="bold", end="")


# --- the widget ---------------------------------------------------------------------------------------------


class TransitionStream(ScrollView, can_focus=True, inherit_bindings=False):
    """A bounded, filterable, following list of transitions (see the module docstring)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"transition-stream--cursor"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "cursor_down", "Next transition", show=False),
        Binding("up", "cursor_up", "Previous transition", show=False),
        Binding("pagedown", "page_down", "A page newer", show=False),
        Binding("pageup", "page_up", "A page older", show=False),
        Binding("home", "oldest", "Oldest kept transition (stops following)", show=False),
        Binding("end", "follow", "Newest transition, and follow new ones", show=False),
    ]
    DEFAULT_CSS = """
    TransitionStream {
        overflow-x: hidden;
        overflow-y: scroll;
        scrollbar-size-vertical: 1;
        & > .transition-stream--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
        }
        &:focus > .transition-stream--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        &:nocolor > .transition-stream--cursor {
            text-style: reverse;
        }
    }
    """

    class CursorMoved(Message):
        """The entry under the cursor, whether the stream follows, or what is shown changed."""

    def __init__(
        self,
        window: int,
        *,
        labels: Mapping[str, str] | None = None,
        on_change: Callable[[], None] | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """`on_change`, when given, is called (in the same turn) instead of posting `CursorMoved`: what the
        screen draws from the cursor then lands in the same frame as the cursor, not one frame later."""
        super().__init__(id=id, classes=classes)
        self._on_change = on_change
        self._entries: deque[StreamEntry] = deque(maxlen=max(window, 1))
        self._shown: list[StreamEntry] = []
        self._cursor: int | None = None
        self._labels = dict(labels or {})
        self._layout: StreamLayout | None = None
        self._width = 0
        self._strips: LRUCache[tuple[int, bool], Strip] = LRUCache(512)
        self.filter_text = ""
        self.following = True
        self.unseen = 0  # lines that arrived below while not following

    # --- what it holds ------------------------------------------------------------------------------------

    @property
    def window(self) -> int:
        return self._entries.maxlen or 0

    @property
    def kept(self) -> int:
        """Entries in the window (filtered or not)."""
        return len(self._entries)

    @property
    def shown(self) -> int:
        """Entries that pass the filter."""
        return len(self._shown)

    @property
    def line_layout(self) -> StreamLayout | None:
        return self._layout

    @property
    def cursor(self) -> int | None:
        return self._cursor

    @property
    def cursor_entry(self) -> StreamEntry | None:
        if self._cursor is None or not 0 <= self._cursor < len(self._shown):
            return None
        return self._shown[self._cursor]

    def shown_entries(self) -> tuple[StreamEntry, ...]:
        return tuple(self._shown)

    def label(self, target: str) -> str:
        return self._labels.get(target, target)

    # --- arrivals and the filter ----------------------------------------------------------------------------

    def add(self, transitions: Sequence[Transition], first_seq: int) -> int:
        """Append `transitions` (numbered from `first_seq`); returns how many of them pass the filter."""
        if not transitions:
            return 0
        new: list[StreamEntry] = []
        for offset, transition in enumerate(transitions):
            entry = StreamEntry(
                first_seq + offset, transition, transition_words(transition, self.label(transition.target))
            )
            self._entries.append(entry)
            new.append(entry)
        oldest = self._entries[0].seq
        dropped = 0
        while dropped < len(self._shown) and self._shown[dropped].seq < oldest:
            dropped += 1
        if dropped:
            del self._shown[:dropped]
        matched = [e for e in new if e.seq >= oldest and (not self.filter_text or matches(e.words, self.filter_text))]
        self._shown.extend(matched)
        if not dropped and not matched:
            return 0  # nothing on screen changed: no redraw
        self._update_virtual_size()
        if self.following:
            self._cursor = len(self._shown) - 1 if self._shown else None
            self.unseen = 0
            self._scroll_to_cursor()
        else:
            if self._cursor is not None:
                self._cursor = max(self._cursor - dropped, 0) if self._shown else None
            # The lines being read stay where they are, even when older ones left the window above them.
            self.scroll_to(y=max(self.scroll_offset.y - dropped, 0), animate=False, force=True, immediate=True)
            self.unseen += len(matched)
        self.refresh()
        self._changed()
        return len(matched)

    def set_filter(self, query: str) -> None:
        """Show only entries whose words contain every word of `query` ('' shows all)."""
        query = query.strip().lower()
        if query == self.filter_text:
            return
        keep = None if self.following else self.cursor_entry
        self.filter_text = query
        self._shown = [e for e in self._entries if not query or matches(e.words, query)]
        self._update_virtual_size()
        seqs = [e.seq for e in self._shown]
        index = bisect_left(seqs, keep.seq) if keep is not None else len(seqs)
        if keep is not None and index < len(seqs) and seqs[index] == keep.seq:
            self._cursor = index
        else:
            self.following = True
            self.unseen = 0
            self._cursor = len(self._shown) - 1 if self._shown else None
        self._scroll_to_cursor(center=not self.following)
        self.refresh()
        self._changed()

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()
        else:
            self.post_message(self.CursorMoved())

    # --- moving -----------------------------------------------------------------------------------------

    def move_to(self, index: int) -> None:
        """Put the cursor on line `index` (clamped); on the newest line the stream follows again."""
        if not self._shown:
            self._cursor = None
            self.following = True
            return
        index = min(max(index, 0), len(self._shown) - 1)
        last = len(self._shown) - 1
        changed = index != self._cursor
        self._cursor = index
        following = index == last
        if following != self.following:
            self.following = following
            changed = True
        if following:
            self.unseen = 0
        self._scroll_to_cursor()
        if changed:
            self.refresh()
            self._changed()

    def action_cursor_down(self) -> None:
        self.move_to((self._cursor if self._cursor is not None else -1) + 1)

    def action_cursor_up(self) -> None:
        self.move_to((self._cursor if self._cursor is not None else len(self._shown)) - 1)

    def action_page_down(self) -> None:
        self.move_to((self._cursor or 0) + max(self._page(), 1))

    def action_page_up(self) -> None:
        self.move_to((self._cursor or 0) - max(self._page(), 1))

    def action_oldest(self) -> None:
        self.move_to(0)

    def action_follow(self) -> None:
        self.move_to(len(self._shown) - 1)

    def _page(self) -> int:
        return self.scrollable_content_region.height - 1

    def _scroll_to_cursor(self, *, center: bool = False) -> None:
        height = max(self.scrollable_content_region.height, 1)
        if self._cursor is None:
            self.scroll_to(y=0, animate=False, force=True, immediate=True)
            return
        if self.following:
            self.scroll_to(y=max(len(self._shown) - height, 0), animate=False, force=True, immediate=True)
            return
        top = self.scroll_offset.y
        if center:
            self.scroll_to(y=max(self._cursor - height // 2, 0), animate=False, force=True, immediate=True)
        elif self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, force=True, immediate=True)
        elif self._cursor >= top + height:
            self.scroll_to(y=self._cursor - height + 1, animate=False, force=True, immediate=True)

    def _update_virtual_size(self) -> None:
        size = Size(0, len(self._shown))
        if size == self.virtual_size:
            return
        # Not `self.virtual_size = size`: that reactive lays the whole screen out again (tens of milliseconds)
        # on every arrival, though only the scrollbar's thumb changes (the scrollbar is always shown, so the
        # widget's size never does). Textual is pinned to 8.2, whose `_scroll_update` does just the thumb.
        self.set_reactive(ScrollView.virtual_size, size)
        self._scroll_update(size)

    # --- the mouse (never needed, but it must not fight the keyboard) -----------------------------------------

    def on_click(self, event: events.Click) -> None:
        self.move_to(self.scroll_offset.y + event.y)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        # Scrolling back to read: arrivals must not pull the view away.
        if self.following and self._shown:
            self.following = False
            self._changed()

    # --- drawing ------------------------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._width = self.scrollable_content_region.width
        self._relayout()
        self._scroll_to_cursor()

    def _relayout(self) -> None:
        width = self.scrollable_content_region.width
        if width <= 0:
            return
        target_width = max((len(v) for v in self._labels.values()), default=6)
        layout = stream_layout(width, target_width, len(self._labels) > 1)
        if layout != self._layout:
            self._layout = layout
            self._strips.clear()
            self.refresh()
            self._changed()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def on_focus(self) -> None:
        self._strips.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._strips.clear()
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if width != self._width:
            self._width = width
            self._relayout()
        index = self.scroll_offset.y + y
        if self._layout is None or not 0 <= index < len(self._shown):
            return Strip.blank(width, self.rich_style)
        entry = self._shown[index]
        cursor = index == self._cursor
        key = (entry.seq, cursor)
        strip = self._strips.get(key)
        if strip is None or strip.cell_length != width:
            strip = self._render_entry(entry, cursor, width)
            self._strips[key] = strip
        return strip

    def _render_entry(self, entry: StreamEntry, cursor: bool, width: int) -> Strip:
        assert self._layout is not None
        text = line_text(entry, self._layout, self.label(entry.transition.target))
        base: Style = self.rich_style
        if cursor:
            base = base + self.get_component_rich_style("transition-stream--cursor")
        text.stylize_before(base)
        strip = Strip(list(text.render(self.app.console)), text.cell_len)
        return strip.adjust_cell_length(width, base)

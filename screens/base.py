"""The base of every console screen: the header, the watcher's pictures, focus, and keys that say why not.

A screen built on `ConsoleScreen`:
- yields `self.header()` in `compose` (targets, mode, freshness) and sets its widgets up in `on_mount`
  (the base class's `on_mount` runs after it and draws the first picture);
- implements `show_state(state)` to draw a picture (called for every update while the screen is shown, on top
  or under a modal, and on resume with the picture it missed while hidden), updating only what changed;
- returns the Pipeline/StateMachine keys it shows from `visible_keys()` (the watcher polls those faster);
- returns a sentence from `why_unavailable(action)` for an action that makes no sense now: its key is greyed
  out in the footer (`check_action` → None) and pressing it shows the sentence instead of doing nothing.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import datetime

from textual import events, work
from textual.binding import ActiveBinding
from textual.screen import Screen
from textual.worker import Worker

from console.model import FleetState
from screens.bindings import binding, describe_binding
from screens.context import ConsoleContext, ResourceRef, context_of
from screens.errors import report_worker_failure
from screens.key_frames import draw_now
from screens.messages import OpenRequested
from screens.prepared_screens import lay_out_hidden
from screens.resume_styles import hidden_with, keep_styles
from screens.widgets.filter_bar import FilterBar
from screens.widgets.fleet_header import FleetHeader, header_facts


class ConsoleScreen(Screen[None]):
    """A screen of the console: draws the watcher's picture and explains unavailable keys."""

    BINDINGS = [
        # Help first, so the footer shows it even at 80 columns (the app binds it too, for other screens).
        binding("help", "app.help"),
        binding("back", show=False),
        binding("filter"),
        binding("open", show=False),
        binding("refresh", show=False),
        binding("down", "move_down", show=False),
        binding("up", "move_up", show=False),
    ]

    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._shown_state: FleetState | None = None
        self._ready = False
        self._availability: tuple[tuple[str, str | None], ...] = ()
        self._hidden_with: Hashable | None = None  # what its styles depended on when it was last hidden

    # --- services -------------------------------------------------------------------------------------

    @property
    def ctx(self) -> ConsoleContext:
        return context_of(self)

    def now(self) -> datetime:
        return self.ctx.now()

    def header(self) -> FleetHeader:
        """The header widget; yield it first in `compose`."""
        return FleetHeader(id="fleet-header")

    # --- the picture ----------------------------------------------------------------------------------

    def on_mount(self) -> None:
        # Textual runs the subclass's on_mount first (it builds its widgets), then this one: draw now.
        self._ready = True
        self.apply_state(self.ctx.state)
        self.refresh_bindings()
        if not self.is_current:
            # Built hidden (screens/prepared_screens.py): styled as it mounted, as if it had been hidden now, and
            # laid out for the terminal once its widgets are.
            self._hidden_with = hidden_with(self.app)
            self.call_after_refresh(lay_out_hidden, self)

    def apply_state(self, state: FleetState) -> None:
        """Called by the app with every new picture while the screen is shown (and on resume); draws each picture
        once."""
        if not self._ready or self.is_closing:
            return
        if state is not self._shown_state:
            self._shown_state = state
            self.show_state(state)
            self.refresh_availability()
        self._update_header(state)

    @property
    def is_closing(self) -> bool:
        """Being removed (the app is exiting): its widgets may already be gone, so nothing is drawn."""
        return self._closing or self._closed or self._pruning or not self.is_attached

    def show_state(self, state: FleetState) -> None:
        """Draw `state`. Override; update only what changed."""

    def tick(self) -> None:
        """Time passed (about once a second): freshness, ages and staleness may read differently. Nothing before
        the screen is mounted: it can be on the stack, and shown, before its widgets exist."""
        if not self._ready or self.is_closing:
            return
        state = self.ctx.state
        self._update_header(state)
        self.on_tick(state, self.now())

    def on_tick(self, state: FleetState, now: datetime) -> None:
        """Override to update what depends on the clock (coarse ages, stale marks)."""

    def _update_header(self, state: FleetState) -> None:
        ctx = self.ctx
        for header in self.query(FleetHeader):
            header.show(header_facts(ctx.title, ctx.targets, state, ctx.now(), ctx.read_only_reason))

    def visible_keys(self) -> Iterable[str]:
        """The Pipeline.key / StateMachine.key values on screen now. Override."""
        return ()

    def detail_key(self) -> str | None:
        """The one resource this screen shows in detail, history included (None: a list). Override."""
        return None

    def tell_watcher_what_is_visible(self) -> None:
        self.tell_watcher(self.visible_keys(), self.detail_key())

    def tell_watcher(self, keys: Iterable[str], detail: str | None = None) -> bool:
        """Tell the watcher what is on screen (read more often), when this screen is the one the operator sees (a
        modal over it included); True if told. A screen built hidden (screens/prepared_screens.py) or left below
        another tells nothing: the screen on show is what is read first."""
        if not self.is_current:
            return False
        self.ctx.watcher.focus(list(keys), detail)
        return True

    async def _on_idle(self, event: events.Idle) -> None:
        # Before Textual's own idle handler (the class's, which runs next): a key's frame goes out now rather
        # than at the update timer's next tick (screens/key_frames.py).
        app = self.app
        if getattr(app, "draw_keys_now", False) and getattr(app, "key_frame_due", False):
            draw_now(self)

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Before Textual's own handler (the class's, which runs next): its styles stay as they were hidden when
        # nothing they depend on changed (screens/resume_styles.py).
        keep_styles(event, self._hidden_with, self.app)
        # Hidden screens are not drawn (console/app.py): catch up with the newest picture now.
        self.apply_state(self.ctx.state)
        self.tell_watcher_what_is_visible()

    def on_screen_suspend(self) -> None:
        self._hidden_with = hidden_with(self.app)

    # --- availability -----------------------------------------------------------------------------------

    def why_unavailable(self, action: str) -> str | None:
        """Why `action` makes no sense now (a plain sentence), or None when it can run. Override."""
        if action in ("filter", "open"):
            return f"there is nothing to {action} on this screen"
        return None

    def request_open(self, ref: ResourceRef | None) -> None:
        """enter: ask the app to open `ref` (OpenRequested), or say why it cannot be opened."""
        reason = self.why_unavailable("open")
        if reason or ref is None:
            if reason:
                self.notify(f"Open: {reason}", title="Not available", severity="warning", markup=False)
            return
        self.post_message(OpenRequested(ref))

    def refresh_availability(self) -> None:
        """Grey keys out (or back in) when what is available changed; the footer is not redrawn otherwise."""
        actions = sorted({b.action for _, bindings in self._bindings.key_to_bindings.items() for b in bindings})
        signature = tuple((action, self.why_unavailable(action)) for action in actions)
        if signature != self._availability:
            self._availability = signature
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # None greys the key out in the footer but keeps it listed: unavailable, not hidden.
        if not self._ready:
            return True  # still mounting: nothing to judge by yet
        return None if self.why_unavailable(action) else True

    async def on_key(self, event: events.Key) -> None:
        if await self._type_ahead(event):
            return
        active = self.active_binding(event.key)
        if active is not None and active.enabled and active.binding.action == "filter":
            # `/` opens the filter here, as the key passes the screen, not once it has bubbled up to the app:
            # what is typed right after it (`/schema`) is already on its way, and each key would otherwise run
            # its own binding (`s` is Stop) before the filter opened.
            event.stop()
            event.prevent_default()
            self.action_filter()
            return
        if active is None or active.enabled:
            return
        reason = explain(active)
        if reason:
            event.stop()
            event.prevent_default()
            self.notify(
                f"{describe_binding(active.binding)}: {reason}", title="Not available", severity="warning", markup=False
            )

    async def _type_ahead(self, event: events.Key) -> bool:
        """Keys typed after `/` before the filter bar took the focus go into the bar, not to the bindings."""
        bar = next((b for b in self.query(FilterBar) if b.opening), None)
        if bar is None:
            return False
        if bar.has_focus or not bar.display:
            bar.opening = False
            return False
        if event.key == "enter":
            bar.opening = False
            await bar.action_submit()
        elif event.key == "backspace":
            bar.action_delete_left()
        elif event.is_printable and event.character:
            bar.insert_text_at_cursor(event.character)
        else:
            return False
        event.stop()
        event.prevent_default()
        return True

    def active_binding(self, key: str) -> ActiveBinding | None:
        """What `active_bindings[key]` says, judging only this key's bindings: every key press asks, and asking
        about every binding on the screen (each action's availability) costs milliseconds on the fleet."""
        app = self.app
        found: ActiveBinding | None = None
        for namespace, bindings in self._modal_binding_chain:
            for bound in bindings.key_to_bindings.get(key, ()):
                state = app._check_action_state(bound.action, namespace)
                if state is False:
                    continue
                if found is None or (bound.priority and not found.binding.priority):
                    found = ActiveBinding(namespace, bound, bool(state), bound.tooltip)
        return found

    # --- the keys every screen has ------------------------------------------------------------------------

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1 and self.app.screen is self:
            self.app.pop_screen()

    def action_filter(self) -> None:
        """Override on screens that filter."""

    def action_open(self) -> None:
        """Override on screens where something can be opened."""

    def action_refresh(self) -> None:
        self.notify("Reading what is on screen now…", timeout=2)
        self._refresh_now(tuple(self.visible_keys()))

    @work(exclusive=True, exit_on_error=False, group="refresh")
    async def _refresh_now(self, keys: tuple[str, ...]) -> None:
        await self.ctx.watcher.refresh(keys or None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_worker_failure(self.app, event)

    def action_move_down(self) -> None:
        self._cursor("action_cursor_down")

    def action_move_up(self) -> None:
        self._cursor("action_cursor_up")

    def _cursor(self, method: str) -> None:
        focused = self.focused
        move = getattr(focused, method, None)
        if callable(move):
            move()


def explain(active: ActiveBinding) -> str | None:
    """Why the action of a greyed-out binding is unavailable, asked of the node that owns it."""
    return why_unavailable(active.node, active.binding.action)


def why_unavailable(node: object, action: str) -> str | None:
    """Ask `node.why_unavailable` about `action` as bound (`approve`, `app.section('approvals')`)."""
    for namespace in ("app.", "screen.", "focused."):
        if action.startswith(namespace):
            action = action[len(namespace) :]
    why = getattr(node, "why_unavailable", None)
    if not callable(why):
        return None
    reason = why(action)
    return reason if isinstance(reason, str) else None

"""The Textual app: wires the config, the watcher, the action gate and the screens together.

`make_app(config, targets, watcher, gate, ...)` is the one factory, used by the CLI and by the tests. The app
owns nothing that talks to AWS: it subscribes to the watcher (every update becomes a `FleetUpdated`, the newest
drawn by the screen on show at most every REDRAW_EVERY; every transition goes into a bounded `TransitionLog`), runs
IO in workers, turns every worker error into a notification, and knows which screen opens what
(`screen_registry`, below). Its section keys and its screens come from the sources of deployments' lines
(screens/fleet/views.py `VIEWS`) and `SECTION_SCREENS`: it names no source.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol, runtime_checkable

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.worker import Worker

from console.config import Config
from console.hangup import EXIT_HANGUP, terminal_gone
from console.loop_thread import CLAIM_SECONDS, Precedence
from console.model import FleetUpdate, Target
from console.waves import WaveModel, default_wave_model
from screens.action_flow import ActionFlow
from screens.activity.screen import ActivityScreen
from screens.approvals.screen import ApprovalsScreen
from screens.base import ConsoleScreen, why_unavailable
from screens.bindings import binding, describe_binding, spec_for
from screens.confirm.screen import ConfirmQuitModal
from screens.context import ConsoleContext, GatePort, ScreenRegistry, WatcherPort
from screens.errors import report_worker_failure
from screens.fleet.screen import FleetScreen
from screens.fleet.view import SourceView
from screens.fleet.views import VIEWS
from screens.gc_schedule import GcSchedule
from screens.help.screen import HelpScreen, screen_bindings
from screens.key_frames import pending as frame_pending
from screens.messages import FleetUpdated, OpenRequested
from screens.prepared_screens import prepare
from screens.text import clean
from screens.transition_log import DEFAULT_WINDOW, TransitionLog


def utcnow() -> datetime:
    return datetime.now(UTC)


# The screens a key reaches from anywhere besides the fleet's views, by that key's id in console/keys.py (their
# name in the registry too), in the order of their keys after the views'. A new one is its key there and a line here.
SECTION_SCREENS: Mapping[str, Callable[[], Screen[Any]]] = {
    "approvals": ApprovalsScreen,  # screens/approvals/, key 3
    "activity": ActivityScreen,  # screens/activity/, key 4
}


def screen_registry(views: Sequence[SourceView] = VIEWS) -> ScreenRegistry:
    """The screens the app opens, by name: the ones each source of deployments names for its resources
    (screens/fleet/views.py: pipeline; state_machine and execution) and the section screens above."""
    screens = {name: factory for source in views for name, factory in source.screens.items()}
    return ScreenRegistry({**screens, **SECTION_SCREENS})


def section_bindings(views: Sequence[SourceView], screens: Iterable[str] = ()) -> list[Binding]:
    """The keys that reach a section from anywhere: each source's view on the fleet screen (1, 2), then each
    section screen of `screens` (3, 4); all run `section(id)`."""
    ids = (*(source.binding for source in views), *screens)
    return [binding(binding_id, f"section('{binding_id}')") for binding_id in ids]


@runtime_checkable
class _Startable(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


# The watcher publishes a picture for every read (dozens a second with hundreds of pipelines); the screen on show
# draws at most one every this many seconds (the newest), so drawing pictures nobody can read between two does not
# take the time keys need. A picture that comes after a quiet moment is drawn at once.
REDRAW_EVERY = 0.1
# A key's claim on the watcher's thread is released once its screen settled, looked at this often (seconds), or
# when the claim itself lapses at the latest (console/loop_thread.py CLAIM_SECONDS).
SETTLE_POLL = 0.004
# Seconds after the start, and without a key, before each section screen is built ahead of its first visit.
PREPARE_AFTER = 1.0


class WavedeckApp(App[None]):
    """The operator console. Build it with `make_app`."""

    TITLE = "wavedeck"
    # The home screen as the one mode (a mode's screen gets its CSS_PATH loaded; a default screen does not).
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {"fleet": FleetScreen}
    DEFAULT_MODE = "fleet"
    CSS = """
    Toast {
        max-width: 70;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        binding("help", "help"),
        binding("quit", "quit"),
        binding("palette", "command_palette", show=False),
        *section_bindings(VIEWS, SECTION_SCREENS),
    ]

    def __init__(
        self,
        context: ConsoleContext,
        *,
        keymap: Mapping[str, str] | None = None,
        theme: str | None = None,
        start_watcher: bool = True,
        precedence: Precedence | None = None,
    ) -> None:
        super().__init__()
        self.console_context = context
        self._precedence = precedence  # the watcher's thread waits while a key is handled and drawn
        self._key_frame_due = False  # a key was handled: the next frame is its frame
        # A key's frame is drawn as soon as the key is handled, not at the next tick of Textual's update timer
        # (screens/key_frames.py); False draws it at the tick, as Textual does (to compare, `ui_keys --draw`).
        self.draw_keys_now = True
        self._keymap_config = dict(keymap or {})
        self._theme_config = theme
        self._start_watcher = start_watcher
        self._unsubscribe: Callable[[], None] | None = None
        self._thread_id = threading.get_ident()
        self._pending_lock = threading.Lock()
        self._pending_updates: list[FleetUpdate] = []  # from a watcher on another thread, not yet taken
        self._ui_loop: asyncio.AbstractEventLoop | None = None  # the app's loop, where those updates are taken
        self._started_watcher = False
        self._gc = GcSchedule()
        self._drawn_at = 0.0  # time.monotonic() of the last picture drawn
        self._redraw: Timer | None = None  # draws the newest picture once REDRAW_EVERY has passed
        self._told = 0  # how many of the watcher's notices were shown
        self._last_key_at = -math.inf  # when the last key came (monotonic)
        self._settling: Timer | None = None  # looks again whether the key's screen settled
        self._terminal: int | None = None  # the terminal's fd while it is watched for a hang-up
        self._on_sighup = False  # SIGHUP handled by the loop (removed when the app ends)
        context.flow = ActionFlow(self, lambda: self.console_context)

    # --- lifecycle ------------------------------------------------------------------------------------------

    def on_mount(self) -> None:
        ctx = self.console_context
        if self._keymap_config:
            self.set_keymap(self._keymap_config)
        if self._theme_config:
            if self._theme_config in self.available_themes:
                self.theme = self._theme_config
            else:
                names = ", ".join(sorted(self.available_themes))
                self.notify(
                    f"theme {self._theme_config!r} is not known; using the default (themes: {names})",
                    severity="warning",
                    markup=False,
                )
        self._thread_id = threading.get_ident()
        self._ui_loop = asyncio.get_running_loop()
        self._unsubscribe = ctx.watcher.subscribe(self._watcher_updated)
        self.post_message(FleetUpdated(ctx.watcher.state, ctx.transitions.total))
        self.set_interval(1.0, self._tick, name="clock")
        self.set_timer(PREPARE_AFTER, self._prepare_next_section, name="prepare sections")
        self._watch_the_terminal()
        self._gc.start()
        if self._start_watcher and isinstance(ctx.watcher, _Startable):
            self._run_watcher()

    def _watch_the_terminal(self) -> None:
        """Leave when the terminal hangs up (console/hangup.py): by SIGHUP, or found gone by the clock's tick."""
        if self.is_headless:
            return
        try:
            fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else -1
        except (OSError, ValueError):
            return
        if fd < 0 or terminal_gone(fd):
            return
        self._terminal = fd
        if threading.current_thread() is threading.main_thread():
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._hung_up)
                self._on_sighup = True

    def _hung_up(self) -> None:
        """Nobody can see the console any more: stop polling and end (the sandbox child ends with it)."""
        self._terminal = None
        self.exit(return_code=EXIT_HANGUP)

    @work(exclusive=True, exit_on_error=False, group="watcher")
    async def _run_watcher(self) -> None:
        watcher = self.console_context.watcher
        assert isinstance(watcher, _Startable)
        await watcher.start()
        self._started_watcher = True

    async def on_unmount(self) -> None:
        self._gc.stop()
        if self._on_sighup:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        watcher = self.console_context.watcher
        if self._started_watcher and isinstance(watcher, _Startable):
            await watcher.stop()

    def _prepare_next_section(self) -> None:
        """Build the next section screen not built yet, hidden (screens/prepared_screens.py): one at a time, each
        once no key came for PREPARE_AFTER, so that no key waits for it and the first `3` or `4` is quick."""
        if not self.is_running:
            return
        if time.monotonic() - self._last_key_at < PREPARE_AFTER:
            self.set_timer(PREPARE_AFTER, self._prepare_next_section, name="prepare sections")
            return
        registry = self.console_context.registry
        for name in SECTION_SCREENS:
            factory = registry.get(name)
            if factory is not None and not self.is_screen_installed(name):
                prepare(self, name, factory())
                self.set_timer(PREPARE_AFTER, self._prepare_next_section, name="prepare sections")
                return

    # --- the watcher's pictures ---------------------------------------------------------------------------

    def _watcher_updated(self, update: FleetUpdate) -> None:
        """The watcher's callback: keep every transition, post one (replaceable) redraw message.

        A watcher on a thread of its own (console/watch.py `ThreadedWatcher`) calls this there: its updates wait in
        a batch that the app's loop takes in one go, so the watcher never waits for the UI and the UI takes one
        call however many updates came meanwhile."""
        if threading.get_ident() == self._thread_id:
            self._take_updates((update,))
            return
        with self._pending_lock:
            self._pending_updates.append(update)
            first = len(self._pending_updates) == 1
        loop = self._ui_loop
        if first and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._take_pending_updates)

    def _take_pending_updates(self) -> None:
        with self._pending_lock:
            updates, self._pending_updates = self._pending_updates, []
        self._take_updates(updates)

    def _take_updates(self, updates: Sequence[FleetUpdate]) -> None:
        if not updates:
            return
        ctx = self.console_context
        for update in updates:
            ctx.transitions.append(update.transitions)
        self.post_message(FleetUpdated(updates[-1].state, ctx.transitions.total))

    def on_fleet_updated(self, message: FleetUpdated) -> None:
        # Only the screen on show draws the picture: a hidden one (the 500-row fleet under a pipeline screen)
        # would redraw for nobody. A screen catches up with `ctx.state` when it is shown again (on resume).
        self.console_context.state = message.state
        self._tell(message.state.notices)
        wait = self._drawn_at + REDRAW_EVERY - time.monotonic()
        if wait <= 0:
            self._draw_picture()
        elif self._redraw is None:
            self._redraw = self.set_timer(wait, self._redraw_due, name="redraw")

    def _tell(self, notices: tuple[str, ...]) -> None:
        """Show each of the watcher's notices once (a toast that stays a while: it explains a slow start)."""
        for notice in notices[self._told :]:
            self.notify(notice, title="Note", severity="warning", timeout=15, markup=False)
        self._told = max(self._told, len(notices))

    def _redraw_due(self) -> None:
        self._redraw = None
        self._draw_picture()

    def _draw_picture(self) -> None:
        """The screen on show draws the newest picture."""
        if self._redraw is not None:  # a newer picture came just as the time was up: drawn now, not again
            self._redraw.stop()
            self._redraw = None
        self._drawn_at = time.monotonic()
        shown = self.shown_console_screen()
        if shown is not None:
            shown.apply_state(self.console_context.state)

    def _tick(self) -> None:
        if self._terminal is not None and terminal_gone(self._terminal):
            self._hung_up()
            return
        self._gc.tick()
        shown = self.shown_console_screen()
        if shown is not None:
            shown.tick()

    def shown_console_screen(self) -> ConsoleScreen | None:
        """The console screen the operator sees: the top one, or the one under an open modal (help, a
        confirmation), which stays visible around it."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, ConsoleScreen):
                return screen
            if not isinstance(screen, ModalScreen):
                return None  # another kind of screen covers the whole terminal
        return None

    # --- errors -----------------------------------------------------------------------------------------------

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification is plain text: messages carry names, summaries and errors from AWS."""
        super().notify(
            clean(message, keep_newlines=True), title=clean(title), severity=severity, timeout=timeout, markup=False
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_worker_failure(self, event)

    # --- keys -------------------------------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self._gc.key_pressed()  # no collection until its frame is out, full ones until a pause between keys
            self._last_key_at = time.monotonic()
            self._key_frame_due = False  # a frame drawn before the key is handled is not its frame
            if self._precedence is not None:
                self._precedence.claim()  # released once its frame is out (post_display_hook)
            # The watcher's next picture waits REDRAW_EVERY after a key, so the key's own frame goes first: one
            # already due is put off too (it landed in the middle of a section switch's screen settling).
            self._drawn_at = max(self._drawn_at, time.monotonic())
            if self._redraw is not None:
                self._redraw.stop()
                self._redraw = self.set_timer(REDRAW_EVERY, self._redraw_due, name="redraw")
        await super().on_event(event)
        if isinstance(event, events.Key):
            self._key_frame_due = True

    @property
    def precedence(self) -> Precedence | None:
        """What a key claims of the watcher's thread (None: it has none)."""
        return self._precedence

    @property
    def key_frame_due(self) -> bool:
        """A key was handled and its frame is not out yet."""
        return self._key_frame_due

    def post_display_hook(self) -> None:
        # The key's frame went out: the watcher's thread may go on (console/loop_thread.py `Precedence`). A frame
        # drawn while the screen still has messages to handle is not the key's last: a section key's screen is
        # shown, resumed, then laid out (every widget resized, its rows laid out again), and a frame comes between
        # each; the claim holds until the screen settled (released at the first frame, the watcher's thread took
        # half of the interpreter for the rest: 30 to 70 ms of a 130 ms switch).
        if self._key_frame_due and self._settling is None:
            self._release_when_settled()

    def _release_when_settled(self) -> None:
        """Release the key's claim once its screen has no message left; until then look again every few
        milliseconds (no frame may follow the last message: nothing changed on screen)."""
        self._settling = None
        if not self._key_frame_due:
            return
        if self._screen_settled() or time.monotonic() - self._last_key_at > CLAIM_SECONDS:
            self._key_frame_due = False
            self._gc.key_drawn()
            if self._precedence is not None:
                self._precedence.release()
        elif self._settling is None:
            self._settling = self.set_timer(SETTLE_POLL, self._release_when_settled, name="settle")

    def _screen_settled(self) -> bool:
        """No message waits in the screen shown or any of its widgets, and nothing is left to draw: the frame just
        drawn is the key's last (a change made by the last message is drawn at the next tick, and that frame is the
        one that shows the key done). An app ending (no screen left) has settled."""
        stack = self.screen_stack
        if not stack:
            return True
        screen = stack[-1]
        if frame_pending(screen):
            return False
        return not any(node.message_queue_size for node in screen.walk_children(with_self=True))

    def why_unavailable(self, action: str) -> str | None:
        """Why an app action is unavailable; `action` as bound, e.g. `section('approvals')`."""
        if action.startswith("section(") and "'" in action:
            return self.section_unavailable(action.split("'")[1])
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "section" and parameters:
            reason = self.section_unavailable(str(parameters[0]))
            return None if reason else True
        return True

    def section_unavailable(self, name: str) -> str | None:
        if name not in SECTION_SCREENS:
            return None  # a view of the fleet screen
        registry = self.console_context.registry
        return None if registry.get(name) is not None else registry.missing(name)

    def action_section(self, name: str) -> None:
        """1-4: the fleet's views (pipelines, state machines: screens/fleet/views.py), the approvals inbox, the
        activity stream (SECTION_SCREENS)."""
        reason = self.section_unavailable(name)
        if reason:
            key_spec = spec_for(name)
            what = key_spec.description if key_spec else name
            self.notify(f"{what}: {reason}", title="Not available", severity="warning", markup=False)
            return
        attribute = name if name in SECTION_SCREENS else None
        # Down to the screen right above the fleet; a section screen replaces it there (switch_screen), so the
        # fleet is not shown and drawn for nobody on the way from one section to another.
        stop = 2 if attribute is not None else 1
        while len(self.screen_stack) > stop and not isinstance(self.screen, FleetScreen):
            self.pop_screen()
        if attribute is None:
            while len(self.screen_stack) > 1 and not isinstance(self.screen, FleetScreen):
                self.pop_screen()
            home = self.screen
            if isinstance(home, FleetScreen):
                home.show_binding(name)
            return
        factory = self.console_context.registry.get(attribute)
        assert factory is not None  # section_unavailable said so otherwise
        if not self.is_screen_installed(attribute):
            self.install_screen(factory(), attribute)
        if isinstance(self.screen, FleetScreen):
            self.push_screen(attribute)
        elif self.screen is not self.get_screen(attribute):
            self.screen.post_message(events.ScreenSuspend())  # as push_screen tells the screen it covers
            self.switch_screen(attribute)

    def on_open_requested(self, message: OpenRequested) -> None:
        """Every screen's "open this": the registry's screen for the resource, pushed; why not, if it cannot."""
        registry = self.console_context.registry
        screen = registry.screen_for(message.ref)
        if screen is None:
            reason = registry.cannot_open(message.ref) or "there is nothing to open"
            self.notify(f"Open: {reason}", title="Not available", severity="warning", markup=False)
            return
        self.push_screen(screen)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen))

    async def action_quit(self) -> None:
        """q: quit, but ask first while an action is being sent."""
        in_flight = tuple(p.title for p in self.console_context.gate.in_flight)
        if not in_flight:
            self.exit()
            return

        def answered(leave: bool | None) -> None:
            if leave:
                self.exit()

        self.push_screen(ConfirmQuitModal(in_flight), answered)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The palette lists every key of the screen it was opened on (unavailable ones say why), then Textual's."""
        seen: set[str] = set()
        for key, bound, node, enabled in screen_bindings(screen):
            if bound.action in ("command_palette", "app.command_palette"):
                continue
            ident = bound.id or f"{type(node).__name__}.{bound.action}"
            if ident in seen:
                continue
            seen.add(ident)
            help_text = f"key {self.get_key_display(bound.with_key(key))}"
            if not enabled:
                reason = why_unavailable(node, bound.action)
                help_text += f" — unavailable: {reason}" if reason else " — unavailable now"
            yield SystemCommand(describe_binding(bound), help_text, _palette_runner(self, node, bound.action))
        yield from super().get_system_commands(screen)


def _palette_runner(app: App[Any], node: Any, action: str) -> Callable[[], Any]:
    async def run() -> None:
        # Through run_action, so check_action applies; an unavailable one explains itself instead.
        if not await app.run_action(action, node):
            reason = why_unavailable(node, action)
            if reason:
                app.notify(reason, title="Not available", severity="warning", markup=False)

    return run


def make_app(
    config: Config,
    targets: tuple[Target, ...],
    watcher: WatcherPort,
    gate: GatePort,
    *,
    waves: WaveModel | None = None,
    clock: Callable[[], datetime] = utcnow,
    read_only_reason: str | None = None,
    registry: ScreenRegistry | None = None,
    views: Sequence[SourceView] = VIEWS,
    start_watcher: bool = True,
    transitions_window: int = DEFAULT_WINDOW,
    precedence: Precedence | None = None,
) -> WavedeckApp:
    """The console app. The CLI and the tests build it only through here.

    `watcher`: a `console.watch.Watcher` (started on mount and stopped on exit unless `start_watcher=False`)
    or anything with its UI-facing methods. `gate`: the `console.actions.gate.ActionGate`. `clock`: injected so
    snapshots show fixed ages. `read_only_reason`: why the whole console is read-only (`--read-only`), shown
    in the header; per-target read-only comes from the targets. `views`: the sources of deployments on the
    screens (screens/fleet/views.py); `registry`: the screens the app opens (by default, theirs and the sections').
    `precedence`: the watcher's thread's (console/loop_thread.py), which waits while a key is handled and drawn.
    """
    context = ConsoleContext(
        watcher=watcher,
        gate=gate,
        targets=targets,
        waves=waves or default_wave_model(),
        clock=clock,
        registry=registry or screen_registry(views),
        views=tuple(views),
        transitions=TransitionLog(transitions_window),
        read_only_reason=read_only_reason,
        state=watcher.state,
    )
    return _app_class(views)(
        context, keymap=config.keymap, theme=config.theme, start_watcher=start_watcher, precedence=precedence
    )


def _app_class(views: Sequence[SourceView]) -> type[WavedeckApp]:
    """`WavedeckApp` for the registry's views; for others (a test's third source) the same app binding their
    section keys too. Textual reads a class's BINDINGS when the class is made, so another set is another class."""
    known = {source.binding for source in VIEWS}
    added = [source for source in views if source.binding not in known]
    if not added:
        return WavedeckApp
    return type("WavedeckApp", (WavedeckApp,), {"BINDINGS": section_bindings(added)})

"""The approvals inbox (`3`): everything across the fleet that waits for a person, most urgent on top.

CodePipeline manual approvals, Step Functions `.waitForTaskToken` states and stages held before entry by alarms
(which only an override ends), from `FleetState.approvals`, with wave, how long they have waited, how long
they have left, the revision and what they ask. The order and why: screens/approvals/rows.py. `a` approves
and `x` rejects the highlighted one through the shared action flow (production waves ask for the wave's name),
`O` overrides a held stage's entry condition; enter opens the pipeline or execution it belongs to; `/` filters.
What the picture holds stale (the last run's, shown from the warm-start cache, or a target not read again in
time) is listed all the same and marked `≈`: answering reads it fresh first, token included.

Rows are keyed by the approval, in a `KeyedList` (screens/widgets/keyed_list.py) that keeps each row's drawn
line: an update or the clock redraws only the rows that read differently, a new order or set of approvals draws
the lines on screen from that cache (coming back to the inbox with `3` draws nothing new unless something
changed), and the cursor stays on the same approval either way. Which rows there are and the caches that keep
that cheap: screens/approvals/view.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Static

from console.actions.gate import ActionKind
from console.codepipeline.model import pipelines_of
from console.keys import spec
from console.model import Approval, FleetState
from console.stepfunctions.model import state_machines_of
from screens.action_flow import ActionChoice, ActionScreen, Choices
from screens.approvals.rows import detail_text, inbox_layout, resource_key, selection_of
from screens.approvals.view import Drawn, InboxRow, InboxRows
from screens.bindings import binding
from screens.context import ResourceRef, opened_screen
from screens.fleet.rows import target_labels
from screens.status import STALE
from screens.text import clean
from screens.widgets.filter_bar import FilterBar
from screens.widgets.key_bar import KeyBar
from screens.widgets.keyed_list import KeyedList, ListColumn

# The action keys that never apply to an approval: bound (so pressing one says why) but not in the footer.
_NOT_HERE = ("stop", "stop_abandon", "rollback", "retry", "pause")
ONLY_ANSWERS = "the inbox only approves and rejects (enter opens the pipeline or execution)"


class ApprovalsScreen(ActionScreen):
    """Everything waiting for a person across the fleet, most urgent first; approve, reject, open, filter."""

    HELP_TITLE = "Approvals"
    CSS_PATH = "approvals.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        *(binding(binding_id, show=False) for binding_id in _NOT_HERE),
        binding("override"),
    ]

    def __init__(self) -> None:
        super().__init__(id="approvals")
        self.rows = InboxRows()  # the rows shown and their caches: screens/approvals/view.py
        # What the bar, the detail, the empty message (none: the list is shown) and the watcher's focus last were.
        self.drawn = Drawn(bar=Text(""), detail=Text(""), empty=None)
        self._key_names: dict[str, str] = {}  # binding id → the key that runs it here (the keymap is fixed)

    @property
    def query_text(self) -> str:
        return self.rows.query

    # --- layout -------------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self.header()
        yield Static(id="approvals-bar")
        yield FilterBar("filter: pipeline, stage, wave, target, revision (prod, canary, a1b2c3)")
        yield KeyedList(id="inbox", cells=InboxRow.cells, on_change=self._cursor_moved)
        yield Static(id="approvals-empty")
        yield Static(id="approval-detail")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#approvals-empty", Static).display = False
        self._build_columns()
        self.table.focus()

    def _cursor_moved(self) -> None:
        # Called by the list in the same turn as its cursor moves: the detail lands in the same frame.
        if self._ready and not self.is_closing:
            self._update_detail(self.now())
            self.refresh_availability()

    @property
    def table(self) -> KeyedList:
        return self.query_one("#inbox", KeyedList)

    def _labels(self) -> dict[str, str]:
        return target_labels(self.ctx.targets)

    def _build_columns(self) -> bool:
        labels = self._labels()
        target_width = max((len(v) for v in labels.values()), default=6)
        layout = inbox_layout(self.size.width or self.app.size.width, target_width, len(labels) > 1)
        if not self.rows.set_layout(layout):
            return False
        # One more cell per column, padded: the columns two spaces apart, where the layout puts them.
        self.table.set_columns(tuple(ListColumn(c.key, Text(c.label), c.width + 1) for c in layout.columns))
        return True

    def on_resize(self) -> None:
        if self._build_columns():
            self._sync(self.ctx.state, self.now())

    # --- drawing ------------------------------------------------------------------------------------------

    def show_state(self, state: FleetState) -> None:
        self._sync(state, self.now())

    def on_tick(self, state: FleetState, now: datetime) -> None:
        # Ages, time left and the order (an approval that starts to expire moves up) follow the clock;
        # cells that read the same are not touched.
        self._sync(state, now)

    def _sync(self, state: FleetState, now: datetime) -> None:
        # Most pictures change other pipelines only: then the rows read the same and nothing here is touched.
        if not self.rows.sync(state, now, self._labels()):
            return
        # The list keeps the cursor on the same approval (by key) and redraws only rows that read differently.
        self.table.set_rows(self.rows.keys, self.rows.rows())
        self._update_empty(state)
        self._update_bar()
        self._update_detail(now)
        self._tell_focus()
        self.refresh_availability()

    def _update_empty(self, state: FleetState) -> None:
        if self.rows.keys:
            message: Text | None = None
        elif self.rows.total:
            message = Text.assemble(
                "No approval matches ",
                (clean(self.query_text), "bold"),
                f" ({self.rows.total} waiting). esc clears the filter.",
            )
        elif not state.targets or any(t.read_at is None and not t.error for t in state.targets):
            message = Text("Reading the targets…", style="dim")
        else:
            pipelines, machines = len(pipelines_of(state)), len(state_machines_of(state))
            message = Text.assemble(
                ("✓ Nothing is waiting for a person.", "bold"),
                "\n\n",
                (
                    f"Manual approvals and task-token states of {pipelines} pipelines and {machines} state "
                    "machines appear here as soon as the watcher sees them.",
                    "dim",
                ),
            )
        if not self.drawn.changed("empty", message):
            return
        empty = self.query_one("#approvals-empty", Static)
        empty.display = message is not None
        self.table.display = message is None
        self.query_one("#approval-detail", Static).display = message is None
        if message is not None:
            empty.update(message)

    def _update_bar(self) -> None:
        waiting, expiring, production = self.rows.counts
        bar = Text(end="")
        bar.append(" Approvals ", style="reverse bold")
        bar.append(f"  {waiting} waiting")
        if expiring:
            bar.append("  ")
            bar.append(f" ◷ {expiring} expiring soon ", style="reverse bold red")
        if production:
            bar.append(f"  ▲ {production} production", style="bold")
        if self.rows.stale:
            # Shown from the last run's cache, or not read again in time: they may have been answered since.
            bar.append(f"  {STALE.glyph} {len(self.rows.stale)} stale", style="bold")
        if self.query_text:
            bar.append("  filter: ", style="dim")
            bar.append(clean(self.query_text), style="bold")
            bar.append(f" ({len(self.rows.keys)} shown)", style="dim")
        elif waiting > 1 and self.size.width >= 100:
            bar.append("  most urgent first: expiring, production, longest waiting", style="dim")
        if self.drawn.changed("bar", bar):
            self.query_one("#approvals-bar", Static).update(bar, layout=False)  # always one line

    def _update_detail(self, now: datetime) -> None:
        approval = self.selected()
        if approval is None:
            text = Text("")
        else:
            label = self._labels().get(approval.target, approval.target)
            key = self.highlighted_key() or ""
            stale = self.rows.stale.get(key)
            text = detail_text(approval, now, label, self._hint(approval), stale, key in self.rows.cached)
        if self.drawn.changed("detail", text):
            # The pane has a fixed height (approvals.tcss): moving between approvals never lays the screen out
            # again, which costs far more than a redraw.
            self.query_one("#approval-detail", Static).update(text, layout=False)

    def _hint(self, approval: Approval) -> str:
        ref = self._ref_of(approval)
        opens = "the " + opened_screen(ref).replace("_", " ") if ref is not None else ""
        parts = [f"{self._key_of('approve')} approves", f"{self._key_of('reject')} rejects"]
        if approval.condition is not None:
            parts = [f"{self._key_of('override')} overrides the {approval.condition.label} condition"]
        if self.why_unavailable("open") is None:
            parts.append(f"{self._key_of('open')} opens {opens}")
        return " · ".join(parts)

    def _key_of(self, binding_id: str) -> str:
        """The key that runs `binding_id` here (the config's keymap may have moved it; it is applied at start)."""
        known = self._key_names.get(binding_id)
        if known is not None:
            return known
        name = spec(binding_id).keys.split(",")[0]
        for key, active in self.active_bindings.items():
            if active.binding.id == binding_id:
                name = self.app.get_key_display(active.binding.with_key(key))
                break
        self._key_names[binding_id] = name
        return name

    # --- selection ------------------------------------------------------------------------------------------

    def highlighted_key(self) -> str | None:
        return self.table.highlighted_key

    def selected(self) -> Approval | None:
        """The highlighted approval, as last drawn."""
        return self.rows.approval(self.highlighted_key())

    def visible_keys(self) -> tuple[str, ...]:
        # The pipelines and state machines of the approvals on screen: polled faster, so an answer shows soon.
        return self.rows.resource_keys()

    def _tell_focus(self) -> None:
        keys = self.visible_keys()
        if self.is_current and self.drawn.changed("focus", keys):
            self.tell_watcher(keys)

    def tell_watcher_what_is_visible(self) -> None:
        self.drawn.forget("focus")
        self._tell_focus()

    @on(KeyedList.Selected)
    def _row_selected(self, event: KeyedList.Selected) -> None:
        event.stop()
        self.action_open()

    # --- keys -----------------------------------------------------------------------------------------------

    def selected_ref(self) -> ResourceRef | None:
        """What enter opens: a manual approval's pipeline, a task-token state's execution (or state machine)."""
        approval = self.selected()
        if approval is None:
            return None
        return self._ref_of(approval)

    def _ref_of(self, approval: Approval) -> ResourceRef | None:
        """What enter opens for `approval`: its source's answer (screens/fleet/views.py)."""
        return self.ctx.opens(approval.kind, approval.target, resource_key(approval), approval.execution)

    def why_unavailable(self, action: str) -> str | None:
        if action == "open":
            ref = self.selected_ref()
            if ref is None:
                return "no approval is selected" if self.selected() is None else "nothing opens it here"
            return self.ctx.registry.cannot_open(ref)
        if action == "filter":
            return None
        return super().why_unavailable(action)

    def action_open(self) -> None:
        """enter: the pipeline of a manual approval, the execution of a task-token state."""
        self.request_open(self.selected_ref())

    def action_choices(self, binding_id: str) -> Choices:
        if binding_id not in ("approve", "reject", "override"):
            return Choices((), nothing=ONLY_ANSWERS)
        approval = self.selected()
        if approval is None:
            nothing = "nothing is waiting for a person" if not self.rows.total else "no approval is selected"
            return Choices((), nothing=nothing)
        if binding_id == "override" or approval.condition is not None:
            return _override_choices(binding_id, approval)
        kind = ActionKind.APPROVE if binding_id == "approve" else ActionKind.REJECT
        verb = "Approve" if kind is ActionKind.APPROVE else "Reject"
        where = (
            f" ({approval.state_name}{', ' + approval.where if approval.where else ''})" if approval.state_name else ""
        )
        label = f"{verb} {approval.resource}{where}"
        selection = selection_of(approval)
        if selection is None:
            return Choices((), nothing=f"the execution of {approval.resource} is not known yet")
        return Choices((ActionChoice(kind, selection, label),), "", selection)

    # --- filter ---------------------------------------------------------------------------------------------

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    def on_filter_bar_filter_changed(self, event: FilterBar.FilterChanged) -> None:
        self.set_filter(event.text)

    def on_filter_bar_filter_left(self) -> None:
        self.table.focus()

    def set_filter(self, text: str) -> None:
        """Show only approvals whose names, wave, target, revision or message contain every word of `text`."""
        if self.rows.set_query(text):
            self._sync(self.ctx.state, self.now())

    def action_back(self) -> None:
        if self.query_one(FilterBar).clear_filter() or self.query_text:
            self.set_filter("")
            self.table.focus()
            return
        super().action_back()


def _override_choices(binding_id: str, approval: Approval) -> Choices:
    """Override for a stage held by its entry condition; approve and reject say it is not an approval."""
    if approval.condition is None:
        return Choices((), nothing="only a stage held by a condition can be overridden; this is an approval")
    if binding_id != "override":
        return Choices((), nothing="a condition holds this stage, not an approval: override it instead")
    selection = selection_of(approval)
    if selection is None:
        return Choices((), nothing=f"the stage of {approval.resource} is not known yet")
    label = f"Override the {approval.condition.label} condition of {approval.resource}"
    return Choices((ActionChoice(ActionKind.OVERRIDE, selection, label),), "", selection)

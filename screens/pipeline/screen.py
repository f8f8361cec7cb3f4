"""The pipeline screen (enter on a pipeline in the fleet): its stages by wave, their actions, its executions.

Top: the stages, grouped by wave, each followed by its actions (status, summary or error, provider, age).
Middle: everything about the highlighted row (timings, error code and message, external execution id and
URL, the inbound transition and who paused it and why, the executions waiting to enter). Bottom: the
execution history (trigger, revision and commit message, status, STANDARD or ROLLBACK, started, duration).
`tab` moves between the stages and the executions; enter shows the highlighted row's detail in full
(scrollable) when the panel cuts it short. The action keys act on the highlighted row (see
screens/pipeline/actions.py); `g` (or enter) on a Step Functions action opens its execution.

Only the watcher's picture is drawn; rows are updated cell by cell and the cursor stays on its row.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from console.codepipeline.model import Pipeline, pipelines_of
from console.model import FleetState
from screens.action_flow import ActionChoice, ActionScreen, Choices
from screens.bindings import binding
from screens.context import EXECUTION, ExecutionRef
from screens.fleet.actions import pipeline_choices
from screens.fleet.rows import target_labels
from screens.messages import ActionCompleted, OpenRequested
from screens.pipeline.actions import WIDE_KEYS, PipelinePick, selection_choices
from screens.pipeline.rows import (
    action_detail,
    attention_key,
    execution_arn_of,
    execution_columns,
    execution_detail,
    execution_rows,
    parse_stage_key,
    stage_columns,
    stage_detail,
    stage_rows,
    title_text,
)
from screens.text import clean, literal
from screens.widgets.key_bar import KeyBar
from screens.widgets.keyed_list import KeyedList
from screens.widgets.payload_modal import PayloadModal

SHORT = 30  # lines: below this the detail and the executions are kept small


class PipelineScreen(ActionScreen):
    """One pipeline in full: stages by wave with their actions, the highlighted row's detail, its executions."""

    HELP_TITLE = "Pipeline"
    CSS_PATH = "pipeline.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        # Nothing to filter here: kept out of the footer (help still lists it, greyed, with why).
        binding("filter", show=False),
        binding("goto"),
        binding("override"),
    ]

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self._title: Text | None = None
        self._detail: Text | None = None
        self._shown: tuple[Pipeline | None, bool, int] | None = None
        self._placed = False  # the cursor was put on what needs attention once

    # --- layout -------------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self.header()
        yield Static(id="title")
        yield KeyedList(layout=stage_columns, look="table", on_change=self._cursor_moved, id="stages")
        with VerticalScroll(id="detail-box", can_focus=False):
            yield Static(id="detail")
        yield Static(
            Text("Executions (newest first) · tab switches tables · enter: full detail", style="dim"),
            id="executions-label",
        )
        yield KeyedList(layout=execution_columns, look="table", on_change=self._cursor_moved, id="executions")
        yield KeyBar()

    def on_mount(self) -> None:
        self.set_class(self.app.size.height < SHORT, "-short")
        self.stages.focus()

    @property
    def stages(self) -> KeyedList:
        return self.query_one("#stages", KeyedList)

    @property
    def executions(self) -> KeyedList:
        return self.query_one("#executions", KeyedList)

    @property
    def pipeline(self) -> Pipeline | None:
        return pipelines_of(self.ctx.state).get(self.key)

    # --- drawing ----------------------------------------------------------------------------------------------

    def show_state(self, state: FleetState) -> None:
        self._draw(state, self.now())

    def on_tick(self, state: FleetState, now: datetime) -> None:
        self._draw(state, now)

    def _draw(self, state: FleetState, now: datetime) -> None:
        pipeline = pipelines_of(state).get(self.key)
        stale = pipeline is not None and state.is_stale(pipeline.key, pipeline.read_at, now)
        minute = int(now.timestamp() // 60)
        shown = (pipeline, stale, minute)
        if shown == self._shown:
            return  # nothing that is drawn changed (ages are shown to the minute)
        self._shown = shown
        self._set_title(self._title_for(pipeline, stale, now))
        if pipeline is not None:
            width = self.stages.size.width or self.size.width or self.app.size.width
            columns = {c.key: c.width for c in stage_columns(width)}
            self.stages.sync(stage_rows(pipeline, now, columns["wave"], "run" in columns))
            self.executions.sync(execution_rows(pipeline, now, wide=width >= 110))
            if not self._placed:
                self._placed = True
                attention = attention_key(pipeline)
                if attention is not None:
                    self.stages.move_to(attention)
        self._update_detail()
        self.refresh_availability()

    def _title_for(self, pipeline: Pipeline | None, stale: bool, now: datetime) -> Text:
        if pipeline is None:
            name = self.key.split(":", 1)[-1]
            text = literal(name, style="bold")
            if pipelines_of(self.ctx.state):
                text.append(" is no longer listed by its target (deleted, or the target cannot be read)", style="bold")
            else:
                text.append(" · reading…", style="dim")
            return text
        return title_text(pipeline, stale, now, target_labels(self.ctx.targets).get(pipeline.target))

    def _set_title(self, text: Text) -> None:
        if text != self._title:
            self._title = text
            self.query_one("#title", Static).update(text)

    def _update_detail(self) -> None:
        text = self._detail_text()
        if text != self._detail:
            self._detail = text
            self.query_one("#detail", Static).update(text)

    def _detail_text(self) -> Text:
        pipeline = self.pipeline
        if pipeline is None:
            return Text("")
        now = self.now()
        pick = self.pick()
        if pick.execution_id is not None:
            execution = pipeline.execution(pick.execution_id)
            return execution_detail(pipeline, execution, now) if execution else Text("")
        stage = pipeline.stage(pick.stage) if pick.stage else None
        if stage is None:
            return Text("No stage selected." if pipeline.stages else "This pipeline has no stages.", style="dim")
        if pick.action is not None:
            action = next((a for a in stage.actions if a.name == pick.action), None)
            if action is not None:
                return action_detail(stage, action, now)
        return stage_detail(pipeline, stage, now)

    def on_resize(self, event: events.Resize) -> None:
        # Column widths depend on the width: the tables lay themselves out; the wave labels follow.
        # On a short terminal (24 lines) the detail and the executions give the stages more room.
        self.set_class(event.size.height < SHORT, "-short")
        self._shown = None
        self._draw(self.ctx.state, self.now())

    # --- the selection ------------------------------------------------------------------------------------------

    def pick(self) -> PipelinePick:
        """What is selected: the highlighted execution when the executions table has the focus, else the
        highlighted stage or action."""
        if self.focused is self.executions:
            execution_id = self.executions.highlighted_key
            if execution_id is not None:
                return PipelinePick(execution_id=execution_id)
        ref = parse_stage_key(self.stages.highlighted_key)
        if ref is None:
            return PipelinePick()
        return PipelinePick(stage=ref.stage, action=ref.action)

    def visible_keys(self) -> tuple[str, ...]:
        return (self.key,)

    def detail_key(self) -> str:
        return self.key  # its executions table shows the pipeline's recent history

    def _cursor_moved(self) -> None:
        # Called by either list in the same turn as its cursor moves: the detail lands in the same frame.
        if self._ready and not self.is_closing:
            self._update_detail()
            self.refresh_availability()

    @on(KeyedList.Selected)
    def _row_selected(self, event: KeyedList.Selected) -> None:
        event.stop()
        self.action_open()

    def on_descendant_focus(self) -> None:
        # The selection follows the focused table.
        self._update_detail()
        self.refresh_availability()

    # --- keys -------------------------------------------------------------------------------------------------

    def why_unavailable(self, action: str) -> str | None:
        if action == "goto":
            return self._goto_unavailable()
        if action == "open":
            return None if self._goto_target() is not None or self._detail else "nothing is selected"
        return super().why_unavailable(action)

    def _goto_target(self) -> str | None:
        pipeline = self.pipeline
        pick = self.pick()
        if pipeline is None or pick.stage is None:
            return None
        stage = pipeline.stage(pick.stage)
        if stage is None:
            return None
        actions = [a for a in stage.actions if pick.action in (None, a.name)]
        return next((arn for arn in map(execution_arn_of, actions) if arn), None)

    def _goto_unavailable(self) -> str | None:
        if EXECUTION not in self.ctx.registry.screens:
            return self.ctx.registry.missing(EXECUTION)
        if self._goto_target() is not None:
            return None
        pick = self.pick()
        if pick.execution_id is not None:
            return "a pipeline execution has no linked Step Functions execution; select a Step Functions action"
        pipeline = self.pipeline
        stage = pipeline.stage(pick.stage) if pipeline and pick.stage else None
        if stage is not None and any(a.provider == "StepFunctions" for a in stage.actions):
            return "the Step Functions action has not started an execution in the latest run"
        return "the selection is not a Step Functions action (nothing to go to)"

    def action_goto(self) -> None:
        """g: open the Step Functions execution the selected action ran."""
        reason = self._goto_unavailable()
        arn = self._goto_target()
        pipeline = self.pipeline
        if reason or arn is None or pipeline is None:
            self.notify(f"Go to: {reason}", title="Not available", severity="warning", markup=False)
            return
        self.post_message(OpenRequested(ExecutionRef(pipeline.target, arn)))

    def action_open(self) -> None:
        """enter: a Step Functions action's execution; anything else's detail in full (scrollable)."""
        if self._goto_target() is not None:
            self.action_goto()
        elif self._detail:
            self.app.push_screen(PayloadModal(self._detail_title(), [], body=self._detail))

    def _detail_title(self) -> str:
        pick = self.pick()
        name = self.key.split(":", 1)[-1]
        if pick.execution_id is not None:
            return f"{name} execution {pick.execution_id}"
        return " / ".join(p for p in (name, pick.stage, pick.action) if p)

    def action_choices(self, binding_id: str) -> Choices:
        pipeline = self.pipeline
        if pipeline is None:
            return Choices((), nothing=f"{clean(self.key.split(':', 1)[-1])} is not loaded")
        specific = selection_choices(binding_id, pipeline, self.pick())
        if binding_id in WIDE_KEYS and not any(self._can_run(c) for c in specific.choices):
            wide = pipeline_choices(binding_id, pipeline)
            if any(self._can_run(c) for c in wide.choices):
                return wide
        return specific

    def _can_run(self, choice: ActionChoice) -> bool:
        ctx = self.ctx
        return ctx.gate.availability(choice.kind, choice.selection, ctx.state).enabled

    def on_action_completed(self, message: ActionCompleted) -> None:
        # The watcher re-reads the pipeline (the action flow asked it to); redraw as soon as it has.
        self._shown = None

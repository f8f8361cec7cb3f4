"""The fleet screen's pipelines view (`1`): every pipeline, its row in the list and its wave board under it."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from console.codepipeline.model import Pipeline, pipelines_of
from console.model import FleetState, Wave
from screens.action_flow import Choices
from screens.context import KeyRef, ResourceRef
from screens.fleet.actions import pipeline_choices
from screens.fleet.rows import PipelineRow, TableLayout, pipeline_layout
from screens.fleet.view import Frame, ShownRows
from screens.status import ERROR, STALE, look
from screens.text import clean, commit_message, literal
from screens.timefmt import ago, coarse_age
from screens.widgets.keyed_list import ListColumn
from screens.widgets.wave_board import SLOT_WIDE, WaveBoard, board_waves

PIPELINES = "pipelines"
PIPELINE_SCREEN = "pipeline"  # the registry's name of the screen that shows one pipeline (screens/pipeline/)


class PipelineView(ShownRows[Pipeline, PipelineRow]):
    """The pipelines view: its layout, the rows shown (filtered, by name) and how many there are in all."""

    name = PIPELINES
    label = "Pipelines"
    noun = "pipeline"

    def __init__(self) -> None:
        super().__init__(reads_the_same, PipelineRow.take_words)
        self.layout: TableLayout | None = None
        self.waves: tuple[Wave, ...] | None = None  # the board's columns as last laid out (`board_waves`)

    def set_layout(self, layout: TableLayout) -> bool:
        """Take the layout for the terminal's width; True when it changed (every row is built again)."""
        if layout == self.layout:
            return False
        self.layout = layout
        self._cache.clear()
        return True

    def set_waves(self, waves: tuple[Wave, ...]) -> bool:
        """Take the board's columns (an `unknown` column comes or goes); True when they changed (every row is
        built again)."""
        if waves == self.waves:
            return False
        self.waves = waves
        self._cache.clear()
        return True

    def sync(self, frame: Frame) -> bool:
        """The rows of the pipelines matching the filter; False while there is no layout or waves yet."""
        if self.layout is None or self.waves is None:
            return False
        waves, state, now, labels, layout = self.waves, frame.state, frame.now, frame.labels, self.layout
        pipelines = pipelines_of(state)
        # Ages are shown in the list only in wide slots: only there does a new minute make a row read differently.
        minute = int(now.timestamp() // 60) if layout.slot >= SLOT_WIDE else 0

        def build(pipeline: Pipeline, stale: bool) -> PipelineRow:
            return PipelineRow(pipeline, waves, stale, now, layout.slot, labels.get(pipeline.target, pipeline.target))

        self.show(pipelines, frame, (layout.slot, minute), build)
        return True

    def row_cells(self, row: PipelineRow) -> tuple[Text, ...]:
        return row.cells  # drawn now, when first on screen (PipelineRow)

    # --- as a FleetView (screens/fleet/view.py) -------------------------------------------------------------

    def lay_out(self, width: int, target_width: int, frame: Frame) -> bool:
        if self.waves is None:
            self.set_waves(board_waves(frame.waves, frame.state))
        assert self.waves is not None
        return self.set_layout(pipeline_layout(width, len(self.waves), target_width))

    def list_columns(self) -> tuple[ListColumn, ...] | None:
        if self.layout is None or self.waves is None:
            return None
        return self.layout.columns(self.waves)

    def reshape(self, frame: Frame) -> bool:
        # A stage that matches no wave appeared (or the last one went): the `unknown` column comes or goes.
        if self.layout is None:
            return False
        return self.set_waves(board_waves(frame.waves, frame.state))

    def show_detail(self, board: WaveBoard, key: str | None, state: FleetState, now: datetime) -> None:
        pipeline = pipelines_of(state).get(key) if key else None
        row = self.rows.get(key) if key else None
        if pipeline is None or row is None:
            board.clear("No pipeline selected." if pipelines_of(state) else "")
            return
        board.show(board_title(pipeline, state, now), row.waves, now)

    def ref(self, key: str) -> ResourceRef:
        return KeyRef(PIPELINE_SCREEN, key)

    def choices(self, binding_id: str, key: str, state: FleetState) -> Choices | None:
        pipeline = pipelines_of(state).get(key)
        return None if pipeline is None else pipeline_choices(binding_id, pipeline)


def pipeline_opens(target: str, key: str, execution: str | None) -> ResourceRef:
    """What enter opens for a manual approval or a transition of a pipeline: the pipeline (its screen shows the
    execution, the stage and the action)."""
    return KeyRef(PIPELINE_SCREEN, key)


def reads_the_same(before: Pipeline, after: Pipeline) -> bool:
    """Whether `after` draws the same row and board as `before`: all a row shows comes from these fields (the
    time it was read only through staleness, which the row cache keys on apart). Comparing them takes
    microseconds; building a row again took milliseconds, for every read of every pipeline."""
    return (
        before.stages == after.stages
        and before.executions == after.executions
        and before.error == after.error
        and before.note == after.note
        and before.name == after.name
        and before.target == after.target
    )


def board_title(pipeline: Pipeline, state: FleetState, now: datetime) -> Text:
    """Two lines: the pipeline and its latest execution; then the commit message, or why it cannot be
    trusted (an error reading it, staleness)."""
    title = literal(pipeline.name, style="bold")
    title.append(" · ", style="dim")
    title.append(clean(pipeline.target), style="dim")
    latest = pipeline.latest_execution
    if latest is not None:
        title.append(" · latest ")
        title.append_text(look(latest.status).text())
        if latest.is_rollback:
            title.append(" (rollback)")
        title.append(f" {clean(latest.id)[:8]}", style="dim")
        if latest.revision is not None:
            title.append(f" {clean(latest.revision.short)}")
        title.append(f" {coarse_age(latest.updated or latest.started, now)}", style="dim")
    title.append("\n")
    # Why it cannot be trusted: how old the picture is (also when its last read failed: the cached picture of a
    # target that cannot be reached; the error alone does not say how old what is under it is), an error
    # reading it, a part that could not be read. Else the commit message.
    why: list[Text] = []
    if state.is_stale(pipeline.key, pipeline.read_at, now):
        why.append(Text(f"{STALE.glyph} stale: last read {ago(pipeline.read_at, now)}", style="bold"))
    if pipeline.error:
        why.append(Text(f"{ERROR.glyph} {clean(pipeline.error)}", style=ERROR.tone.style))
    elif pipeline.note:
        why.append(Text(f"◐ partial: {clean(pipeline.note)}", style="bold yellow"))
    if why:
        title.append_text(Text(" · ", style="dim").join(why))
    elif latest is not None and latest.revision is not None:
        title.append(commit_message(latest.revision.summary))
    return title

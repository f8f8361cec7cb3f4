"""The wave board: one cell per wave (alpha, beta, gamma, each production wave) of a pipeline.

Each cell says the status of the newest execution in that wave, the source revision deployed there, whether
an approval waits, promotion into it is paused (its inbound transition disabled) or a stage condition holds
it (a bake with its time left, a closed deployment window, alarms that keep it from entering), and how long
ago it changed. `wave_cells` computes the cells from a `Pipeline` (pure, no terminal); `wave_strip` draws them as
one compact table cell for the fleet list; `WaveBoard` draws them in full for the selected pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

from console.codepipeline.model import Pipeline, Stage, StageCondition, pipelines_of
from console.model import UNKNOWN_WAVE, FleetState, Wave
from screens.conditions import hold_label, hold_look
from screens.status import APPROVAL, NEVER_RAN, NO_STAGE, NO_STATE, PAUSED, StatusLook, look
from screens.text import clean, literal
from screens.timefmt import coarse_age

# When several stages share a wave, the wave shows the most telling status among them.
_PRIORITY = ("Failed", "InProgress", "Stopping", "Stopped", "Abandoned", "Cancelled", "Superseded", "Succeeded")


@dataclass(frozen=True, slots=True)
class WaveCell:
    """What one wave of one pipeline looks like now."""

    wave: Wave
    stages: tuple[str, ...]  # the pipeline's stages in this wave (empty: the pipeline has none there)
    status: str | None  # AWS's status word of the most telling stage
    revision: str | None  # short source revision deployed by that stage's execution
    approval_stage: str | None  # the stage whose manual approval waits for a person
    paused_stage: str | None  # the stage whose inbound transition is disabled
    paused_reason: str
    since: datetime | None  # when the stage last changed
    execution_id: str | None
    unread: bool = False  # the pipeline's state could not be read: a missing status is unknown, not "not run"
    held_stage: str | None = None  # the stage a condition holds (entry conditions, or a bake after it)
    held: StageCondition | None = None

    @property
    def approval(self) -> bool:
        return self.approval_stage is not None

    @property
    def paused(self) -> bool:
        return self.paused_stage is not None

    def hold(self, now: datetime) -> str:
        """`◷ bake 4m`, `◆ window`, or empty when no condition holds the wave."""
        return hold_label(self.held, now) if self.held is not None else ""

    @property
    def look(self) -> StatusLook:
        if self.approval:
            return APPROVAL
        if self.unread and self.stages and self.status is None:
            return NO_STATE
        return look(self.status) if self.stages else NEVER_RAN


class _UnmatchedCounts:
    """Each pipeline's count of stages that match no wave, counted again only for pipelines read anew.

    Every picture asks (the header, the fleet's columns), and counting every stage of 2,000 pipelines took 20 ms
    of each; looking each pipeline up takes well under one."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[Pipeline, int]] = {}
        self._last: tuple[object, int] | None = None  # (the pipelines mapping, its total)

    def total(self, pipelines: Mapping[str, Pipeline]) -> int:
        last = self._last
        if last is not None and last[0] is pipelines:
            return last[1]
        counts = self._counts
        total = 0
        for key, pipeline in pipelines.items():
            known = counts.get(key)
            if known is None or known[0] is not pipeline:
                known = (pipeline, sum(1 for s in pipeline.stages if s.wave is not None and s.wave.is_unknown))
                counts[key] = known
            total += known[1]
        if len(counts) > 2 * len(pipelines) + 64:
            self._counts = {key: counts[key] for key in pipelines if key in counts}
        self._last = (pipelines, total)
        return total


_UNMATCHED = _UnmatchedCounts()


def unmatched_stages(state: FleetState) -> int:
    """How many stages of the fleet match no wave (risk unknown): the header says it, the board shows them."""
    return _UNMATCHED.total(pipelines_of(state))


def board_waves(waves: Sequence[Wave], state: FleetState) -> tuple[Wave, ...]:
    """The board's columns: the model's waves, and an `unknown` column last while any stage matches no wave,
    so that such a stage (and an approval or failure in it) is never hidden."""
    extra = (UNKNOWN_WAVE,) if unmatched_stages(state) else ()
    return (*waves, *extra)


def wave_cells(pipeline: Pipeline, waves: Sequence[Wave], *, drawn: bool = True) -> tuple[WaveCell, ...]:
    """One cell per wave in `waves`, in that order. Build stages (Source, Build) have no wave and are not on the
    board; stages that match no wave are, in the `unknown` column when `waves` has it (`board_waves`).

    `drawn=False`: the cells without what only their drawing shows (revision, since): what they say in words
    (the filter's), at a fraction of the cost, for rows that are searched but never drawn."""
    by_wave: dict[str, list[Stage]] = {}
    for stage in pipeline.stages:
        if stage.wave is not None:
            by_wave.setdefault(stage.wave.name, []).append(stage)
    return tuple(_cell(pipeline, wave, by_wave.get(wave.name, []), drawn) for wave in waves)


def _rank(status: str | None) -> int:
    return _PRIORITY.index(status) if status in _PRIORITY else len(_PRIORITY)


def _cell(pipeline: Pipeline, wave: Wave, stages: list[Stage], drawn: bool = True) -> WaveCell:
    if not stages:
        return WaveCell(wave, (), None, None, None, None, "", None, None)
    telling = min(stages, key=lambda s: _rank(s.status))
    approval = next((s.name for s in stages if s.awaiting_approval is not None), None)
    paused = next((s for s in stages if s.paused), None)
    held = next((s for s in stages if s.held_by is not None), None)
    revision, since = _revision_and_since(pipeline, telling) if drawn else (None, None)
    return WaveCell(
        wave=wave,
        stages=tuple(s.name for s in stages),
        status=telling.status,
        revision=revision,
        approval_stage=approval,
        paused_stage=paused.name if paused else None,
        paused_reason=paused.inbound.disabled_reason if paused else "",
        since=since,
        execution_id=telling.execution_id,
        unread=pipeline.note is not None,
        held_stage=held.name if held is not None else None,
        held=held.held_by if held is not None else None,
    )


def _revision_and_since(pipeline: Pipeline, telling: Stage) -> tuple[str | None, datetime | None]:
    """What a cell shows of the stage that tells its status: its run's short revision, and when it last changed."""
    execution = pipeline.execution(telling.execution_id)
    revision = execution.revision.short if execution and execution.revision else None
    if revision is None:
        revision = next((a.current_revision[:8] for a in telling.actions if a.current_revision), None)
    changes = [a.last_status_change for a in telling.actions if a.last_status_change is not None]
    since = max(changes) if changes else (execution.updated if execution else None)
    return revision, since


def wave_label(wave: Wave, width: int) -> str:
    """A wave's name cut to `width`, without the `prod-` prefix when space is short."""
    name = wave.name
    if len(name) > width and name.startswith("prod-"):
        name = name[len("prod-") :]
    return name[:width]


# Slot widths of the strip in the fleet list (each slot ends in a space that parts it from the next):
# the glyph and a paused mark; + the short revision; + the age.
SLOT_NARROW = 4
SLOT_MEDIUM = 11
SLOT_WIDE = 15
REVISION_WIDTH = 7  # git's short revision


def wave_strip(cells: Sequence[WaveCell], slot: int, now: datetime) -> Text:
    """The cells side by side in fixed-width slots, for one table cell of the fleet list."""
    text = Text(end="", no_wrap=True)
    for cell in cells:
        text.append(_slot(cell, slot, now))
    return text


def _slot(cell: WaveCell, slot: int, now: datetime) -> Text:
    """`✓‖`, `✓ a1b2c3d‖`, `✓ a1b2c3d‖ 12m`: the glyph says the status (⚑ an approval waits), ‖ paused,
    else ◷ a bake or ◆ held by an entry condition."""
    part = Text(end="", no_wrap=True)
    if not cell.stages:
        part.append(NO_STAGE.glyph, style=NO_STAGE.tone.style)
    else:
        status = cell.look
        part.append(status.glyph, style=status.tone.style)
        if slot >= SLOT_MEDIUM:
            part.append(" " + clean(cell.revision or "—")[:REVISION_WIDTH].ljust(REVISION_WIDTH))
        if cell.paused or cell.held is None:
            part.append(PAUSED.glyph if cell.paused else " ", style=PAUSED.tone.style)
        else:
            mark = hold_look(cell.held)
            part.append(mark.glyph, style=mark.tone.style)
        if slot >= SLOT_WIDE:
            part.append(" " + coarse_age(cell.since, now).rjust(3), style="dim")
    part.pad_right(max(slot - part.cell_len, 0))
    part.truncate(slot)
    return part


def wave_strip_header(waves: Sequence[Wave], slot: int) -> Text:
    """The column header that lines up with `wave_strip`: each wave's name in its slot."""
    return Text("".join(wave_label(w, slot - 1).ljust(slot) for w in waves), end="", no_wrap=True)


class WaveBoard(Widget):
    """The full wave board of one pipeline: a title, then per wave its status in words, revision, age and marks.

    The title takes at least two lines (a second one for a note: the commit message, an error, staleness), so
    the board's height stays the same from one pipeline to the next and moving the cursor never lays the
    screen out again. `show()` redraws only when what it would draw changed.
    """

    DEFAULT_CSS = """
    WaveBoard {
        height: auto;
        min-height: 6;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    TITLE_LINES = 2

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._title: Text = Text("")
        self._cells: tuple[WaveCell, ...] = ()
        self._now: datetime | None = None
        self._key: object = None
        self._lines = _line_count(self._title, ())

    @property
    def cells(self) -> tuple[WaveCell, ...]:
        return self._cells

    def show(self, title: Text, cells: tuple[WaveCell, ...], now: datetime) -> None:
        """Show `cells` under `title`; nothing happens if the picture would be the same."""
        key = (title.plain, [(s.start, s.end, str(s.style)) for s in title.spans], cells, _ages(cells, now))
        if key == self._key:
            return
        self._key = key
        self._title, self._cells, self._now = title, cells, now
        self._redraw()

    def clear(self, message: str = "") -> None:
        """No pipeline: `message` (dim) in the board's place."""
        self.show_text(Text(message, style="dim"))

    def show_text(self, text: Text) -> None:
        """Text in the board's place (the state machine view shows its detail here); no redraw if the same."""
        key = ("text", text.plain, [(s.start, s.end, str(s.style)) for s in text.spans], str(text.style))
        if self._key == key:
            return
        self._key = key
        self._title, self._cells = text, ()
        self._redraw()

    def _redraw(self) -> None:
        # A new layout only when the height changes (never when the screen's CSS fixes it): laying the screen out
        # again costs far more than a redraw.
        lines = _line_count(self._title, self._cells)
        height = self.styles.height
        fixed = height is not None and height.is_cells
        self.refresh(layout=lines != self._lines and not fixed)
        self._lines = lines

    def render(self) -> RenderableType:
        # Plain lines of fixed-width columns: a Rich table costs far more to lay out on every cursor move.
        title = self._title.copy()
        title.no_wrap = True
        title.overflow = "ellipsis"
        missing = self.TITLE_LINES - 1 - title.plain.count("\n")
        if missing > 0:
            title.append("\n" * missing)
        now = self._now
        if not self._cells or now is None:
            return title
        count = len(self._cells)
        width = max(self.content_size.width // count, 5)
        revision_width = 8 if width >= 14 else REVISION_WIDTH
        rows: list[list[Text]] = [[], [], [], []]
        for cell in self._cells:
            label = width - 1
            if cell.wave.is_unknown:
                rows[0].append(Text("? " + wave_label(cell.wave, label - 2), style="bold"))
            elif cell.wave.is_production:
                rows[0].append(Text("▲ " + wave_label(cell.wave, label - 2), style="bold"))
            else:
                rows[0].append(Text(wave_label(cell.wave, label), style="bold"))
            status = cell.look if cell.stages else NO_STAGE
            rows[1].append(Text(status.label, style=status.tone.style))
            if cell.stages:
                rows[2].append(Text(f"{clean(cell.revision or '—')[:revision_width]} {coarse_age(cell.since, now)}"))
            else:
                rows[2].append(Text(""))
            if cell.paused:
                rows[3].append(Text(PAUSED.label, style=PAUSED.tone.style))
            elif cell.held is not None:
                rows[3].append(Text(cell.hold(now), style=hold_look(cell.held).tone.style))
            elif cell.approval and cell.approval_stage:
                rows[3].append(literal(cell.approval_stage, style="dim"))
            elif cell.wave.is_unknown and cell.stages:
                # No wave says what these stages are: their own names do.
                rows[3].append(literal(",".join(cell.stages), style="dim"))
            else:
                rows[3].append(Text(""))
        lines = [title]
        for row in rows:
            line = Text(end="", no_wrap=True)
            for part in row:
                part.truncate(width - 1, overflow="ellipsis")
                part.pad_right(width - part.cell_len)
                line.append_text(part)
            lines.append(line)
        return Text("\n", end="", no_wrap=True, overflow="ellipsis").join(lines)


def _line_count(title: Text, cells: tuple[WaveCell, ...]) -> int:
    return max(title.plain.count("\n") + 1, WaveBoard.TITLE_LINES) + (4 if cells else 0)


def _ages(cells: tuple[WaveCell, ...], now: datetime) -> tuple[str, ...]:
    return tuple(coarse_age(c.since, now) + c.hold(now) for c in cells)

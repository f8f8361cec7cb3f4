"""What the fleet screen's rows say: pure functions from the model to cells, filter matching and layout.

Kept apart from the widgets so they are cheap to test and to run for 500 pipelines on every update.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text

from console.codepipeline.model import Pipeline
from console.model import Target, Wave
from console.stepfunctions.model import StateMachine
from screens.status import ERROR, READING, STALE, StatusLook, look
from screens.text import clean, literal
from screens.timefmt import coarse_age
from screens.widgets.keyed_list import ListColumn, columns_width
from screens.widgets.wave_board import (
    SLOT_MEDIUM,
    SLOT_NARROW,
    SLOT_WIDE,
    WaveCell,
    wave_cells,
    wave_strip,
    wave_strip_header,
)

SLOT_COMPACT = 7  # glyph + mark, with room for a readable wave name in the header


def target_labels(targets: Sequence[Target]) -> dict[str, str]:
    """Short target names for table cells: a prefix every target shares (`sandbox/`) is left out."""
    names = [t.name for t in targets]
    if len(names) > 1 and all("/" in n for n in names):
        prefixes = {n.split("/", 1)[0] for n in names}
        if len(prefixes) == 1:
            return {n: n.split("/", 1)[1] for n in names}
    return {n: n for n in names}


class PipelineRow:
    """One pipeline's row: its cells and the words the filter searches, each worked out when first asked for.

    The fleet's list asks for the cells of the rows on screen only, and the filter for the words only while it
    is typed: a picture that changes 40 pipelines of 2,000 builds 40 rows, and draws the few of them on screen
    (the wave strip alone took most of a millisecond a row). Drawn later, a row shows what it was built from: the
    pipeline and the time of the picture it came with (`now`), as if drawn then. Two rows are equal only when
    they are the same row: the row cache hands the list the very row again while it reads the same."""

    __slots__ = ("_cells", "_label", "_now", "_pipeline", "_slot", "_wave_cells", "_waves", "_words", "key", "stale")

    def __init__(
        self,
        pipeline: Pipeline,
        waves: Sequence[Wave],
        stale: bool,
        now: datetime,
        slot: int,
        target_label: str,
    ) -> None:
        """`stale`: whether the picture counts `pipeline` as stale now (the views' row cache works it out)."""
        self.key = pipeline.key
        self.stale = stale
        self._pipeline, self._waves, self._now, self._slot, self._label = pipeline, waves, now, slot, target_label
        self._wave_cells: tuple[WaveCell, ...] | None = None
        self._cells: tuple[Text, ...] | None = None
        self._words: str | None = None

    @property
    def waves(self) -> tuple[WaveCell, ...]:
        """The pipeline's cell in each wave (the board under the list shows them)."""
        if self._wave_cells is None:
            self._wave_cells = wave_cells(self._pipeline, self._waves)
        return self._wave_cells

    @property
    def cells(self) -> tuple[Text, ...]:
        if self._cells is None:
            self._cells = self._draw()
        return self._cells

    @property
    def words(self) -> str:
        if self._words is None:
            self._words = self._find_words()
        return self._words

    @staticmethod
    def take_words(before: PipelineRow, after: PipelineRow) -> bool:
        """`after` (the same pipeline, as stale, built again for a new minute) takes the words `before` worked out;
        False when it had none. The words say nothing of the time."""
        if before._words is None:
            return False
        after._words = before._words
        return True

    def _draw(self) -> tuple[Text, ...]:
        pipeline = self._pipeline
        if pipeline.error:
            fresh = Text(f"{ERROR.glyph} error", style=ERROR.tone.style)
        elif self.stale:
            fresh = Text(f"{STALE.glyph} stale", style="bold")
        else:
            fresh = Text("")
        return (
            literal(pipeline.name),
            literal(self._label, style="dim"),
            _latest(pipeline)[1],
            wave_strip(self.waves, self._slot, self._now),
            fresh,
        )

    def _find_words(self) -> str:
        pipeline = self._pipeline
        latest = pipeline.latest_execution
        status = _latest(pipeline)[0]
        words = [pipeline.name, pipeline.target, status.word, "rollback" if latest and latest.is_rollback else ""]
        # A row on screen has its cells already; one only searched needs what they say, not how they are drawn.
        cells = self._wave_cells or wave_cells(pipeline, self._waves, drawn=False)
        for cell in cells:
            if cell.stages:
                words.append(f"{cell.wave.name} {cell.look.word}")
                if cell.status and cell.look.word != look(cell.status).word:
                    words.append(look(cell.status).word)
            if cell.approval:
                words.append("approval waiting")
            if cell.paused:
                words.append("paused")
        if self.stale:
            words.append("stale")
        if pipeline.error:
            words.append("error")
        return clean(" ".join(words)).lower()

    def __repr__(self) -> str:
        return f"PipelineRow({self.key!r}, stale={self.stale})"


def _latest(pipeline: Pipeline) -> tuple[StatusLook, Text]:
    """The look of the latest execution and its cell."""
    latest = pipeline.latest_execution
    status = look(latest.status if latest else None)
    latest_cell = status.text()
    if latest is None and any(s.status for s in pipeline.stages):
        # The stages have run but the execution list has not been read yet: do not say "not run".
        status = READING
        latest_cell = Text(f"{READING.glyph} {READING.word}", style="dim")
    if latest is not None and latest.is_rollback:
        latest_cell.append(" ↩", style="dim")
    return status, latest_cell


@dataclass(frozen=True, slots=True)
class MachineRow:
    key: str
    cells: tuple[Text, ...]
    words: str
    stale: bool


def machine_row(machine: StateMachine, stale: bool, now: datetime, target_label: str) -> MachineRow:
    """`stale`: whether the picture counts `machine` as stale now (the views' row cache works it out)."""
    newest = machine.executions[0] if machine.executions else None
    newest_cell = Text(end="")
    if newest is None:
        newest_cell.append_text(look(None).text())
    else:
        status = look(newest.status)
        newest_cell.append_text(status.text())
        newest_cell.append(" ")
        newest_cell.append(clean(newest.name))
        newest_cell.append(f" {coarse_age(newest.stopped or newest.started, now)}", style="dim")
    if machine.error:
        fresh = Text(f"{ERROR.glyph} error", style=ERROR.tone.style)
    elif stale:
        fresh = Text(f"{STALE.glyph} stale", style="bold")
    else:
        fresh = Text("")
    running = Text(f"▶ {machine.running}", style="cyan" if machine.running else "dim")
    failed = Text(f"✗ {machine.failed}", style="bold red" if machine.failed else "dim")
    words = [machine.name, machine.target, machine.type, machine.wave.name if machine.wave else ""]
    if newest is not None:
        words.append(look(newest.status).word)
    if machine.running:
        words.append("running")
    if machine.failed:
        words.append("failed")
    if stale:
        words.append("stale")
    if machine.error:
        words.append("error")
    return MachineRow(
        key=machine.key,
        cells=(
            literal(machine.name),
            literal(target_label, style="dim"),
            Text(machine.type.lower(), style="dim"),
            Text(short_wave_name(machine.wave) if machine.wave else "—", style="dim"),
            running,
            failed,
            newest_cell,
            fresh,
        ),
        words=clean(" ".join(words)).lower(),
        stale=stale,
    )


def short_wave_name(wave: Wave) -> str:
    """`prod-canary` → `canary`: the production prefix is said by the wave's mark elsewhere, the rest is unique."""
    return wave.name.removeprefix("prod-") if wave.name.startswith("prod-") and len(wave.name) > 8 else wave.name


@dataclass(frozen=True, slots=True)
class TableLayout:
    """Column widths of the pipeline list for a screen width (the waves column is `slot` per wave)."""

    name: int
    target: int
    latest: int
    slot: int
    fresh: int

    @property
    def density(self) -> str:
        return {SLOT_NARROW: "narrow", SLOT_COMPACT: "compact", SLOT_MEDIUM: "medium"}.get(self.slot, "wide")

    def columns(self, waves: Sequence[Wave]) -> tuple[ListColumn, ...]:
        return (
            ListColumn("name", Text("Pipeline"), self.name),
            ListColumn("target", Text("Target"), self.target),
            ListColumn("latest", Text("Latest"), self.latest),
            ListColumn("waves", wave_strip_header(waves, self.slot), self.slot * len(waves)),
            ListColumn("fresh", Text(""), self.fresh),
        )


LATEST_WIDTH = 13  # "▶ in progress"
FRESH_WIDTH = 7  # "≈ stale"
NAME_MAX = 40


def pipeline_layout(width: int, wave_count: int, target_width: int) -> TableLayout:
    """The widest wave slots that leave the name room enough, the name what is left (up to 40).

    At 120 columns every wave cell carries its glyph, the short revision and the paused mark; from about 140,
    the age too; at 80, the glyph and the mark (the board under the list says the rest in words).
    """
    fixed = columns_width([ListColumn("", Text(""), 0)] * 5) + LATEST_WIDTH + FRESH_WIDTH
    usable = width - 1  # the list's vertical scrollbar
    for slot, shortest, longest_target in (
        (SLOT_WIDE, 16, 17),
        (SLOT_MEDIUM, 16, 12),
        (SLOT_COMPACT, 16, 12),
        (SLOT_NARROW, 12, 10),
    ):
        target = min(target_width, longest_target)
        rest = usable - fixed - target - slot * wave_count
        if rest >= shortest:
            return TableLayout(min(rest, NAME_MAX), target, LATEST_WIDTH, slot, FRESH_WIDTH)
    target = min(target_width, 10)
    rest = usable - fixed - target - SLOT_NARROW * wave_count
    return TableLayout(max(rest, 8), target, LATEST_WIDTH, SLOT_NARROW, FRESH_WIDTH)


# The state machine list: (column key, header) in the order of `MachineRow.cells`.
MACHINE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "State machine"),
    ("target", "Target"),
    ("type", "Type"),
    ("wave", "Wave"),
    ("running", "Running"),
    ("failed", "Failed"),
    ("newest", "Newest execution"),
    ("fresh", ""),
)


def machine_layout(width: int, target_width: int) -> tuple[ListColumn, ...]:
    """The state machine list's columns for a screen width: when space is short the type goes and the wave and
    the counts narrow; the newest execution gets what the name leaves."""
    labels = dict(MACHINE_COLUMNS)
    usable = width - 1  # the list's vertical scrollbar
    every = [key for key, _ in MACHINE_COLUMNS]
    narrow = [key for key in every if key != "type"]
    for keys, wave, running, failed in ((every, 11, 7, 6), (narrow, 11, 7, 6), (narrow, 8, 4, 4)):
        widths = {"target": min(target_width, 12), "type": 8, "wave": wave, "running": running, "failed": failed}
        widths["fresh"] = FRESH_WIDTH
        rest = usable - columns_width([ListColumn(k, Text(""), 0) for k in keys])
        rest -= sum(widths[k] for k in keys if k in widths)
        if rest >= 40:
            break
    if widths["running"] < len(labels["running"]):
        labels["running"], labels["failed"] = "Run", "Fail"
    name = min(max(rest // 2, 16), 32)
    widths["name"], widths["newest"] = name, max(rest - name, 8)
    return tuple(ListColumn(k, Text(labels[k]), widths[k]) for k in keys)

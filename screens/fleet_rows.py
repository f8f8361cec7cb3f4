"""What the fleet screen's rows say: pure functions from the model to cells, filter matching and layout.

Kept apart from the widgets so they are cheap to test and to run for 500 pipelines on every update.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text

from console.model import FleetState, Pipeline, StateMachine, Target, Wave
from screens.status import ERROR, READING, STALE, look
from screens.text import clean, literal
from screens.timefmt import coarse_age
from screens.widgets.wave_board import (
    SLOT_MEDIUM,
    SLOT_NARROW,
    SLOT_WIDE,
    WaveCell,
    wave_cells,
    wave_strip,
)

SLOT_COMPACT = 7  # glyph + marks, with room for a readable wave name in the header


def target_labels(targets: Sequence[Target]) -> dict[str, str]:
    """Short target names for table cells: a prefix every target shares (`sandbox/`) is left out."""
    names = [t.name for t in targets]
    if len(names) > 1 and all("/" in n for n in names):
        prefixes = {n.split("/", 1)[0] for n in names}
        if len(prefixes) == 1:
            return {n: n.split("/", 1)[1] for n in names}
    return {n: n for n in names}


@dataclass(frozen=True, slots=True)
class PipelineRow:
    """The cells of one pipeline row and the words the filter searches."""

    key: str
    cells: tuple[Text, ...]
    words: str
    waves: tuple[WaveCell, ...]
    stale: bool


def pipeline_row(
    pipeline: Pipeline,
    waves: Sequence[Wave],
    state: FleetState,
    now: datetime,
    slot: int,
    target_label: str,
) -> PipelineRow:
    cells = wave_cells(pipeline, waves)
    stale = state.is_stale(pipeline.key, pipeline.read_at, now)
    latest = pipeline.latest_execution
    status = look(latest.status if latest else None)
    latest_cell = status.text()
    if latest is None and any(s.status for s in pipeline.stages):
        # The stages have run but the execution list has not been read yet: do not say "not run".
        status = READING
        latest_cell = Text(f"{READING.glyph} {READING.word}", style="dim")
    if latest is not None and latest.is_rollback:
        latest_cell.append(" ↩", style="dim")
    if pipeline.error:
        fresh = Text(f"{ERROR.glyph} error", style=ERROR.tone.style)
    elif stale:
        fresh = Text(f"{STALE.glyph} stale", style="bold")
    else:
        fresh = Text("")
    words = [pipeline.name, pipeline.target, status.word, "rollback" if latest and latest.is_rollback else ""]
    for cell in cells:
        if cell.stages:
            words.append(f"{cell.wave.name} {cell.look.word}")
            if cell.status and cell.look.word != look(cell.status).word:
                words.append(look(cell.status).word)
        if cell.approval:
            words.append("approval waiting")
        if cell.paused:
            words.append("paused")
    if stale:
        words.append("stale")
    if pipeline.error:
        words.append("error")
    return PipelineRow(
        key=pipeline.key,
        cells=(
            literal(pipeline.name),
            literal(target_label, style="dim"),
            latest_cell,
            wave_strip(cells, slot, now),
            fresh,
        ),
        words=clean(" ".join(words)).lower(),
        waves=cells,
        stale=stale,
    )


@dataclass(frozen=True, slots=True)
class MachineRow:
    key: str
    cells: tuple[Text, ...]
    words: str
    stale: bool


def machine_row(machine: StateMachine, state: FleetState, now: datetime, target_label: str) -> MachineRow:
    stale = state.is_stale(machine.key, machine.read_at, now)
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
            Text(machine.wave.name if machine.wave else "—", style="dim"),
            running,
            failed,
            newest_cell,
            fresh,
        ),
        words=clean(" ".join(words)).lower(),
        stale=stale,
    )


def matches(words: str, query: str) -> bool:
    """Every word of the query appears in the row's words (case-insensitive, substrings: `fail` finds failed)."""
    return all(part in words for part in query.lower().split())


@dataclass(frozen=True, slots=True)
class TableLayout:
    """Column widths of the pipeline table for a screen width."""

    name: int
    target: int
    latest: int
    slot: int
    fresh: int
    padding: int

    @property
    def density(self) -> str:
        return {SLOT_NARROW: "narrow", SLOT_COMPACT: "compact", SLOT_MEDIUM: "medium"}.get(self.slot, "wide")


def pipeline_layout(width: int, wave_count: int, target_width: int) -> TableLayout:
    """Pick the widest wave slots that fit, then give the name what is left (80 columns: glyphs only)."""
    latest = 13  # "▶ in progress"
    fresh = 7  # "≈ stale"
    usable = width - 1  # the table's vertical scrollbar
    for slot, padding in ((SLOT_WIDE, 1), (SLOT_MEDIUM, 1), (SLOT_COMPACT, 1), (SLOT_NARROW, 0)):
        columns_padding = 5 * 2 * padding if padding else 5
        target = min(target_width, 17 if padding else 11)
        rest = usable - columns_padding - target - latest - fresh - slot * wave_count
        if rest >= (22 if padding else 14):
            return TableLayout(min(rest, 40), target, latest, slot, fresh, padding)
    target = min(target_width, 10)
    rest = usable - 5 - target - latest - fresh - SLOT_NARROW * wave_count
    return TableLayout(max(rest, 10), target, latest, SLOT_NARROW, fresh, 0)

"""What a line of the activity stream says: one transition's cells, the columns that fit, the words the filter finds.

Pure functions from `Transition`s and a width to text, kept apart from the widget (the stream is a `KeyedList`,
screens/widgets/keyed_list.py) so they are cheap to test. A line: time, [target], kind, resource, wave,
from → to, [source], [detail]; the bracketed columns only where the width has room for them, the detail pane
under the stream shows everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC

from rich.text import Text

from console.codepipeline.model import PipelineTransition
from console.model import Transition
from console.stepfunctions.model import MachineTransition
from screens.status import look
from screens.text import clean
from screens.widgets.keyed_list import ListColumn

KIND_LABELS = {
    PipelineTransition.PIPELINE_EXECUTION: "run",
    PipelineTransition.STAGE: "stage",
    PipelineTransition.ACTION: "action",
    MachineTransition.SFN_EXECUTION: "sfn run",
    MachineTransition.SFN_STATE: "sfn state",
    PipelineTransition.CONDITION: "condition",
}
PRODUCTION_MARK = "▲"


@dataclass(slots=True, unsafe_hash=True)
class StreamEntry:
    """One transition of the stream: its sequence number in the app's log, its target's label, and the words the
    filter searches, worked out when the filter first asks (a screen shown again takes in every transition since,
    thousands at 2,000 pipelines, and the filter is seldom typed)."""

    seq: int
    transition: Transition
    label: str
    _words: str | None = field(default=None, init=False, compare=False, repr=False)

    @property
    def key(self) -> str:
        """Its row key in the stream."""
        return str(self.seq)

    @property
    def words(self) -> str:
        if self._words is None:
            self._words = transition_words(self.transition, self.label)
        return self._words


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


# --- layout ---------------------------------------------------------------------------------------------------


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


def stream_columns(layout: StreamLayout) -> tuple[ListColumn, ...]:
    """The stream's columns for `layout` (the cells of `entry_cells` by key; a column 0 wide is left out)."""
    columns = [ListColumn("time", "Time UTC", layout.time)]
    if layout.target:
        columns.append(ListColumn("target", "Target", layout.target))
    columns += [
        ListColumn("kind", "Kind", layout.kind),
        ListColumn("resource", "Resource", layout.resource, overflow="middle"),
        ListColumn("wave", "Wave", layout.wave),
    ]
    if layout.wide_status:
        columns.append(ListColumn("from_to", "From → To", layout.status))
    else:
        columns.append(ListColumn("status", "Status", layout.status))
    if layout.source:
        columns.append(ListColumn("source", "Via", layout.source))
    if layout.detail:
        columns.append(ListColumn("detail", "Detail", layout.detail))
    return tuple(columns)


def header_text(columns: tuple[ListColumn, ...]) -> Text:
    """The column names over the stream, aligned with its lines."""
    labels = (str(c.label)[: c.width].ljust(c.width) for c in columns)
    return Text(" ".join(labels).rstrip(), style="bold", end="")


# --- cells ------------------------------------------------------------------------------------------------------


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


def entry_cells(entry: StreamEntry, target_label: str) -> dict[str, Text]:
    """The cells of one line by column key (the list cuts them to the columns shown)."""
    transition = entry.transition
    source = clean(transition.source)
    return {
        "time": Text(transition.time.astimezone(UTC).strftime("%H:%M:%S"), style="dim", end=""),
        "target": Text(clean(target_label), style="dim", end=""),
        "kind": Text(KIND_LABELS.get(transition.kind, clean(transition.kind)), style="dim", end=""),
        "resource": Text(clean(transition.resource), end=""),
        "wave": wave_text(transition),
        "from_to": status_text(transition, wide=True),
        "status": status_text(transition, wide=False),
        "source": Text(source, style="bold" if source == "push" else "dim", end=""),
        "detail": Text(clean(transition.detail), end=""),
    }

"""Status → glyph + word + tone: how every status in the console is shown, never by colour alone.

AWS spells statuses differently per service (CodePipeline `InProgress`, Step Functions `RUNNING`); the
operator sees one vocabulary. The glyph and the word carry the meaning; the tone (a CSS class `status-<tone>`
for widgets, a Rich style for table cells) only adds colour where the terminal has it. Glyphs are single-cell
characters that common terminal fonts have (no emoji, whose width terminals disagree on).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from rich.text import Text


class Tone(enum.Enum):
    """What a status means for the operator; the CSS class is `status-<value>`."""

    OK = "ok"
    BAD = "bad"
    BUSY = "busy"
    WAIT = "wait"  # a person is needed (approval waiting)
    HALT = "halt"  # stopped, paused, stopping: someone or something halted it
    IDLE = "idle"  # superseded, cancelled, never ran
    UNKNOWN = "unknown"

    @property
    def style(self) -> str:
        """A Rich style for table cells. ANSI colour names, so 16-colour terminals and themes map them."""
        return _STYLES[self]


_STYLES = {
    Tone.OK: "green",
    Tone.BAD: "bold red",
    Tone.BUSY: "cyan",
    Tone.WAIT: "bold yellow",
    Tone.HALT: "yellow",
    Tone.IDLE: "dim",
    Tone.UNKNOWN: "dim",
}


@dataclass(frozen=True, slots=True)
class StatusLook:
    """How one status is shown: `✗ failed`."""

    glyph: str
    word: str
    tone: Tone

    def text(self, *, word: bool = True) -> Text:
        """The glyph and (unless `word=False`) the word, styled by tone."""
        return Text(f"{self.glyph} {self.word}" if word else self.glyph, style=self.tone.style, end="")

    @property
    def label(self) -> str:
        return f"{self.glyph} {self.word}"


SUCCEEDED = StatusLook("✓", "succeeded", Tone.OK)
FAILED = StatusLook("✗", "failed", Tone.BAD)
TIMED_OUT = StatusLook("✗", "timed out", Tone.BAD)
ABORTED = StatusLook("✗", "aborted", Tone.BAD)
IN_PROGRESS = StatusLook("▶", "in progress", Tone.BUSY)
RUNNING = StatusLook("▶", "running", Tone.BUSY)
STOPPING = StatusLook("□", "stopping", Tone.HALT)
STOPPED = StatusLook("■", "stopped", Tone.HALT)
ABANDONED = StatusLook("⊘", "abandoned", Tone.HALT)
CANCELLED = StatusLook("⊘", "cancelled", Tone.IDLE)
SUPERSEDED = StatusLook("↷", "superseded", Tone.IDLE)
SKIPPED = StatusLook("↷", "skipped", Tone.IDLE)
PENDING_REDRIVE = StatusLook("↺", "redriving", Tone.BUSY)
NEVER_RAN = StatusLook("·", "not run", Tone.IDLE)
APPROVAL = StatusLook("⚑", "approval", Tone.WAIT)
PAUSED = StatusLook("‖", "paused", Tone.HALT)
STALE = StatusLook("≈", "stale", Tone.UNKNOWN)
READING = StatusLook("…", "reading", Tone.UNKNOWN)
# GetPipelineState could not answer: the stage's own status is not known (never "not run").
NO_STATE = StatusLook("?", "no state", Tone.UNKNOWN)
ERROR = StatusLook("!", "error", Tone.BAD)
OVERRIDDEN = StatusLook("»", "overridden", Tone.HALT)  # a stage condition someone overrode
ERRORED = StatusLook("!", "errored", Tone.BAD)

_BY_STATUS: dict[str, StatusLook] = {
    # CodePipeline (pipeline execution, stage, action)
    "Succeeded": SUCCEEDED,
    "Failed": FAILED,
    "InProgress": IN_PROGRESS,
    "Stopping": STOPPING,
    "Stopped": STOPPED,
    "Abandoned": ABANDONED,
    "Cancelled": CANCELLED,
    "Superseded": SUPERSEDED,
    "Skipped": SKIPPED,
    # CodePipeline stage conditions
    "Overridden": OVERRIDDEN,
    "Errored": ERRORED,
    # Step Functions (execution)
    "SUCCEEDED": SUCCEEDED,
    "FAILED": FAILED,
    "TIMED_OUT": TIMED_OUT,
    "ABORTED": ABORTED,
    "RUNNING": RUNNING,
    "PENDING_REDRIVE": PENDING_REDRIVE,
}


def look(status: str | None) -> StatusLook:
    """The look of an AWS status; an unknown one is shown as its own word (literally), never hidden."""
    if status is None or status == "":
        return NEVER_RAN
    found = _BY_STATUS.get(status)
    if found is not None:
        return found
    return StatusLook("?", _plain_word(status), Tone.UNKNOWN)


def _plain_word(status: str) -> str:
    from screens.text import clean

    return clean(status).replace("_", " ").lower()[:20] or "unknown"


NO_STAGE = StatusLook("–", "no stage", Tone.IDLE)  # a wave the pipeline has no stage in


@dataclass(frozen=True, slots=True)
class LegendEntry:
    """One glyph of the legend: `meaning` in full (help), `short` for the one-line legend under a table."""

    glyph: str
    short: str
    meaning: str
    tone: Tone


def _entry(status: StatusLook, short: str, meaning: str) -> LegendEntry:
    return LegendEntry(status.glyph, short, meaning, status.tone)


# Every glyph once, most common first: the help screen lists them all, tables show what fits on one line.
LEGEND: tuple[LegendEntry, ...] = (
    _entry(SUCCEEDED, "succeeded", "succeeded"),
    _entry(IN_PROGRESS, "in progress", "in progress / running"),
    _entry(FAILED, "failed", "failed, timed out or aborted"),
    _entry(APPROVAL, "approval waiting", "an approval waits for a person"),
    _entry(PAUSED, "paused", "paused: promotion into the wave is disabled"),
    LegendEntry("◷", "bake", "baking: a success condition watches alarms before the stage succeeds", Tone.BUSY),
    LegendEntry("◆", "held", "held before entry: a closed deployment window, alarms, another rule", Tone.WAIT),
    _entry(NEVER_RAN, "not run", "not run yet"),
    _entry(NO_STAGE, "no stage", "the pipeline has no stage in this wave"),
    _entry(STOPPED, "stopped", "stopped"),
    _entry(STOPPING, "stopping", "stopping"),
    _entry(ABANDONED, "cancelled", "abandoned or cancelled"),
    _entry(SUPERSEDED, "superseded", "superseded or skipped"),
    _entry(STALE, "stale", "stale: not read for longer than expected"),
    _entry(ERROR, "error", "the last read failed"),
    _entry(PENDING_REDRIVE, "redriving", "redriving (Step Functions)"),
    _entry(OVERRIDDEN, "overridden", "a stage condition was overridden"),
    _entry(READING, "reading", "not read yet"),
    LegendEntry("↩", "rollback", "a rollback execution", Tone.IDLE),
    LegendEntry("▲", "production", "a production wave", Tone.UNKNOWN),
)


def legend_line(width: int, entries: tuple[LegendEntry, ...] = LEGEND) -> Text:
    """The legend on one line of `width` cells: as many entries as fit, in order (`✓ succeeded  ✗ failed …`)."""
    line = Text(end="", no_wrap=True)
    for entry in entries:
        part_len = len(entry.glyph) + 1 + len(entry.short)
        gap = 2 if line.cell_len else 0
        if line.cell_len + gap + part_len > width:
            break
        line.append(" " * gap)
        line.append(entry.glyph, style=entry.tone.style)
        line.append(" " + entry.short, style="dim")
    return line

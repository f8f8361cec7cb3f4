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
    def css_class(self) -> str:
        return f"status-{self.value}"

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
ERROR = StatusLook("!", "error", Tone.BAD)

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


# The legend the help screen shows: every glyph once, with what it means.
LEGEND: tuple[StatusLook, ...] = (
    SUCCEEDED,
    FAILED,
    IN_PROGRESS,
    APPROVAL,
    PAUSED,
    STOPPING,
    STOPPED,
    ABANDONED,
    SUPERSEDED,
    PENDING_REDRIVE,
    NEVER_RAN,
    STALE,
)

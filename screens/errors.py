"""How a failure reads in a notification: one plain sentence, never a traceback."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.worker import Worker, WorkerState

from console.errors import AwsError, Refused, WavedeckError


def describe(error: BaseException) -> str:
    """The sentence for an error: the console's own errors as they are, anything else named plainly."""
    if isinstance(error, WavedeckError):
        return str(error)
    text = str(error).strip()
    name = type(error).__name__
    return f"unexpected {name}: {text}" if text else f"unexpected {name}"


def title_for(error: BaseException) -> str:
    if isinstance(error, Refused):
        return "Refused"
    if isinstance(error, AwsError):
        return "AWS said no" if error.code else "AWS call failed"
    if isinstance(error, WavedeckError):
        return "Failed"
    return "Something went wrong"


def severity_for(error: BaseException) -> str:
    return "warning" if isinstance(error, Refused) else "error"


def report_worker_failure(app: App[Any], event: Worker.StateChanged) -> None:
    """The one place a worker's failure becomes a notification: never a traceback, never an exit.

    Worker state messages do not bubble, so the app and every console screen call this from their
    `on_worker_state_changed`.
    """
    if event.state is not WorkerState.ERROR:
        return
    error = event.worker.error
    if error is None:
        return
    app.log.error(f"worker {event.worker.name!r} failed: {error!r}")
    app.notify(
        describe(error),
        title=title_for(error),
        severity="warning" if severity_for(error) == "warning" else "error",
        timeout=15,
        markup=False,
    )

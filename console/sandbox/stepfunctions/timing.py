"""`--speed` inside Step Functions: waits, task timeouts, heartbeats, retry intervals and execution timeouts.

A Wait state of 15 s lasts 15/speed real seconds; a Task's TimeoutSeconds and HeartbeatSeconds, a Retrier's
interval and a state machine's TimeoutSeconds shrink the same way. The history still says what the
definition says (`timeoutInSeconds: 7200` in TaskScheduled) and its timestamps stay real wall-clock time.

moto's own Wait loop also cannot wait fractions of a second (it re-waits the remainder of an `int()`
forever once waits are shorter than a second), and compares a UTC `Timestamp` with the local clock; the
replacement here waits on a monotonic deadline and reads timestamps as UTC.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.common.timeouts.heartbeat import Heartbeat
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import Timeout, TimeoutSeconds
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

from console.sandbox.clock import SandboxClock

# A Wait re-checks whether its execution is still running at least this often (seconds), so a stop that
# lands between two checks costs at most this much of a zombie thread's time.
_WAIT_SLICE = 1.0


class ScaledSeconds(float):
    """A duration shortened by the clock that remembers the definition's value for the history."""

    definition: float

    def __new__(cls, real: float, definition: float) -> ScaledSeconds:
        value = super().__new__(cls, real)
        value.definition = definition
        return value


class _Speed:
    """The clock the patched code reads; replaced by `install()`."""

    clock = SandboxClock(1.0)


def real_seconds(seconds: float) -> float:
    """How long `seconds` of definition time last at the sandbox's speed."""
    return _Speed.clock.real_seconds(seconds)


def definition_value(value: Any) -> Any:
    """The definition's number behind a ScaledSeconds (for history events), anything else unchanged."""
    return value.definition if isinstance(value, ScaledSeconds) else value


def _wait_eval_body(self: Any, env: Any) -> None:
    seconds = float(self._get_wait_seconds(env=env))
    deadline = time.monotonic() + real_seconds(max(0.0, seconds))
    while env.is_running():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        env.program_state_event.wait(min(remaining, _WAIT_SLICE))


def _timestamp_wait_seconds(self: Any, env: Any) -> float:
    self.string.eval(env=env)
    text = env.stack.pop()
    when = self._from_timestamp_string(timestamp=text)
    if when is None:
        raise FailureEventException(self._create_failure_event(env, text))
    return (when.replace(tzinfo=UTC) - datetime.now(UTC)).total_seconds()


def _timeout_eval_body(self: Any, env: Any) -> None:
    seconds = self._eval_seconds(env=env)
    # The 99999999 s default means "no timeout": shrinking it would only make it less obviously so.
    if seconds == TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS:
        env.stack.append(seconds)
    else:
        env.stack.append(ScaledSeconds(real_seconds(seconds), seconds))


def _heartbeat_eval_body(self: Any, env: Any) -> None:
    seconds = self._eval_seconds(env=env)
    env.stack.append(ScaledSeconds(real_seconds(seconds), seconds))


class _ScaledSleep:
    """Stands in for the `time` module inside moto's Retrier: its interval sleeps shrink with the clock."""

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(real_seconds(seconds))


def install(clock: SandboxClock) -> None:
    _Speed.clock = clock
    setattr(WaitFunction, "_eval_body", _wait_eval_body)  # noqa: B010 - patching moto's class
    setattr(Timestamp, "_get_wait_seconds", _timestamp_wait_seconds)  # noqa: B010
    setattr(Timeout, "_eval_body", _timeout_eval_body)  # noqa: B010
    setattr(Heartbeat, "_eval_body", _heartbeat_eval_body)  # noqa: B010
    setattr(retrier_decl, "time", _ScaledSleep)  # noqa: B010

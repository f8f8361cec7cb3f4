"""Task tokens: which execution issued each one, and whether its task still waits for an answer.

AWS answers SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat with:
- `InvalidToken` for a token it cannot read (here: anything that is not a token this sandbox's format);
- `TaskDoesNotExist` for a well-formed token of no task it knows (e.g. one from an earlier sandbox process);
- `TaskTimedOut` ("Provided task does not exist anymore") once the task was answered, timed out, or its
  execution ended, so a second answer with the same token is refused.

moto keeps tokens inside each run's environment and forgets them when the run ends (and answers a second
SendTaskSuccess as if it were the first). The registry here outlives runs, closes a token the moment it is
answered or its wait ends, and wakes the waiting task when its execution is stopped.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from moto.stepfunctions.parser.asl.eval.callback.callback import (
    CallbackEndpoint,
    CallbackOutcomeFailure,
    CallbackOutcomeSuccess,
    CallbackPoolManager,
)
from moto.stepfunctions.parser.asl.eval.states import ContextObject

from console.sandbox.stepfunctions.errors import InvalidOutput, InvalidToken, TaskDoesNotExist, TaskTimedOut

MAX_TOKEN_LENGTH = 2048


@dataclass
class _Task:
    """One issued token (mutable: it closes)."""

    execution_arn: str
    endpoint: Any = None
    closed: bool = False


class TaskTokens:
    """Every task token the sandbox issued, across runs and redrives."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tasks: dict[str, _Task] = {}

    def issued(self, token: str, execution_arn: str) -> None:
        with self._lock:
            self._tasks[token] = _Task(execution_arn)

    def attached(self, token: str, endpoint: Any) -> None:
        with self._lock:
            task = self._tasks.get(token)
            if task is not None:
                task.endpoint = endpoint

    def closed(self, token: str) -> None:
        """The task of `token` stopped waiting (answered, timed out, interrupted)."""
        with self._lock:
            task = self._tasks.get(token)
            if task is not None:
                task.closed = True

    def close_execution(self, execution_arn: str) -> None:
        """The execution ended: its tokens close and any task still waiting on one wakes up."""
        with self._lock:
            waiting = [t for t in self._tasks.values() if t.execution_arn == execution_arn and not t.closed]
            for task in waiting:
                task.closed = True
        for task in waiting:
            if task.endpoint is not None:
                task.endpoint.interrupt_all()

    def succeed(self, token: str, output: str) -> None:
        try:
            json.loads(output)
        except (TypeError, ValueError) as exc:
            raise InvalidOutput(f"the output is not valid JSON: {exc}") from None
        endpoint = self._claim(token)
        endpoint.notify(CallbackOutcomeSuccess(callback_id=token, output=output))

    def fail(self, token: str, error: str | None, cause: str | None) -> None:
        endpoint = self._claim(token)
        endpoint.notify(CallbackOutcomeFailure(callback_id=token, error=error, cause=cause))

    def heartbeat(self, token: str) -> None:
        with self._lock:
            task = self._live(token)
            endpoint = task.endpoint
        # A task without HeartbeatSeconds has no heartbeat clock to reset; AWS accepts the call all the same.
        endpoint.notify_heartbeat()

    def _claim(self, token: str) -> Any:
        """The endpoint of a waiting task, closed in the same breath so a second answer is refused."""
        with self._lock:
            task = self._live(token)
            task.closed = True
            return task.endpoint

    def _live(self, token: str) -> _Task:
        task = self._tasks.get(token)
        if task is None:
            if _well_formed(token):
                raise TaskDoesNotExist()
            raise InvalidToken("Invalid token")
        if task.closed or task.endpoint is None or task.endpoint.get_outcome() is not None:
            raise TaskTimedOut()
        return task


def _well_formed(token: str) -> bool:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return False
    try:
        uuid.UUID(token)
    except ValueError:
        return False
    return True


TOKENS = TaskTokens()


def install() -> None:
    original_update = ContextObject.update_task_token
    original_add = CallbackPoolManager.add
    original_add_activity = CallbackPoolManager.add_activity_task
    original_interrupt = CallbackEndpoint.interrupt_all

    def update_task_token(self: Any) -> str:
        token: str = original_update(self)
        TOKENS.issued(token, self.context_object_data["Execution"]["Id"])
        return token

    def add(self: Any, callback_id: str) -> Any:
        endpoint = original_add(self, callback_id)
        TOKENS.attached(callback_id, endpoint)
        return endpoint

    def add_activity_task(self: Any, callback_id: str, activity_arn: str, activity_input: str) -> Any:
        endpoint = original_add_activity(self, callback_id, activity_arn, activity_input)
        TOKENS.attached(callback_id, endpoint)
        return endpoint

    def interrupt_all(self: Any) -> None:
        TOKENS.closed(self.callback_id)
        original_interrupt(self)

    setattr(ContextObject, "update_task_token", update_task_token)  # noqa: B010 - patching moto's class
    setattr(CallbackPoolManager, "add", add)  # noqa: B010
    setattr(CallbackPoolManager, "add_activity_task", add_activity_task)  # noqa: B010
    setattr(CallbackEndpoint, "interrupt_all", interrupt_all)  # noqa: B010

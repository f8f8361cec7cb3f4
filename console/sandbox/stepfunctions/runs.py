"""The life of an execution in moto's interpreter: start, the top-level loop, the end of a run, stop, redrive.

What changes against moto, and why:

- **Start.** The run's environment and its ExecutionStarted event exist before StartExecution returns (moto
  builds them on the worker thread, so an early GetExecutionHistory saw nothing), and the RUNNING status
  event goes out before the first state runs.
- **The top-level loop** writes the state it enters and that state's input into the execution's RunRecord:
  that is where a redrive resumes.
- **The end of a run** is recorded once: the terminal history event (ExecutionSucceeded / Failed / Aborted /
  TimedOut) seals the run's history, so stragglers of moto's Map iterations, which keep running after their
  Map failed, no longer append events after the execution ended. The status follows that terminal event.
- **StopExecution** takes effect at once, keeps `error` and `cause`, and wakes a task waiting for a token
  (moto only flagged the run, which kept a `.waitForTaskToken` task RUNNING until its timeout).
- **RedriveExecution** continues the same execution: same ARN, an ExecutionRedriven event, event ids that
  go on from where the failed run stopped, and the top-level state that failed runs again with the input it
  had. A failed Map or Parallel state runs again as a whole (AWS reruns only its failed iterations).
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

from moto.stepfunctions.parser.api import (
    ExecutionAbortedEventDetails,
    ExecutionFailedEventDetails,
    ExecutionRedrivenEventDetails,
    ExecutionStartedEventDetails,
    ExecutionStatus,
    ExecutionSucceededEventDetails,
    ExecutionTimedOutEventDetails,
    HistoryEventExecutionDataDetails,
    HistoryEventType,
)
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.component.program.program import Program
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventHistoryContext, EventManager
from moto.stepfunctions.parser.asl.eval.program_state import (
    ProgramEnded,
    ProgramError,
    ProgramState,
    ProgramStopped,
    ProgramTimedOut,
)
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.utilities.collections import select_from_typed_dict

from console.sandbox.stepfunctions import task_events
from console.sandbox.stepfunctions.errors import ExecutionNotRedrivable
from console.sandbox.stepfunctions.events import status_changed
from console.sandbox.stepfunctions.records import RunRecord, run_record
from console.sandbox.stepfunctions.timing import definition_value, real_seconds
from console.sandbox.stepfunctions.tokens import TOKENS

LOG = logging.getLogger(__name__)

# Attributes the patches hang off moto's objects.
_RUN = "_wavedeck_run"  # top-level Environment → its execution's RunRecord
_RESUME_AT = "_wavedeck_resume_at"  # top-level Environment of a redrive → the state it starts at
_SEALED = "_wavedeck_sealed"  # EventManager → the run's terminal event is recorded
_FINAL = "_wavedeck_final"  # EventManager → the ProgramState the terminal event recorded
_RETIRED = "_wavedeck_retired"  # worker communication of a run that was stopped or redriven

# Orders the end of a run against StopExecution and RedriveExecution.
_lock = threading.RLock()

# How long StopExecution waits for a run that is recording its own end at that very moment.
_SETTLE_SECONDS = 2.0


# --- history events ---------------------------------------------------------------------------------


def _add_event(
    self: Any,
    context: Any,
    event_type: Any,
    event_details: Any = None,
    timestamp: Any = None,
    update_source_event_id: bool = True,
) -> int:
    if getattr(self, _SEALED, False):
        # The run has ended; whatever its leftover threads report is not part of the history.
        return int(context.last_published_event_id)
    return int(
        _original_add_event(
            self,
            context=context,
            event_type=event_type,
            event_details=task_events.complete(_definition_durations(event_details)),
            timestamp=timestamp,
            update_source_event_id=update_source_event_id,
        )
    )


def _definition_durations(event_details: Any) -> Any:
    """Timeouts in TaskScheduled and friends say what the definition says, not how long the sandbox waits."""
    if not event_details:
        return event_details
    for details in event_details.values():
        if isinstance(details, dict):
            for key in ("timeoutInSeconds", "heartbeatInSeconds"):
                if key in details:
                    details[key] = definition_value(details[key])
    return event_details


def _aborted(error: str | None, cause: str | None) -> Any:
    details = ExecutionAbortedEventDetails()
    if error is not None:
        details["error"] = error
    if cause is not None:
        details["cause"] = cause
    return {"executionAbortedEventDetails": details}


def _terminal_event(env: Any, program_state: ProgramState) -> tuple[Any, Any] | None:
    """The history event that ends a run in `program_state`."""
    if isinstance(program_state, ProgramEnded):
        output = to_json_str(env.states.get_input(), separators=(",", ":"))
        return HistoryEventType.ExecutionSucceeded, {
            "executionSucceededEventDetails": ExecutionSucceededEventDetails(
                output=output, outputDetails=HistoryEventExecutionDataDetails(truncated=False)
            )
        }
    if isinstance(program_state, ProgramError):
        details = select_from_typed_dict(typed_dict=ExecutionFailedEventDetails, obj=program_state.error or {})
        return HistoryEventType.ExecutionFailed, {"executionFailedEventDetails": details}
    if isinstance(program_state, ProgramStopped):
        return HistoryEventType.ExecutionAborted, _aborted(program_state.error, program_state.cause)
    if isinstance(program_state, ProgramTimedOut):
        return HistoryEventType.ExecutionTimedOut, {
            "executionTimedOutEventDetails": ExecutionTimedOutEventDetails(
                error="States.Timeout", cause="The execution ran longer than the state machine's TimeoutSeconds."
            )
        }
    return None


def _seal(env: Any, event_type: Any, event_details: Any, final: ProgramState) -> bool:
    """Record the run's terminal event, once. False when the run had already ended."""
    manager = env.event_manager
    with _lock:
        if getattr(manager, _SEALED, False):
            return False
        manager.add_event(context=env.event_history_context, event_type=event_type, event_details=event_details)
        setattr(manager, _FINAL, final)
        setattr(manager, _SEALED, True)
        return True


def _finish(env: Any) -> None:
    """The top-level program stopped running: record how it ended and release its waiting tasks."""
    final = env.program_state()
    event = _terminal_event(env, final)
    if event is not None:
        _seal(env, event[0], event[1], final)
    TOKENS.close_execution(env.states.context_object.context_object_data["Execution"]["Id"])


# --- the program ------------------------------------------------------------------------------------


def _program_eval(self: Any, env: Any) -> None:
    timeout = self.timeout_seconds.timeout_seconds if self.timeout_seconds else None
    env.next_state_name = getattr(env, _RESUME_AT, None) or self.start_at.start_at_name
    worker = threading.Thread(target=EvalComponent.eval, args=(self, env), daemon=True, name="sfn-program")
    worker.start()
    worker.join(timeout=None if timeout is None else real_seconds(timeout))
    if worker.is_alive():
        env.set_timed_out()
        if not env.is_frame():
            _finish(env)


def _program_eval_body(self: Any, env: Any) -> None:
    record: RunRecord | None = None if env.is_frame() else getattr(env, _RUN, None)
    try:
        while env.is_running():
            name = env.next_state_name
            state = self._get_state(name)
            if record is not None:
                record.entered(name, env.states.get_input())
            state.eval(env)
            # Garbage collect hanging values added by this last state (as moto does).
            env.stack.clear()
            env.heap.clear()
    except FailureEventException as failure:
        _record_evaluation_failure(env, failure)
        env.set_error(error=failure.get_execution_failed_event_details())
    except Exception as exc:  # the interpreter turns any crash into States.Runtime, as AWS does
        cause = f"{type(exc).__name__}({exc})"
        LOG.warning("a Step Functions execution crashed the interpreter: %s", cause)
        env.set_error(
            ExecutionFailedEventDetails(
                error=StatesErrorName(typ=StatesErrorNameType.StatesRuntime).error_name, cause=cause
            )
        )
    if env.is_frame():
        # Map iterations and Parallel branches end inside their state, not as the execution.
        return
    _finish(env)


def _record_evaluation_failure(env: Any, failure: FailureEventException) -> None:
    """A JSONata error in a state without Retry/Catch (Pass, Choice) is in the history too, as AWS shows it.

    States with Retry/Catch (Task, Map, Parallel) record the event themselves before they re-raise.
    """
    event = failure.failure_event
    if event.event_type != HistoryEventType.EvaluationFailed or not event.event_details:
        return
    history = env.event_manager.get_event_history()
    if history and history[-1].get("type") == HistoryEventType.EvaluationFailed:
        return
    env.event_manager.add_event(
        context=env.event_history_context, event_type=event.event_type, event_details=event.event_details
    )


# --- the worker ------------------------------------------------------------------------------------


def _execution_of(worker: Any) -> Any:
    return getattr(worker._execution_communication, "execution", None)


def _prepare(worker: Any, execution: Any) -> None:
    """Build the run's environment and its ExecutionStarted event, on the caller's thread."""
    env = worker._get_evaluation_environment()
    # AWS's context object carries the redrive count from the first run on ($$.Execution.RedriveCount).
    env.states.context_object.context_object_data["Execution"]["RedriveCount"] = 0
    if execution is not None:
        setattr(env, _RUN, run_record(execution))
    details = worker._evaluation_details
    env.event_manager.add_event(
        context=env.event_history_context,
        event_type=HistoryEventType.ExecutionStarted,
        event_details={
            "executionStartedEventDetails": ExecutionStartedEventDetails(
                input=to_json_str(details.execution_details.inpt),
                inputDetails=HistoryEventExecutionDataDetails(truncated=False),
                roleArn=details.aws_execution_details.role_arn,
            )
        },
        update_source_event_id=False,
    )
    worker.env = env


def _worker_start(self: Any) -> None:
    if self.env is None:
        _prepare(self, _execution_of(self))
    threading.Thread(target=self._execution_logic, daemon=True, name="sfn-execution").start()


def _worker_execution_logic(self: Any) -> None:
    if self.env is None:
        _prepare(self, _execution_of(self))
    program = self._get_evaluation_entrypoint()
    program.eval(self.env)
    self._execution_communication.terminated()


def _execution_start(self: Any) -> None:
    if self.exec_worker is not None:
        return
    worker = self._get_start_execution_worker()
    self.exec_worker = worker
    self.exec_status = ExecutionStatus.RUNNING
    _prepare(worker, self)
    status_changed(self)
    worker.start()


# --- the end of a run -------------------------------------------------------------------------------


def _reflect_execution_status(self: Any) -> None:
    execution = self.execution
    env = execution.exec_worker.env
    final = getattr(env.event_manager, _FINAL, None) or env.program_state()
    execution.stop_date = datetime.now(UTC)
    if isinstance(final, ProgramEnded):
        execution.exec_status = ExecutionStatus.SUCCEEDED
        execution.output = env.states.get_input()
    elif isinstance(final, ProgramStopped):
        execution.exec_status = ExecutionStatus.ABORTED
        execution.error, execution.cause = final.error, final.cause
    elif isinstance(final, ProgramError):
        execution.exec_status = ExecutionStatus.FAILED
        execution.error = (final.error or {}).get("error")
        execution.cause = (final.error or {}).get("cause")
    elif isinstance(final, ProgramTimedOut):
        execution.exec_status = ExecutionStatus.TIMED_OUT
    else:
        raise RuntimeWarning(f"Execution ended with unsupported ProgramState type '{type(final)}'.")


def _terminated(self: Any) -> None:
    if getattr(self, _RETIRED, False):
        # StopExecution or RedriveExecution already settled this run's status.
        return
    with _lock:
        self._reflect_execution_status()
    TOKENS.close_execution(self.execution.execution_arn)
    status_changed(self.execution)


# --- StopExecution and RedriveExecution --------------------------------------------------------------


def stop_execution(execution: Any, error: str | None = None, cause: str | None = None) -> Any:
    """Abort a running execution now, keeping `error` and `cause`. A finished one stays as it is."""
    aborted = False
    with _lock:
        if execution.exec_status == ExecutionStatus.RUNNING:
            worker = execution.exec_worker
            env = worker.env
            now = datetime.now(UTC)
            final = ProgramStopped(stop_date=now, error=error, cause=cause)
            if _seal(env, HistoryEventType.ExecutionAborted, _aborted(error, cause), final):
                env.set_stop(stop_date=now, cause=cause, error=error)
                setattr(worker._execution_communication, _RETIRED, True)
                execution.exec_status = ExecutionStatus.ABORTED
                execution.stop_date = now
                execution.error, execution.cause = error, cause
                execution.output = None
                aborted = True
    if aborted:
        TOKENS.close_execution(execution.execution_arn)
        status_changed(execution)
        return execution
    # It was recording its own end at this very moment: report that end.
    deadline = time.monotonic() + _SETTLE_SECONDS
    while execution.exec_status == ExecutionStatus.RUNNING and time.monotonic() < deadline:
        time.sleep(0.01)
    return execution


def _continued_history(previous: Any) -> Any:
    """A fresh EventManager holding the previous run's events, whose ids go on from there.

    Fresh, so that threads the previous run left behind keep writing into the sealed old one.
    """
    manager = EventManager(cloud_watch_logging_session=previous._cloud_watch_logging_session)
    with previous._mutex:
        manager._event_id_gen._next_id = previous._event_id_gen._next_id
        manager._history_event_list.extend(copy.deepcopy(previous._history_event_list))
    return manager


def redrive_execution(execution: Any, client_token: str | None = None) -> datetime:
    """Continue a failed, aborted or timed-out STANDARD execution at the state that did not complete."""
    record = run_record(execution)
    now = datetime.now(UTC)
    with _lock:
        earlier = record.redriven_by(client_token, now)
        if earlier is not None:
            return earlier
        reason = record.not_redrivable_reason(execution, now)
        if reason:
            raise ExecutionNotRedrivable(reason)
        previous = execution.exec_worker
        setattr(previous._execution_communication, _RETIRED, True)
        state, state_input = record.resume_point()
        if state is None:
            state_input = copy.deepcopy(execution.input_data)
        count = record.redriven(client_token, now)

        worker = execution._get_start_execution_worker()
        env = worker._get_evaluation_environment()
        env.event_manager = _continued_history(previous.env.event_manager)
        env.variable_store = previous.env.variable_store
        context = env.states.context_object.context_object_data["Execution"]
        context["RedriveCount"] = count
        context["RedriveTime"] = now.isoformat()
        last_id = env.event_manager._event_id_gen._next_id - 1
        env.event_history_context = EventHistoryContext(previous_event_id=last_id)
        env.event_manager.add_event(
            context=env.event_history_context,
            event_type=HistoryEventType.ExecutionRedriven,
            event_details={"executionRedrivenEventDetails": ExecutionRedrivenEventDetails(redriveCount=count)},
        )
        env.states.reset(input_value=state_input)
        setattr(env, _RUN, record)
        setattr(env, _RESUME_AT, state)
        worker.env = env

        execution.exec_worker = worker
        execution.exec_status = ExecutionStatus.RUNNING
        execution.stop_date = None
        execution.error = execution.cause = execution.output = None
    status_changed(execution)
    worker.start()
    return now


# --- install ----------------------------------------------------------------------------------------

_original_add_event = EventManager.add_event


def install() -> None:
    global _original_add_event
    _original_add_event = EventManager.add_event
    patches: list[tuple[Any, str, Any]] = [
        (EventManager, "add_event", _add_event),
        (Program, "eval", _program_eval),
        (Program, "_eval_body", _program_eval_body),
        (ExecutionWorker, "start", _worker_start),
        (ExecutionWorker, "_execution_logic", _worker_execution_logic),
        (Execution, "start", _execution_start),
        (BaseExecutionWorkerCommunication, "_reflect_execution_status", _reflect_execution_status),
        (BaseExecutionWorkerCommunication, "terminated", _terminated),
    ]
    for owner, name, replacement in patches:
        setattr(owner, name, replacement)

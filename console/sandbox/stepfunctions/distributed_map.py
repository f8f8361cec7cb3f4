"""The Map Run of a Distributed Map state, as AWS documents it ("Using Map state in Distributed mode").

moto (ported from LocalStack) reads the items and emits MapRunStarted / MapRunSucceeded, but runs every item
in one throwaway history, launches one thread per item, fails the whole run at the first failed item,
counts wrongly (running never goes down for a failed item, pending is never set), and knows no ItemBatcher,
no EXPRESS children, no tolerated failures. This module replaces the run (`_eval_body` of moto's
`DistributedIterationComponent`, which both `ItemProcessor` and the legacy `Iterator` use):

- Items come from the ItemReader (CSV with any `CSVDelimiter`, JSON, JSONL, or a listing of objects;
  `ReaderConfig.MaxItems`) or from the
  state input; `ItemSelector` (or `Parameters`) shapes each item with `$$.Map.Item.Index/Value`;
  `ItemBatcher` groups them (`MaxItemsPerBatch`, `MaxInputBytesPerBatch`, their `…Path` forms, and
  `BatchInput`) into child inputs `{"Items": […], "BatchInput": …}`.
- Each batch (or item) runs as a child execution with its own ARN, context object and history
  (map_runs.py makes STANDARD ones visible). At most `MaxConcurrency` run at once (read again before each
  launch, so UpdateMapRun applies); the sandbox runs at most `THREAD_CAP` at a time whatever the
  definition allows, since every child is a thread.
- A failed, timed-out or aborted child counts its items as failed. Once the failed items exceed
  `ToleratedFailureCount` or `ToleratedFailurePercentage` of all items (either declared one; with neither,
  any failure), the Map Run stops launching, aborts running children and fails with
  `States.ExceedToleratedFailureThreshold`: MapRunFailed, then the Map state's own failure (Retry / Catch).
- DescribeMapRun's item and execution counts (pending, running, succeeded, failed, timedOut, aborted, total,
  resultsWritten) follow every step. The output is the children's outputs in item order (a failed child
  tolerated by the thresholds contributes its result entry with Error and Cause, as AWS returns a failed
  child's result unchanged), or, with a ResultWriter, the pointer to the manifest map_io.py wrote.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from moto.stepfunctions.parser.api import (
    ExecutionFailedEventDetails,
    ExecutionStartedEventDetails,
    HistoryEventExecutionDataDetails,
    HistoryEventType,
    MapRunFailedEventDetails,
    MapRunStartedEventDetails,
    MapRunStatus,
)
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (
    DistributedIterationComponent,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.result_writer_decl import (
    ResultWriter,
)
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventHistoryContext, EventManager
from moto.stepfunctions.parser.asl.eval.program_state import (
    ProgramEnded,
    ProgramError,
    ProgramStopped,
    ProgramTimedOut,
)
from moto.stepfunctions.parser.asl.eval.states import ItemData, MapData
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.asl.utils.json_path import extract_json

from console.sandbox.stepfunctions import map_io
from console.sandbox.stepfunctions.map_definitions import EXTRAS, RESULT_WRITER, MapExtras
from console.sandbox.stepfunctions.map_runs import MAP_RUNS, ChildExecution, MapRunEntry
from console.sandbox.stepfunctions.runs import _terminal_event

THREAD_CAP = 32
MAX_BATCH_BYTES = 256 * 1024
THRESHOLD_CAUSE = "The specified tolerated failure threshold was exceeded"


def _failure(env: Any, error: StatesErrorNameType, cause: str) -> FailureEventException:
    name = StatesErrorName(typ=error)
    details: Any = {"executionFailedEventDetails": ExecutionFailedEventDetails(error=name.error_name, cause=cause)}
    return FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=name,
            event_type=HistoryEventType.MapRunFailed,
            event_details=details,
        )
    )


def _reason(exc: Exception) -> str:
    """What S3 answered, as a person reads it (botocore's ClientError says it in its message)."""
    return str(exc) or type(exc).__name__


# --- items and batches -----------------------------------------------------------------------------------


def _read_items(env: Any, eval_input: Any, extras: MapExtras) -> list[Any]:
    if eval_input.item_reader:
        try:
            eval_input.item_reader.eval(env=env)
        except FailureEventException:
            raise
        except Exception as exc:  # noqa: BLE001 - S3's answer (NoSuchKey, NoSuchBucket, …) is the cause
            raise _failure(env, StatesErrorNameType.StatesItemReaderFailed, _reason(exc)) from None
    else:
        env.stack.append(eval_input.input_items)
    items = env.stack.pop()
    if extras.reader_config is not None and isinstance(items, str):
        items = _parsed(env, items, extras.reader_config)
    if not isinstance(items, list):
        raise _failure(env, StatesErrorNameType.StatesItemReaderFailed, "Attempting to map over non-iterable node.")
    if extras.reader_max_items:
        items = items[: extras.reader_max_items]
    return items


_DELIMITERS = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}


def _parsed(env: Any, text: str, config: dict[str, Any]) -> list[Any]:
    """An object moto's ItemReader cannot read: JSON Lines, or CSV with another delimiter."""
    if config.get("InputType") == "JSONL":
        try:
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError as exc:
            raise _failure(env, StatesErrorNameType.StatesItemReaderFailed, f"Invalid JSON Lines: {exc}") from None
    delimiter = _DELIMITERS.get(str(config.get("CSVDelimiter", "COMMA")), ",")
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if config.get("CSVHeaderLocation") == "GIVEN":
        headers = list(config.get("CSVHeaders") or [])
    else:
        headers, rows = (rows[0], rows[1:]) if rows else ([], [])
    if len(set(headers)) < len(headers):
        raise _failure(env, StatesErrorNameType.StatesItemReaderFailed, "CSV headers cannot contain duplicates.")
    return [{h: (row[i] if i < len(row) else "") for i, h in enumerate(headers)} for row in rows if row]


def _selected(env: Any, eval_input: Any, state_input: Any, index: int, item: Any) -> Any:
    """The item as its child sees it: through ItemSelector (or the older Parameters) when there is one."""
    selector = eval_input.item_selector or eval_input.parameters
    if selector is None:
        return item
    frame = env.open_inner_frame()
    try:
        frame.states.context_object.context_object_data["Map"] = MapData(Item=ItemData(Index=index, Value=item))
        frame.states.reset(input_value=state_input)
        frame.stack.append(copy.deepcopy(state_input))
        selector.eval(frame)
        return frame.stack.pop()
    finally:
        env.delete_frame(frame)


def _resolved(value: Any, state_input: Any) -> Any:
    """A BatchInput template: keys ending in `.$` take their value from the state input."""
    if isinstance(value, dict):
        resolved: dict[str, Any] = {}
        for key, inner in value.items():
            if key.endswith(".$") and isinstance(inner, str):
                resolved[key[:-2]] = extract_json(inner, state_input)
            else:
                resolved[key] = _resolved(inner, state_input)
        return resolved
    if isinstance(value, list):
        return [_resolved(v, state_input) for v in value]
    return value


def _limit(batcher: dict[str, Any], key: str, state_input: Any) -> int | None:
    if isinstance(batcher.get(key), int):
        return int(batcher[key])
    path = batcher.get(f"{key}Path")
    if isinstance(path, str):
        return int(extract_json(path, state_input))
    return None


@dataclass(frozen=True)
class Batch:
    """What one child execution gets: its items (for the counts) and its input."""

    items: int
    input: Any


def batches(items: list[Any], batcher: dict[str, Any] | None, state_input: Any) -> list[Batch]:
    if batcher is None:
        return [Batch(1, item) for item in items]
    max_items = _limit(batcher, "MaxItemsPerBatch", state_input)
    max_bytes = min(_limit(batcher, "MaxInputBytesPerBatch", state_input) or MAX_BATCH_BYTES, MAX_BATCH_BYTES)
    batch_input = _resolved(batcher["BatchInput"], state_input) if "BatchInput" in batcher else None

    def child_input(chosen: list[Any]) -> dict[str, Any]:
        body: dict[str, Any] = {"Items": chosen}
        if batch_input is not None:
            body["BatchInput"] = batch_input
        return body

    result: list[Batch] = []
    current: list[Any] = []
    for item in items:
        candidate = [*current, item]
        too_many = max_items is not None and len(candidate) > max_items
        too_big = len(json.dumps(child_input(candidate)).encode()) > max_bytes
        if current and (too_many or too_big):
            result.append(Batch(len(current), child_input(current)))
            candidate = [item]
        current = candidate
    if current:
        result.append(Batch(len(current), child_input(current)))
    return result


# --- the run -----------------------------------------------------------------------------------------------


class MapRun:
    """Runs the batches of one Map Run as child executions, counting as DescribeMapRun reports."""

    def __init__(self, env: Any, record: Any, extras: MapExtras, program: Any, role_arn: str) -> None:
        self.env = env
        self.record = record
        self.extras = extras
        self.program = program
        self.role_arn = role_arn
        self.entry = MapRunEntry(record=record, execution_arn=record.execution_arn, env=env)
        self._cond = threading.Condition()
        self._running: dict[int, Any] = {}  # batch index → the child's frame
        self._children: dict[int, ChildExecution] = {}
        self._items_total = 0
        self._exceeded = False

    # counts
    def _count(self, counter: Any, name: str, by: int) -> None:
        getattr(counter, name).count(by)

    def _started(self, batch: Batch) -> None:
        for counter, by in ((self.record.item_counter, batch.items), (self.record.execution_counter, 1)):
            self._count(counter, "pending", -by)
            self._count(counter, "running", by)

    def _ended(self, batch: Batch, status: str) -> None:
        outcome = {"SUCCEEDED": "succeeded", "FAILED": "failed", "TIMED_OUT": "timed_out", "ABORTED": "aborted"}
        for counter, by in ((self.record.item_counter, batch.items), (self.record.execution_counter, 1)):
            self._count(counter, "running", -by)
            self._count(counter, outcome[status], by)

    def _threshold_exceeded(self) -> bool:
        items = self.record.item_counter
        failed = items.failed.get() + items.timed_out.get() + items.aborted.get()
        if failed == 0:
            return False
        count, percentage = self.record.tolerated_failure_count or 0, self.record.tolerated_failure_percentage or 0
        count_on = self.extras.count_declared or count > 0
        percentage_on = self.extras.percentage_declared or percentage > 0
        if not count_on and not percentage_on:
            return True
        if count_on and failed > count:
            return True
        return bool(percentage_on and self._items_total and failed * 100.0 / self._items_total > percentage)

    def _concurrency(self, remaining: int) -> int:
        declared = int(self.record.max_concurrency or 0)
        return max(1, min(declared or remaining, THREAD_CAP))

    # children
    def _child(self, index: int, batch: Batch) -> ChildExecution:
        name = str(uuid.uuid4())
        machine = self.record.map_state_machine_arn
        child = ChildExecution(
            execution_arn=f"{machine.replace(':stateMachine:', ':execution:', 1)}:{name}",
            name=name,
            state_machine_arn=machine,
            map_run_arn=self.record.map_run_arn,
            express=self.extras.express,
            input=to_json_str(batch.input, separators=(",", ":")),
            item_count=batch.items,
            start_date=datetime.now(UTC),
            event_manager=EventManager(),
        )
        MAP_RUNS.add_child(child)
        return child

    def _frame(self, child: ChildExecution, batch: Batch) -> Any:
        frame = self.env.open_inner_frame(event_history_context=EventHistoryContext.of_program_start())
        frame.event_manager = child.event_manager
        context = frame.states.context_object.context_object_data
        context["Execution"] = {
            "Id": child.execution_arn,
            "Name": child.name,
            "Input": copy.deepcopy(batch.input),
            "StartTime": child.start_date.isoformat(),
            "RoleArn": self.role_arn,
            "RedriveCount": 0,
        }
        context["StateMachine"] = {"Id": child.state_machine_arn, "Name": child.state_machine_arn.split(":")[-1]}
        context.pop("Map", None)
        frame.states.reset(input_value=batch.input)
        frame.event_manager.add_event(
            context=frame.event_history_context,
            event_type=HistoryEventType.ExecutionStarted,
            event_details={
                "executionStartedEventDetails": ExecutionStartedEventDetails(
                    input=child.input,
                    inputDetails=HistoryEventExecutionDataDetails(truncated=False),
                    roleArn=self.role_arn,
                )
            },
            update_source_event_id=False,
        )
        return frame

    def _run_child(self, index: int, batch: Batch, child: ChildExecution, frame: Any) -> None:
        status, output = "FAILED", None
        error: str | None = "States.Runtime"
        cause: str | None = "The child execution crashed the sandbox"
        try:
            self.program.eval(frame)
            final = frame.program_state()
            event = _terminal_event(frame, final)
            if event is not None:
                frame.event_manager.add_event(
                    context=frame.event_history_context, event_type=event[0], event_details=event[1]
                )
            error = cause = None
            if isinstance(final, ProgramEnded):
                status, output = "SUCCEEDED", to_json_str(frame.states.get_input(), separators=(",", ":"))
            elif isinstance(final, ProgramError):
                status = "FAILED"
                error, cause = (final.error or {}).get("error"), (final.error or {}).get("cause")
            elif isinstance(final, ProgramTimedOut):
                status, error = "TIMED_OUT", "States.Timeout"
            elif isinstance(final, ProgramStopped):
                status, error, cause = "ABORTED", final.error, final.cause
        finally:
            self.env.delete_frame(frame)
            child.finish(status, output, error, cause)
            with self._cond:
                self._running.pop(index, None)
                self._ended(batch, status)
                if status != "SUCCEEDED" and not self._exceeded and self._threshold_exceeded():
                    self._exceeded = True
                self._cond.notify_all()

    def run(self, all_batches: list[Batch]) -> tuple[list[ChildExecution], list[Batch]]:
        """Run every batch (or until the thresholds are exceeded); the children in batch order, and the
        batches never started."""
        self._items_total = sum(b.items for b in all_batches)
        for counter, by in (
            (self.record.item_counter, self._items_total),
            (self.record.execution_counter, len(all_batches)),
        ):
            self._count(counter, "total", by)
            self._count(counter, "pending", by)
        queue = deque(enumerate(all_batches))
        with self._cond:
            while True:
                stopping = self._exceeded or not self.env.is_running()
                if stopping:
                    now = datetime.now(UTC)
                    for frame in list(self._running.values()):
                        frame.set_stop(stop_date=now, cause=None, error=None)
                while queue and not stopping and len(self._running) < self._concurrency(len(queue)):
                    index, batch = queue.popleft()
                    child = self._child(index, batch)
                    self._children[index] = child
                    frame = self._frame(child, batch)
                    self._running[index] = frame
                    self._started(batch)
                    threading.Thread(
                        target=self._run_child, args=(index, batch, child, frame), daemon=True, name="sfn-map-child"
                    ).start()
                if not self._running and (stopping or not queue):
                    break
                self._cond.wait(timeout=0.2)
        children = [self._children[i] for i in sorted(self._children)]
        return children, [batch for _, batch in queue]


# --- the replacement of moto's run ------------------------------------------------------------------------


def _eval_body(self: Any, env: Any) -> None:
    eval_input = env.stack.pop()
    record = eval_input.map_run_record
    extras: MapExtras = getattr(self, EXTRAS, None) or MapExtras()
    state_input = copy.deepcopy(env.states.get_input())
    role_arn = env.aws_execution_details.role_arn
    run = MapRun(env, record, extras, self._get_iteration_program(), role_arn)
    MAP_RUNS.add_run(run.entry)
    env.event_manager.add_event(
        context=env.event_history_context,
        event_type=HistoryEventType.MapRunStarted,
        event_details={"mapRunStartedEventDetails": MapRunStartedEventDetails(mapRunArn=record.map_run_arn)},
    )
    try:
        items = _read_items(env, eval_input, extras)
        selected = [_selected(env, eval_input, state_input, i, item) for i, item in enumerate(items)]
        children, pending = run.run(batches(selected, extras.batcher, state_input))
        if not env.is_running():
            # StopExecution (map_runs.abort_map_runs recorded MapRunAborted) or the execution ended otherwise.
            if record.status == MapRunStatus.RUNNING:
                record.set_stop(status=MapRunStatus.ABORTED)
            env.stack.append([])
            return
        writer = getattr(self, RESULT_WRITER, None)
        written = None
        if writer is not None:
            try:
                written = map_io.write_results(
                    env, writer, record.map_run_arn, children, [to_json_str(b.input) for b in pending]
                )
            except FailureEventException:
                raise
            except Exception as exc:  # noqa: BLE001 - S3's answer is the cause
                raise _failure(env, StatesErrorNameType.StatesResultWriterFailed, _reason(exc)) from None
            record.item_counter.results_written.count(sum(c.item_count for c in children))
            record.execution_counter.results_written.count(len(children))
        if run._exceeded:
            raise _failure(env, StatesErrorNameType.StatesExceedToleratedFailureThreshold, THRESHOLD_CAUSE)
    except FailureEventException as failure:
        details = MapRunFailedEventDetails()
        pair = failure.extract_error_cause_pair()
        if pair:
            if pair[0]:
                details["error"] = pair[0]
            if pair[1]:
                details["cause"] = pair[1]
        record.set_stop(status=MapRunStatus.FAILED)
        env.event_manager.add_event(
            context=env.event_history_context,
            event_type=HistoryEventType.MapRunFailed,
            event_details={"mapRunFailedEventDetails": details},
        )
        raise
    except Exception:
        record.set_stop(status=MapRunStatus.FAILED)
        env.event_manager.add_event(
            context=env.event_history_context,
            event_type=HistoryEventType.MapRunFailed,
            event_details={"mapRunFailedEventDetails": MapRunFailedEventDetails()},
        )
        raise
    record.set_stop(status=MapRunStatus.SUCCEEDED)
    env.event_manager.add_event(context=env.event_history_context, event_type=HistoryEventType.MapRunSucceeded)
    if written is not None:
        env.stack.append(written)
        return
    outputs: list[Any] = []
    for child in children:
        outputs.append(
            json.loads(child.output) if child.status == "SUCCEEDED" and child.output else map_io.result_entry(child)
        )
    env.stack.append(outputs)


def _result_writer_eval_body(self: Any, env: Any) -> None:
    """The Map Run wrote the results already (it must, failed or not); the state's output is on the stack."""


def install() -> None:
    setattr(DistributedIterationComponent, "_eval_body", _eval_body)  # noqa: B010 - patching moto's class
    setattr(ResultWriter, "_eval_body", _result_writer_eval_body)  # noqa: B010

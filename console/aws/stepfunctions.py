"""Step Functions in the gateway: the conversion of its answers into the console's frozen dataclasses (pure functions),
and its calls (`StepFunctionsCalls`, which `console.aws.gateway.Gateway` inherits) with the reads it allows and the
writes it never sends twice."""

from __future__ import annotations

import json
import re
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from console import model
from console.aws.calls import ServiceCalls
from console.aws.convert import Json, opt_int, opt_str, utc
from console.stepfunctions import model as service_model
from console.stepfunctions.model import Execution, HistoryEvent, StateMachineDetail, StateMachineSummary, TaskTokenState

# --- Conversion of its answers ------------------------------------------------------------------------------


def state_machine_summary(item: Json) -> StateMachineSummary:
    return StateMachineSummary(
        arn=str(item["stateMachineArn"]),
        name=str(item.get("name", "")),
        type=str(item.get("type") or "STANDARD"),
        created=utc(item.get("creationDate")),
    )


def state_machine_detail(response: Json) -> StateMachineDetail:
    text = str(response.get("definition") or "")
    definition: Mapping[str, Any] = {}
    problem: str | None = None
    try:
        parsed = json.loads(text)
        if isinstance(parsed, Mapping):
            definition = parsed
        else:
            problem = "the definition is not a JSON object"
    except ValueError as exc:
        problem = f"the definition is not JSON: {exc}"
    return StateMachineDetail(
        arn=str(response.get("stateMachineArn", "")),
        name=str(response.get("name", "")),
        type=str(response.get("type") or "STANDARD"),
        definition_text=text,
        definition=definition,
        role_arn=str(response.get("roleArn") or ""),
        status=opt_str(response.get("status")),
        created=utc(response.get("creationDate")),
        revision_id=opt_str(response.get("revisionId")),
        task_token_states=tuple(task_token_states(definition)),
        states=tuple(state_names(definition)),
        definition_error=problem,
    )


def _walk_states(definition: Mapping[str, Any]) -> Iterable[tuple[str, Mapping[str, Any]]]:
    """Every state of an ASL document, nested ones (Parallel branches, Map processors) included."""
    states = definition.get("States")
    if not isinstance(states, Mapping):
        return
    for name, state in states.items():
        if not isinstance(state, Mapping):
            continue
        yield str(name), state
        for branch in state.get("Branches") or ():
            if isinstance(branch, Mapping):
                yield from _walk_states(branch)
        for key in ("ItemProcessor", "Iterator"):
            processor = state.get(key)
            if isinstance(processor, Mapping):
                yield from _walk_states(processor)


def state_names(definition: Mapping[str, Any]) -> list[str]:
    return [name for name, _ in _walk_states(definition)]


_JSONPATH_TOKEN = "$$.Task.Token"
_JSONATA_TOKEN = "$states.context.Task.Token"


def _token_paths(value: Any, path: tuple[str | int, ...]) -> Iterable[tuple[tuple[str | int, ...], str]]:
    """(key path, expression) of every value that is, or embeds, the task token (paths as resolved: `.$`
    suffixes dropped; list items by index)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            key = str(key)
            if key.endswith(".$"):
                if isinstance(item, str) and _MENTIONS_TOKEN.search(item):
                    yield (*path, key[:-2]), item
                continue
            yield from _token_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _token_paths(item, (*path, index))
    elif isinstance(value, str) and path and value.lstrip().startswith("{%") and _MENTIONS_TOKEN.search(value):
        yield path, value  # JSONata `{% $states.context.Task.Token %}`


# `$$.Task.Token`, `$$.Task` or the whole context object `$$` (JSONPath), `$states.context...` (JSONata): any
# expression whose value holds the token, however it is wrapped (States.Format, States.JsonToString, ...).
_MENTIONS_TOKEN = re.compile(r"\$\$(?:\.Task\b|(?![.\w]))|\$states\.context(?:\.Task\b|(?![.\w]))")


def task_token_states(definition: Mapping[str, Any]) -> list[TaskTokenState]:
    """The `.waitForTaskToken` Task states and where their Parameters (or JSONata Arguments) put the token.

    `token_paths` hold the paths whose value is the token itself (what the gate answers with); every path
    that holds or embeds it, with the expression that put it there, is in `token_expressions` (what the
    displays redact: see console/tokens.py).
    """
    found = []
    for name, state in _walk_states(definition):
        resource = state.get("Resource")
        if state.get("Type") != "Task" or not isinstance(resource, str):
            continue
        if not resource.endswith(".waitForTaskToken"):
            continue
        located: list[tuple[tuple[str | int, ...], str]] = []
        for key in ("Parameters", "Arguments"):
            located.extend(_token_paths(state.get(key), ()))
        # The paths of the bare token first: `token_in` answers with the first one that holds a value.
        ordered = sorted(located, key=lambda item: not _exact_token(item[1]))
        keyed = tuple(tuple(str(k) for k in path) for path, _ in ordered if all(isinstance(k, str) for k in path))
        found.append(TaskTokenState(name=name, resource=resource, token_paths=keyed, token_expressions=tuple(located)))
    return found


def _exact_token(expression: str) -> bool:
    text = expression.strip()
    if text.startswith("{%") and text.endswith("%}"):
        text = text[2:-2].strip()
    return text in (_JSONPATH_TOKEN, _JSONATA_TOKEN)


def execution(item: Json) -> Execution:
    """A ListExecutions item or a DescribeExecution response."""
    return Execution(
        arn=str(item["executionArn"]),
        name=str(item.get("name") or str(item["executionArn"]).rsplit(":", 1)[-1]),
        state_machine_arn=str(item.get("stateMachineArn", "")),
        status=str(item.get("status", "")),
        started=utc(item.get("startDate")),
        stopped=utc(item.get("stopDate")),
        input=opt_str(item.get("input")),
        output=opt_str(item.get("output")),
        error=opt_str(item.get("error")),
        cause=opt_str(item.get("cause")),
        redrive_count=opt_int(item.get("redriveCount")) or 0,
        redrive_status=opt_str(item.get("redriveStatus")),
        redrive_status_reason=opt_str(item.get("redriveStatusReason")),
    )


def history_details(event: Json) -> Json:
    """The one `...EventDetails` member an event carries (empty when it has none)."""
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, Mapping):
            return value
    return {}


class StateNames:
    """Remembers which state each event of one execution belongs to, across incremental reads.

    Only StateEntered / StateExited events name their state; the events in between (TaskScheduled, ...)
    point back through `previousEventId`. When that chain is missing, the state entered last and not yet
    exited is the best answer.
    """

    def __init__(self) -> None:
        self.by_id: dict[int, str | None] = {}
        self.open: str | None = None

    def name_of(self, event_id: int, event_type: str, previous_id: int, details: Json) -> str | None:
        name: str | None
        if event_type.endswith("StateEntered"):
            name = opt_str(details.get("name"))
            self.open = name
        elif event_type.endswith("StateExited"):
            name = opt_str(details.get("name"))
            self.open = None
        elif event_type.startswith("Execution"):
            name = None
        elif previous_id and self.by_id.get(previous_id):
            name = self.by_id[previous_id]
        else:
            name = self.open
        self.by_id[event_id] = name
        return name


def _resource(details: Json) -> str | None:
    """The resource as the definition names it: AWS splits service integrations into `resourceType` ("sqs")
    and `resource` ("sendMessage.waitForTaskToken"); joined back, it matches the state's `Resource`."""
    resource = opt_str(details.get("resource"))
    kind = opt_str(details.get("resourceType"))
    if resource and kind and not resource.startswith("arn:"):
        return f"arn:aws:states:::{kind}:{resource}"
    return resource


def history_event(event: Json, names: StateNames | None = None) -> HistoryEvent:
    details = history_details(event)
    event_id = int(event["id"])
    event_type = str(event.get("type", ""))
    previous = int(event.get("previousEventId") or 0)
    state_name = (names or StateNames()).name_of(event_id, event_type, previous, details)
    return HistoryEvent(
        id=event_id,
        type=event_type,
        timestamp=utc(event.get("timestamp")) or datetime.fromtimestamp(0, UTC),
        previous_id=previous,
        state_name=state_name,
        resource=_resource(details),
        parameters=opt_str(details.get("parameters")),
        input=opt_str(details.get("input")),
        output=opt_str(details.get("output")),
        error=opt_str(details.get("error")),
        cause=opt_str(details.get("cause")),
        timeout_seconds=opt_int(details.get("timeoutInSeconds")),
        index=opt_int(details.get("index")) if event_type.startswith("MapIteration") else None,
    )


# --- Its calls ------------------------------------------------------------------------------------------------

SERVICE = "stepfunctions"  # the name botocore loads it under


class StepFunctionsCalls(ServiceCalls):
    """Step Functions' calls: state machines, executions and their history; stops, redrives, task tokens."""

    READS: ClassVar[frozenset[str]] = frozenset(
        {
            "ListStateMachines",
            "DescribeStateMachine",
            "ListExecutions",
            "DescribeExecution",
            "GetExecutionHistory",
        }
    )
    UNSAFE_TO_RESEND: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "sfn": ("StopExecution", "SendTaskSuccess", "SendTaskFailure")
    }
    # StartExecution (we always name the execution) and RedriveExecution (botocore adds a client token) are
    # idempotent: not listed.

    # The state each event of an execution belongs to, between history reads, for the last
    # `options.history_memory` executions (made on first use).
    _history_names: OrderedDict[str, StateNames] | None = None

    # --- Step Functions reads --------------------------------------------------------------------------------

    async def list_state_machines(self, page_size: int = 1000) -> tuple[service_model.StateMachineSummary, ...]:
        """Every state machine of the target's region (all pages of `page_size`)."""
        params = {"maxResults": page_size}
        items = await self._all_pages(SERVICE, "ListStateMachines", "stateMachines", params)
        return tuple(state_machine_summary(item) for item in items)

    async def describe_state_machine(self, arn: str) -> service_model.StateMachineDetail:
        """The definition parsed, with the `.waitForTaskToken` states and where their token goes."""
        response = await self._call(SERVICE, "DescribeStateMachine", stateMachineArn=arn)
        return state_machine_detail(response)

    async def list_executions(
        self, arn: str, status: str | None = None, max_results: int = 100, page_size: int = 1000
    ) -> tuple[service_model.Execution, ...]:
        """The newest `max_results` executions, newest first.

        Bounded: one request when `max_results` <= `page_size` (AWS allows 1000), and never more than
        `max_results` executions; ListExecutions refills at 1/s in our budget, so the watcher asks for one
        page and reads older executions only when someone scrolls to them.
        """
        params: dict[str, Any] = {"stateMachineArn": arn}
        if status:
            params["statusFilter"] = status
        items = await self._bounded_pages(
            SERVICE, "ListExecutions", "executions", params, max_results, min(page_size, 1000)
        )
        return tuple(execution(item) for item in items)

    async def describe_execution(self, arn: str) -> service_model.Execution:
        response = await self._call(SERVICE, "DescribeExecution", executionArn=arn)
        return execution(response)

    async def get_execution_history(
        self, arn: str, after_id: int = 0, page_size: int = 100
    ) -> tuple[service_model.HistoryEvent, ...]:
        """The events with id > `after_id`, in ascending order.

        Reads newest first (`reverseOrder`) in pages of `page_size` and stops at the page that reaches
        `after_id`, so repeated calls with the last id seen never page through old history: a call costs
        ceil(new / page_size) requests, or one when nothing is new. Only the last page can hold events
        already seen (the newest `page_size` include them when fewer are new); they are dropped here. Pass a
        small `page_size` when polling a running execution, a large one (<= 1000) for a first read.

        Each event's `state_name` comes from its own details (StateEntered/Exited) or from the events before
        it; the gateway remembers those between calls for its last `history_memory` executions, so a first
        call with `after_id` > 0 may leave the names of some task events empty.
        """
        page_size = max(1, min(page_size, 1000))
        collected: dict[int, dict[str, Any]] = {}
        token: str | None = None
        while True:
            params: dict[str, Any] = {"executionArn": arn, "maxResults": page_size, "reverseOrder": True}
            if token:
                params["nextToken"] = token
            response = await self._call(SERVICE, "GetExecutionHistory", **params)
            events = response.get("events") or []
            self.stats.history_events += len(events)
            reached = False
            for event in events:
                event_id = int(event.get("id", 0))
                if event_id <= after_id:
                    reached = True
                else:
                    collected.setdefault(event_id, event)
            token = response.get("nextToken")
            if reached or not token:
                break
        names = self._state_names(arn, fresh=after_id == 0)
        return tuple(history_event(collected[i], names) for i in sorted(collected))

    def _state_names(self, arn: str, fresh: bool) -> StateNames:
        if self._history_names is None:
            self._history_names = OrderedDict()
        remembered = self._history_names
        names = remembered.get(arn)
        if names is None or fresh:
            names = StateNames()
            remembered[arn] = names
        remembered.move_to_end(arn)
        while len(remembered) > self.options.history_memory:
            remembered.popitem(last=False)
        return names

    # --- Step Functions writes --------------------------------------------------------------------------------

    async def stop_execution(self, arn: str, error: str = "", cause: str = "") -> model.Receipt:
        self._refuse_if_read_only("StopExecution")
        params: dict[str, Any] = {"executionArn": arn}
        if error:
            params["error"] = error
        if cause:
            params["cause"] = cause
        response = await self._call(SERVICE, "StopExecution", **params)
        return self._receipt("StopExecution", response, arn, response.get("stopDate"))

    async def redrive_execution(self, arn: str, client_token: str | None = None) -> model.Receipt:
        """Redrive a failed STANDARD execution (same ARN). A `client_token` makes repeats idempotent."""
        self._refuse_if_read_only("RedriveExecution")
        params: dict[str, Any] = {"executionArn": arn}
        if client_token:
            params["clientToken"] = client_token
        response = await self._call(SERVICE, "RedriveExecution", **params)
        return self._receipt("RedriveExecution", response, arn, response.get("redriveDate"))

    async def send_task_success(self, token: str, output: str = "{}") -> model.Receipt:
        self._refuse_if_read_only("SendTaskSuccess")
        response = await self._call(SERVICE, "SendTaskSuccess", taskToken=token, output=output)
        return self._receipt("SendTaskSuccess", response)

    async def send_task_failure(self, token: str, error: str = "", cause: str = "") -> model.Receipt:
        self._refuse_if_read_only("SendTaskFailure")
        params: dict[str, Any] = {"taskToken": token}
        if error:
            params["error"] = error
        if cause:
            params["cause"] = cause
        response = await self._call(SERVICE, "SendTaskFailure", **params)
        return self._receipt("SendTaskFailure", response)

    async def start_execution(self, state_machine_arn: str, input: str, name: str | None = None) -> model.Receipt:
        """Start an execution; the receipt's `execution_id` is its ARN. Without a name, a UUID (as AWS does)."""
        self._refuse_if_read_only("StartExecution")
        response = await self._call(
            SERVICE,
            "StartExecution",
            stateMachineArn=state_machine_arn,
            input=input,
            name=name or str(uuid.uuid4()),
        )
        return self._receipt("StartExecution", response, response.get("executionArn"), response.get("startDate"))

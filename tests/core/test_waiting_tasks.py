"""Which tokens an execution waits for, and where, from its history alone (fixed events, as AWS links them)."""

from __future__ import annotations

from datetime import UTC, datetime

from console.stepfunctions.model import HistoryEvent
from console.stepfunctions.waiting import branch_numbers, open_tasks, waiting_chain

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TOKEN = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"


def ev(id: int, type: str, previous: int, name: str | None = None, **extra: object) -> HistoryEvent:
    return HistoryEvent(id, type, T0, previous, state_name=name, **extra)  # type: ignore[arg-type]


def task(first: int, previous: int, state: str) -> list[HistoryEvent]:
    """TaskStateEntered, TaskScheduled (a token), TaskStarted, TaskSubmitted."""
    return [
        ev(first, "TaskStateEntered", previous, state),
        ev(first + 1, "TaskScheduled", first, resource=TOKEN),
        ev(first + 2, "TaskStarted", first + 1),
        ev(first + 3, "TaskSubmitted", first + 2),
    ]


DEFINITION = {
    "StartAt": "Approvals",
    "States": {
        "Approvals": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Security Approver", "States": {}},
                {
                    "StartAt": "Per Region",
                    "States": {"Per Region": {"Type": "Map", "ItemProcessor": {"StartAt": "Region Approver"}}},
                },
            ],
        }
    },
}


def parallel_with_a_map() -> list[HistoryEvent]:
    """A Parallel whose branch 1 waits once and whose branch 2 runs a Map waiting once per region (2)."""
    return [
        ev(1, "ExecutionStarted", 0),
        ev(2, "ParallelStateEntered", 0, "Approvals"),
        ev(3, "ParallelStateStarted", 2),
        ev(4, "MapStateEntered", 3, "Per Region"),
        ev(5, "MapStateStarted", 4),
        ev(6, "MapIterationStarted", 5, "Per Region", index=0),
        ev(7, "MapIterationStarted", 5, "Per Region", index=1),
        *task(8, 3, "Security Approver"),
        *task(12, 7, "Region Approver"),
        *task(16, 6, "Region Approver"),
    ]


def test_each_branch_and_iteration_is_its_own_task_even_with_the_same_state_name() -> None:
    found = open_tasks(parallel_with_a_map(), branch_numbers(DEFINITION))
    assert [(t.state, t.map_index, t.where, t.event_id) for t in found] == [
        ("Security Approver", None, "branch 1 of Approvals", 9),
        ("Region Approver", 1, "iteration 1 of Per Region, branch 2 of Approvals", 13),
        ("Region Approver", 0, "iteration 0 of Per Region, branch 2 of Approvals", 17),
    ]
    # Without the definition a branch is named by its first state.
    assert open_tasks(parallel_with_a_map())[0].where == "branch Security Approver of Approvals"


def test_an_answer_closes_only_its_own_token() -> None:
    events = [*parallel_with_a_map(), ev(20, "TaskSucceeded", 15), ev(21, "TaskStateExited", 20, "Region Approver")]
    found = open_tasks(events)
    assert [(t.state, t.map_index) for t in found] == [("Security Approver", None), ("Region Approver", 0)]


def test_the_end_of_a_map_or_parallel_closes_what_still_waits_in_it() -> None:
    events = [*parallel_with_a_map(), ev(20, "MapStateFailed", 19), ev(21, "MapStateExited", 20, "Per Region")]
    assert [t.state for t in open_tasks(events)] == ["Security Approver"]
    events += [ev(22, "ParallelStateFailed", 21), ev(23, "ParallelStateExited", 22, "Approvals")]
    assert open_tasks(events) == []
    assert open_tasks([*parallel_with_a_map(), ev(20, "ExecutionAborted", 19)]) == []


def test_each_approval_is_in_the_wave_of_its_state_or_of_the_parallel_around_it() -> None:
    from dataclasses import replace

    from console.stepfunctions.approvals import execution_approvals
    from console.stepfunctions.model import Execution, StateMachine
    from console.waves import MachineWaves, default_wave_model

    base = default_wave_model()
    waves = replace(base, state_machines={"release": MachineWaves(wave="gamma", states={"Approvals": "prod-az2"})})
    machine = StateMachine(target="t", arn="arn:aws:states:us-east-1:1:stateMachine:release", name="release")
    machine = replace(machine, wave=waves.for_state_machine("release"))
    running = Execution(arn="arn:x:release:run-1", name="run-1", state_machine_arn=machine.arn, status="RUNNING")
    events = parallel_with_a_map()
    approvals = execution_approvals(machine, running, events, None, branch_numbers(DEFINITION), waves)
    assert len(approvals) == 3
    assert {a.wave.name if a.wave else None for a in approvals} == {"prod-az2"}  # placed by the Parallel
    # Without the mapping, each is in the state machine's wave; a state placed by name wins over its Parallel.
    plain = execution_approvals(machine, running, events, None, branch_numbers(DEFINITION), base)
    assert {a.wave.name if a.wave else None for a in plain} == {"gamma"}
    named = replace(
        waves, state_machines={"release": MachineWaves(states={"Approvals": "prod-az2", "Region Approver": "prod-az1"})}
    )
    by_state = {
        a.map_index: a.wave.name if a.wave else None
        for a in execution_approvals(machine, running, events, None, branch_numbers(DEFINITION), named)
    }
    assert by_state == {None: "prod-az2", 0: "prod-az1", 1: "prod-az1"}


def test_the_chain_the_warm_cache_keeps_places_every_open_task_as_the_whole_history_does() -> None:
    numbers = branch_numbers(DEFINITION)
    whole = [
        *parallel_with_a_map(),
        ev(20, "MapIterationStarted", 5, "Per Region", index=2),
        *task(21, 20, "Region Approver"),
        ev(25, "TaskSucceeded", 24),  # iteration 2's approver answered: closed, not kept
        ev(26, "TaskStateExited", 25, "Region Approver"),
        ev(27, "MapIterationSucceeded", 26, "Per Region", index=2),
    ]
    chain = waiting_chain(whole, numbers)
    assert [(t.state, t.map_index, t.where, t.event_id) for t in open_tasks(chain, numbers)] == [
        (t.state, t.map_index, t.where, t.event_id) for t in open_tasks(whole, numbers)
    ]
    assert len(open_tasks(chain, numbers)) == 3
    kept = {e.id for e in chain}
    # Each open TaskScheduled and what leads to it; nothing after it, nothing of the answered iteration.
    assert kept == {2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 16, 17}  # AWS links the first state entered to 0
    assert waiting_chain(whole[:3]) == ()


def test_nothing_waits_once_the_execution_ended() -> None:
    ended = [*parallel_with_a_map(), ev(20, "ExecutionAborted", 19)]
    assert waiting_chain(ended) == ()

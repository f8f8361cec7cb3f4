"""StartExecution's name is unique per state machine, also when two requests with one name come at once.

AWS's API reference (StartExecution): a request with the name and input of a running execution returns that
execution ("idempotent"); with another input, or once the execution has ended, ExecutionAlreadyExists. Two
`wavedeck rollback` commands racing for one rollback rely on it (tests/core/test_actions_race.py).
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from console.sandbox_process import SandboxProcess
from tests.conftest import make_client, unique
from tests.sandbox.test_stepfunctions_support import create_machine

WAITING = {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 3600, "End": True}}}


def test_many_starts_of_one_name_at_once_start_one_execution(sandbox: SandboxProcess) -> None:
    sfn = make_client(sandbox.url, "stepfunctions")
    machine = create_machine(sfn, WAITING, "names")
    name, document = unique("rollback"), json.dumps({"revision": "good1111"})
    together = threading.Barrier(8)

    def start(_: int) -> Any:
        client = make_client(sandbox.url, "stepfunctions")  # one connection each: the requests truly race
        together.wait(timeout=30)
        return client.start_execution(stateMachineArn=machine, name=name, input=document)["executionArn"]

    with ThreadPoolExecutor(8) as pool:
        arns = set(pool.map(start, range(8)))
    assert len(arns) == 1
    assert [e["name"] for e in sfn.list_executions(stateMachineArn=machine)["executions"]] == [name]
    with pytest.raises(ClientError) as refused:
        sfn.start_execution(stateMachineArn=machine, name=name, input=json.dumps({"revision": "other"}))
    assert refused.value.response["Error"]["Code"] == "ExecutionAlreadyExists"


def test_the_name_is_checked_and_the_execution_added_under_one_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    # The race made certain: moto copies the state machine between its check of the name and adding the
    # execution; slowed down here, two starts at once both passed the check before the lock (seen in CI: two
    # `wavedeck rollback` commands started two rollbacks of one name).
    import copy
    import time

    from moto import mock_aws
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend, stepfunctions_parser_backends

    from console.sandbox.stepfunctions.api import named_start

    real_deepcopy = copy.deepcopy

    def slow_deepcopy(value: Any, memo: Any = None) -> Any:
        time.sleep(0.2)
        return real_deepcopy(value, memo)

    passing = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
    with mock_aws():
        backend = stepfunctions_parser_backends["123456789012"]["us-east-1"]
        machine = backend.create_state_machine(
            name=unique("names"), definition=json.dumps(passing), roleArn="arn:aws:iam::123456789012:role/states"
        )
        start = named_start(StepFunctionsParserBackend.start_execution)
        monkeypatch.setattr(copy, "deepcopy", slow_deepcopy)
        together = threading.Barrier(2)
        outcomes: list[str] = []

        def race() -> None:
            together.wait(timeout=10)
            try:
                start(backend, machine.arn, "rollback-prod-canary-1", "{}")
                outcomes.append("started")
            except Exception as exc:  # noqa: BLE001 - which error, is the assertion
                outcomes.append(type(exc).__name__)

        threads = [threading.Thread(target=race) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        monkeypatch.undo()
        names = [e.name for e in backend.describe_state_machine(machine.arn).executions]
    assert names == ["rollback-prod-canary-1"], outcomes

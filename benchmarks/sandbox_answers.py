"""Benchmark: what the sandbox spends on the answers a team of consoles asks for most, against moto's own code.

In one process, against moto's backends (no server, so only the part that changed is timed), each patch next
to the moto code it replaces, on the same input in the same run:

- GetExecutionHistory's answer for a run of a Map over `--items` items (moto's interpreter records it):
  `PlainJSONResult` (console/sandbox/moto_patches/plain_json.py) against moto's `ActionResult`;
- DeleteMessageBatch of 10 received messages in a queue with `--waiting` messages not received yet (a
  console that is behind): the sandbox's `delete_message_batch` against moto's, and against the one walk of
  the whole queue it made before it matched the received messages first;
- ReceiveMessage of 10: the receive with the shallow copy (`receive_copy`) against moto's `deepcopy`;
- the list of a response class's methods each request asks for: kept per class against moto's.

    .venv/bin/python -m benchmarks.sandbox_answers [--items 12] [--waiting 0 1000 5000] [--rounds 200]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from moto import mock_aws
from moto.core.responses import ActionContext, ActionResult
from moto.core.serialize import get_serializer_class
from moto.core.utils import get_service_model
from moto.sqs import models as moto_sqs_models
from moto.sqs.models import sqs_backends
from moto.stepfunctions.parser.models import stepfunctions_parser_backends
from moto.stepfunctions.responses import StepFunctionResponse

from console.sandbox import events  # noqa: F401 - importing it installs the SQS patches (originals kept)
from console.sandbox.moto_patches import delivery_internals, method_names
from console.sandbox.moto_patches import sqs_patch as ours
from console.sandbox.moto_patches.plain_json import PlainJSONResult
from console.sandbox.server_constants import ACCOUNT_ID

REGION = "us-east-1"
# moto's SQS models module: `deepcopy` is an imported name there, not an export.
sqs_models: Any = moto_sqs_models


def timed(work: Callable[[], object], rounds: int, setup: Callable[[], object] | None = None) -> float:
    """Median milliseconds of `work` over `rounds`, `setup` (untimed) before each."""
    spent = []
    for _ in range(rounds):
        if setup is not None:
            setup()
        began = time.perf_counter()
        work()
        spent.append(time.perf_counter() - began)
    return statistics.median(spent) * 1000


def line(what: str, theirs: float, mine: float) -> None:
    print(f"  {what:44s} {theirs:9.3f} {mine:9.3f} {mine / theirs:6.2f}")


def history_answer(items: int, rounds: int) -> None:
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Touch",
                    "States": {"Touch": {"Type": "Pass", "End": True}},
                },
                "End": True,
            }
        },
    }
    backend = stepfunctions_parser_backends[ACCOUNT_ID][REGION]
    machine = backend.create_state_machine(
        name="answers", definition=json.dumps(definition), roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/states"
    )
    run = backend.start_execution(machine.arn, name="answers-1", execution_input=json.dumps({"items": [1] * items}))
    deadline = time.monotonic() + 30
    while backend.describe_execution(run.execution_arn).status == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.02)
    finished: Any = backend.describe_execution(run.execution_arn)
    found = finished.exec_worker.env.event_manager.get_event_history()
    service_model = get_service_model("stepfunctions")
    context = ActionContext(
        service_model,
        service_model.operation_model("GetExecutionHistory"),
        get_serializer_class("stepfunctions", "json"),
        StepFunctionResponse(),
    )
    answer = {"events": found}
    assert PlainJSONResult(answer).execute_result(context) == ActionResult(answer).execute_result(context)
    theirs = timed(lambda: ActionResult(answer).execute_result(context), max(rounds // 10, 10))
    mine = timed(lambda: PlainJSONResult(answer).execute_result(context), rounds)
    line(f"GetExecutionHistory, {len(found)} events", theirs, mine)


def whole_walk_delete(backend: Any, name: str, entries: list[dict[str, str]]) -> Any:
    """The sandbox's delete before it matched the received messages first: every message of the queue matched."""
    received_holding = ours._received_holding
    ours._received_holding = lambda queue, wanted: None
    try:
        return ours.delete_message_batch(backend, name, entries)
    finally:
        ours._received_holding = received_holding


def deletes(waiting: int, rounds: int) -> None:
    backend = sqs_backends[ACCOUNT_ID][REGION]
    moto_delete = delivery_internals.original("moto.sqs.models", "SQSBackend.delete_message_batch")
    results = []
    peers = ((moto_delete, "moto"), (whole_walk_delete, "walk"), (ours.delete_message_batch, "ours"))
    for delete, kind in peers:
        name = f"{kind}-{waiting}"
        backend.create_queue(name)
        for index in range(waiting):
            backend.send_message(name, f"waiting {index}")
        entries: list[dict[str, str]] = []

        def batch(name: str = name, entries: list[dict[str, str]] = entries) -> None:
            # A console `waiting` messages behind: it receives the oldest 10, and 10 newer arrive behind them.
            for index in range(10):
                backend.send_message(name, f"new {index}")
            received = backend.receive_message(name, 10, 0, 30)
            entries[:] = [{"Id": f"e{i}", "ReceiptHandle": str(m.receipt_handle)} for i, m in enumerate(received)]

        def remove(name: str = name, entries: list[dict[str, str]] = entries, delete: Any = delete) -> None:
            delete(backend, name, entries)

        results.append(timed(remove, rounds, setup=batch))
    line(f"DeleteMessageBatch of 10, {waiting} waiting (moto)", results[0], results[2])
    line("  the same, against the whole-queue walk before", results[1], results[2])


def receives(rounds: int) -> None:
    backend = sqs_backends[ACCOUNT_ID][REGION]
    backend.create_queue("receives")
    body = json.dumps({"detail-type": "CodePipeline Action Execution State Change", "detail": {"x": "y" * 900}})

    def fill() -> None:
        for _ in range(10):
            backend.send_message("receives", body)

    def receive() -> None:
        for message in backend.receive_message("receives", 10, 0, 30):
            ours.delete_messages(backend.get_queue("receives"), [str(message.receipt_handle)])

    sqs_models.deepcopy = copy.deepcopy
    theirs = timed(receive, rounds, setup=fill)
    sqs_models.deepcopy = ours.receive_copy
    mine = timed(receive, rounds, setup=fill)
    line("ReceiveMessage of 10 (and their deletes)", theirs, mine)


def method_lists(rounds: int) -> None:
    moto_names = method_names._moto_method_names
    theirs = timed(lambda: moto_names(StepFunctionResponse), rounds)
    mine = timed(lambda: method_names.method_names_from_class(StepFunctionResponse), rounds)
    line("a response class's methods, per request", theirs, mine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=12, help="Map items of the run whose history is answered")
    parser.add_argument("--waiting", type=int, nargs="+", default=[0, 1000, 5000])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    print("sandbox_answers: median ms per call, moto's own code against the sandbox's, same process and run")
    print(f"  {'':44s} {'moto':>9} {'sandbox':>9} {'ratio':>6}")
    with mock_aws():
        history_answer(args.items, args.rounds)
        for waiting in args.waiting:
            deletes(waiting, args.rounds)
        receives(args.rounds)
        method_lists(args.rounds)


if __name__ == "__main__":
    main()

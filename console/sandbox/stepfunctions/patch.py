"""Step Functions fidelity: what the sandbox adds to moto's Step Functions interpreter (`install(clock)`).

moto 5.2 executes state machines for real once `execute_state_machine` is on. On top of it:

- `stepfunctions_time`: `--speed` shortens Wait states, task TimeoutSeconds / HeartbeatSeconds, retry
  intervals and execution timeouts; history timestamps stay real wall-clock time.
- `stepfunctions_runs`: the run lifecycle: the history is complete when StartExecution returns and ends at
  the terminal event, StopExecution keeps error and cause and takes effect at once, RedriveExecution.
- `stepfunctions_tokens`: SendTaskSuccess / Failure / Heartbeat answer InvalidToken, TaskDoesNotExist and
  TaskTimedOut as AWS does (a second answer with one token is refused), and SendTaskFailure keeps `cause`.
- `stepfunctions_api`: StartExecution without a name gets a UUID; GetExecutionHistory pages (reverseOrder,
  maxResults, nextToken, includeExecutionData); DescribeExecution / ListExecutions report redrives.
- `stepfunctions_programs`: each definition is parsed once; every execution evaluates its own copy.
- `stepfunctions_choice`: a Choice state without a match nor Default fails with States.NoChoiceMatched.
- `stepfunctions_events`: every STANDARD execution status change goes to EventBridge as `aws.states`.
- `stepfunctions_asl_checks`: CreateStateMachine / UpdateStateMachine refuse what AWS refuses, with
  `InvalidDefinition` and AWS's message, and accept the Distributed Map settings moto's grammar lacks.
- `stepfunctions_lambdas`: the functions the definitions declare answer `lambda:invoke` and function ARNs.
- `stepfunctions_task_events`: every TaskFailed event names its resource and resource type.
- `stepfunctions_jsonata`: JSONata expressions and variables evaluated for real (moto's evaluator is a stub).
- `distributed_map`, `map_definitions`, `map_io`, `map_runs`: Distributed Map: ItemReader over the sandbox's
  S3, ItemBatcher, tolerated failures, ResultWriter, STANDARD and EXPRESS child executions, Map Runs.

All of it patches moto's classes, so in-process callers (the CodePipeline engine's StepFunctions actions
call `get_backend(...).start_execution`) get the same behaviour as HTTP clients.
"""

from __future__ import annotations

import functools
import logging
import threading
from typing import Any

from console.sandbox.clock import SandboxClock
from console.sandbox.server import SandboxError

_installed = threading.Event()


class MotoInternalsMoved(SandboxError):
    """The moto release installed no longer has what the Step Functions patches plug into."""


def install(clock: SandboxClock) -> None:
    """Patch moto's Step Functions (once per process); `clock.speed` shortens what takes time."""
    from console.sandbox.stepfunctions import api as stepfunctions_api
    from console.sandbox.stepfunctions import asl_checks as stepfunctions_asl_checks
    from console.sandbox.stepfunctions import choice as stepfunctions_choice
    from console.sandbox.stepfunctions import internals as stepfunctions_internals
    from console.sandbox.stepfunctions import iteration_errors as stepfunctions_iteration_errors
    from console.sandbox.stepfunctions import jsonata as stepfunctions_jsonata
    from console.sandbox.stepfunctions import lambdas as stepfunctions_lambdas
    from console.sandbox.stepfunctions import nested as stepfunctions_nested
    from console.sandbox.stepfunctions import programs as stepfunctions_programs
    from console.sandbox.stepfunctions import runs as stepfunctions_runs
    from console.sandbox.stepfunctions import task_events as stepfunctions_task_events
    from console.sandbox.stepfunctions import timing as stepfunctions_time
    from console.sandbox.stepfunctions import tokens as stepfunctions_tokens

    if _installed.is_set():
        # Another sandbox in this process: the patches stay, its clock takes over.
        stepfunctions_time.install(clock)
        return
    problems = stepfunctions_internals.moved()
    if problems:
        raise MotoInternalsMoved(
            "moto's Step Functions internals moved; the sandbox cannot run on this moto release:\n  "
            + "\n  ".join(problems)
        )
    stepfunctions_internals.remember_originals()
    # A state that fails is the deployment's business, told in its history; moto logs each one at ERROR
    # with the whole state's repr, which buried the sandbox's own messages.
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    _cache_json_paths()
    stepfunctions_programs.install()
    stepfunctions_time.install(clock)
    stepfunctions_choice.install()
    stepfunctions_jsonata.install()
    stepfunctions_asl_checks.install()
    stepfunctions_lambdas.install()
    stepfunctions_nested.install()
    stepfunctions_iteration_errors.install()
    stepfunctions_task_events.install()
    stepfunctions_tokens.install()
    stepfunctions_runs.install()
    stepfunctions_api.install()
    _install_distributed_map()
    _installed.set()


def _install_distributed_map() -> None:
    """Distributed Map (after the API patches: map_runs wraps the responses they install)."""
    from console.sandbox.stepfunctions import distributed_map, map_definitions, map_io, map_runs

    map_definitions.install()
    map_io.install()
    distributed_map.install()
    map_runs.install()


def _cache_json_paths() -> None:
    """Parse each JSONPath once: moto parses it again at every use, which was a tenth of a run's CPU time.

    The parsed expressions are immutable, so every execution thread can share them.
    """
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    for module in (json_path, result_path):
        parse: Any = module.parse
        setattr(module, "parse", functools.lru_cache(maxsize=4096)(parse))  # noqa: B010 - patching moto's module

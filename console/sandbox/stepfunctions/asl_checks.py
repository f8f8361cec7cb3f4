"""What CreateStateMachine and UpdateStateMachine refuse, in AWS's words; and what they must not refuse.

AWS answers a definition it refuses with `InvalidDefinition` and a message of one shape:
`Invalid State Machine Definition: 'CODE: problem at /JSON/Pointer, CODE: problem at /…'`. moto answered with
its parser's repr (`ASLParserException line 1:127, …`), accepted a `Next` naming no state, and refused
valid ASL its grammar does not know: a Distributed Map with `ExecutionType: EXPRESS`, `ItemBatcher`,
`ResultWriter.WriterConfig`, an integer `ToleratedFailurePercentage`.

So a definition is checked here first (JSON, then the structure AWS's validator checks: state types,
transitions, terminal states, the fields each query language allows, Distributed Map settings), and then
by moto's parser on `parseable(definition)`: the same definition with what moto's grammar lacks taken out
or written the way it expects. The stored definition is the one the caller sent.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

from console.sandbox.stepfunctions.errors import StepFunctionsError

STATE_TYPES = ("Task", "Pass", "Wait", "Choice", "Parallel", "Map", "Succeed", "Fail")
QUERY_LANGUAGES = ("JSONPath", "JSONata")
# Fields only one query language has (AWS refuses the others' in a state of that language).
JSONPATH_ONLY = ("InputPath", "Parameters", "ResultSelector", "ResultPath", "OutputPath", "ItemsPath")
JSONATA_ONLY = ("Arguments", "Output", "Items")
EXECUTION_TYPES = ("STANDARD", "EXPRESS")
PROCESSOR_MODES = ("INLINE", "DISTRIBUTED")
_TERMINAL = ("Succeed", "Fail", "Choice")
# Keys of an ItemBatcher and the shape of their values.
_BATCHER_INTEGERS = ("MaxItemsPerBatch", "MaxInputBytesPerBatch")


class InvalidDefinition(StepFunctionsError):
    TYPE = "InvalidDefinition"

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"Invalid State Machine Definition: '{', '.join(problems)}'")
        self.problems = problems


def _pointer(path: tuple[str | int, ...]) -> str:
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path)


def check(text: str) -> dict[str, Any]:
    """The parsed definition, or InvalidDefinition naming every problem found (AWS lists them all)."""
    try:
        definition = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidDefinition(
            [f"INVALID_JSON_DESCRIPTION: {exc.msg} at (line {exc.lineno}, column {exc.colno})"]
        ) from None
    if not isinstance(definition, dict):
        raise InvalidDefinition(["SCHEMA_VALIDATION_FAILED: The definition must be a JSON object at /"])
    problems = list(_machine(definition, (), "JSONPath", top=True))
    if problems:
        raise InvalidDefinition(problems)
    return definition


def _machine(machine: dict[str, Any], path: tuple[str | int, ...], language: str, *, top: bool) -> Iterator[str]:
    if top:
        declared = machine.get("QueryLanguage", "JSONPath")
        if declared not in QUERY_LANGUAGES:
            yield (
                "SCHEMA_VALIDATION_FAILED: The value for the field 'QueryLanguage' must be one of "
                f"{', '.join(QUERY_LANGUAGES)} at {_pointer((*path, 'QueryLanguage'))}"
            )
        else:
            language = declared
    for key in ("StartAt", "States"):
        if key not in machine:
            yield f"SCHEMA_VALIDATION_FAILED: These fields are required: [{key}] at {_pointer(path)}"
    states = machine.get("States")
    if not isinstance(states, dict):
        if "States" in machine:
            yield f"SCHEMA_VALIDATION_FAILED: The field 'States' must be an object at {_pointer((*path, 'States'))}"
        return
    start = machine.get("StartAt")
    if isinstance(start, str) and start not in states:
        yield f"MISSING_TRANSITION_TARGET: Missing 'Next' target: {start} at {_pointer((*path, 'StartAt'))}"
    for name, state in states.items():
        state_path = (*path, "States", name)
        if not 0 < len(name) <= 80:
            yield f"SCHEMA_VALIDATION_FAILED: A state name must be 1-80 characters at {_pointer(state_path)}"
        if not isinstance(state, dict):
            yield f"SCHEMA_VALIDATION_FAILED: A state must be an object at {_pointer(state_path)}"
            continue
        yield from _state(state, state_path, set(states), language)


def _state(state: dict[str, Any], path: tuple[str | int, ...], names: set[str], language: str) -> Iterator[str]:
    kind = state.get("Type")
    if kind not in STATE_TYPES:
        if "Type" not in state:
            yield f"SCHEMA_VALIDATION_FAILED: These fields are required: [Type] at {_pointer(path)}"
        else:
            yield (
                f"SCHEMA_VALIDATION_FAILED: The value for the field 'Type' must be one of {', '.join(STATE_TYPES)} "
                f"at {_pointer((*path, 'Type'))}"
            )
        return
    declared = state.get("QueryLanguage", language)
    if declared not in QUERY_LANGUAGES:
        yield (
            "SCHEMA_VALIDATION_FAILED: The value for the field 'QueryLanguage' must be one of "
            f"{', '.join(QUERY_LANGUAGES)} at {_pointer((*path, 'QueryLanguage'))}"
        )
        declared = language
    if language == "JSONata" and declared == "JSONPath":
        yield (
            "SCHEMA_VALIDATION_FAILED: A state cannot be JSONPath when the state machine's QueryLanguage is "
            f"JSONata at {_pointer((*path, 'QueryLanguage'))}"
        )
    other = JSONPATH_ONLY if declared == "JSONata" else JSONATA_ONLY
    for field in other:
        if field in state:
            yield (
                f"SCHEMA_VALIDATION_FAILED: The field '{field}' is not supported for {declared} states "
                f"at {_pointer((*path, field))}"
            )
    yield from _transitions(state, kind, path, names)
    if kind == "Parallel":
        branches = state.get("Branches")
        if not isinstance(branches, list) or not branches:
            yield f"SCHEMA_VALIDATION_FAILED: These fields are required: [Branches] at {_pointer(path)}"
        else:
            for index, branch in enumerate(branches):
                if isinstance(branch, dict):
                    yield from _machine(branch, (*path, "Branches", index), declared, top=False)
    if kind == "Map":
        yield from _map(state, path, declared)


def _transitions(state: dict[str, Any], kind: str, path: tuple[str | int, ...], names: set[str]) -> Iterator[str]:
    has_next, has_end = "Next" in state, state.get("End") is True
    if kind in _TERMINAL:
        for field in ("Next", "End"):
            if field in state:
                yield f"SCHEMA_VALIDATION_FAILED: Field '{field}' is not supported at {_pointer((*path, field))}"
    elif has_next and has_end:
        yield f"SCHEMA_VALIDATION_FAILED: Only one of 'Next' or 'End' can be present at {_pointer(path)}"
    elif not has_next and not has_end:
        yield f"SCHEMA_VALIDATION_FAILED: Either 'Next' or 'End' is required at {_pointer(path)}"
    targets: list[tuple[Any, tuple[str | int, ...]]] = []
    if has_next and kind not in _TERMINAL:
        targets.append((state["Next"], (*path, "Next")))
    if kind == "Choice":
        choices = state.get("Choices")
        if not isinstance(choices, list) or not choices:
            yield f"SCHEMA_VALIDATION_FAILED: These fields are required: [Choices] at {_pointer(path)}"
        else:
            targets.extend(
                (rule.get("Next"), (*path, "Choices", i, "Next"))
                for i, rule in enumerate(choices)
                if isinstance(rule, dict)
            )
        if "Default" in state:
            targets.append((state["Default"], (*path, "Default")))
    catchers = state.get("Catch")
    if isinstance(catchers, list):
        targets.extend(
            (c.get("Next"), (*path, "Catch", i, "Next")) for i, c in enumerate(catchers) if isinstance(c, dict)
        )
    for target, where in targets:
        if not isinstance(target, str) or target not in names:
            yield f"MISSING_TRANSITION_TARGET: Missing 'Next' target: {target} at {_pointer(where)}"


def _map(state: dict[str, Any], path: tuple[str | int, ...], language: str) -> Iterator[str]:
    key = "ItemProcessor" if "ItemProcessor" in state else "Iterator"
    processor = state.get(key)
    if not isinstance(processor, dict):
        yield f"SCHEMA_VALIDATION_FAILED: These fields are required: [ItemProcessor] at {_pointer(path)}"
        return
    config = processor.get("ProcessorConfig") or {}
    mode = config.get("Mode", "INLINE") if isinstance(config, dict) else "INLINE"
    config_path = (*path, key, "ProcessorConfig")
    if mode not in PROCESSOR_MODES:
        yield (
            f"SCHEMA_VALIDATION_FAILED: The value for the field 'Mode' must be one of {', '.join(PROCESSOR_MODES)} "
            f"at {_pointer((*config_path, 'Mode'))}"
        )
    if isinstance(config, dict) and "ExecutionType" in config:
        if mode != "DISTRIBUTED":
            yield (
                "SCHEMA_VALIDATION_FAILED: The field 'ExecutionType' is only supported in DISTRIBUTED mode "
                f"at {_pointer((*config_path, 'ExecutionType'))}"
            )
        elif config["ExecutionType"] not in EXECUTION_TYPES:
            yield (
                "SCHEMA_VALIDATION_FAILED: The value for the field 'ExecutionType' must be one of "
                f"{', '.join(EXECUTION_TYPES)} at {_pointer((*config_path, 'ExecutionType'))}"
            )
    for field in ("ItemReader", "ItemBatcher", "ResultWriter"):
        if field in state and mode != "DISTRIBUTED":
            yield (
                f"SCHEMA_VALIDATION_FAILED: The field '{field}' is only supported in DISTRIBUTED mode "
                f"at {_pointer((*path, field))}"
            )
    batcher = state.get("ItemBatcher")
    if batcher is not None:
        yield from _batcher(batcher, (*path, "ItemBatcher"), language)
    percentage = state.get("ToleratedFailurePercentage")
    if isinstance(percentage, int | float) and not isinstance(percentage, bool) and not 0 <= percentage <= 100:
        yield (
            "SCHEMA_VALIDATION_FAILED: ToleratedFailurePercentage must be between 0 and 100 "
            f"at {_pointer((*path, 'ToleratedFailurePercentage'))}"
        )
    yield from _machine(processor, (*path, key), language, top=False)


def _batcher(batcher: Any, path: tuple[str | int, ...], language: str) -> Iterator[str]:
    if not isinstance(batcher, dict):
        yield f"SCHEMA_VALIDATION_FAILED: The field 'ItemBatcher' must be an object at {_pointer(path)}"
        return
    allowed = {*_BATCHER_INTEGERS, "BatchInput"}
    if language == "JSONPath":
        allowed |= {f"{k}Path" for k in _BATCHER_INTEGERS}
    for field, value in batcher.items():
        if field not in allowed:
            yield f"SCHEMA_VALIDATION_FAILED: Field '{field}' is not supported at {_pointer((*path, field))}"
        elif field in _BATCHER_INTEGERS and not _is_jsonata(value):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                yield (
                    f"SCHEMA_VALIDATION_FAILED: The field '{field}' must be a non-negative integer "
                    f"at {_pointer((*path, field))}"
                )


def _is_jsonata(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}")


# --- what moto's grammar is given ---------------------------------------------------------------------


def parseable(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition written so moto's grammar takes it: what it lacks removed or respelt.

    Only for moto's parser: the sandbox stores and returns the caller's definition.
    """
    copied = copy.deepcopy(definition)
    for state in _all_states(copied):
        if state.get("Type") != "Map":
            continue
        state.pop("ItemBatcher", None)
        writer = state.get("ResultWriter")
        if isinstance(writer, dict):
            writer.pop("WriterConfig", None)
        percentage = state.get("ToleratedFailurePercentage")
        if isinstance(percentage, int) and not isinstance(percentage, bool):
            state["ToleratedFailurePercentage"] = float(percentage)
        processor = state.get("ItemProcessor")
        config = processor.get("ProcessorConfig") if isinstance(processor, dict) else None
        if isinstance(config, dict) and config.get("ExecutionType") == "EXPRESS":
            config["ExecutionType"] = "STANDARD"
    return copied


def _all_states(machine: Any) -> Iterator[dict[str, Any]]:
    states = machine.get("States") if isinstance(machine, dict) else None
    if not isinstance(states, dict):
        return
    for state in states.values():
        if not isinstance(state, dict):
            continue
        yield state
        for branch in state.get("Branches") or ():
            yield from _all_states(branch)
        for key in ("ItemProcessor", "Iterator"):
            yield from _all_states(state.get(key))


def validate(text: str) -> None:
    """CreateStateMachine's check: ours, then moto's parser on the parseable form; AWS's message either way."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser, ASLParserException

    definition = check(text)
    try:
        AmazonStateLanguageParser.parse(json.dumps(parseable(definition)))
    except ASLParserException as exc:
        details = "; ".join(str(e) for e in (exc.errors or [])) or "the definition does not follow the ASL schema"
        raise InvalidDefinition([f"SCHEMA_VALIDATION_FAILED: {details}"]) from None
    except Exception as exc:  # noqa: BLE001 - moto's preprocessor raises plain ValueError/TypeError
        raise InvalidDefinition([f"SCHEMA_VALIDATION_FAILED: {type(exc).__name__}: {exc}"]) from None


def _validate_definition(definition: str) -> None:
    validate(definition)


def install() -> None:
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    setattr(StepFunctionsParserBackend, "_validate_definition", staticmethod(_validate_definition))  # noqa: B010

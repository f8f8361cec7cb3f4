"""What moto's ASL grammar lacks for a Distributed Map, taken out of the definition before it is parsed and put
back onto the parsed components.

moto's grammar (ported from LocalStack) refuses `ItemBatcher`, `ProcessorConfig.ExecutionType: EXPRESS`, a
`ReaderConfig` without `InputType` (valid with `s3:listObjectsV2`), `InputType: JSONL`, `CSVDelimiter`,
`ResultWriter.WriterConfig` and an integer `ToleratedFailurePercentage`, all of which AWS accepts. `parse()`
wraps moto's parser: it copies the definition without those fields, parses the copy, and hangs a `MapExtras`
on every Distributed Map's iteration component, found by the path of state names (and Parallel branch indexes)
that leads to it. The run engine (distributed_map.py) reads them there. It also remembers which tolerated-
failure fields the author declared: moto fills both with 0, and a percentage alone must not be read as
"tolerate no failure at all" through a count nobody wrote.
"""

from __future__ import annotations

import copy
import json
import logging
from dataclasses import dataclass
from typing import Any

EXTRAS = "_wavedeck_map_extras"  # iteration component → its MapExtras
RESULT_WRITER = "_wavedeck_result_writer"  # iteration component → the Map state's ResultWriter component

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class MapExtras:
    """A Distributed Map's fields the grammar does not carry, as the definition declares them."""

    express: bool = False
    batcher: dict[str, Any] | None = None
    count_declared: bool = False
    percentage_declared: bool = False
    reader_max_items: int | None = None
    # A ReaderConfig the sandbox reads itself: InputType JSONL, or CSV with a CSVDelimiter.
    reader_config: dict[str, Any] | None = None
    writer_config: dict[str, Any] | None = None


def strip(document: dict[str, Any]) -> tuple[dict[str, Any], dict[Path, MapExtras]]:
    """A copy of `document` the grammar accepts, and the extras of each Distributed Map by its path."""
    copied = copy.deepcopy(document)
    found: dict[Path, MapExtras] = {}
    states = copied.get("States")
    if isinstance(states, dict):
        _strip_states(states, (), found)
    return copied, found


def _strip_states(states: dict[str, Any], path: Path, found: dict[Path, MapExtras]) -> None:
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        here = (*path, name)
        kind = state.get("Type")
        if kind == "Map":
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if not isinstance(processor, dict):
                continue
            config = processor.get("ProcessorConfig")
            if isinstance(config, dict) and config.get("Mode") == "DISTRIBUTED":
                found[here] = _strip_map(state, config)
            inner = processor.get("States")
            if isinstance(inner, dict):
                _strip_states(inner, here, found)
        elif kind == "Parallel":
            for index, branch in enumerate(state.get("Branches") or []):
                if isinstance(branch, dict) and isinstance(branch.get("States"), dict):
                    _strip_states(branch["States"], (*here, index), found)


def _strip_map(state: dict[str, Any], config: dict[str, Any]) -> MapExtras:
    express = config.get("ExecutionType") == "EXPRESS"
    if express:
        config["ExecutionType"] = "STANDARD"
    batcher = state.pop("ItemBatcher", None)
    percentage = state.get("ToleratedFailurePercentage")
    if isinstance(percentage, int) and not isinstance(percentage, bool):
        # The grammar takes a decimal only; AWS takes 50 as well as 50.0.
        state["ToleratedFailurePercentage"] = float(percentage)
    reader_max_items = None
    own_reader = None
    reader = state.get("ItemReader")
    if isinstance(reader, dict):
        reader_config = reader.get("ReaderConfig")
        if isinstance(reader_config, dict):
            own = reader_config.get("InputType") == "JSONL" or "CSVDelimiter" in reader_config
            if "InputType" not in reader_config or own:
                # Listing objects needs no InputType, moto's grammar insists on one; it knows neither JSONL
                # nor CSVDelimiter: the Map Run reads those itself.
                reader.pop("ReaderConfig")
                max_items = reader_config.get("MaxItems")
                reader_max_items = max_items if isinstance(max_items, int) else None
                own_reader = reader_config if own else None
    writer_config = None
    writer = state.get("ResultWriter")
    if isinstance(writer, dict):
        writer_config = writer.pop("WriterConfig", None)
        if "Resource" not in writer:
            state.pop("ResultWriter")
    return MapExtras(
        express=express,
        batcher=batcher if isinstance(batcher, dict) else None,
        count_declared=any(k in state for k in ("ToleratedFailureCount", "ToleratedFailureCountPath")),
        percentage_declared=any(k in state for k in ("ToleratedFailurePercentage", "ToleratedFailurePercentagePath")),
        reader_max_items=reader_max_items,
        reader_config=own_reader,
        writer_config=writer_config if isinstance(writer_config, dict) else None,
    )


def annotate(program: Any, found: dict[Path, MapExtras]) -> None:
    """Hang each Distributed Map's extras (and its ResultWriter) on its parsed iteration component."""
    _annotate_states(program.states, (), found)


def _annotate_states(states: Any, path: Path, found: dict[Path, MapExtras]) -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel.state_parallel import StateParallel

    for name, state in states.states.items():
        here = (*path, name)
        if isinstance(state, StateMap):
            component = state.iteration_component
            if here in found:
                setattr(component, EXTRAS, found[here])
                setattr(component, RESULT_WRITER, state.result_writer)
            _annotate_states(component._states, here, found)
        elif isinstance(state, StateParallel):
            for index, branch in enumerate(state.branches.programs):
                _annotate_states(branch.states, (*here, index), found)


# --- the parser wrap ----------------------------------------------------------------------------------------


_installed = False
_moto_parse: Any = None  # moto's own parser, before the wrap


def moto_parse(definition: str) -> Any:
    """moto's own parser, unwrapped, whether or not `install()` ran (for the tests of what it refuses)."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    return (_moto_parse or AmazonStateLanguageParser.parse)(definition)


def install() -> None:
    """Wrap moto's ASL parser (CreateStateMachine's check, every execution's parse and the definitions check
    before the sandbox starts go through it); once per process."""
    global _installed, _moto_parse
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    if _installed:
        return
    _installed = True
    # moto warns at every parse that tolerated-failure fields have no effect; in the sandbox they do.
    logging.getLogger("moto.stepfunctions.parser.asl.parse.preprocessor").setLevel(logging.ERROR)
    original = _moto_parse = AmazonStateLanguageParser.parse

    def parse(definition: str) -> Any:
        try:
            document = json.loads(definition)
        except (TypeError, ValueError):
            return original(definition)
        if not isinstance(document, dict):
            return original(definition)
        stripped, found = strip(document)
        if not found:
            return original(definition)
        program, tree = original(json.dumps(stripped))
        annotate(program, found)
        return program, tree

    setattr(AmazonStateLanguageParser, "parse", staticmethod(parse))  # noqa: B010 - patching moto's class

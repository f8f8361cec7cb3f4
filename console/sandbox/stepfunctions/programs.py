"""Parse each state machine definition once, and give every execution its own copy of the parsed program.

moto parses the definition with its ANTLR grammar at every execution start: 40-80 ms for the bundled
state machines, a third of a run's CPU time. A deep copy of the parsed program costs a twentieth of that,
and every execution still evaluates a component tree of its own, as when it parsed it.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from typing import Any

from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

_KEPT = 64  # definitions; a sandbox has a handful, tests a few dozen


class ParsedPrograms:
    """A small LRU of parsed programs by definition text."""

    def __init__(self, kept: int = _KEPT) -> None:
        self._kept = kept
        self._lock = threading.Lock()
        self._programs: OrderedDict[str, Any] = OrderedDict()

    def program(self, definition: str) -> Any:
        with self._lock:
            parsed = self._programs.get(definition)
            if parsed is not None:
                self._programs.move_to_end(definition)
        if parsed is None:
            parsed = AmazonStateLanguageParser.parse(definition)[0]
            with self._lock:
                self._programs[definition] = parsed
                while len(self._programs) > self._kept:
                    self._programs.popitem(last=False)
        try:
            return copy.deepcopy(parsed)
        except Exception:  # noqa: BLE001 - a component that cannot be copied: parse afresh, as moto does
            return AmazonStateLanguageParser.parse(definition)[0]


PROGRAMS = ParsedPrograms()


def _evaluation_entrypoint(self: Any) -> Any:
    return PROGRAMS.program(self._evaluation_details.state_machine_details.definition)


def install() -> None:
    setattr(ExecutionWorker, "_get_evaluation_entrypoint", _evaluation_entrypoint)  # noqa: B010 - patching moto

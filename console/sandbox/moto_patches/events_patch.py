"""EventBridge delivery without rebuilding a parser per event: moto's rule targets with compiled JSONPaths.

Every event a rule sends to a target goes through `EventTemplateParser.parse`, which builds the target's
input from its InputPathsMap (or, without an InputTransformer, the eight paths of the default input). moto
calls `jsonpath_ng.ext.parse` for each path of each event, and that builds a whole yacc parser each time:
about 6 ms per event, most of the cost of an event. `parse` below is moto's own, with each path compiled
once (a compiled path is immutable, so every thread can share it). The input it builds is unchanged.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from jsonpath_ng.ext.parser import parse as parse_json_path
from moto.events.utils import EventTemplateParser

# A sandbox has a handful of rules; the bound only guards against a client inventing paths without end.
_compiled = functools.lru_cache(maxsize=1024)(parse_json_path)


def parse(input_template: str, input_paths_map: dict[str, Any], event: Any) -> dict[str, Any]:
    """moto 5.2's `EventTemplateParser.parse`, with each JSONPath compiled once (see the module docstring)."""
    template_to_use = input_template or EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE
    input_paths_map = input_paths_map or EventTemplateParser.DEFAULT_EVENT_INPUT_PATHS_MAP
    for input_path in input_paths_map:
        matches = _compiled(input_paths_map[input_path]).find(event)
        result = EventTemplateParser._stringify(matches[0].value) if matches else None
        if result:
            template_to_use = template_to_use.replace(f"<{input_path}>", result)

    default_inputs_map = {
        "aws.events.event.json": event,
        "aws.events.event.ingestion-time": event["ingestion-time"],
    }
    for input_path in default_inputs_map:
        result = EventTemplateParser._stringify(default_inputs_map[input_path])
        template_to_use = template_to_use.replace(f"<{input_path}>", result)

    loaded: dict[str, Any] = json.loads(template_to_use)
    return loaded


def install() -> None:
    setattr(EventTemplateParser, "parse", staticmethod(parse))  # noqa: B010 - patching moto's class

"""JSONata in state machine definitions, evaluated by jsonata-python (moto ships a stub that always fails).

moto's parser already reads everything JSONata touches (`QueryLanguage`, `Arguments`, `Output`, `Assign`,
`Condition`, `Items`, `ItemSelector`, `{% %}` strings) and hands each expression to a string component.
moto's components compose one text out of the expression and every variable serialised as JSONata
source (`($states := {...}; $x := "..."; expr)`), then call an evaluator that is a stub. That text breaks on
a string holding a quote, and would parse the whole input again at every expression. So the two components'
bodies are replaced: the expression is parsed once (per thread: jsonata-python keeps per-evaluation state in
the compiled object) and evaluated with `$states` and the workflow's variables bound as values.

What AWS documents, and this does:

- `$states.input`, `$states.result`, `$states.errorOutput`, `$states.context`, variables set by `Assign`
  (JSONata and JSONPath states alike; JSONPath states read them as `"key.$": "$name"`).
- The functions Step Functions adds: `$partition`, `$range`, `$hash`, `$random` (with a seed), `$uuid`,
  `$parse`; `$eval` is not available.
- An expression that throws, returns nothing (undefined) or returns a function fails the state with
  `States.QueryEvaluationError` and an `EvaluationFailed` event naming the state and the field; Retry and
  Catch see that error as any other.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import threading
import uuid
from collections import OrderedDict
from typing import Any

import jsonata as jsonata_python
from jsonata.utils import Utils
from moto.stepfunctions.parser.api import EvaluationFailedEventDetails, HistoryEventType
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.common.string.string_expression import (
    StringJSONata,
    StringVariableSample,
)
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.eval.variable_store import VariableStore
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"
_KEPT_PER_THREAD = 256
_HASH_ALGORITHMS = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


class QueryEvaluationFailed(Exception):
    """An expression did not give a JSON value; the message is the `cause` AWS would write."""


# --- the functions Step Functions adds ------------------------------------------------------------------


def _partition(array: Any, size: Any) -> list[Any]:
    items = _as_list(array)
    if not isinstance(size, int | float) or size < 1 or int(size) != size:
        raise QueryEvaluationFailed("$partition: the chunk size must be a positive integer")
    step = int(size)
    return [items[i : i + step] for i in range(0, len(items), step)]


def _range(first: Any, last: Any, step: Any) -> list[Any]:
    if not all(isinstance(v, int | float) for v in (first, last, step)) or step == 0:
        raise QueryEvaluationFailed("$range: start, end and a non-zero step must be numbers")
    count = math.floor((last - first) / step) + 1
    if count > 1000:
        raise QueryEvaluationFailed("$range: at most 1000 items")
    return [_number(first + i * step) for i in range(max(count, 0))]


def _hash(value: Any, algorithm: Any) -> str:
    name = _HASH_ALGORITHMS.get(algorithm) if isinstance(algorithm, str) else None
    if name is None or not isinstance(value, str):
        raise QueryEvaluationFailed(f"$hash: a string and one of {', '.join(_HASH_ALGORITHMS)}")
    return hashlib.new(name, value.encode()).hexdigest()


def _random(seed: Any = None) -> float:
    return random.Random(seed).random() if seed is not None else random.random()


def _uuid() -> str:
    return str(uuid.uuid4())


def _parse(text: Any) -> Any:
    if not isinstance(text, str):
        raise QueryEvaluationFailed("$parse: the argument must be a JSON string")
    try:
        return _bindable(json.loads(text))
    except json.JSONDecodeError as exc:
        raise QueryEvaluationFailed(f"$parse: not JSON: {exc}") from None


def _eval_refused(*_args: Any) -> None:
    raise QueryEvaluationFailed("$eval is not supported in Step Functions; use $parse")


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return list(value)
    return [] if value is None else [value]


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


_FUNCTIONS = {
    "partition": _partition,
    "range": _range,
    "hash": _hash,
    "random": _random,
    "uuid": _uuid,
    "parse": _parse,
    "eval": _eval_refused,
}


# --- evaluation ---------------------------------------------------------------------------------------


class _Compiled(threading.local):
    def __init__(self) -> None:
        self.expressions: OrderedDict[str, Any] = OrderedDict()


_compiled = _Compiled()


def _compile(expression: str) -> Any:
    cache = _compiled.expressions
    found = cache.get(expression)
    if found is None:
        found = jsonata_python.Jsonata(expression)
        found.set_output_convert_nulls(False)
        cache[expression] = found
        while len(cache) > _KEPT_PER_THREAD:
            cache.popitem(last=False)
    else:
        cache.move_to_end(expression)
    # jsonata-python's $now(), $millis() and higher-order functions read the running expression from here.
    jsonata_python.Jsonata.CURRENT.jsonata = found
    return found


def _bindable(value: Any) -> Any:
    """A JSON null bound as a variable is JSONata's null, not undefined."""
    return Utils.NULL_VALUE if value is None else value


def _json_value(value: Any) -> Any:
    """jsonata-python's result → plain JSON data (its null marker → None); anything else is refused."""
    if value is Utils.NULL_VALUE or value is None:
        # Inside an array or object None is a JSON null of the data bound in (JSONata drops undefined there).
        return None
    if isinstance(value, bool | str | int | float):
        return value
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    raise QueryEvaluationFailed("returned an unsupported result type")


def evaluate(expression: str, bindings: dict[str, Any], data: Any = None) -> Any:
    """Evaluate `expression` over `data` with `bindings` (names without `$`); QueryEvaluationFailed says why not.

    Step Functions evaluates over no input (`$states.input` holds it); a simulated function over its payload.
    """
    try:
        compiled = _compile(expression)
        variables = {name: _bindable(value) for name, value in bindings.items()}
        for name, function in _FUNCTIONS.items():
            variables.setdefault(name, jsonata_python.Jsonata.JLambda(function))
        result = compiled.evaluate(data, variables)
    except QueryEvaluationFailed:
        raise
    except RecursionError:
        raise QueryEvaluationFailed("threw an error during evaluation: too deeply nested") from None
    except Exception as exc:  # noqa: BLE001 - whatever the expression throws is the workflow's error
        raise QueryEvaluationFailed(f"threw an error during evaluation: {exc}") from None
    if result is None:
        raise QueryEvaluationFailed("returned nothing (undefined)")
    return _json_value(result)


def _variables(store: VariableStore) -> dict[str, Any]:
    found = dict(store._outer_scope)
    found.update(store._inner_scope)
    return found


def _failure(env: Any, expression: str, problem: str) -> FailureEventException:
    field = getattr(env, "next_field_name", None)
    state = env.states.context_object.context_object_data["State"]["Name"]
    where = f" specified for the field '{field}'" if field else ""
    details = EvaluationFailedEventDetails(
        error=QUERY_EVALUATION_ERROR,
        cause=f"The JSONata expression '{expression}'{where} {problem}",
        state=state,
    )
    if field:
        details["location"] = field
    event_details: Any = {"evaluationFailedEventDetails": details}
    return FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=StatesErrorNameType.StatesQueryEvaluationError),
            event_type=HistoryEventType.EvaluationFailed,
            event_details=event_details,
        )
    )


def _evaluate_in(env: Any, expression: str, with_states: bool) -> Any:
    bindings = _variables(env.variable_store)
    if with_states:
        bindings["states"] = env.states._states_data
    try:
        return evaluate(expression, bindings)
    except QueryEvaluationFailed as failed:
        raise _failure(env, expression, str(failed)) from None


def _string_jsonata_eval_body(self: Any, env: Any) -> None:
    env.stack.append(_evaluate_in(env, self.expression, with_states=True))


def _string_variable_sample_eval_body(self: Any, env: Any) -> None:
    # `"key.$": "$name.path"` in a JSONPath state: variables only; `$states` is JSONata's alone.
    env.stack.append(_evaluate_in(env, self.expression, with_states=self.query_language_mode.name == "JSONata"))


def _assigned_variables(self: Any) -> dict[str, str]:
    """StateExited's `assignedVariables`: each value as JSON text (moto quoted strings without escaping)."""
    return {name: to_json_str(self.get(name), separators=(",", ":")) for name in sorted(self._declaration_tracing)}


# moto names the field being evaluated after the component's class (`JSONataTemplateValueTerminalStringJSONata`)
# unless it is a key of a template; errors name the ASL field instead.
_ASL_FIELDS = {
    "Arguments": "Arguments",
    "ArgumentsJSONataTemplateValueObject": "Arguments",
    "ArgumentsStringJSONata": "Arguments",
    "AssignDecl": "Assign",
    "Output": "Output",
    "Items": "Items",
    "ItemsArray": "Items",
    "ItemsJSONata": "Items",
    "ItemSelector": "ItemSelector",
    "ConditionJSONataLit": "Condition",
    "ConditionStringJSONata": "Condition",
    "TimeoutSecondsJSONata": "TimeoutSeconds",
    "HeartbeatSecondsJSONata": "HeartbeatSeconds",
    "MaxConcurrencyJSONata": "MaxConcurrency",
    "ToleratedFailureCountStringJSONata": "ToleratedFailureCount",
    "ToleratedFailurePercentageStringJSONata": "ToleratedFailurePercentage",
    "SecondsJSONata": "Seconds",
    "Parameters": "Parameters",
    "ResultSelector": "ResultSelector",
    "ResultPath": "ResultPath",
    "InputPath": "InputPath",
    "OutputPath": "OutputPath",
    "ItemsPath": "ItemsPath",
}


def _field_name(self: Any) -> str | None:
    return _ASL_FIELDS.get(type(self).__name__)


def install() -> None:
    setattr(EvalComponent, "_field_name", _field_name)  # noqa: B010 - patching moto
    setattr(StringJSONata, "_eval_body", _string_jsonata_eval_body)  # noqa: B010 - patching moto
    setattr(StringVariableSample, "_eval_body", _string_variable_sample_eval_body)  # noqa: B010
    setattr(VariableStore, "get_assigned_variables", _assigned_variables)  # noqa: B010

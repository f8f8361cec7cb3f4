"""Task tokens kept off every screen, terminal, pipe and log: found where the definition puts them, then
redacted by value wherever they show up.

A `.waitForTaskToken` task's token is a bearer credential for a person's decision: whoever holds it can answer
SendTaskSuccess. AWS shows it to anyone who reads the history, inside the TaskScheduled event's resolved
parameters, and a definition may put it anywhere there: under any key (`callback.$: $$.Task.Token`), inside a
formatted string (`States.Format('answer {}', $$.Task.Token)`), inside JSON held in a string, or as part of
the whole context object (`$$.Task`). Matching key names cannot find all of that; values can. So the history
follower asks this module for the tokens of each TaskScheduled event (from the state's `token_expressions`,
see console/aws/stepfunctions.py, plus any long string under a key named like a token), keeps them per execution,
and stores every event with every known token replaced by `PLACEHOLDER`. What the screens, `watch` and the
approvals inbox show is built from those events only; the action gate reads the token afresh from AWS when a
person answers, and writes only its digest to the audit log.

When an expression embeds the token in a way that cannot be taken apart, the whole value it produced counts as
the secret: over-redacting a message is cheap, leaking a token is not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from console.stepfunctions.model import HistoryEvent, TaskTokenState

PLACEHOLDER = "‹task token›"
# Shorter strings are not tokens (and redacting them would garble ordinary text).
MIN_TOKEN_LENGTH = 8
_TOKEN_REFERENCES = ("$$.Task.Token", "$states.context.Task.Token")


def tokens_in(parameters: str | None, state: TaskTokenState | None) -> set[str]:
    """The task token(s) in a TaskScheduled event's resolved `parameters`, as far as they can be found."""
    if not parameters:
        return set()
    try:
        document: Any = json.loads(parameters)
    except ValueError:
        return set()
    found: set[str] = set()
    for path, expression in state.token_expressions if state is not None else ():
        found |= _secrets(_at(document, path), expression)
    found |= token_like(document)
    return {token for token in found if len(token) >= MIN_TOKEN_LENGTH}


def token_like(document: Any) -> set[str]:
    """Every long string under a key named like a token, JSON held in strings included: the net under the
    definition's own word (a state machine changed since it was described, an execution of another one)."""
    found: set[str] = set()

    def walk(value: Any, depth: int) -> None:
        if depth > 64:
            return
        if isinstance(value, str) and value[:1] in ("{", "["):
            try:
                value = json.loads(value)
            except ValueError:
                return
        if isinstance(value, dict):
            for key, item in value.items():
                if "token" in str(key).lower() and isinstance(item, str) and len(item) >= 16:
                    found.add(item)
                else:
                    walk(item, depth + 1)
        elif isinstance(value, list):
            for item in value:
                walk(item, depth + 1)

    walk(document, 0)
    return found


# The key Step Functions' own integration puts in a child execution's input to name the parent execution
# (`"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"`).
STARTED_BY = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"


def started_by(execution_input: str | None) -> str | None:
    """The ARN of the execution that started this one, when its input names it (a nested workflow)."""
    if not execution_input or STARTED_BY not in execution_input:
        return None
    try:
        document = json.loads(execution_input)
    except ValueError:
        return None
    parent = document.get(STARTED_BY) if isinstance(document, dict) else None
    return parent if isinstance(parent, str) and parent.startswith("arn:") else None


def handed_down(execution_input: str | None, parent_tokens: Iterable[str]) -> set[str]:
    """The tokens an execution's input carries: a parent's `.waitForTaskToken` token handed to a child
    execution (nested `states:startExecution.waitForTaskToken`), found by value when the parent's history
    was read (`parent_tokens`), and by a key named like a token otherwise."""
    if not execution_input:
        return set()
    found = {token for token in parent_tokens if token in execution_input}
    try:
        found |= token_like(json.loads(execution_input))
    except ValueError:
        pass
    return {token for token in found if len(token) >= MIN_TOKEN_LENGTH}


def redact(text: str | None, tokens: Iterable[str]) -> str | None:
    """`text` with every occurrence of every token replaced by `PLACEHOLDER`."""
    if not text:
        return text
    for token in sorted(tokens, key=len, reverse=True):
        if token in text:
            text = text.replace(token, PLACEHOLDER)
    return text


def redact_event(event: HistoryEvent, tokens: Iterable[str]) -> HistoryEvent:
    """The event with the tokens redacted from every field that carries text from the execution."""
    known = tuple(tokens)
    if not known:
        return event
    return replace(
        event,
        parameters=redact(event.parameters, known),
        input=redact(event.input, known),
        output=redact(event.output, known),
        error=redact(event.error, known),
        cause=redact(event.cause, known),
    )


# --- where an expression put the token --------------------------------------------------------------------


def _at(document: Any, path: tuple[str | int, ...]) -> Any:
    value = document
    for key in path:
        if isinstance(key, int):
            value = value[key] if isinstance(value, list) and -len(value) <= key < len(value) else None
        else:
            value = value.get(key) if isinstance(value, dict) else None
    return value


def _secrets(value: Any, expression: str) -> set[str]:
    """The token inside `value`, the value an expression that mentions the token produced."""
    if isinstance(value, dict | list):
        return _under_token_keys(value)
    if not isinstance(value, str) or not value:
        return set()
    text = expression.strip()
    if text.startswith("{%") and text.endswith("%}"):
        text = text[2:-2].strip()
    if text in _TOKEN_REFERENCES:
        return {value}
    pattern = _format_pattern(text)
    if pattern is not None:
        regex, groups = pattern
        match = regex.fullmatch(value)
        if match is not None and all(match.group(g) for g in groups):
            return {match.group(g) for g in groups}
    if value[:1] in ("{", "["):  # e.g. States.JsonToString($$.Task)
        try:
            inner = _under_token_keys(json.loads(value))
        except ValueError:
            inner = set()
        if inner:
            return inner
    return {value}  # embedded some other way: the whole value is the secret


def _under_token_keys(value: Any, depth: int = 0) -> set[str]:
    """Strings under a `Token` key (the context object's `Task.Token`), or under any key named like a token."""
    found: set[str] = set()
    if depth > 64:
        return found
    if isinstance(value, dict):
        for key, item in value.items():
            if "token" in str(key).lower() and isinstance(item, str):
                found.add(item)
            else:
                found |= _under_token_keys(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            found |= _under_token_keys(item, depth + 1)
    return found


_FORMAT = re.compile(r"^States\.Format\(\s*'((?:[^'\\]|\\.)*)'\s*(.*)\)$", re.DOTALL)


def _format_pattern(expression: str) -> tuple[re.Pattern[str], list[int]] | None:
    """For `States.Format('template', arg, ...)`: a regex matching its result, and the groups holding the
    arguments that are the token. None for any other expression."""
    found = _FORMAT.match(expression)
    if found is None:
        return None
    template, rest = found.groups()
    rest = rest.strip()
    if rest and not rest.startswith(","):
        return None
    arguments = _split_arguments(rest[1:]) if rest else []
    parts: list[str] = []
    placeholders = 0
    index = 0
    while index < len(template):
        char = template[index]
        if char == "\\" and index + 1 < len(template):
            parts.append(re.escape(template[index + 1]))
            index += 2
            continue
        if template.startswith("{}", index):
            placeholders += 1
            parts.append("(.*?)")
            index += 2
            continue
        parts.append(re.escape(char))
        index += 1
    if placeholders != len(arguments):
        return None
    groups = [i + 1 for i, argument in enumerate(arguments) if argument in _TOKEN_REFERENCES]
    if not groups:
        return None
    return re.compile("".join(parts), re.DOTALL), groups


def _split_arguments(text: str) -> list[str]:
    """Top-level, comma-separated arguments of an intrinsic function (quotes and parentheses respected)."""
    arguments: list[str] = []
    depth = 0
    quoted = False
    current: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if quoted and char == "\\" and index + 1 < len(text):
            current.append(text[index : index + 2])
            index += 2
            continue
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0 and char == ",":
            arguments.append("".join(current).strip())
            current = []
            index += 1
            continue
        current.append(char)
        index += 1
    arguments.append("".join(current).strip())
    return arguments

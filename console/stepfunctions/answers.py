"""The answer a workflow expects: what SendTaskSuccess sends on approve, and SendTaskFailure on reject.

A workflow that waits for a token reads the answer: AWS's human-in-the-loop example branches on
`$.approvalStatus.result`, another on `$.approved`. The config's `approvals:` maps state machines and states
(globs) to templates; the first rule that matches both names wins, and without one wavedeck sends its own
body (`DEFAULT_APPROVE`, `DEFAULT_REJECT`). Templates are JSON documents whose strings may hold `{reason}`,
`{operator}` (the local user@host) and `{identity}` (the caller's ARN); `{{` and `}}` are literal braces.
Values are substituted inside strings only, so a reason can never change the shape of the document.

The confirmation shows the exact text that is sent, and may replace it (`check_body` says whether AWS would
take it); `AnswerBody.text` is what both the confirmation and the executor use, so what is shown is sent.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from console.errors import Refused

PLACEHOLDERS = ("reason", "operator", "identity")
# SendTaskSuccess `output`: at most 256 KiB of UTF-8 (AWS's payload limit); SendTaskFailure `error` at most
# 256 characters and `cause` at most 32768 (botocore's service model).
OUTPUT_MAX_BYTES = 262144
ERROR_MAX = 256
CAUSE_MAX = 32768
REJECT_KEYS = ("error", "cause")

DEFAULT_APPROVE: Mapping[str, Any] = {"approved": True, "reason": "{reason}", "approvedBy": "{identity}"}
DEFAULT_REJECT: Mapping[str, Any] = {"error": "wavedeck.Rejected", "cause": "{reason}"}

_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


@dataclass(frozen=True, slots=True)
class AnswerRule:
    """One entry of the config's `approvals:` list (`line`: where it is, for the confirmation to name it)."""

    state_machine: str
    state: str
    approve: Any = None  # None: the default approve body
    reject: Mapping[str, Any] | None = None  # None: the default reject body
    line: int = 0

    def matches(self, machine: str, state: str) -> bool:
        return fnmatch.fnmatchcase(machine, self.state_machine) and fnmatch.fnmatchcase(state, self.state)


@dataclass(frozen=True, slots=True)
class AnswerBook:
    """The rules in config order; `source` names the file for the confirmation's "from" line."""

    rules: tuple[AnswerRule, ...] = ()
    source: str = ""

    def template(self, machine: str, state: str, *, approve: bool) -> tuple[Any, str]:
        """The template for answering `state` of `machine`, and where it comes from (a sentence)."""
        for number, rule in enumerate(self.rules):
            template = rule.approve if approve else rule.reject
            if template is not None and rule.matches(machine, state):
                where = f"{self.source}:{rule.line}" if self.source and rule.line else f"approvals[{number}]"
                return template, f"config {where}"
        return (DEFAULT_APPROVE if approve else DEFAULT_REJECT), "wavedeck's default"


@dataclass(frozen=True, slots=True)
class AnswerBody:
    """What approve / reject of one waiting task sends, before the reason is known.

    `fixed`: a body the operator wrote (the console's editor, the CLI's --output), sent exactly as given.
    """

    template: Any
    approve: bool
    values: Mapping[str, str] = field(default_factory=dict)
    origin: str = ""
    fixed: str | None = None

    def text(self, reason: str) -> str:
        """The exact JSON text sent with `reason`: the fixed body, or the template filled in."""
        if self.fixed is not None:
            return self.fixed
        document = fill(self.template, {**self.values, "reason": reason})
        return json.dumps(document, indent=2, ensure_ascii=False)

    def sending(self, text: str) -> AnswerBody:
        """This body sending exactly `text` (the editor's, --output's); Refused when AWS would not take it."""
        return replace(self, fixed=check_body(text, approve=self.approve))

    def failure(self, reason: str) -> tuple[str, str]:
        """Reject: the (error, cause) SendTaskFailure sends."""
        document = json.loads(self.text(reason))
        return str(document.get("error", "")), str(document.get("cause", ""))


def fill(template: Any, values: Mapping[str, str]) -> Any:
    """`template` with `{name}` replaced by `values[name]` inside every string (keys included)."""
    if isinstance(template, str):
        return _FIELD.sub(lambda m: _value(m, values), template)
    if isinstance(template, Mapping):
        return {fill(str(k), values): fill(v, values) for k, v in template.items()}
    if isinstance(template, list | tuple):
        return [fill(item, values) for item in template]
    return template


def _value(match: re.Match[str], values: Mapping[str, str]) -> str:
    whole = match.group(0)
    if whole == "{{":
        return "{"
    if whole == "}}":
        return "}"
    return values.get(match.group(1), whole)


Path = tuple[str | int, ...]


def template_problem(template: Any) -> str | None:
    """What is wrong with a template's placeholders or values, or None (checked when the config loads)."""
    found = problem_at(template)
    if found is None:
        return None
    where, problem = found
    return f"{path_text(where)}: {problem}" if where else problem


def path_text(where: Path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in where).lstrip(".")


def problem_at(template: Any, where: Path = ()) -> tuple[Path, str] | None:
    """Where in a template the first problem is (keys and list indexes), and the problem; None if none."""
    if isinstance(template, str):
        for match in _FIELD.finditer(template):
            name = match.group(1)
            if name is not None and name not in PLACEHOLDERS:
                known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
                return where, f"unknown placeholder {{{name}}} (known: {known}; write {{{{ and }}}} for braces)"
        return None
    if isinstance(template, Mapping):
        for key, value in template.items():
            if not isinstance(key, str):
                return (*where, str(key)), f"key {key!r} must be a string (JSON keys are strings)"
            found = problem_at(key, (*where, key)) or problem_at(value, (*where, key))
            if found:
                return found
        return None
    if isinstance(template, list | tuple):
        return next((p for p in (problem_at(v, (*where, i)) for i, v in enumerate(template)) if p), None)
    if isinstance(template, float) and template != template:
        return where, "NaN is not JSON"
    if template is None or isinstance(template, bool | int | float):
        return None
    return where, f"{type(template).__name__} is not JSON (write it as a string)"


def reject_problem(template: Any) -> str | None:
    """A reject template is {error, cause} with string values (what SendTaskFailure takes), or the problem."""
    if not isinstance(template, Mapping):
        return "expected a mapping with 'error' and/or 'cause'"
    unknown = [str(k) for k in template if k not in REJECT_KEYS]
    if unknown:
        return f"unknown key {unknown[0]!r} (SendTaskFailure takes only 'error' and 'cause')"
    for key in REJECT_KEYS:
        if key in template and not isinstance(template[key], str):
            return f"{key}: must be a string"
    return template_problem(template)


def check_body(text: str, *, approve: bool) -> str:
    """`text` when AWS would take it as the answer, else Refused saying why (invalid JSON: where).

    Approve: any JSON document up to 256 KiB (SendTaskSuccess `output`). Reject: an object with a string
    `error` (≤ 256 characters) and/or `cause` (≤ 32768), nothing else (SendTaskFailure).
    """
    try:
        document = json.loads(text)
    except ValueError as error:
        problem = getattr(error, "msg", str(error))
        line, column = getattr(error, "lineno", 0), getattr(error, "colno", 0)
        raise Refused(f"not valid JSON: {problem} at line {line} column {column}; nothing was sent") from None
    if approve:
        size = len(text.encode())
        if size > OUTPUT_MAX_BYTES:
            raise Refused(f"the output is {size} bytes; SendTaskSuccess takes at most {OUTPUT_MAX_BYTES}")
        return text
    if not isinstance(document, dict):
        raise Refused('a rejection is {"error": "…", "cause": "…"} (SendTaskFailure takes nothing else)')
    problem = reject_problem(document)
    if problem and "placeholder" not in problem:
        raise Refused(f"a rejection is {{error, cause}}: {problem}")
    if len(document.get("error", "")) > ERROR_MAX:
        raise Refused(f"'error' has more than {ERROR_MAX} characters (SendTaskFailure's limit)")
    if len(document.get("cause", "")) > CAUSE_MAX:
        raise Refused(f"'cause' has more than {CAUSE_MAX} characters (SendTaskFailure's limit)")
    return text


def book_of(rules: Sequence[AnswerRule], source: str = "") -> AnswerBook:
    return AnswerBook(tuple(rules), source)

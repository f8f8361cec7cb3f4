"""Checks the reason an operator gives for an action, before anything is sent.

Every action needs a reason (it goes to the audit log, and to AWS where the API takes one). Where AWS limits it,
the limit is checked here so the operator hears about it in plain words instead of as a ValidationException:
DisableStageTransition allows only `[a-zA-Z0-9!@ \\(\\)\\.\\*\\?\\-]`, 1-300 characters; PutApprovalResult's
summary is at most 512; StopPipelineExecution's reason at most 200.
"""

from __future__ import annotations

import re

from console.errors import Refused

TRANSITION_REASON_MAX = 300
APPROVAL_SUMMARY_MAX = 512
STOP_REASON_MAX = 200
# Step Functions' `cause` takes 32768; the audit log is the only other place a reason goes.
DEFAULT_REASON_MAX = 2000

_TRANSITION_ALLOWED = re.compile(r"[a-zA-Z0-9!@ ().*?\-]")
_ALLOWED_WORDS = "letters A-Z a-z, digits, spaces and ! @ ( ) . * ? -"


def _describe(char: str) -> str:
    if char == " ":
        return "a space"
    if char == "\t":
        return "a tab"
    if char in "\r\n":
        return "a line break"
    if not char.isprintable():
        return f"the control character U+{ord(char):04X}"
    return f"'{char}'"


def check_reason(reason: str | None, *, max_length: int = DEFAULT_REASON_MAX, transition: bool = False) -> str:
    """Return the reason as it will be sent (outer whitespace removed) or raise Refused saying what is wrong.

    `transition`: the reason goes to DisableStageTransition, which allows only AWS's narrow character set.
    """
    text = (reason or "").strip()
    if not text:
        raise Refused("a reason is required: say why, for the audit log and for the people who read it later")
    if transition:
        max_length = min(max_length, TRANSITION_REASON_MAX)
        bad: list[str] = []
        for char in text:
            if not _TRANSITION_ALLOWED.fullmatch(char) and char not in bad:
                bad.append(char)
        if bad:
            found = [f"{_describe(c)} at character {text.index(c) + 1}" for c in bad[:5]]
            listed = ", ".join(found[:-1]) + (" and " if len(found) > 1 else "") + found[-1]
            more = " (and more)" if len(bad) > 5 else ""
            raise Refused(
                f"the reason for pausing promotion contains {listed}{more}, which AWS does not allow there: "
                f"use only {_ALLOWED_WORDS}"
            )
    else:
        control = next((c for c in text if not c.isprintable() and c not in "\t"), None)
        if control is not None:
            raise Refused(f"the reason contains {_describe(control)}; write it on one line")
    if len(text) > max_length:
        raise Refused(f"the reason is {len(text)} characters long; at most {max_length} are allowed here")
    return text

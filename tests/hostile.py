"""Hostile data for the sandbox: a state machine whose approval hides its task token everywhere a definition
can put it, among text that tries to be markup, terminal escapes, reversed text and a flood.

`hostile_machine(queue_url)` is an ASL document for the sandbox (create it with `create_machine`); every test
that shows AWS text can start it and check that neither the token nor any live escape reaches the output.
The token sits under an odd key (`callback`), in a list (`routes[1].reply`), inside a formatted string
(`States.Format`) and inside JSON held in a string (`States.JsonToString($$.Task)`); no key is named like a
token, so only the definition says where it is.
"""

from __future__ import annotations

from typing import Any

MARKUP = "[bold red]APPROVE NOW[/] [link=https://evil.example]click[/link]"
ESCAPES = "\x1b[2J\x1b[H\x1b]0;owned\x07\x1b]52;c;cHduZWQ=\x07\r\x9b31m"
BIDI = "\u202etpecca\u202c \u2066isolate\u2069 \u200e\u200f"
HUGE = "z" * 20_000
# Every kind of hostile text at once (the ask of the approval, so every screen shows it).
HOSTILE_TEXT = f"Promote? {MARKUP} {ESCAPES} {BIDI} 世界 {HUGE}"
# Characters that must never reach a terminal raw.
RAW_UNSAFE = ("\x1b", "\x07", "\x9b", "\r", "\u202e", "\u202c", "\u2066", "\u2069", "\u200e", "\u200f")


def hostile_machine(queue_url: str) -> dict[str, Any]:
    """Prepare → Approve (SQS `.waitForTaskToken`, the token hidden as the module docstring says) → Done."""
    approve: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {
            "QueueUrl": queue_url,
            "MessageBody": {
                "ask": HOSTILE_TEXT,
                "callback.$": "$$.Task.Token",
                "note.$": "States.Format('answer with {} please', $$.Task.Token)",
                "task.$": "States.JsonToString($$.Task)",
                "routes": [{"name": "chat"}, {"reply.$": "$$.Task.Token"}],
            },
        },
        "ResultPath": "$.approval",
        "Next": "Done",
    }
    return {
        "StartAt": "Prepare",
        "States": {
            "Prepare": {"Type": "Pass", "Result": HOSTILE_TEXT, "ResultPath": "$.prepared", "Next": "Approve"},
            "Approve": approve,
            "Done": {"Type": "Succeed"},
        },
    }

"""Untrusted text (names, summaries, errors, payloads from AWS) made safe to show: literal, one line, no escapes.

Everything AWS returns is data, never markup: it is wrapped in `rich.text.Text` (which never parses `[b]`),
and control characters are removed first, so an error message with an ANSI escape or a carriage return
cannot move the cursor, recolour the screen or hide what comes before it.
"""

from __future__ import annotations

import json
import re

from rich.style import Style
from rich.text import Text

# Tab and newline are handled separately (console/terminal_text.py: the one rule for unsafe characters).
from console.terminal_text import UNSAFE_BUT_LAYOUT as _CONTROL

# A whole escape sequence (CSI ... final byte, OSC ... BEL/ST) goes, not just its ESC byte.
_ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")
_WHITESPACE = re.compile(r"[\t\n]+")


def clean(text: object, *, keep_newlines: bool = False) -> str:
    """`text` as a string with escape sequences and control characters removed.

    Tabs (and newlines, unless `keep_newlines`) become single spaces, so one value stays on one line.
    """
    value = "" if text is None else str(text)
    value = _ESCAPE_SEQUENCE.sub("", value)
    if keep_newlines:
        value = value.replace("\r\n", "\n").replace("\t", " ")
    else:
        value = _WHITESPACE.sub(" ", value.replace("\r\n", "\n"))
    return _CONTROL.sub("", value)


def literal(text: object, style: str | Style = "", *, keep_newlines: bool = False) -> Text:
    """A `Text` that shows `text` exactly (after `clean`), never interpreting markup in it."""
    return Text(clean(text, keep_newlines=keep_newlines), style=style, end="")


def shorten(text: str, width: int) -> str:
    """`text` cut to `width` cells with an ellipsis when it is longer."""
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def commit_message(summary: str | None) -> str:
    """The first line of a summary as a person wrote it.

    Source revisions arrive as their commit message already (the gateway reads it out of CodeConnections'
    JSON revision summaries); a source action's own summary still comes as that JSON,
    `{"ProviderType": "GitHub", "CommitMessage": "..."}`, and the operator wants the message, not the JSON.
    """
    text = (summary or "").strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("CommitMessage"), str):
            text = data["CommitMessage"]
    return clean(text.splitlines()[0] if text else "")


def middle(text: str, width: int) -> str:
    """`text` cut to `width` cells by dropping its middle: `checkout-api/…/DeployOneBox`."""
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    head = width // 2
    tail = width - 1 - head
    return text[:head] + "…" + (text[-tail:] if tail else "")

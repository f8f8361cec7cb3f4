"""The one rule for text from outside (AWS, definitions files) on its way to a terminal.

Every character that can change what a terminal shows other than by printing a glyph is unsafe: C0 controls,
DEL, C1 controls (0x9b is a one-byte CSI on some terminals), and the bidirectional marks, embeddings, overrides
and isolates (U+200E/F, U+202A-E, U+2066-9) that make a line read differently from what it is. The screens
remove them (`screens/text.py`), the command line shows them as escapes (`console/watch_output.py`), and JSON
output escapes them: all from this one class.
"""

from __future__ import annotations

import re

BIDI_CONTROLS = "\u200e\u200f\u202a-\u202e\u2066-\u2069"
UNSAFE = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f{BIDI_CONTROLS}]")
# The same without tab and newline, for a caller that has already turned those into layout.
UNSAFE_BUT_LAYOUT = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{BIDI_CONTROLS}]")
# What `json.dumps(..., ensure_ascii=False)` leaves raw among them (it escapes C0 itself).
UNSAFE_IN_JSON = re.compile(f"[\\x7f-\\x9f{BIDI_CONTROLS}]")

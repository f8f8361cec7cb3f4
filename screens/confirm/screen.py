"""The confirmation modals: `ConfirmActionModal` (exactly what will be sent, a reason, the typed wave name for
production) and `ConfirmQuitModal` (quitting while an action is in flight).

Impossible to misfire: the reason field has the focus, enter on an empty reason does nothing, a production
wave needs its name typed exactly (a wrong name refuses), esc cancels, and once confirmed the modal answers
exactly once however many times enter is pressed.

Approving or rejecting a Step Functions task shows the exact JSON it sends (the config's template filled in
with the reason as it is typed) in an editor: tab moves into it, and an edited body is sent exactly as it
reads, once it is JSON AWS takes (`check_body`); invalid JSON is refused with where it goes wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from console.actions.reasons import check_reason
from console.errors import Refused
from console.stepfunctions.answers import check_body
from console.stepfunctions.model import SERVICE as STEPFUNCTIONS
from screens.text import clean, literal

if TYPE_CHECKING:
    from console.actions.gate import ActionPlan

_VERBS = {
    "APPROVE": "Approve",
    "REJECT": "Reject",
    "STOP": "Stop",
    "STOP_ABANDON": "Stop and abandon",
    "ROLLBACK": "Roll back",
    "RETRY": "Retry",
    "PAUSE": "Pause promotion",
    "RESUME": "Resume promotion",
}


def verb(kind_name: str) -> str:
    return _VERBS.get(kind_name, kind_name.replace("_", " ").capitalize())


@dataclass(frozen=True, slots=True)
class Confirmation:
    """What the operator gave: the reason, and for production the wave name as typed."""

    reason: str
    typed: str | None = None
    body: str | None = None  # the exact answer to send (approve / reject of a Step Functions task)


class ConfirmActionModal(ModalScreen[Confirmation | None]):
    """Shows an `ActionPlan` and returns the operator's `Confirmation`, or None when cancelled."""

    CSS_PATH = "confirm.tcss"
    AUTO_FOCUS = "#reason"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="confirm.cancel"),
    ]

    def __init__(self, plan: ActionPlan) -> None:
        super().__init__(classes="-production" if plan.production else "")
        self.plan = plan
        self._answered = False
        self._rendered: str | None = None  # the body as last filled in from the reason; differs once edited

    @property
    def kind_name(self) -> str:
        return str(getattr(self.plan.kind, "name", self.plan.kind))

    def compose(self) -> ComposeResult:
        plan = self.plan
        with VerticalScroll(id="dialog"):
            yield Static(literal(plan.title, style="bold"), id="title")
            yield Static(self._what_table(), id="what")
            unknown = plan.wave is not None and plan.wave.is_unknown
            if plan.production and plan.confirm_word and unknown:
                yield Static(
                    Text.assemble(
                        (" ? UNKNOWN RISK ", "reverse bold red"),
                        f" {clean(plan.confirm_word)} matches no wave: confirmed like production.",
                    ),
                    id="production",
                )
            elif plan.production and plan.confirm_word:
                wave = plan.wave.name if plan.wave else plan.confirm_word
                yield Static(
                    Text.assemble(
                        (" ▲ PRODUCTION ", "reverse bold red"),
                        f" This changes the production wave {clean(wave)}.",
                    ),
                    id="production",
                )
            yield Label("Reason (required; goes to the audit log):", id="reason-label")
            yield Input(placeholder="why you are doing this", id="reason", select_on_focus=False, compact=True)
            if plan.production and plan.confirm_word:
                what = "wave's"
                if unknown:  # nothing places it: its own name
                    what = "state machine's" if plan.selection.service is STEPFUNCTIONS else "stage's"
                yield Label(
                    Text.assemble(f"Type the {what} name to confirm: ", (clean(plan.confirm_word), "bold")),
                    id="confirm-label",
                )
                yield Input(placeholder=f"the {what} name", id="confirm-word", select_on_focus=False, compact=True)
            if plan.answer is not None:
                yield Label(
                    Text.assemble(
                        (plan.operation or "It", "bold"),
                        " sends exactly this JSON (tab edits it):",
                    ),
                    id="body-label",
                )
                yield TextArea(
                    self._fill(""),
                    id="body",
                    soft_wrap=True,
                    tab_behavior="focus",
                    show_line_numbers=False,
                    compact=True,
                )
            yield Static("", id="problem")
            yield Static(
                Text.assemble(("enter", "bold"), f" {verb(self.kind_name).lower()} · ", ("esc", "bold"), " cancel"),
                id="hint",
            )

    # --- the body -----------------------------------------------------------------------------------------

    def _fill(self, reason: str) -> str:
        assert self.plan.answer is not None
        self._rendered = self.plan.answer.text(reason)
        return self._rendered

    @property
    def body_edited(self) -> bool:
        """The operator changed the body: from now on it is sent as it reads, whatever the reason says."""
        if self.plan.answer is None:
            return False
        return self.query_one("#body", TextArea).text != self._rendered

    @on(Input.Changed, "#reason")
    def _reason_changed(self, event: Input.Changed) -> None:
        if self.plan.answer is None or self.body_edited:
            return
        try:
            reason = check_reason(
                event.value, max_length=self.plan.reason_limit, transition=self.plan.reason_transition
            )
        except Refused:
            reason = event.value
        self.query_one("#body", TextArea).load_text(self._fill(reason))

    def _checked_body(self, reason: str) -> str | None:
        """The body to send (None: no body); says what is wrong and returns "" when it cannot be sent."""
        if self.plan.answer is None:
            return None
        editor = self.query_one("#body", TextArea)
        if not self.body_edited:
            text = self._fill(reason)  # exactly the reason that is sent, so exactly what was shown
            editor.load_text(text)
            return text
        try:
            return check_body(editor.text, approve=self.plan.answer.approve)
        except Refused as refused:
            self._problem(f"The body cannot be sent: {refused}")
            editor.focus()
            return ""

    def _what_table(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim", no_wrap=True)
        table.add_column(overflow="fold")
        for label, value in self.plan.lines:
            table.add_row(literal(label), literal(value))
        return table

    # --- answering ----------------------------------------------------------------------------------------

    def _problem(self, text: str) -> None:
        problem = self.query_one("#problem", Static)
        problem.update(literal(text, style="bold"))
        problem.set_class(bool(text), "-shown")

    def _checked_reason(self) -> str | None:
        """The reason as it will be sent, or None after saying what is wrong with it."""
        reason_input = self.query_one("#reason", Input)
        if not reason_input.value.strip():
            # Enter on an empty reason does nothing but say what is missing.
            self._problem("A reason is required.")
            reason_input.focus()
            return None
        try:
            return check_reason(
                reason_input.value, max_length=self.plan.reason_limit, transition=self.plan.reason_transition
            )
        except Refused as refused:
            self._problem(f"The reason cannot be sent: {refused}")
            reason_input.focus()
            return None

    def _try_send(self) -> None:
        if self._answered:
            return
        reason = self._checked_reason()
        if reason is None:
            return
        typed: str | None = None
        if self.plan.production and self.plan.confirm_word:
            word_input = self.query_one("#confirm-word", Input)
            typed = word_input.value.strip()
            if not typed:
                self._problem(f"Type {clean(self.plan.confirm_word)} to confirm this production change.")
                word_input.focus()
                return
            if typed != self.plan.confirm_word:
                self._problem(
                    f"Refused: {clean(typed)!r} is not the wave's name; type {clean(self.plan.confirm_word)} exactly."
                )
                word_input.focus()
                return
        body = self._checked_body(reason)
        if body == "":
            return
        self._answered = True
        self.dismiss(Confirmation(reason, typed, body))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "reason" and self.plan.production and self.plan.confirm_word:
            if self._checked_reason() is None:
                return
            word_input = self.query_one("#confirm-word", Input)
            if not word_input.value.strip():
                # The reason is fine: on to the wave's name.
                self._problem("")
                word_input.focus()
                return
        self._try_send()

    def action_cancel(self) -> None:
        if self._answered:
            return
        self._answered = True
        self.dismiss(None)


class ConfirmQuitModal(ModalScreen[bool]):
    """Asks before quitting while an action is being sent; names the actions in flight."""

    CSS_PATH = "confirm.tcss"
    AUTO_FOCUS = "#stay"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stay", "Stay", id="quit.stay"),
        Binding("y", "leave", "Quit anyway", id="quit.leave"),
        Binding("n", "stay", "Stay", show=False, id="quit.no"),
    ]

    def __init__(self, in_flight: tuple[str, ...]) -> None:
        super().__init__(classes="-quit")
        self.in_flight = in_flight

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text("Quit while an action is in flight?", style="bold"), id="title")
            body = Text("The console will stop waiting for:\n")
            for title in self.in_flight:
                body.append("  • ")
                body.append(clean(title))
                body.append("\n")
            body.append("AWS may still carry it out; the audit log will not record its result.", style="dim")
            yield Static(body, id="what")
            with Horizontal(id="buttons"):
                yield Static("y quits · n / esc stays", id="hint")
                yield Button("Quit anyway", id="leave", variant="error")
                yield Button("Stay", id="stay", variant="primary")

    @on(Button.Pressed, "#leave")
    def action_leave(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#stay")
    def action_stay(self) -> None:
        self.dismiss(False)

"""The headless commands: `wavedeck watch` and `wavedeck approve|reject|stop|rollback|retry|pause|resume|override`.

They run on the same runtime (watcher, gate) as the console, opened with the options the entry point
(console/__main__.py) makes: with `--sandbox`, those carry what the sandbox's fleet says. Exit codes: 0 done,
1 refused or failed (the reason on stderr), 2 bad usage; `watch` exits 0 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from console.actions.gate import ActionKind, ActionPlan
from console.codepipeline.model import pipelines_of
from console.errors import Refused, UsageError
from console.resources import Selection, parse_parts, resolve
from console.runtime import Runtime, RuntimeOptions
from console.services import NAMES
from console.stepfunctions.model import state_machines_of
from console.stepfunctions.selections import ExecutionSelection
from console.watch_output import plain

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
READY_TIMEOUT = 60.0  # seconds `watch` waits for the first full picture before saying it is watching


# --- setup-events -----------------------------------------------------------------------------------------


def run_setup_events(args: argparse.Namespace, options: RuntimeOptions) -> int:
    """Create (or, with --dry-run, say) what push for a team needs in each target's region; exit 0 or 1."""
    runtime = Runtime.open(options)
    try:
        return asyncio.run(_setup_events(runtime, dry_run=bool(args.dry_run)))
    finally:
        runtime.close()


async def _setup_events(runtime: Runtime, *, dry_run: bool) -> int:
    from console.events_setup import setup_events

    try:
        for target in runtime.targets:
            gateway = runtime.gateways[target.name]
            if gateway.read_only and not dry_run:
                raise Refused(f"{target.name} is read-only: setup-events creates resources (try --dry-run)")
            identity = await gateway.caller_identity()
            for line in await setup_events(gateway, target.region, identity.account, dry_run=dry_run):
                print(plain(f"{target.name}: {line}"), flush=True)
        return EXIT_OK
    finally:
        await runtime.aclose()


# --- watch ---------------------------------------------------------------------------------------------------


def run_watch(args: argparse.Namespace, options: RuntimeOptions) -> int:
    """Print one line per transition until Ctrl-C (exit 0), or until the watcher cannot start (exit 1)."""
    _starting(options)
    try:
        runtime = Runtime.open(options)
    except KeyboardInterrupt:
        return EXIT_OK
    try:
        asyncio.run(_watch(runtime, json_lines=bool(args.json)))
    except KeyboardInterrupt:
        pass
    except BrokenPipeError:
        # `wavedeck watch | head`: the reader went away; that is an ending, not an error.
        _silence_stdout()
    finally:
        runtime.close()
    return EXIT_OK


async def _watch(runtime: Runtime, *, json_lines: bool) -> None:
    from console.watch_output import TransitionPrinter

    try:
        await runtime.check_credentials()
        watcher = runtime.make_watcher()
        unsubscribe = watcher.subscribe(TransitionPrinter(sys.stdout, sys.stderr, json_lines=json_lines))
        await watcher.start()
        try:
            try:
                state = await watcher.wait_ready(READY_TIMEOUT)
            except TimeoutError:
                state = watcher.state
            where = ", ".join(t.name for t in runtime.targets)
            if runtime.sandbox is not None:
                where += f" (the sandbox at {runtime.sandbox.url})"
            pipelines = _count(len(pipelines_of(state)), "pipeline")
            machines = _count(len(state_machines_of(state)), "state machine")
            print(
                f"wavedeck: watching {pipelines} and {machines} in {where}; one line per transition (Ctrl-C stops)",
                file=sys.stderr,
                flush=True,
            )
            await asyncio.Event().wait()  # until Ctrl-C cancels this task
        finally:
            unsubscribe()
            await watcher.stop()
    finally:
        await runtime.aclose()


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


# --- waves ---------------------------------------------------------------------------------------------------


def run_waves(args: argparse.Namespace, options: RuntimeOptions) -> int:
    """Print where every stage landed (exit 0), or 1 when something could not be read (said on stderr)."""
    from console.wave_report import WaveReport, print_report, summary_line, wave_report

    _starting(options)
    runtime = Runtime.open(options)

    async def report() -> WaveReport:
        try:
            return await wave_report(runtime.gateways, runtime.waves)
        finally:
            await runtime.aclose()

    try:
        result = asyncio.run(report())
    finally:
        runtime.close()
    try:
        print_report(result, sys.stdout, json_lines=bool(args.json))
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    for error in result.errors:
        print(f"wavedeck: {plain(error)}", file=sys.stderr)
    print(summary_line(result), file=sys.stderr)
    return EXIT_FAILED if result.errors else EXIT_OK


# --- actions -------------------------------------------------------------------------------------------------


def action_kind(args: argparse.Namespace) -> ActionKind:
    if args.command == "stop" and getattr(args, "abandon", False):
        return ActionKind.STOP_ABANDON
    return ActionKind(args.command)


@dataclass
class _Progress:
    """How far an action command got, for what Ctrl-C has to say."""

    sending: bool = False


def run_action(args: argparse.Namespace, options: RuntimeOptions) -> int:
    """Plan, show, confirm and execute one action. Refusals and AWS failures exit 1 with the reason."""
    parse_parts(args.resource, list(NAMES.values()))  # bad syntax is bad usage: say so before starting anything
    _starting(options)
    runtime = Runtime.open(options)
    progress = _Progress()
    try:
        return asyncio.run(_act(runtime, args, progress))
    except KeyboardInterrupt:
        if progress.sending:
            # The gate wrote the result as "unknown" (or "not-sent"): AWS may already have it.
            print(
                f"wavedeck: interrupted while sending; AWS may have carried it out: look at {plain(args.resource)} "
                f"before trying again (the audit log {runtime.audit.path} has the record)",
                file=sys.stderr,
            )
        else:
            print("wavedeck: interrupted; nothing was sent", file=sys.stderr)
        return EXIT_FAILED
    finally:
        runtime.close()


async def _act(runtime: Runtime, args: argparse.Namespace, progress: _Progress) -> int:
    try:
        kind = action_kind(args)
        body = output_of(args)  # a file that cannot be read is bad usage, said before anything is read
        catalog = await runtime.catalog(args.target)
        selection = task_of(resolve(args.resource, catalog, args.target), args)
        gate = runtime.gate
        plan = await gate.plan(
            kind,
            selection,
            retry_all_actions=bool(getattr(args, "all_actions", False)),
            condition=getattr(args, "condition", None),
        )
        if body is not None:
            plan = plan.with_body(body)
        out = sys.stdout
        reason = args.reason
        show_plan(plan, out, gate.check_reason(plan, reason) if reason is not None else None)
        interactive = sys.stdin.isatty() and not args.yes
        if reason is None:
            if not interactive:
                raise UsageError("--reason TEXT is required (every action needs a reason)")
            reason = _ask("Reason: ")
            if reason is None:
                raise Refused("cancelled; nothing was sent")
            if plan.answer is not None and plan.answer.fixed is None:
                show_body(plan, out, gate.check_reason(plan, reason))
        reason = gate.check_reason(plan, reason)
        confirmation = _confirm(plan, args.yes, interactive)
        progress.sending = True
        outcome = await gate.execute(plan, reason, confirmation=confirmation)
        progress.sending = False
        print(plain(outcome.message), file=out, flush=True)
        return EXIT_OK
    except Refused as refusal:
        # Refusals quote what AWS holds (summaries, reasons): control characters are shown, not obeyed.
        print(f"wavedeck: refused: {plain(str(refusal))}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        await runtime.aclose()


def task_of(selection: Selection, args: argparse.Namespace) -> Selection:
    """The selection with the waiting task `--state` / `--index` name (approve and reject only)."""
    state = getattr(args, "state", None)
    index = getattr(args, "index", None)
    if state is None and index is None:
        return selection
    if not isinstance(selection, ExecutionSelection):
        raise UsageError(
            "--state and --index name a waiting state of a Step Functions execution: state-machine/execution"
        )
    if state is not None and (not state.strip() or not state.isprintable()):
        raise UsageError(f"--state: not a state name: {state!r}")
    return replace(selection, state_name=state, map_index=index)


def output_of(args: argparse.Namespace) -> str | None:
    """`--output JSON`, or the file's text for `--output @FILE`; None without it."""
    given: str | None = getattr(args, "output", None)
    if given is None or not given.startswith("@"):
        return given
    path = Path(given[1:]).expanduser()
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"--output: cannot read {given[1:]}: {getattr(error, 'strerror', None) or error}") from None


def show_plan(plan: ActionPlan, out: TextIO, reason: str | None = None) -> None:
    """The plan as the confirmation shows it: title, aligned label/value lines, the exact body it sends."""
    width = max((len(label) for label, _ in plan.lines), default=0)
    print(plain(plan.title), file=out)
    for label, value in plan.lines:
        print(f"  {label:<{width}}  {plain(value)}", file=out)
    if plan.answer is not None:
        show_body(plan, out, reason)
    if plan.production and plan.wave is not None and plan.wave.is_unknown:
        print(
            f"  This stage matches no wave (risk unknown): confirm with its name, {plain(plan.confirm_word)}.",
            file=out,
        )
    elif plan.production:
        print(f"  This acts on production: confirm with the wave's name, {plain(plan.confirm_word)}.", file=out)
    out.flush()


def show_body(plan: ActionPlan, out: TextIO, reason: str | None) -> None:
    """The exact JSON the answer sends; before the reason is known, `{reason}` stands where it goes."""
    if plan.answer is None:
        return
    pending = reason is None and plan.answer.fixed is None
    body = plan.answer.text("{reason}" if reason is None else reason)
    print(f"  {plan.operation} sends" + (" ({reason}: the reason you give)" if pending else "") + ":", file=out)
    for line in body.splitlines():
        print(f"    {plain(line)}", file=out)


def _confirm(plan: ActionPlan, yes: bool, interactive: bool) -> str | None:
    """What the operator confirmed with: the wave's name for production, else None. Raises when declined."""
    if yes:
        return plan.confirm_word
    if not interactive:
        raise UsageError("not on a terminal: pass --yes to confirm without being asked")
    if plan.production:
        typed = _ask(f"Type {plan.confirm_word} to confirm: ")
        if typed is None or typed.strip() != plan.confirm_word:
            raise Refused(f"not confirmed (expected {plan.confirm_word!r}); nothing was sent")
        return typed.strip()
    answer = _ask("Send it? [y/N] ")
    if answer is None or answer.strip().lower() not in ("y", "yes"):
        raise Refused("not confirmed; nothing was sent")
    return None


def _ask(prompt: str) -> str | None:
    """A line from the terminal, or None on Ctrl-C / end of input.

    Runs on the event loop's thread with Python's default Ctrl-C handling, so Ctrl-C ends the prompt at once
    (asyncio's own handler would only cancel the task, leaving input() waiting for a line).
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return input(prompt)
    except (KeyboardInterrupt, EOFError):
        print(file=sys.stderr)
        return None
    finally:
        signal.signal(signal.SIGINT, previous)


# --- the console ---------------------------------------------------------------------------------------------


def run_console(args: argparse.Namespace, options: RuntimeOptions) -> int:
    """`wavedeck` without a command: the Textual console (console/app.py `make_app`)."""
    _starting(options)
    runtime = Runtime.open(options)
    try:
        return asyncio.run(_console(runtime))
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        runtime.close()


async def _console(runtime: Runtime) -> int:
    from console.app import make_app
    from console.watch import ThreadedWatcher

    try:
        await runtime.check_credentials()
        # Reading, converting and diffing on the gateways' thread: the UI's loop only draws and takes keys.
        watcher = runtime.make_watcher()
        threaded = ThreadedWatcher(watcher, runtime.io) if runtime.io is not None else None
        app = make_app(
            runtime.config,
            runtime.targets,
            threaded or watcher,
            runtime.gate,
            waves=runtime.waves,
            read_only_reason=read_only_reason(runtime),
            precedence=runtime.io.precedence if runtime.io is not None else None,
        )
        # In this loop, not app.run()'s own, so the gateways can be closed on the loop they were used on.
        await app.run_async()
        code = app.return_code
        return code if isinstance(code, int) else EXIT_OK
    finally:
        await runtime.aclose()


def read_only_reason(runtime: Runtime) -> str | None:
    """Why the whole console is read-only, in the header's words (None: it is not)."""
    if runtime.options.read_only:
        return "started with --read-only"
    if runtime.config.read_only:
        return f"read_only: true in {runtime.config.source}"
    return None


def _starting(options: RuntimeOptions) -> None:
    if options.sandbox:
        from console.sandbox_process import require_sandbox_extra

        require_sandbox_extra()  # before saying it starts: without the extra it does not
        print("wavedeck: starting the sandbox (a few seconds)…", file=sys.stderr, flush=True)


__all__ = [
    "action_kind",
    "read_only_reason",
    "run_action",
    "run_console",
    "run_setup_events",
    "run_watch",
    "run_waves",
    "show_plan",
]

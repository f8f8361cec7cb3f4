"""The `wavedeck` command: the console, `sandbox`, `watch`, and the headless actions.

Commands import what they need when they run, so `wavedeck --help` and the console start fast.
Exit codes: 0 done, 1 refused or failed (the reason on stderr), 2 bad usage or bad config / definitions.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from console.errors import InputError, UsageError, WavedeckError

if TYPE_CHECKING:
    from console.runtime import RuntimeOptions

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text!r}")
    return value


def _milliseconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected milliseconds, got {text!r}") from None
    if not 0 <= value <= 10_000:
        raise argparse.ArgumentTypeError(f"must be 0-10000 milliseconds, got {text!r}")
    return value


def _index(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0-65535, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wavedeck",
        description="Supervise deployments on AWS CodePipeline and AWS Step Functions.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    sandbox = commands.add_parser(
        "sandbox",
        help="run the embedded AWS sandbox in the foreground",
        description="Run a local AWS endpoint where the fleet in definitions/ really deploys.",
    )
    sandbox.add_argument("--port", type=_port, default=4566, help="port to listen on (0: any free port; default 4566)")
    sandbox.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sandbox.add_argument(
        "--speed",
        type=_positive_float,
        default=1.0,
        help="clock multiplier: at 10 a deployment takes a tenth of the time (default 1)",
    )
    sandbox.add_argument("--seed", type=int, default=7, help="seed for failures and traffic (default 7)")
    sandbox.add_argument("--definitions", type=Path, help="definitions directory (default: the bundled one)")
    sandbox.add_argument("--no-traffic", action="store_true", help="do not start runs by themselves")
    sandbox.add_argument("--no-warm-up", action="store_true", help="start with an empty history")
    sandbox.add_argument(
        "--latency",
        type=_milliseconds,
        default=0.0,
        metavar="MS",
        help="delay every answer by MS milliseconds, as a round trip to AWS would (default 0)",
    )
    sandbox.add_argument(
        "--quotas",
        choices=("none", "aws"),
        default="none",
        help="aws: throttle each API per region as AWS does, answering ThrottlingException (default none)",
    )
    # For a parent that starts the sandbox as its child (console/sandbox_process.py): stop when stdin closes.
    sandbox.add_argument("--stop-on-stdin-eof", action="store_true", help=argparse.SUPPRESS)

    _add_common(parser, subcommand=False)
    watch = commands.add_parser(
        "watch",
        help="print one line per state transition until Ctrl-C",
        description="Print every state transition of every pipeline and state machine, one per line, until Ctrl-C.",
    )
    watch.add_argument("--json", action="store_true", help="one JSON object per line")
    _add_common(watch, subcommand=True)
    waves = commands.add_parser(
        "waves",
        help="print the wave, risk and why of every stage",
        description="Print every stage of every pipeline (and every state of the state machines with state waves) "
        "with its wave, risk and why it landed there: the check before trusting the board on a new account.",
    )
    waves.add_argument(
        "--json", action="store_true", help="one JSON object per line: target, resource, wave, risk, why"
    )
    _add_common(waves, subcommand=True)
    setup = commands.add_parser(
        "setup-events",
        help="create the EventBridge rule and SNS topic that push to every console (idempotent)",
        description=(
            "In each --region: the SNS topic wavedeck-events, its policy, the EventBridge rule wavedeck-console "
            "for aws.codepipeline and aws.states, and the topic as its target. What exists is left as it is. "
            "Consoles then run with --events-topic ARN."
        ),
    )
    setup.add_argument("--dry-run", action="store_true", help="send nothing but reads; say what would be done")
    _add_common(setup, subcommand=True)
    for name, (summary, description) in ACTION_COMMANDS.items():
        command = commands.add_parser(name, help=summary, description=description)
        command.add_argument("resource", metavar="RESOURCE", help=RESOURCE_HELP)
        command.add_argument("--reason", metavar="TEXT", help="why (required; asked for on a terminal if missing)")
        command.add_argument("--yes", action="store_true", help="do not ask for confirmation (nor the wave's name)")
        command.add_argument("--target", metavar="NAME", help="the target, when the name exists in several")
        if name in ("approve", "reject"):
            command.add_argument(
                "--state",
                metavar="NAME",
                help="the waiting state to answer when several wait (Parallel branches, Map iterations); "
                'quote a name with spaces: --state "Security Approver"',
            )
            command.add_argument(
                "--index", metavar="N", type=_index, help="the Map iteration (its item's index, from 0) of --state"
            )
            command.add_argument(
                "--output",
                metavar="JSON|@FILE",
                help="the exact body to send instead of the config's template: for approve the output of "
                'SendTaskSuccess, for reject {"error": …, "cause": …}; @FILE reads it from a file',
            )
        if name == "stop":
            command.add_argument(
                "--abandon", action="store_true", help="abandon running actions instead of letting them finish"
            )
        if name == "retry":
            command.add_argument(
                "--all-actions", action="store_true", help="retry every action of the stage, not only the failed ones"
            )
        if name == "override":
            command.add_argument(
                "--condition",
                required=True,
                choices=("before-entry", "on-success"),
                help="which conditions of the stage: its entry conditions or its success conditions (a bake)",
            )
        _add_common(command, subcommand=True)
    return parser


RESOURCE_HELP = (
    "pipeline, pipeline/stage, pipeline/stage/action, state-machine/execution or an execution ARN, "
    "as `wavedeck watch` prints it"
)

# command → (one-line help, description)
ACTION_COMMANDS: dict[str, tuple[str, str]] = {
    "approve": (
        "approve a waiting approval",
        "Approve a CodePipeline manual approval (pipeline/stage/action, or a pipeline or stage with exactly one "
        "waiting) or a Step Functions state waiting for a task token (state-machine/execution; --state NAME "
        "and --index N name one when several wait in Parallel branches or Map iterations).",
    ),
    "reject": (
        "reject a waiting approval",
        "Reject a CodePipeline manual approval or a Step Functions state waiting for a task token; the reason "
        "goes to AWS as the summary (or cause).",
    ),
    "stop": (
        "stop a running pipeline execution or state machine execution",
        "Stop a pipeline execution (running actions finish first; --abandon abandons them, also for an "
        "execution already stopping) or a Step Functions execution (StopExecution, the reason as its cause).",
    ),
    "rollback": (
        "roll a stage back to its last good execution",
        "Roll a pipeline stage back to the latest execution that succeeded in it (pipeline/stage), or start "
        "the rollback state machine of a Step Functions wave with its last good revision (state-machine).",
    ),
    "retry": (
        "retry a failed stage, or redrive a failed execution",
        "Retry the failed actions of a failed pipeline stage (pipeline/stage), or redrive a failed Step "
        "Functions execution (state-machine/execution).",
    ),
    "pause": (
        "pause promotion into a stage",
        "Disable the inbound transition of a stage (pipeline/stage): executions wait before it. The reason may "
        "hold only letters, digits, spaces and ! @ ( ) . * ? -",
    ),
    "resume": (
        "resume promotion into a stage",
        "Enable the inbound transition of a stage (pipeline/stage) again.",
    ),
    "override": (
        "override a stage condition being evaluated",
        "End the evaluation in progress of a stage's entry or success conditions (pipeline/stage) as if every "
        "rule had succeeded (OverrideStageCondition): skip a bake, or enter past an alarm. AWS refuses SKIP "
        "conditions and evaluations that are not in progress.",
    ),
}


def _add_common(parser: argparse.ArgumentParser, *, subcommand: bool) -> None:
    """The flags every command and the console take. On a subcommand they default to "not given", so a
    flag placed before the command (`wavedeck --sandbox watch`) is not reset by the subcommand's defaults."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if subcommand else value

    group = parser.add_argument_group("targets and safety")
    group.add_argument("--profile", metavar="NAME", default=default(None), help="AWS profile (default: the chain's)")
    group.add_argument(
        "--region",
        metavar="REGION",
        action="append",
        dest="regions",
        default=default([]),
        help="AWS region; repeat for several",
    )
    group.add_argument("--endpoint-url", metavar="URL", default=default(None), help="AWS endpoint (e.g. a sandbox)")
    group.add_argument(
        "--sandbox",
        action="store_true",
        default=default(False),
        help="start the embedded sandbox in a child process and use it",
    )
    group.add_argument(
        "--read-only", action="store_true", default=default(False), help="refuse every action; only watch"
    )
    group.add_argument(
        "--no-cache",
        action="store_true",
        default=default(False),
        help="start cold: neither read nor write the warm-start cache",
    )
    group.add_argument("--config", metavar="PATH", type=Path, default=default(None), help="config file")
    group.add_argument("--audit-log", metavar="PATH", type=Path, default=default(None), help="audit log (JSON Lines)")
    group.add_argument(
        "--events-queue",
        metavar="URL",
        default=default(None),
        help="SQS queue fed by EventBridge (aws.codepipeline, aws.states) for push updates: one console",
    )
    group.add_argument(
        "--events-topic",
        metavar="ARN",
        default=default(None),
        help="SNS topic fed by EventBridge: each console subscribes a queue of its own (a team)",
    )


def _error_line(exc: WavedeckError) -> str:
    """The error on one line for the terminal: AWS's words and names may hold control characters, shown as
    escapes rather than obeyed."""
    from console.watch_output import plain

    return f"wavedeck: {plain(str(exc))}"


def _run_sandbox(args: argparse.Namespace) -> int:
    """`wavedeck sandbox`: bad definitions exit 2 (InputError); anything else that stops the start, an import
    that fails or a port in use, is one sentence on stderr and exit 1, never a traceback or a silent hang."""
    from console.sandbox_process import require_sandbox_extra, startup_failure

    require_sandbox_extra()
    try:
        from console.sandbox.run import run_sandbox
        from console.sandbox.server import SandboxOptions

        options = SandboxOptions(
            host=args.host,
            port=args.port,
            speed=args.speed,
            seed=args.seed,
            traffic=not args.no_traffic,
            warm_up=not args.no_warm_up,
            latency=args.latency,
            quotas=args.quotas == "aws",
        )
        code = run_sandbox(options, args.definitions, stop_on_stdin_eof=args.stop_on_stdin_eof)
    except (WavedeckError, KeyboardInterrupt):
        raise
    except Exception as exc:  # an import or a moto internal that failed: the cause, not the traceback
        raise startup_failure(exc) from None
    # The process ends here, its threads stopped: collecting moto's large heap while the interpreter
    # shuts down takes seconds, and a console waiting for its child sandbox would feel them.
    gc.disable()
    gc.freeze()
    return code


def runtime_options(args: argparse.Namespace) -> RuntimeOptions:
    """The runtime's options from the command line. With `--sandbox`, also what the sandbox's fleet tells the
    console (its regions, its stages' and state machines' waves, its rollbacks): the fleet is the sandbox's
    format, read here at the entry point; on a real account the config alone says it (`waves:`)."""
    from console.runtime import RuntimeOptions

    options = RuntimeOptions.from_args(args)
    if not options.sandbox:
        return options
    from console.sandbox.fleet.definitions import load_fleet

    return replace(options, sandbox_fleet=load_fleet(options.definitions).console_view())


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or bad usage (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        if args.command == "sandbox":
            return _run_sandbox(args)
        from console import headless

        options = runtime_options(args)
        if args.command == "watch":
            return headless.run_watch(args, options)
        if args.command == "waves":
            return headless.run_waves(args, options)
        if args.command == "setup-events":
            return headless.run_setup_events(args, options)
        if args.command in ACTION_COMMANDS:
            return headless.run_action(args, options)
        return headless.run_console(args, options)
    except (InputError, UsageError) as exc:
        print(_error_line(exc), file=sys.stderr)
        return EXIT_USAGE
    except WavedeckError as exc:
        print(_error_line(exc), file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

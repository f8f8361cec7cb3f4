"""The `wavedeck` command: the console, `sandbox`, `watch`, and the headless actions.

Commands import what they need when they run, so `wavedeck --help` and the console start fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from console.errors import InputError, UsageError, WavedeckError

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
    # For a parent that starts the sandbox as its child (console/sandbox_process.py): stop when stdin closes.
    sandbox.add_argument("--stop-on-stdin-eof", action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "sandbox":
            from console.sandbox.run import run_sandbox
            from console.sandbox.server import SandboxOptions

            options = SandboxOptions(
                host=args.host,
                port=args.port,
                speed=args.speed,
                seed=args.seed,
                traffic=not args.no_traffic,
                warm_up=not args.no_warm_up,
            )
            return run_sandbox(options, args.definitions, stop_on_stdin_eof=args.stop_on_stdin_eof)
        parser.print_help()
        return EXIT_USAGE
    except (InputError, UsageError) as exc:
        print(f"wavedeck: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except WavedeckError as exc:
        print(f"wavedeck: {exc}", file=sys.stderr)
        return EXIT_USAGE if args.command == "sandbox" else EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

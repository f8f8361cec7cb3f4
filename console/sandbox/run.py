"""`wavedeck sandbox`: run the embedded AWS in the foreground until Ctrl-C or SIGTERM.

Standard output carries exactly one line, the endpoint URL, once the sandbox is ready (scripts and
`console/sandbox_process.py` read it); everything else goes to standard error: what a long start is doing,
and why a start failed, in one sentence.

A stop is asked of every phase (seeding, warm-up, serving) and every phase gives up at its next step; what
cannot (a thread inside moto) is not waited for: STOP_DEADLINE seconds after the first SIGTERM or Ctrl-C the
process ends whatever is still running, and a second signal ends it at once.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from console.sandbox.fleet.definitions import load_fleet
from console.sandbox.server import SandboxOptions, SandboxServer, StartAborted

# Seconds a stop may take before the process ends regardless (a parent waits 3 s before SIGKILL).
STOP_DEADLINE = 2.5


def say(message: str) -> None:
    """One line on standard error, the sandbox's only voice besides its URL."""
    print(f"wavedeck sandbox: {message}", file=sys.stderr, flush=True)


def run_sandbox(options: SandboxOptions, definitions: Path | None, *, stop_on_stdin_eof: bool = False) -> int:
    """Load the definitions, start the sandbox, print its URL, wait for a signal. Returns the exit code.

    Errors in the definitions or a port in use raise the project's errors; the CLI prints them and exits 2
    (definitions) or 1. With `stop_on_stdin_eof` the sandbox also stops when its standard input closes: a
    parent that starts it as a child keeps a pipe open, so the sandbox ends with its parent even if the
    parent is killed.
    """
    logging.basicConfig(level=logging.WARNING, format="sandbox: %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    servers: list[SandboxServer] = []

    def request_stop() -> None:
        if stop.is_set():
            return
        stop.set()
        _end_after(STOP_DEADLINE)
        for server in servers:
            server.request_stop()

    signals: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # The second Ctrl-C or SIGTERM ends it now (a parent closing stdin, then sending SIGTERM, is one stop).
        if signals:
            os._exit(0)
        signals.append(signum)
        request_stop()

    warning = exposure_warning(options.host)
    if warning:
        say(warning)
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    if stop_on_stdin_eof:
        threading.Thread(target=_wait_for_eof, args=(request_stop,), name="sandbox-stdin", daemon=True).start()
    try:
        fleet = load_fleet(definitions)
        server = SandboxServer(fleet, options, on_phase=say)
        servers.append(server)
        if stop.is_set():
            return 0
        try:
            url = server.start()
        except StartAborted:
            say("stopped before it was ready")
            return 0
        timings = server.timings
        warm = f", warm-up {timings['warm_up']:.1f}s" if "warm_up" in timings else ""
        warm += f", latency {options.latency:g} ms" if options.latency else ""
        warm += ", AWS's request quotas" if options.quotas else ""
        say(
            f"{_count(len(fleet.pipelines), 'pipeline')}, {_count(len(fleet.state_machines), 'state machine')}, "
            f"speed {options.speed:g}, seed {options.seed}; ready in {timings['ready']:.1f}s "
            f"(seeding {timings['seed']:.1f}s{warm}); Ctrl-C stops it"
        )
        print(url, flush=True)
        while not stop.wait(0.2):
            pass
    finally:
        for server in servers:
            server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    say("stopped")
    return 0


def exposure_warning(host: str) -> str | None:
    """A warning when `host` reaches beyond this machine's loopback, else None.

    The sandbox accepts any credentials and lets anyone who reaches it approve, stop and redefine its fleet,
    so listening on another interface must never happen without a word.
    """
    if host.strip().lower() == "localhost":
        return None
    try:
        if ipaddress.ip_address(host.strip("[]")).is_loopback:
            return None
    except ValueError:
        pass  # a host name: it may resolve to anything
    return (
        f"warning: listening on {host!r}, beyond this machine's loopback; the sandbox accepts "
        "any credentials, so anyone who can reach this address can act on its fleet"
    )


def _end_after(seconds: float) -> None:
    """End the process `seconds` from now if it has not ended by itself: a stop is never waited on longer."""

    def end() -> None:
        say(f"stopped (what was still running after {seconds:g}s was not waited for)")
        os._exit(0)

    timer = threading.Timer(seconds, end)
    timer.daemon = True
    timer.start()


def _wait_for_eof(request_stop: Callable[[], None]) -> None:
    # os.read on the descriptor, not sys.stdin: a daemon thread blocked inside the buffered reader's lock
    # makes the interpreter abort at exit.
    try:
        while os.read(0, 4096):
            pass
    except OSError:
        pass
    request_stop()


def _count(number: int, noun: str) -> str:
    """`1 pipeline`, `7 pipelines`."""
    return f"{number} {noun}{'' if number == 1 else 's'}"

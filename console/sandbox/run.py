"""`wavedeck sandbox`: run the embedded AWS in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from console.definitions import load_fleet
from console.sandbox.server import SandboxOptions, SandboxServer


def run_sandbox(options: SandboxOptions, definitions: Path | None) -> int:
    """Load the definitions, start the sandbox, print its URL, wait for a signal. Returns the exit code.

    Errors in the definitions or a port in use raise the project's errors; the CLI prints them and exits 2.
    """
    fleet = load_fleet(definitions)
    logging.basicConfig(level=logging.WARNING, format="sandbox: %(levelname)s %(name)s: %(message)s")
    server = SandboxServer(fleet, options)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        url = server.start()
        pipelines = len(fleet.pipelines)
        machines = len(fleet.state_machines)
        print(
            f"wavedeck sandbox listening on {url} (speed {options.speed:g}, seed {options.seed}, "
            f"{pipelines} pipelines, {machines} state machines; Ctrl-C stops it)",
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("wavedeck sandbox stopped", file=sys.stderr, flush=True)
    return 0

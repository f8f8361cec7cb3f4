"""Starts the sandbox in a child process (`--sandbox`), so its work never stalls the console.

This module does not import moto: the child runs `python -m console sandbox`, prints its URL when ready,
and is stopped with SIGTERM (then SIGKILL if it does not go).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from console.errors import WavedeckError

_READY = re.compile(r"listening on (http://\S+)")


class SandboxStartError(WavedeckError):
    """The child sandbox did not come up; carries what it printed."""


@dataclass
class SandboxProcess:
    """A running child sandbox. Use as a context manager, or call `stop()`."""

    url: str
    process: subprocess.Popen[str]
    _stderr_tail: deque[str] = field(default_factory=lambda: deque(maxlen=40))

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_sandbox_process(
    *,
    speed: float = 1.0,
    seed: int = 7,
    port: int = 0,
    definitions: Path | None = None,
    traffic: bool = True,
    warm_up: bool = True,
    timeout: float = 90.0,
    extra_env: dict[str, str] | None = None,
) -> SandboxProcess:
    """Start `wavedeck sandbox` as a child and wait until it prints its URL."""
    command = [
        sys.executable,
        "-m",
        "console",
        "sandbox",
        "--port",
        str(port),
        "--speed",
        repr(speed),
        "--seed",
        str(seed),
    ]
    if definitions is not None:
        command += ["--definitions", str(definitions)]
    if not traffic:
        command.append("--no-traffic")
    if not warm_up:
        command.append("--no-warm-up")
    env = {**os.environ, **(extra_env or {})}
    # The child is a server, not the operator's AWS client: none of the operator's AWS settings apply.
    for key in list(env):
        if key.startswith("AWS_") and key not in (extra_env or {}):
            del env[key]
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # a Ctrl-C in the console's terminal is the console's, not the child's
    )
    assert process.stdout is not None
    assert process.stderr is not None
    tail: deque[str] = deque(maxlen=40)

    def drain_stderr() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            tail.append(line.rstrip("\n"))

    threading.Thread(target=drain_stderr, name="sandbox-stderr", daemon=True).start()
    found: list[str] = []
    ended = threading.Event()

    def read_url() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            match = _READY.search(line)
            if match and not found:
                found.append(match.group(1))
                ended.set()
            # Keep draining so the child never blocks on a full pipe.
        ended.set()

    reader = threading.Thread(target=read_url, name="sandbox-stdout", daemon=True)
    reader.start()
    ended.wait(timeout)
    if not found:
        running = process.poll() is None
        if running:
            process.kill()
        process.wait(timeout=10)
        reader.join(1)
        detail = "\n".join(tail) or "(it printed nothing)"
        what = "did not become ready in time" if running else f"exited with code {process.returncode}"
        raise SandboxStartError(f"the sandbox {what}:\n{detail}")
    sandbox = SandboxProcess(found[0], process)
    sandbox._stderr_tail = tail
    return sandbox

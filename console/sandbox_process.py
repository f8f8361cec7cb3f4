"""Starts the sandbox in a child process (`--sandbox`, tests), so its work never stalls the console.

This module does not import moto: the child runs `python -m console sandbox`, prints its URL on standard
output when ready, and is stopped with SIGTERM (then SIGKILL if it does not go). The child also stops when
the pipe to its standard input closes, so it never outlives a parent that was killed.
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

# The one line the sandbox prints on stdout when ready: its URL (older builds: "... listening on URL ...").
_READY = re.compile(r"^(http://\S+)\s*$|listening on (http://\S+)")
_TAIL_LINES = 40


class SandboxStartError(WavedeckError):
    """The child sandbox did not come up, or went away; carries the end of what it printed."""


@dataclass
class SandboxProcess:
    """A running child sandbox. Use as a context manager, or call `stop()`."""

    url: str
    process: subprocess.Popen[str]
    _stderr_tail: deque[str] = field(default_factory=lambda: deque(maxlen=_TAIL_LINES))
    _stderr_reader: threading.Thread | None = None

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stop the child (SIGTERM, then SIGKILL after `timeout`); returns its exit code."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            try:
                self.process.stdin.close()
            except OSError:
                pass
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        if self._stderr_reader is not None:
            self._stderr_reader.join(timeout=2)
        return self.process.returncode

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stderr_tail(self) -> str:
        """The last lines the sandbox wrote to standard error."""
        return "\n".join(self._stderr_tail)

    def check(self) -> None:
        """Raise SandboxStartError, with the end of its stderr, if the sandbox has gone away."""
        code = self.process.poll()
        if code is not None:
            if self._stderr_reader is not None:
                self._stderr_reader.join(timeout=2)
            raise SandboxStartError(
                f"the sandbox at {self.url} exited with code {code}:\n{self.stderr_tail() or '(it printed nothing)'}"
            )

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def sandbox_command(
    *,
    speed: float = 1.0,
    seed: int = 7,
    port: int = 0,
    definitions: Path | None = None,
    traffic: bool = True,
    warm_up: bool = True,
    latency: float = 0.0,
) -> list[str]:
    """The command line that runs `wavedeck sandbox` with this interpreter."""
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
    if latency:
        command += ["--latency", repr(latency)]
    return command


def start_sandbox_process(
    *,
    speed: float = 1.0,
    seed: int = 7,
    port: int = 0,
    definitions: Path | None = None,
    traffic: bool = True,
    warm_up: bool = True,
    latency: float = 0.0,
    timeout: float = 90.0,
    extra_env: dict[str, str] | None = None,
) -> SandboxProcess:
    """Start `wavedeck sandbox` as a child and wait until it prints its URL.

    Raises SandboxStartError with the end of the child's stderr when it exits or is not ready in `timeout`.
    """
    command = sandbox_command(
        speed=speed, seed=seed, port=port, definitions=definitions, traffic=traffic, warm_up=warm_up, latency=latency
    )
    command.append("--stop-on-stdin-eof")
    env = {**os.environ, **(extra_env or {})}
    # The child is a server, not the operator's AWS client: none of the operator's AWS settings apply.
    for key in list(env):
        if key.startswith("AWS_") and key not in (extra_env or {}):
            del env[key]
    env.setdefault("PYTHONUNBUFFERED", "1")
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,  # a Ctrl-C in the console's terminal is the console's, not the child's
        )
    except OSError as exc:
        raise SandboxStartError(f"cannot start the sandbox ({command[0]}): {exc}") from None
    assert process.stdout is not None
    assert process.stderr is not None
    tail: deque[str] = deque(maxlen=_TAIL_LINES)

    def drain_stderr() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            tail.append(line.rstrip("\n"))

    stderr_reader = threading.Thread(target=drain_stderr, name="sandbox-stderr", daemon=True)
    stderr_reader.start()
    found: list[str] = []
    ready = threading.Event()

    def read_url() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            match = _READY.search(line)
            if match and not found:
                found.append(match.group(1) or match.group(2))
                ready.set()
            # Keep draining so the child never blocks on a full pipe.
        ready.set()

    reader = threading.Thread(target=read_url, name="sandbox-stdout", daemon=True)
    reader.start()
    ready.wait(timeout)
    if not found:
        running = process.poll() is None
        if running:
            process.kill()
        process.wait(timeout=10)
        reader.join(2)
        stderr_reader.join(2)  # the whole tail, not what had arrived when stdout closed
        detail = "\n".join(tail) or "(it printed nothing)"
        what = f"did not become ready in {timeout:g}s" if running else f"exited with code {process.returncode}"
        raise SandboxStartError(f"the sandbox {what}:\n{detail}")
    return SandboxProcess(found[0], process, tail, stderr_reader)

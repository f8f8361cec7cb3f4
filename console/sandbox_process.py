"""Starts the sandbox in a child process (`--sandbox`, tests), so its work never stalls the console.

This module does not import moto (the sandbox is an optional extra; watching real accounts needs none of
it): the child runs `python -m console sandbox`, prints its URL on standard output when ready, and is
stopped with SIGTERM (then SIGKILL of its whole process group after STOP_TIMEOUT). The child also stops when
the pipe to its standard input closes, so it never outlives a parent that was killed. A child that cannot
start says why on its standard error and exits non-zero; the parent reports that sentence.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
import threading
import traceback
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from console.errors import WavedeckError
from console.waves import WaveMappings

# The one line the sandbox prints on stdout when ready: its URL (older builds: "... listening on URL ...").
_READY = re.compile(r"^(http://\S+)\s*$|listening on (http://\S+)")
_TAIL_LINES = 40
# The sentence of a child that cannot start (console/__main__.py prints errors as `wavedeck: …`; the
# sandbox's progress lines are `wavedeck sandbox: …` and say nothing of a failure).
_SAID = re.compile(r"^wavedeck: (.+)$")
# Seconds between SIGTERM and SIGKILL: the child ends itself within 2.5 s of a stop (console/sandbox/run.py).
STOP_TIMEOUT = 3.0
# What the sandbox imports besides the console's own dependencies (the `sandbox` extra of pyproject.toml).
SANDBOX_MODULES = ("moto", "flask", "werkzeug", "boto3")
INSTALL_HINT = "pip install 'wavedeck[sandbox]'"
# The account the sandbox plays (console/sandbox/server_constants.py takes it from here), and the queue its
# events rule fills in every region: what a console that started it reads for push.
SANDBOX_ACCOUNT_ID = "123456789012"
SANDBOX_EVENTS_QUEUE = "wavedeck-events"


@dataclass(frozen=True)
class SandboxFleet:
    """What a console that starts the sandbox (`--sandbox`) takes from the sandbox's fleet: the regions to
    watch, and the fleet's wave mappings and rollbacks (added to the config's).

    The entry point reads it (`console.sandbox.fleet`) and hands it to the runtime; the core never reads the
    fleet file, and on a real account takes the same facts from the config alone.
    """

    regions: tuple[str, ...]
    mappings: WaveMappings = field(default_factory=WaveMappings)


class SandboxStartError(WavedeckError):
    """The child sandbox did not come up, or went away; carries the end of what it printed."""


class SandboxUnavailable(WavedeckError):
    """This install has no sandbox: the `sandbox` extra is missing, or one of its modules does not import."""


def require_sandbox_extra() -> None:
    """Raise SandboxUnavailable, saying what to install, when the sandbox's packages are not installed.

    Looks the packages up without importing them, so the check costs nothing on an install that has them.
    """
    missing = [name for name in SANDBOX_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise SandboxUnavailable(f"the sandbox needs {', '.join(missing)}, which this install lacks: {INSTALL_HINT}")


def startup_failure(exc: BaseException) -> WavedeckError:
    """The sentence for a sandbox start that failed on something other than the operator's input.

    An import of the sandbox's packages that fails is told as the missing extra; anything else names the
    exception and the line it came from (a moto release whose internals moved is found from that line).
    """
    if isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] in SANDBOX_MODULES:
        return SandboxUnavailable(f"the sandbox cannot import {exc.name}: {INSTALL_HINT}")
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {_short_path(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
    return SandboxUnavailable(f"the sandbox cannot start: {type(exc).__name__}: {exc}{where}")


def _short_path(filename: str) -> str:
    """A frame's file as a package path (`moto/core/responses.py`), not where this machine keeps it."""
    parts = Path(filename).parts
    for anchor in ("site-packages", "dist-packages"):
        if anchor in parts:
            return "/".join(parts[parts.index(anchor) + 1 :])
    for package in ("console", "screens"):
        if package in parts:
            return "/".join(parts[len(parts) - 1 - parts[::-1].index(package) :])
    return Path(filename).name


@dataclass
class SandboxProcess:
    """A running child sandbox. Use as a context manager, or call `stop()`."""

    url: str
    process: subprocess.Popen[str]
    _stderr_tail: deque[str] = field(default_factory=lambda: deque(maxlen=_TAIL_LINES))
    _stderr_reader: threading.Thread | None = None

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """Stop the child (SIGTERM, then SIGKILL of its process group after `timeout`); returns its exit code."""
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
                _kill_group(self.process)
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
    quotas: bool = False,
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
    if quotas:
        command += ["--quotas", "aws"]
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
    quotas: bool = False,
    timeout: float = 90.0,
    extra_env: dict[str, str] | None = None,
) -> SandboxProcess:
    """Start `wavedeck sandbox` as a child and wait until it prints its URL.

    Raises SandboxUnavailable when this install has no sandbox, and SandboxStartError with the child's own
    sentence (or the end of its stderr) when it exits or is not ready in `timeout`.
    """
    require_sandbox_extra()
    command = sandbox_command(
        speed=speed,
        seed=seed,
        port=port,
        definitions=definitions,
        traffic=traffic,
        warm_up=warm_up,
        latency=latency,
        quotas=quotas,
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
        # Standard output closes a moment before the child is reaped: give an exiting child that moment.
        timed_out = False
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(process)
            process.wait(timeout=10)
        reader.join(2)
        stderr_reader.join(2)  # the whole tail, not what had arrived when stdout closed
        raise SandboxStartError(_start_failure(process.returncode, list(tail), timed_out, timeout))
    return SandboxProcess(found[0], process, tail, stderr_reader)


def _start_failure(code: int, tail: list[str], timed_out: bool, timeout: float) -> str:
    """Why the child did not come up: its own last sentence when it said one, else the end of its stderr."""
    said = [match.group(1) for match in map(_SAID.match, tail) if match]
    detail = "\n".join(tail) or "(it printed nothing)"
    if timed_out:
        return f"the sandbox did not become ready in {timeout:g}s:\n{detail}"
    if said:
        return f"{said[-1]} (the sandbox exited with code {code})"
    return f"the sandbox exited with code {code}:\n{detail}"


def _kill_group(process: subprocess.Popen[str]) -> None:
    """SIGKILL the child and anything it started (it leads its own session), so nothing is left behind."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()

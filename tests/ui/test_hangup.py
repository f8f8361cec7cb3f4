"""A console whose terminal hangs up ends: it stops polling and exits 129, with or without a SIGHUP.

The console runs as a process on a pseudo-terminal, as over SSH; closing the terminal's master side is what
a dropped connection or a killed tmux pane does. Under `make run` no SIGHUP reaches the console (make, the
session's leader, holds it), so the console must find out by itself.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console.hangup import EXIT_HANGUP, terminal_gone
from console.sandbox_process import SandboxProcess
from tests.conftest import REGION

ROOT = Path(__file__).resolve().parents[2]


def test_a_terminal_whose_other_side_closed_is_gone() -> None:
    master, slave = os.openpty()
    try:
        assert not terminal_gone(slave)
        os.close(master)
        assert terminal_gone(slave)
    finally:
        os.close(slave)


def console_on_a_terminal(url: str, tmp_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """`wavedeck` against the sandbox, on a new pseudo-terminal; (the process, the terminal's master side)."""
    master, slave = os.openpty()
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "COLUMNS": "100",
        "LINES": "30",
    }
    command = [sys.executable, "-m", "console", "--endpoint-url", url, "--region", REGION, "--no-cache"]
    command += ["--audit-log", str(tmp_path / "audit.jsonl")]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    return process, master


def wait_for_output(master: int, text: bytes, within: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + within
    while text not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{text!r} not shown within {within:g}s; shown: {seen[-500:]!r}")
        ready, _, _ = select.select([master], [], [], left)
        if ready:
            try:
                seen += os.read(master, 65536)
            except OSError:
                break
    return seen


@pytest.mark.parametrize("signal_too", [False, True], ids=["no-signal", "sighup"])
def test_a_console_whose_terminal_hangs_up_ends(sandbox: SandboxProcess, tmp_path: Path, signal_too: bool) -> None:
    process, master = console_on_a_terminal(sandbox.url, tmp_path)
    try:
        wait_for_output(master, b"Pipelines", within=60)
        os.close(master)  # the connection drops
        if signal_too:
            process.send_signal(signal.SIGHUP)
        code = process.wait(timeout=15)
        assert code == EXIT_HANGUP
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

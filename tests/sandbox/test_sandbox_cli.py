"""`wavedeck sandbox` as a person and a parent process use it: one URL line, clean stops, a port in use."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from console.sandbox_process import SandboxStartError, start_sandbox_process
from tests.conftest import SPEED, make_client, wait_until


def _sandbox(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "console", "sandbox", "--port", "0", "--speed", str(SPEED), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _ready_url(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+\n", line), f"the first stdout line is the URL, got {line!r}"
    return line.strip()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_it_prints_only_its_url_and_stops_cleanly_on_a_signal(stop: signal.Signals) -> None:
    process = _sandbox("--no-traffic", "--no-warm-up")
    try:
        url = _ready_url(process)
        # Requests are served, and not one log line per request.
        for _ in range(3):
            make_client(url, "codepipeline").list_pipelines()
        process.send_signal(stop)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert out == "", "stdout holds the URL line and nothing else"
    assert "Traceback" not in err
    assert "HTTP/1.1" not in err, f"per-request log lines leaked: {err}"
    assert err.rstrip().endswith("wavedeck sandbox: stopped")
    assert "ready in" in err


def test_the_child_sandbox_stops_when_its_parent_lets_go_of_stdin() -> None:
    child = start_sandbox_process(speed=SPEED, traffic=False, warm_up=False)
    try:
        assert child.process.stdin is not None
        child.process.stdin.close()
        wait_until(lambda: child.process.poll() is not None, timeout=20, what="the sandbox to stop on stdin EOF")
        assert child.process.returncode == 0
        wait_until(lambda: "wavedeck sandbox: stopped" in child.stderr_tail(), what="its last words")
    finally:
        child.stop()


def test_a_child_sandbox_that_dies_is_reported_with_its_stderr(tmp_path: Path) -> None:
    with pytest.raises(SandboxStartError) as raised:
        start_sandbox_process(definitions=tmp_path / "missing", traffic=False, warm_up=False)
    message = str(raised.value)
    assert "exited with code 2" in message
    assert "no such definitions directory" in message


def test_a_running_child_that_dies_is_reported_by_check() -> None:
    child = start_sandbox_process(speed=SPEED, traffic=False, warm_up=False)
    try:
        child.check()  # alive: nothing to say
        child.process.send_signal(signal.SIGKILL)
        child.process.wait(timeout=10)
        with pytest.raises(SandboxStartError, match="exited with code -9"):
            child.check()
    finally:
        child.stop()


def test_the_console_sandbox_speed_and_seed_are_said_on_stderr() -> None:
    process = _sandbox("--no-traffic", "--no-warm-up", "--seed", "123")
    try:
        _ready_url(process)
        process.terminate()
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert f"speed {SPEED:g}, seed 123" in err
    assert "7 pipelines, 4 state machines" in err


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "sandbox.example"])
def test_listening_beyond_loopback_is_announced_on_stderr(
    host: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from console.__main__ import main

    # A missing definitions directory stops it before it binds anything; the warning comes first.
    code = main(["sandbox", "--host", host, "--port", "0", "--definitions", str(tmp_path / "missing")])
    err = capsys.readouterr().err
    assert code == 2
    assert f"warning: listening on {host!r}, beyond this machine's loopback" in err
    assert "accepts any credentials" in err


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_is_not_warned_about(host: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from console.__main__ import main

    main(["sandbox", "--host", host, "--port", "0", "--definitions", str(tmp_path / "missing")])
    assert "warning" not in capsys.readouterr().err


def test_the_ready_line_counts_in_words_a_person_reads() -> None:
    from console.sandbox.run import _count

    assert _count(1, "pipeline") == "1 pipeline"
    assert _count(0, "state machine") == "0 state machines"
    assert _count(7, "pipeline") == "7 pipelines"

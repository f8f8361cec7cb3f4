"""An install without the `sandbox` extra watches real accounts: nothing outside console.sandbox needs moto.

Proved in fresh interpreters where moto, Flask, Werkzeug and boto3 cannot be imported (`sys.modules[name] =
None` is how Python marks a module that cannot be imported): every module of the product imports, and
`wavedeck watch` reads an endpoint until Ctrl-C.
"""

from __future__ import annotations

import os
import pkgutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import console
import screens
from console.sandbox_process import SANDBOX_MODULES, SandboxProcess
from tests.conftest import wait_until

ROOT = Path(__file__).resolve().parent.parent
BLOCK = "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in SANDBOX_MODULES)


def _product_modules() -> list[str]:
    """Every module of the product, the sandbox's own package left out."""
    names = []
    for package in (console, screens):
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
            if info.name == "console.sandbox" or info.name.startswith("console.sandbox."):
                continue
            names.append(info.name)
    return sorted(names)


def test_every_module_outside_the_sandbox_imports_without_moto() -> None:
    modules = _product_modules()
    assert "console.app" in modules
    assert "console.sandbox_process" in modules  # starts the sandbox as a child, imports none of it
    code = BLOCK + "".join(f"import {name}\n" for name in modules)
    code += f"print(sorted(m for m in sys.modules if m.split('.')[0] in {SANDBOX_MODULES!r} and sys.modules[m]))\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_watch_reads_an_endpoint_without_moto(bundled_sandbox: SandboxProcess, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("intervals: {focused: 0.5s, background: 1s, lists: 5s}\n")
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "PYTHONUNBUFFERED": "1"}
    run = (
        BLOCK
        + "import runpy\nsys.argv = ['wavedeck', *sys.argv[1:]]\nrunpy.run_module('console', run_name='__main__')\n"
    )
    command = [sys.executable, "-c", run, "watch", "--json", "--config", str(config)]
    command += ["--endpoint-url", bundled_sandbox.url, "--region", "us-east-1"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    notes: list[str] = []
    reader = threading.Thread(target=lambda: notes.extend(process.stderr or ()), daemon=True)
    reader.start()
    try:
        wait_until(lambda: any("wavedeck: watching" in n for n in notes), timeout=30, what="the first full picture")
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.join(5)
    stderr = "".join(notes)
    assert code == 0, stderr
    assert "Traceback" not in stderr

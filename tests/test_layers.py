"""The layers point one way: the import-linter contracts in pyproject.toml (screens → core; the core never
imports Textual or the screens; only console/aws imports AWS's SDKs; the sandbox only at the entry points).

`make test` runs `lint-imports` too; this test keeps them checked wherever pytest runs, and names the
broken contract and the import that breaks it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_hold() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(lint), "--no-cache"], capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout

"""`python -m benchmarks [NAME ...]`: runs the named benchmarks one after the other with their defaults, or
lists them when none is named. Each prints its own figures; run one alone with `python -m benchmarks.NAME
--help` to see its options. They are not tests: they start sandboxes, take minutes, and want a quiet machine.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
NOT_BENCHMARKS = {"__main__", "__init__", "ui_support"}


def benchmarks() -> dict[str, str]:
    """Name → the first line of its docstring, for every benchmark module here."""
    found: dict[str, str] = {}
    for path in sorted(HERE.glob("*.py")):
        if path.stem in NOT_BENCHMARKS:
            continue
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        found[path.stem] = doc.split("\n", 1)[0].removeprefix("Benchmark: ")
    return found


def main(names: list[str]) -> int:
    known = benchmarks()
    if not names:
        width = max(map(len, known))
        for name, summary in known.items():
            print(f"  {name:<{width}}  {summary}")
        print("\nrun: python -m benchmarks NAME [NAME ...]   (make bench runs them all)")
        return 0
    unknown = [n for n in names if n not in known and n != "all"]
    if unknown:
        print(f"benchmarks: unknown: {', '.join(unknown)} (known: {', '.join(known)})", file=sys.stderr)
        return 2
    chosen = list(known) if "all" in names else names
    failed = 0
    for name in chosen:
        print(f"== {name}", flush=True)
        failed += subprocess.run([sys.executable, "-m", f"benchmarks.{name}"], check=False).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Print the mutation score of each module after a `mutmut run` (docs/testing.md, "Mutation testing").

Usage: python3 scripts/mutation_score.py [--survivors]

Reads `mutmut results --all true` in the project folder. A mutant is caught when a test failed on it (killed) or
it ran past its time limit (timeout: an endless loop a user would notice too). The score is caught / checked;
mutants not checked yet (a run stopped early, or left out by the command's names) are counted apart.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CAUGHT = ("killed", "timeout", "caught by type check")


def results() -> dict[str, str]:
    """Return every mutant's status, by name, as mutmut reports it."""
    done = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    found = {}
    for line in done.stdout.splitlines():
        name, separator, status = line.strip().rpartition(": ")
        if separator and "__mutmut_" in name:
            found[name] = status
    return found


def module(name: str) -> str:
    """Return the module of a mutant: kiln.write.x_lay_out__mutmut_3 -> kiln/write.py."""
    return "/".join(name.split(".")[:2]) + ".py"


def main(argv: list[str] | None = None) -> int:
    """Print one line per module: caught, checked, score, and what is left; survivors with --survivors."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--survivors", action="store_true", help="also list every mutant that survived")
    args = parser.parse_args(argv)
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    found = results()
    for name, status in found.items():
        by_module[module(name)][status] += 1
    print(f"{'module':18} {'caught':>7} {'checked':>8} {'score':>7}  survived  no tests  not checked")
    for name, counts in sorted(by_module.items()):
        caught = sum(counts[status] for status in CAUGHT)
        checked = sum(count for status, count in counts.items() if status != "not checked")
        score = f"{100 * caught / checked:6.1f}%" if checked else "      -"
        print(
            f"{name:18} {caught:7} {checked:8} {score}  {counts['survived']:8}  {counts['no tests']:8}"
            f"  {counts['not checked']:11}"
        )
    if args.survivors:
        for name, status in sorted(found.items()):
            if status in ("survived", "no tests"):
                print(f"{status}: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Rewrite the golden baseline on purpose: ``make golden`` (then review the diff and commit it).

The golden test fails whenever a change moves any number of a small fixed run. When that change is
intended, run this script, read ``git diff tests/golden/`` and say in the commit why it moved.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_golden import GOLDEN_FILE, golden_numbers  # noqa: E402


def main() -> None:
    numbers = golden_numbers()
    GOLDEN_FILE.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN_FILE.write_text(json.dumps(numbers, indent=2, sort_keys=True) + "\n")
    print(
        f"wrote {GOLDEN_FILE.relative_to(ROOT)} ({len(numbers['summary'])} metrics, "
        f"{len(numbers['daily_customers'])} days)"
    )


if __name__ == "__main__":
    main()

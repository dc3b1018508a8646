"""The soak (benchmarks/soak.py) is run by hand, so nothing else notices when the test code it
borrows moves: its fault table is exercised here on one integration."""
from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_the_soak_fault_table_runs_and_finds_nothing_wrong_for_slack():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import soak
    finally:
        sys.path.remove(str(BENCHMARKS))
    table = soak.faults(["slack"])
    assert table["wrong"] == []
    assert set(table["table"]["slack"]) == set(table["faults"])
    assert table["table"]["slack"]["429"].startswith("rate_limited")

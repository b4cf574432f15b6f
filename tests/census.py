"""What the hostile suite counts as it runs, for the closing table of scripts/hostile_census.py:
hostile inputs tried and the 5xx among them, faults injected and the data lost to them, privacy
variants tried and missed. Tests add to `counts`; a pytest plugin (registered in conftest.py)
writes them, with the outcome of every test, to FOILOG_CENSUS_FILE when the run ends."""

import json
import os
from collections import Counter
from pathlib import Path

import pytest

counts: Counter[str] = Counter()
outcomes: Counter[str] = Counter()


def add(name: str, amount: int = 1) -> None:
    counts[name] += amount


def fault(kind: str, *, lost: int) -> None:
    """One fault of `kind` was injected; `lost` is what committed data it cost (must be 0)."""
    counts[f"fault: {kind}"] += 1
    counts["data lost"] += lost


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or report.outcome != "passed":
        outcomes[report.outcome] += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = os.environ.get("FOILOG_CENSUS_FILE")
    if path:
        report = {"counts": counts, "outcomes": outcomes, "exitstatus": int(exitstatus)}
        Path(path).write_text(json.dumps(report, indent=2))

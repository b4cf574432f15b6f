"""The hostile census: run the hostile suite on SQLite and on PostgreSQL, its write and query
doors against a real `foilog serve` of two workers (FOILOG_TEST_REAL_SERVER=1), and print what
the tests counted as they ran (tests/census.py): hostile inputs tried and the 5xx among them,
faults injected and the data they lost, privacy variants tried and missed. Exits 1 when a
count that must be 0 is not, a fault was not injected, or a test failed.

    .venv/bin/python scripts/hostile_census.py [--databases sqlite postgresql] [--postgres-url URL]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SUITE = [
    "tests/test_hostile.py",
    "tests/test_privacy_variants.py",
    "tests/test_faults.py",
    "tests/test_postgres_restart.py",
    "tests/test_worker.py",
    "tests/test_import.py::test_a_stalled_upload_holds_nothing_others_need",
    "tests/test_slow_clients.py",
    "tests/test_fail_safe.py",
    "tests/test_races.py",
    "tests/test_scoped_routes.py",
    "tests/test_limits.py",
    "tests/test_schemathesis_writes.py",
]
FAULTS = [
    "kill -9 of a worker mid-import",
    "kill -9 of a worker",
    "PostgreSQL restart",
    "stalled import",
    "stalled exports",
]
# (label, counter, must it be 0)
ROWS: list[tuple[str, str, bool]] = [
    ("hostile inputs tried", "hostile inputs tried", False),
    ("  answered 5xx", "hostile inputs answered 5xx", True),
    ("faults injected", "faults injected", False),
    *((f"  {kind}", f"fault: {kind}", False) for kind in FAULTS),
    ("  data lost", "data lost", True),
    ("privacy variants tried", "privacy variants tried", False),
    ("  missed", "privacy variants missed", True),
    ("privacy controls tried", "privacy controls tried", False),
    ("  blocked", "privacy controls blocked", True),
    ("tests passed", "passed", False),
    ("tests failed", "failed", True),
    ("tests skipped", "skipped", False),
]
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def run(database: str, postgres_url: str) -> dict[str, Any]:
    """Run the suite on one database; the counts it wrote, with the tests' outcomes."""
    with tempfile.TemporaryDirectory() as directory:
        report = Path(directory) / "census.json"
        env = {**os.environ, "FOILOG_CENSUS_FILE": str(report), "FOILOG_TEST_REAL_SERVER": "1"}
        env.pop("FOILOG_TEST_POSTGRES_URL", None)
        if database == "postgresql":
            env["FOILOG_TEST_POSTGRES_URL"] = postgres_url
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUITE]
        print(f"census on {database}: {' '.join(command[1:])}", file=sys.stderr, flush=True)
        subprocess.run(command, cwd=ROOT, env=env, stdout=sys.stderr, check=False)  # noqa: S603
        if not report.exists():
            return {"counts": {}, "outcomes": {"failed": 1}, "exitstatus": -1}
        result: dict[str, Any] = json.loads(report.read_text())
    counts = result["counts"]
    counts["faults injected"] = sum(counts.get(f"fault: {kind}", 0) for kind in FAULTS)
    counts.update(result["outcomes"])
    return result


def table(results: dict[str, dict[str, Any]]) -> tuple[str, list[str]]:
    """The closing table, and what is wrong in it."""
    databases = list(results)
    width = max(len(label) for label, _, _ in ROWS) + 2
    lines = [f"{'':<{width}}" + "".join(f"{d:>12}" for d in databases)]
    wrong = []
    for label, counter, must_be_zero in ROWS:
        cells = []
        for database in databases:
            value = int(results[database]["counts"].get(counter, 0))
            cells.append(f"{value:>12}")
            if must_be_zero and value:
                wrong.append(f"{database}: {label.strip()} = {value}, must be 0")
            if counter.startswith("fault: ") and not value:
                wrong.append(f"{database}: no {counter.removeprefix('fault: ')} was injected")
        suffix = "   (must be 0)" if must_be_zero else ""
        lines.append(f"{label:<{width}}" + "".join(cells) + suffix)
    for database in databases:
        if results[database]["exitstatus"] != 0:
            wrong.append(f"{database}: pytest ended with status {results[database]['exitstatus']}")
    return "\n".join(lines), wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--databases", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"]
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("FOILOG_TEST_POSTGRES_URL", DEFAULT_POSTGRES),
        help="a PostgreSQL server where the tests may make their own databases",
    )
    options = parser.parse_args()
    results = {database: run(database, options.postgres_url) for database in options.databases}
    text, wrong = table(results)
    print(text)
    for problem in wrong:
        print(f"NOT CLEAN: {problem}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())

"""foilog's benchmark, one command: corpus, imports, queries against Datasette and the framework
ceiling, export, and bench/RESULTS.md.

    .venv/bin/python bench/run.py --size 1000000 --duration 10    # the reference run
    .venv/bin/python bench/run.py --size 20000 --duration 5       # a quick one

Everything listens on 127.0.0.1 only, every load loop is bounded in time, and the load generator
(wrk) shares the machine's cores with the servers. Databases live under bench/data/ (gitignored);
logs and profiles under bench/out/. Datasette and py-spy come from bench/requirements.txt in their
own virtualenv, bench/.venv, which this script creates: neither enters foilog's dependencies.
"""

import argparse
import hashlib
import json
import math
import os
import platform
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DATA = BENCH / "data"
OUT = BENCH / "out"
APP_BIN = ROOT / ".venv" / "bin"
PEER_VENV = BENCH / ".venv"
PEER_BIN = PEER_VENV / "bin"
REQUIREMENTS = BENCH / "requirements.txt"
HOST = "127.0.0.1"
FOILOG_PORT, DATASETTE_PORT, CEILING_PORT = 8801, 8802, 8803
WORKERS = 2
CONNECTIONS = (1, 32)
FORCE = "metropolitan"
RARE = '"tachograph calibration"'
COMMON = "police"
DEPTH = 10_000
PAGE = 20
# The peer answers a slow query with an error after sql_time_limit_ms (1 s by default); the
# benchmark wants its time, not its refusal, so the limit is raised (and said so in the table).
DATASETTE_TIME_LIMIT_MS = 60_000
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


# ---------------------------------------------------------------------------------------------
# Processes


def _log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def _free(port: int) -> None:
    with suppress(httpx.HTTPError):
        httpx.get(f"http://{HOST}:{port}/", timeout=1)
        raise SystemExit(f"port {port} is taken on {HOST}; stop what listens there first")


def stat_fields(stat: Path) -> list[str]:
    """The fields of a /proc/<pid>/stat file after the command's name (which may hold spaces
    and parentheses): [1] the parent's pid, [11] and [12] user and system CPU in clock ticks."""
    return stat.read_text().rsplit(")", 1)[1].split()


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    base: str

    def workers(self) -> list[int]:
        """The process and every descendant (uvicorn's workers are children of its manager)."""
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with suppress(OSError, ValueError, IndexError):
                fields = stat_fields(stat)
                children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found

    def leaves(self) -> list[int]:
        """The processes that answer requests: the workers, or the process itself."""
        pids = self.workers()
        return pids[1:] or pids


@contextmanager
def serving(
    name: str, command: Sequence[str], port: int, ready: str, env: dict[str, str] | None = None
) -> Iterator[Server]:
    _free(port)
    OUT.mkdir(parents=True, exist_ok=True)
    log = (OUT / f"{name}.log").open("wb")
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(name, process, f"http://{HOST}:{port}")
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise SystemExit(f"{name} exited early; see {log.name}")
            with suppress(httpx.HTTPError):
                if httpx.get(server.base + ready, timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} did not answer {ready} within 120 s; see {log.name}")
            time.sleep(0.3)
        if len(server.leaves()) < (WORKERS if "--workers" in command else 1):
            time.sleep(2)  # the second worker may still be importing
        yield server
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@dataclass
class Measured:
    seconds: float
    max_rss_mb: float


def run_measured(command: Sequence[str], env: dict[str, str], log_name: str) -> Measured:
    """Run a command to completion; its wall time and peak resident memory (wait4's ru_maxrss,
    the largest of the process and its waited-for descendants)."""
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / log_name).open("wb") as log:
        started = time.monotonic()
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
    if process.returncode != 0:
        raise SystemExit(f"{shlex.join(command)} failed; see {OUT / log_name}")
    return Measured(seconds, usage.ru_maxrss / 1024)


def ensure_peer_venv() -> None:
    """bench/.venv with Datasette and py-spy at the versions bench/requirements.txt pins."""
    stamp = PEER_VENV / f".installed-{hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12]}"
    if stamp.exists():
        return
    _log("creating bench/.venv (Datasette, py-spy) from bench/requirements.txt")
    OUT.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(PEER_VENV)], check=True)
    pip = [str(PEER_BIN / "pip"), "install", "--quiet", "--disable-pip-version-check"]
    with (OUT / "bench-venv.log").open("wb") as log:
        subprocess.run([*pip, "-r", str(REQUIREMENTS)], stdout=log, stderr=log, check=True)
    stamp.touch()


# ---------------------------------------------------------------------------------------------
# wrk


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match[1]) * _UNITS[match[2]]


def parse_wrk(output: str) -> Load:
    """requests/s, p50, p99 and failures from `wrk --latency` output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    total = re.search(r"(\d+) requests in", output)
    if not (rps and p50 and p99 and total):
        raise ValueError(f"cannot read wrk's output:\n{output}")
    errors = 0
    if bad := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(bad[1])
    if sockets := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors += sum(int(n) for n in sockets.groups())
    if int(total[1]) == 0:
        # Every request outlasted the load: wrk prints zeros, which are no latency at all.
        return Load(0.0, math.nan, math.nan, 0, errors)
    return Load(float(rps[1]), _ms(p50[1]), _ms(p99[1]), int(total[1]), errors)


def wrk(url: str, connections: int, duration: int, headers: dict[str, str]) -> Load:
    threads = min(connections, 2)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
    command += ["--timeout", "30s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=duration + 60, check=True
    )
    return parse_wrk(done.stdout)


# ---------------------------------------------------------------------------------------------
# The queries


@dataclass
class Query:
    key: str
    label: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    expect: int = 200


@dataclass
class Outcome:
    """A query's check and its loads by connection count, or why it was not loaded."""

    status: int
    size: int
    loads: dict[int, Load] = field(default_factory=dict)
    note: str = ""


def _get(client: httpx.Client, path: str, **headers: str) -> httpx.Response:
    return client.get(path, headers=headers, timeout=300)


def _ds_table(params: dict[str, str]) -> str:
    return "/foilog/entries.json?" + urlencode(
        {**params, "_size": str(PAGE), "_nocount": "1", "_nofacet": "1", "_nosuggest": "1"}
    )


@dataclass
class Inputs:
    force: str
    reference: str
    depth: int


def corpus_inputs(corpus: Path, size: int) -> Inputs:
    """The reference (d) looks up: the first of FORCE's entries in the corpus."""
    with corpus.open("rb") as lines:
        for line in lines:
            document = json.loads(line)
            if document["force"] == FORCE:
                return Inputs(FORCE, document["reference"], min(DEPTH, size // 2 // PAGE * PAGE))
    raise SystemExit(f"the corpus has no {FORCE} entry")


def foilog_queries(client: httpx.Client, inputs: Inputs) -> list[Query]:
    newest = "/v1/disclosure-log?" + urlencode({"force": inputs.force})
    cursor, walked = None, 0
    deadline = time.monotonic() + 600
    while walked < inputs.depth and time.monotonic() < deadline:
        params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        page = _get(client, "/v1/disclosure-log?" + urlencode(params)).json()
        walked += len(page["items"])
        cursor = page["next_cursor"]
    if walked != inputs.depth or cursor is None:
        raise SystemExit(f"walked {walked} of {inputs.depth} entries of foilog's log")
    etag = _get(client, newest).headers["etag"]
    search = "/v1/disclosure-log?"
    return [
        Query("a", f"(a) newest {PAGE} of {inputs.force}", newest),
        Query("b_rel", f"(b) q={RARE}, relevance", search + urlencode({"q": RARE})),
        Query(
            "b_new",
            f"(b) q={RARE}, newest first",
            search + urlencode({"q": RARE, "sort": "-published_at"}),
        ),
        Query("c_rel", f"(c) q={COMMON}, relevance", search + urlencode({"q": COMMON})),
        Query(
            "c_new",
            f"(c) q={COMMON}, newest first",
            search + urlencode({"q": COMMON, "sort": "-published_at"}),
        ),
        Query(
            "d",
            "(d) reference lookup",
            f"/v1/forces/{inputs.force}/references/{quote(inputs.reference, safe='/')}",
        ),
        Query("e", f"(e) page {inputs.depth:,} deep", search + urlencode({"cursor": cursor})),
        Query("f", "(f) 304 revalidation of (a)", newest, {"If-None-Match": etag}, 304),
        Query(
            "g", f"(g) stats of {inputs.force}", "/v1/stats?" + urlencode({"force": inputs.force})
        ),
    ]


def datasette_queries(client: httpx.Client, inputs: Inputs) -> list[Query]:
    newest = {"_sort_desc": "published_at"}
    token, walked = None, 0
    deadline = time.monotonic() + 600
    while walked < inputs.depth and time.monotonic() < deadline:
        params = {**newest, "_size": "100", "_nocount": "1", "_nofacet": "1"}
        if token:
            params["_next"] = token
        page = _get(client, "/foilog/entries.json?" + urlencode(params))
        body = page.json()
        walked += len(body["rows"])
        token = body["next"]
    if walked != inputs.depth or token is None:
        raise SystemExit(f"walked {walked} of {inputs.depth} rows of Datasette's table")
    ranked = (
        "select entries.* from entries join entries_fts on entries_fts.rowid = entries.id "
        f"where entries_fts match :q order by entries_fts.rank limit {PAGE}"
    )
    return [
        Query("a", "", _ds_table({"force": inputs.force, **newest})),
        Query("b_rel", "", _ds_table({"_search": RARE})),
        Query("b_rank", "", "/foilog.json?" + urlencode({"sql": ranked, "q": RARE})),
        Query("b_new", "", _ds_table({"_search": RARE, **newest})),
        Query("c_rel", "", _ds_table({"_search": COMMON})),
        Query("c_rank", "", "/foilog.json?" + urlencode({"sql": ranked, "q": COMMON})),
        Query("c_new", "", _ds_table({"_search": COMMON, **newest})),
        Query("d", "", _ds_table({"force": inputs.force, "reference": inputs.reference})),
        Query("e", "", _ds_table({**newest, "_next": token})),
    ]


def measure(server: Server, queries: list[Query], duration: int) -> dict[str, Outcome]:
    results: dict[str, Outcome] = {}
    with httpx.Client(base_url=server.base) as client:
        for query in queries:
            response = _get(client, query.path, **query.headers)
            outcome = Outcome(response.status_code, len(response.content))
            results[query.key] = outcome
            if response.status_code != query.expect:
                outcome.note = f"HTTP {response.status_code}, not {query.expect}: not loaded"
                _log(f"{server.name} {query.key}: {outcome.note}")
                continue
            for connections in CONNECTIONS:
                load = wrk(server.base + query.path, connections, duration, query.headers)
                outcome.loads[connections] = load
                _log(
                    f"{server.name} {query.key} c={connections}: {load.rps:.0f} req/s, "
                    f"p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms, errors {load.errors}"
                )
    return results


# ---------------------------------------------------------------------------------------------
# Databases, imports, export, profiles


@dataclass
class Database:
    name: str  # "SQLite" or "PostgreSQL"
    url: str
    imported: Measured | None = None
    entries: int = 0
    results: dict[str, Outcome] = field(default_factory=dict)
    # The same queries with no answers kept (FOILOG_KEPT_ANSWERS_MB=0).
    computed: dict[str, Outcome] = field(default_factory=dict)
    revision: str = "?"
    exports: "dict[str, Export]" = field(default_factory=dict)
    export_note: str = ""


def imported_stamp(name: str, size: int) -> Path:
    """Written when an import into that database finished, so `--reuse` can trust it."""
    return DATA / f"imported-{name.lower()}-{size}"


def prepare_sqlite(size: int, *, reuse: bool) -> str:
    path = DATA / f"foilog-{size}.db"
    if reuse and imported_stamp("SQLite", size).exists():
        return f"sqlite:///{path}"
    imported_stamp("SQLite", size).unlink(missing_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def prepare_postgres(size: int, base_url: str, *, reuse: bool) -> str:
    name = f"foilog_bench_{size}"
    url = base_url.rsplit("/", 1)[0] + "/" + name
    if reuse and imported_stamp("PostgreSQL", size).exists():
        return url
    imported_stamp("PostgreSQL", size).unlink(missing_ok=True)
    admin = base_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return url


def upgrade(database: Database) -> None:
    """Migrate to the newest revision on disk (again before serving: /readyz answers 503 while
    the database is behind, and a migration may land while a long import runs)."""
    done = subprocess.run(
        [str(APP_BIN / "foilog"), "db", "upgrade"],
        cwd=ROOT,
        env={**os.environ, "FOILOG_DATABASE_URL": database.url},
        capture_output=True,
        text=True,
        check=True,
    )
    database.revision = done.stdout.strip().rsplit(" ", 1)[-1]


def import_corpus(database: Database, corpus: Path, size: int) -> None:
    env = {"FOILOG_DATABASE_URL": database.url}
    upgrade(database)
    _log(f"importing {size:,} entries into {database.name}")
    database.imported = run_measured(
        [str(APP_BIN / "foilog"), "import", str(corpus)], env, f"import-{database.name}.log"
    )
    database.entries = size
    imported_stamp(database.name, size).touch()
    _log(
        f"{database.name}: {size / database.imported.seconds:,.0f} entries/s, "
        f"peak {database.imported.max_rss_mb:.0f} MB"
    )


@dataclass
class Export:
    seconds: float
    lines: int
    bytes: int
    peak_mb: float  # the workers' private memory (RssAnon), the most any held during the stream
    baseline_mb: float  # the same at rest, before it
    mapped_mb: float  # the most of the database file any worker had mapped (RssFile)


def rss_mb(pid: int, field_name: str) -> float:
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


EXPORT_ENCODINGS = ("identity", "gzip")


# How often the workers' memory is read while an export streams.
MEMORY_SAMPLE_S = 0.02


class _MemoryPeaks:
    """The most private (RssAnon) and file-mapped (RssFile) memory any of some processes holds,
    read every MEMORY_SAMPLE_S on a thread while in use. Not VmHWM: SQLite reads the database
    through a shared memory map, and a full export maps most of the file into each worker's
    resident set (1,001 MB at 100,000 entries) as page cache the kernel can take back, where
    its private memory stayed at 137 MB."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.private = self.mapped = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _read(self) -> None:
        for pid in self.pids:
            self.private = max(self.private, rss_mb(pid, "RssAnon"))
            self.mapped = max(self.mapped, rss_mb(pid, "RssFile"))

    def _sample(self) -> None:
        while not self._done.wait(MEMORY_SAMPLE_S):
            self._read()

    def __enter__(self) -> "_MemoryPeaks":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()
        self._read()


def export_all(server: Server, encoding: str) -> Export:
    """Stream GET /v1/disclosure-log.ndjson to nowhere, asking for `encoding`, while the
    serving workers' memory is read (`_MemoryPeaks`); the server is a fresh one that has
    answered nothing else. `bytes` are the bytes on the wire."""
    workers = server.leaves()
    baseline = max(rss_mb(pid, "RssAnon") for pid in workers)
    lines = size = 0
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    started = time.monotonic()
    with (
        _MemoryPeaks(workers) as peaks,
        httpx.Client(base_url=server.base, timeout=3600) as client,
        client.stream(
            "GET", "/v1/disclosure-log.ndjson", headers={"Accept-Encoding": encoding}
        ) as response,
    ):
        response.raise_for_status()
        compressed = response.headers.get("content-encoding") == "gzip"
        for chunk in response.iter_raw():
            size += len(chunk)
            lines += (inflate.decompress(chunk) if compressed else chunk).count(b"\n")
    seconds = time.monotonic() - started
    return Export(seconds, lines, size, peaks.private, baseline, peaks.mapped)


@dataclass
class Profile:
    label: str
    samples: int
    top_self: list[tuple[str, float]]
    top_app: list[tuple[str, float]]


def _frame(frame: str) -> str:
    return re.sub(r" \(.*/(site-packages|lib/python3\.\d+)/", " (", frame)


def profile(server: Server, query: Query, seconds: int) -> Profile:
    """py-spy samples every worker while wrk drives the query at one connection."""
    outputs = []
    spies = []
    for pid in server.leaves():
        output = OUT / f"profile-{query.key}-{pid}.folded"
        output.unlink(missing_ok=True)
        outputs.append(output)
        command = [str(PEER_BIN / "py-spy"), "record", "--pid", str(pid), "--nonblocking"]
        command += ["--rate", "200", "--duration", str(seconds), "--format", "raw"]
        spies.append(
            subprocess.Popen(
                [*command, "--output", str(output)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    time.sleep(1)
    wrk(server.base + query.path, 1, seconds - 2, query.headers)
    for spy in spies:
        try:
            spy.wait(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait()
    own: Counter[str] = Counter()
    app: Counter[str] = Counter()
    total = 0
    for output in outputs:
        if not output.exists():
            continue
        for line in output.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            frames = [_frame(f) for f in stack.split(";")]
            # Idle threads (the event loop waiting, the pool's idle workers) are not the query.
            if not any("app/" in f or "starlette" in f for f in frames):
                continue
            total += int(count)
            own[frames[-1]] += int(count)
            for name in {f for f in frames if "(app/" in f}:
                app[name] += int(count)
    share = [(f, n / total) for f, n in own.most_common(8)] if total else []
    inside = [(f, n / total) for f, n in app.most_common(8)] if total else []
    return Profile(query.label, total, share, inside)


# ---------------------------------------------------------------------------------------------
# The report


def _versions(postgres_url: str) -> dict[str, str]:
    def out(command: list[str]) -> str:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        return (done.stdout + done.stderr).strip().splitlines()[0]

    pg = "unreachable"
    with suppress(psycopg.Error):
        admin = postgres_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin) as connection:
            row = connection.execute("SHOW server_version").fetchone()
            pg = str(row[0]) if row else pg
    commit = out(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--", "app", "migrations"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    freeze = {
        name: version
        for name, version in (
            line.split("==")
            for line in subprocess.run(
                [str(APP_BIN / "python"), "-m", "pip", "freeze"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.splitlines()
            if "==" in line
        )
    }
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    return {
        "load at start": " ".join(f"{n:.1f}" for n in os.getloadavg()),
        "machine": f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, {platform.platform()}",
        "foilog": f"{commit}{' with uncommitted changes in app/ or migrations/' if dirty else ''}",
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "PostgreSQL": pg,
        "uvicorn": freeze.get("uvicorn", "?"),
        "FastAPI": freeze.get("fastapi", "?"),
        "SQLAlchemy": freeze.get("SQLAlchemy", "?"),
        "Datasette": out([str(PEER_BIN / "datasette"), "--version"]),
        "wrk": out(["wrk", "-v"]),
    }


def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _cell(outcome: Outcome | None, connections: int, what: str) -> str:
    if outcome is None:
        return "—"
    load = outcome.loads.get(connections)
    if load is None:
        return outcome.note or "—"
    if load.requests == 0:
        return "none finished" if what == "rps" else "—"
    value = {"rps": load.rps, "p50": load.p50_ms, "p99": load.p99_ms}[what]
    text = _fmt(value)
    return f"{text} ({load.errors} errors)" if load.errors and what == "rps" else text


def _ratio(ours: Outcome | None, theirs: Outcome | None, connections: int) -> float | None:
    if ours is None or theirs is None:
        return None
    a, b = ours.loads.get(connections), theirs.loads.get(connections)
    if a is None or b is None or b.rps == 0:
        return None
    return a.rps / b.rps


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}x"


@dataclass
class Verdict:
    target: str
    measured: str
    met: bool | None  # None: not measured

    def row(self) -> str:
        mark = {True: "met", False: "**missed**", None: "not measured"}[self.met]
        return f"| {self.target} | {self.measured} | {mark} |"


def _at_least(target: str, value: float | None, goal: float, unit: str = "x") -> Verdict:
    if value is None or math.isnan(value):
        return Verdict(target, "—", None)
    met = value >= goal
    short = "" if met else f", {1 - value / goal:.0%} short"
    shown = f"{value:.2f}{unit}" if unit == "x" else f"{value:,.0f}{unit}"
    return Verdict(target, f"{shown}{short}", met)


def _at_most(target: str, value: float | None, goal: float, unit: str = "ms") -> Verdict:
    if value is None:
        return Verdict(target, "—", None)
    if math.isnan(value):
        return Verdict(target, "no request finished within the load", False)
    met = value <= goal
    over = "" if met else f", {value / goal - 1:.0%} over"
    return Verdict(target, f"{value:,.1f} {unit}{over}", met)


def verdicts(
    sqlite: Database | None,
    postgres: Database | None,
    peer: dict[str, Outcome],
    ceiling: Outcome | None,
) -> list[Verdict]:
    out: list[Verdict] = []
    ours = sqlite.results if sqlite else {}

    def ratio(key: str, c: int, theirs: dict[str, Outcome] | Outcome | None) -> float | None:
        other = theirs.get(key) if isinstance(theirs, dict) else theirs
        return _ratio(ours.get(key), other, c)

    def p50(results: dict[str, Outcome], key: str) -> float | None:
        load = results[key].loads.get(1) if key in results else None
        return load.p50_ms if load else None

    for c in CONNECTIONS:
        out.append(_at_least(f"(a) ≥10x Datasette rps, c={c}", ratio("a", c, peer), 10))
        out.append(_at_least(f"(a) ≥25% of ceiling rps, c={c}", ratio("a", c, ceiling), 0.25))
        out.append(_at_least(f"(d) ≥10x Datasette rps, c={c}", ratio("d", c, peer), 10))
        out.append(_at_least(f"(d) ≥25% of ceiling rps, c={c}", ratio("d", c, ceiling), 0.25))
        out.append(
            _at_least(f"(b) newest-first ≥10x Datasette, c={c}", ratio("b_new", c, peer), 10)
        )
        out.append(
            _at_least(f"(c) newest-first ≥10x Datasette, c={c}", ratio("c_new", c, peer), 10)
        )
        out.append(_at_least(f"(e) ≥10x Datasette's _next, c={c}", ratio("e", c, peer), 10))
        out.append(_at_least(f"(f) ≥50% of ceiling rps, c={c}", ratio("f", c, ceiling), 0.5))
    computed = sqlite.computed if sqlite else {}
    for suffix, results in (("", ours), (", every answer computed", computed)):
        out.append(_at_most(f"(b) relevance p50 ≤60 ms at c=1{suffix}", p50(results, "b_rel"), 60))
        out.append(
            _at_most(f"(c) relevance p50 ≤100 ms at c=1{suffix}", p50(results, "c_rel"), 100)
        )
        out.append(_at_most(f"(g) stats p50 ≤50 ms at c=1{suffix}", p50(results, "g"), 50))
    for database in (d for d in (sqlite, postgres) if d):
        rate = database.entries / database.imported.seconds if database.imported else None
        out.append(_at_least(f"import ≥5,000 entries/s ({database.name})", rate, 5000, " /s"))
    export = sqlite.exports.get("identity") if sqlite else None
    rate = export.lines / export.seconds if export and export.seconds else None
    out.append(_at_least("export ≥20,000 entries/s (SQLite)", rate, 20_000, " /s"))
    out.append(
        _at_most("export peak ≤250 MB (SQLite)", export.peak_mb if export else None, 250, "MB")
    )
    if sqlite and postgres:
        for key, outcome in sqlite.results.items():
            other = postgres.results.get(key)
            for c in CONNECTIONS:
                value = _ratio(other, outcome, c)
                out.append(_at_least(f"PostgreSQL within 2x of SQLite: {key}, c={c}", value, 0.5))
    return out


def report(
    args: argparse.Namespace,
    started: datetime,
    versions: dict[str, str],
    labels: dict[str, str],
    databases: list[Database],
    peer: dict[str, Outcome],
    peer_build: Measured | None,
    ceiling: Outcome | None,
    profiles: list[Profile],
) -> str:
    sqlite = next((d for d in databases if d.name == "SQLite"), None)
    postgres = next((d for d in databases if d.name == "PostgreSQL"), None)
    lines = [
        "# foilog benchmark results",
        "",
        f"**{args.size:,} entries**, {args.duration} s per load, connections "
        f"{' and '.join(map(str, CONNECTIONS))}; run {started:%Y-%m-%d %H:%M} UTC, "
        f"{(datetime.now(UTC) - started).total_seconds() / 60:.0f} minutes. Load average at "
        f"the start {versions.pop('load at start')}, at the end "
        f"{' '.join(f'{n:.1f}' for n in os.getloadavg())}.",
        "",
        f"Command: `{shlex.join(['bench/run.py', *sys.argv[1:]])}`",
        "",
        "| | |",
        "| --- | --- |",
        *(f"| {name} | {value} |" for name, value in versions.items()),
        "",
        f"wrk (the load generator) runs on the same machine and shares its {os.cpu_count()} "
        f"cores with the server under test, so every figure is lower than a separate load "
        f"machine would measure. foilog and the ceiling run as `--workers {WORKERS}` uvicorn "
        f"processes; Datasette as one `datasette serve -i` process (it has no workers option), "
        f"with `sql_time_limit_ms` raised to {DATASETTE_TIME_LIMIT_MS:,} so a slow query is "
        f"timed, not refused. Other work on a shared machine shows up as noise.",
        "",
        "## Queries",
        "",
        "Requests per second (rps) and latency in milliseconds; the ratios compare rps. "
        "Datasette's table view has no relevance order: with `_search` it answers in primary-key "
        "order, so foilog's relevance rows are compared with that, and also with Datasette's SQL "
        "interface ordering by FTS5 `rank` (rows marked *rank*). (f) and (g) have no Datasette "
        "equivalent. wrk keeps every connection busy: *none finished* means no answer came back "
        f"within the {args.duration} s of a load.",
        "",
    ]
    header = "| query | " + " | ".join(
        f"{what} c={c}" for c in CONNECTIONS for what in ("rps", "p50", "p99")
    )
    tables = [
        (f"### foilog on {d.name} (schema revision {d.revision})", d.results) for d in databases
    ]
    tables += [
        (
            f"### foilog on {d.name}, every answer computed (`FOILOG_KEPT_ANSWERS_MB=0`)\n\n"
            "foilog keeps each answer it computed under its ETag until the data changes, so the "
            "tables above serve repeated requests from memory. Here nothing is kept: these are "
            "the costs of the first request after each write, and of URLs nobody asked before.",
            d.computed,
        )
        for d in databases
        if d.computed
    ]
    for title, results in tables:
        lines += [title, ""]
        lines += [header + " | vs Datasette | vs ceiling |"]
        lines += ["| --- " * (2 + 3 * len(CONNECTIONS)) + "| --- |"]
        for key, outcome in results.items():
            cells = [_cell(outcome, c, w) for c in CONNECTIONS for w in ("rps", "p50", "p99")]
            versus = " / ".join(_x(_ratio(outcome, peer.get(key), c)) for c in CONNECTIONS)
            if (ranked := peer.get(key.replace("_rel", "_rank"))) and key.endswith("_rel"):
                versus += (
                    " (*rank*: "
                    + " / ".join(_x(_ratio(outcome, ranked, c)) for c in CONNECTIONS)
                    + ")"
                )
            ceiling_ratio = " / ".join(_x(_ratio(outcome, ceiling, c)) for c in CONNECTIONS)
            lines.append(f"| {labels[key]} | {' | '.join(cells)} | {versus} | {ceiling_ratio} |")
        lines.append("")
    if peer:
        lines += ["### Datasette, same data flattened into one table with FTS5", ""]
        lines += [header + " | URL |", "| --- " * (2 + 3 * len(CONNECTIONS)) + "|"]
        for key, outcome in peer.items():
            cells = [_cell(outcome, c, w) for c in CONNECTIONS for w in ("rps", "p50", "p99")]
            label = labels.get(key, key)
            if key.endswith("_rel"):
                label = label.replace("relevance", "default order (by id)")
            elif key.endswith("_rank"):
                label = labels[key.replace("_rank", "_rel")].replace("relevance", "*rank* (SQL)")
            lines.append(f"| {label} | {' | '.join(cells)} | `{outcome.note or ''}` |")
        lines.append("")
    if ceiling:
        cells = [_cell(ceiling, c, w) for c in CONNECTIONS for w in ("rps", "p50", "p99")]
        lines += ["### Framework ceiling: bare FastAPI, fixed body", ""]
        lines += [header + " |", "| --- " * (1 + 3 * len(CONNECTIONS)) + "|"]
        lines += [f"| fixed {ceiling.size:,} bytes, the size of (a) | {' | '.join(cells)} |", ""]
    lines += ["## Import and export", ""]
    lines += [
        "| what | entries | seconds | entries/s | peak RSS MB |",
        "| --- | --- | --- | --- | --- |",
    ]
    for database in databases:
        if database.imported is None:
            lines.append(
                f"| `foilog import` into {database.name} | not measured: a database an earlier "
                "import left was served (`--reuse`) | | | |"
            )
        else:
            m = database.imported
            lines.append(
                f"| `foilog import` into {database.name} | {database.entries:,} | "
                f"{m.seconds:,.1f} | {database.entries / m.seconds:,.0f} | {m.max_rss_mb:,.0f} |"
            )
        for encoding, e in database.exports.items():
            lines.append(
                f"| GET /v1/disclosure-log.ndjson from {database.name}, {encoding} "
                f"({e.bytes / 1e6:,.0f} MB sent) | "
                f"{e.lines:,} | {e.seconds:,.1f} | {e.lines / e.seconds:,.0f} | "
                f"{e.peak_mb:,.0f} (worker at rest: {e.baseline_mb:,.0f}; the database "
                f"file mapped: up to {e.mapped_mb:,.0f}) |"
            )
        if database.export_note:
            lines.append(f"| export from {database.name} | {database.export_note} | | | |")
    if peer_build:
        lines.append(
            f"| Datasette table + FTS5 built with sqlite3 | {args.size:,} | "
            f"{peer_build.seconds:,.1f} | {args.size / peer_build.seconds:,.0f} | "
            f"{peer_build.max_rss_mb:,.0f} |"
        )
    lines += [
        "",
        "Import peak is the `foilog import` process's maximum RSS (wait4); export peak is the "
        "most private memory (RssAnon, read every 20 ms) any of the freshly started server's "
        "workers held during the stream; the pages of the database file they had mapped, "
        "which the kernel can take back, are given beside it. The export "
        "target is judged on the identity stream; gzip (what a mirror would ask for) is "
        "compressed by the server's GZipMiddleware and inflated by the client, both on these "
        "cores.",
        "",
        "## Targets (SQLite, 2 workers)",
        "",
        "| target | measured | verdict |",
        "| --- | --- | --- |",
        *(v.row() for v in verdicts(sqlite, postgres, peer, ceiling)),
        "",
    ]
    if profiles:
        lines += [
            "## Profiles (py-spy, SQLite, one connection, every answer computed)",
            "",
            "Share of the samples that were inside a request. Folded stacks: bench/out/.",
            "",
        ]
        for p in profiles:
            lines += [
                f"### {p.label} ({p.samples:,} samples)",
                "",
                "| self | frame |",
                "| --- | --- |",
            ]
            lines += [f"| {s:.0%} | `{f}` |" for f, s in p.top_self]
            lines += ["", "| inclusive | foilog frame |", "| --- | --- |"]
            lines += [f"| {s:.0%} | `{f}` |" for f, s in p.top_app]
            lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------


def foilog_server(url: str, *, keep_answers: bool = True) -> AbstractContextManager[Server]:
    """foilog serving the database at `url`; without kept answers, every request computes its
    answer (a 304 still needs none)."""
    command = [str(APP_BIN / "foilog"), "serve", "--host", HOST, "--port", str(FOILOG_PORT)]
    env = {"FOILOG_DATABASE_URL": url, **({} if keep_answers else {"FOILOG_KEPT_ANSWERS_MB": "0"})}
    return serving("foilog", [*command, "--workers", str(WORKERS)], FOILOG_PORT, "/readyz", env)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--size", type=int, default=20_000, help="entries (reference: 1000000)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk load")
    parser.add_argument(
        "--databases", default="sqlite,postgres", help="comma-separated: sqlite, postgres"
    )
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help="a server foilog may use")
    parser.add_argument(
        "--profile", type=int, default=20, help="seconds of py-spy per slow query (0: none)"
    )
    parser.add_argument("--no-peer", action="store_true", help="skip Datasette")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="serve foilog databases a finished earlier import left, without importing\n"
        "(the import is then not measured)",
    )
    parser.add_argument("--output", type=Path, default=BENCH / "RESULTS.md")
    args = parser.parse_args()
    if args.size < 2 * PAGE:
        parser.error(f"--size must be at least {2 * PAGE}")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    started = datetime.now(UTC)
    for stale in OUT.glob("profile-*.folded"):
        stale.unlink()
    ensure_peer_venv()
    versions = _versions(args.postgres_url)

    corpus = DATA / f"corpus-{args.size}.ndjson"
    if not corpus.exists():
        _log(f"writing the corpus: {args.size:,} entries")
        subprocess.run(
            [
                str(APP_BIN / "python"),
                "-m",
                "bench.corpus",
                "--size",
                str(args.size),
                "--out",
                str(corpus),
            ],
            cwd=ROOT,
            check=True,
        )
    inputs = corpus_inputs(corpus, args.size)

    databases: list[Database] = []
    labels: dict[str, str] = {}
    profiles: list[Profile] = []
    for name in args.databases.split(","):
        if name == "sqlite":
            database = Database("SQLite", prepare_sqlite(args.size, reuse=args.reuse))
        elif name == "postgres":
            url = prepare_postgres(args.size, args.postgres_url, reuse=args.reuse)
            database = Database("PostgreSQL", url)
        else:
            parser.error(f"unknown database {name!r}")
        databases.append(database)
        if args.reuse and imported_stamp(database.name, args.size).exists():
            _log(f"{database.name}: reusing the database an earlier import left")
            database.entries = args.size
        else:
            import_corpus(database, corpus, args.size)
        upgrade(database)
        with foilog_server(database.url) as server:
            with httpx.Client(base_url=server.base) as client:
                queries = foilog_queries(client, inputs)
            labels.update((q.key, q.label) for q in queries)
            database.results = measure(server, queries, args.duration)
        if name == "sqlite":
            # The same queries computed afresh on every request: what the first request after
            # each write costs, and where the time goes (the profiles).
            computed = [q for q in queries if q.expect == 200]
            with foilog_server(database.url, keep_answers=False) as server:
                database.computed = measure(server, computed, args.duration)
                slowest = sorted(
                    (q for q in computed if 1 in database.computed[q.key].loads),
                    key=lambda q: -database.computed[q.key].loads[1].p50_ms,
                )[: 3 if args.profile else 0]
                for query in slowest:
                    _log(f"profiling {query.key} for {args.profile} s")
                    profiles.append(profile(server, query, args.profile))
        for encoding in EXPORT_ENCODINGS:
            with foilog_server(database.url) as server:
                _log(f"exporting from {database.name}, {encoding}")
                try:
                    database.exports[encoding] = export_all(server, encoding)
                except httpx.HTTPStatusError as error:
                    status = error.response.status_code
                    database.export_note = f"HTTP {status}: GET /v1/disclosure-log.ndjson" + (
                        " is not built yet" if status == 404 else " failed"
                    )
                    break
                _log(f"{database.name} export: {database.exports[encoding]}")

    peer: dict[str, Outcome] = {}
    peer_build = None
    if not args.no_peer:
        peer_db = DATA / f"datasette-{args.size}" / "foilog.db"
        if not peer_db.exists():
            _log("building Datasette's database")
            peer_build = run_measured(
                [str(APP_BIN / "python"), "-m", "bench.datasette_load", str(corpus), str(peer_db)],
                {},
                "datasette-load.log",
            )
        command = [str(PEER_BIN / "datasette"), "serve", "-i", str(peer_db), "--host", HOST]
        command += ["--port", str(DATASETTE_PORT)]
        for setting, value in (
            ("sql_time_limit_ms", DATASETTE_TIME_LIMIT_MS),
            ("suggest_facets", "off"),
            ("default_page_size", PAGE),
        ):
            command += ["--setting", setting, str(value)]
        with serving("datasette", command, DATASETTE_PORT, "/-/versions.json") as server:
            with httpx.Client(base_url=server.base) as client:
                peer_queries = datasette_queries(client, inputs)
            peer = measure(server, peer_queries, args.duration)
            for query in peer_queries:
                peer[query.key].note = query.path

    ceiling = None
    reference = databases[0].results.get("a") if databases else None
    if reference:
        command = [str(APP_BIN / "uvicorn"), "bench.ceiling:app", "--host", HOST]
        command += ["--port", str(CEILING_PORT), "--workers", str(WORKERS), "--proxy-headers"]
        command += ["--no-server-header", "--no-access-log"]
        env = {"BENCH_CEILING_BYTES": str(reference.size)}
        with serving("ceiling", command, CEILING_PORT, "/ceiling", env) as server:
            ceiling = measure(server, [Query("ceiling", "ceiling", "/ceiling")], args.duration)[
                "ceiling"
            ]

    text = report(args, started, versions, labels, databases, peer, peer_build, ceiling, profiles)
    args.output.write_text(text + "\n")
    _log(f"wrote {args.output}")


if __name__ == "__main__":
    main()

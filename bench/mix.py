"""Distinct URLs and writes under load, foilog against Datasette on the same entries.

`python -m bench.mix --size 100000 --foilog-db F.db --datasette-db D.db` (or `--foilog-url U`
for a PostgreSQL database) serves both databases at once (foilog with 2 workers, Datasette as
one process) and drives each in turn with wrk at 32 connections over a deterministic shuffled
list of distinct URLs (40% searches, 20% reference lookups, 15% force pages, 10% topic filters,
15% cursor pages; a Lua script walks the list, each wrk connection from its own offset). The
mix's time is split into `--rounds` rounds, foilog then Datasette in each, each round on its own
stretch of the list: this machine's speed drifts by a fifth within minutes (two runs of the
same code one after the other: 2.58x and 3.22x Datasette), and rounds a few seconds apart put
the drift on both servers alike. Under each server's mix it reads from /proc the CPU time its
processes spent, and on PostgreSQL the database server's processes, a request (wrk's own is
not counted). Then it reads foilog's hot page at 32 connections while a publish (a one-entry
import) is sent every 0.5 s. It prints a Markdown report. `--writes-only` runs the last part
alone."""

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import httpx

from app.demo import generate_entries
from app.pagination import encode_cursor
from bench.run import (
    APP_BIN,
    DATA,
    HOST,
    OUT,
    PEER_BIN,
    Load,
    Server,
    parse_wrk,
    rss_mb,
    serving,
    stat_fields,
)

KINDS = {"search": 40, "reference": 20, "force": 15, "topic": 10, "cursor": 15}
SAMPLE = 16_800
SEED = 20261202
FOILOG_PORT = 8811
DATASETTE_PORT = 8812
# The first publications of a run, while each worker still prepares its writes: reported apart.
COLD_PUBLISHES = 6
DS_PAGE = {"_nocount": "1", "_nofacet": "1", "_nosuggest": "1"}

LUA = """
local paths = {}
for line in io.lines(os.getenv("MIX_PATHS")) do paths[#paths + 1] = line end
local counter = 0
local start = tonumber(os.getenv("MIX_START") or "0")
function setup(thread)
  thread:set("offset", start + counter * 7919)
  counter = counter + 1
end
local i = 0
function request()
  i = i + 1
  return wrk.format("GET", paths[((offset + i) % #paths) + 1])
end
"""


@dataclass
class Entry:
    id: int
    force: str
    reference: str
    published_at: str
    topics: list[str]
    words: list[str]


def _sample(corpus: Path, size: int, rng: random.Random) -> list[Entry]:
    wanted = set(rng.sample(range(1, size + 1), min(size, 4000)))
    found = []
    with corpus.open("rb") as lines:
        for number, line in enumerate(lines, 1):
            if number in wanted:
                document = json.loads(line)
                words = [w.strip(".,;:()'\"").lower() for w in document["title"].split()]
                found.append(
                    Entry(
                        number,
                        document["force"],
                        document["reference"],
                        document["published_at"],
                        document["topics"],
                        [w for w in words if len(w) > 3 and w.isalpha()],
                    )
                )
    return found


@dataclass
class Request:
    """One request of the mix, in each server's terms."""

    kind: str
    foilog: str
    datasette: str


def url_lists(corpus: Path, size: int) -> list[Request]:
    """The same distinct requests for foilog and for Datasette, shuffled alike."""
    rng = random.Random(SEED)
    entries = _sample(corpus, size, rng)
    forces = sorted({e.force for e in entries})
    topics = sorted({t for e in entries for t in e.topics})
    vocabulary = sorted({w for e in entries for w in e.words})
    pairs: list[Request] = []
    for kind, share in KINDS.items():
        seen: set[str] = set()
        while len(seen) < SAMPLE * share // 100:
            entry = rng.choice(entries)
            limit = rng.randint(5, 60)
            if kind == "search":
                words = " ".join(rng.sample(vocabulary, rng.choice((1, 2))))
                newest = rng.random() < 0.5
                ours = {"q": words, "limit": limit} | ({"sort": "-published_at"} if newest else {})
                theirs = {"_search": words, "_size": limit} | (
                    {"_sort_desc": "published_at"} if newest else {}
                )
                named = "newest-first search" if newest else "ranked search"
                pair = (named, f"/v1/disclosure-log?{urlencode(ours)}", _ds(theirs))
            elif kind == "reference":
                ref = quote(entry.reference, safe="/")
                pair = (
                    kind,
                    f"/v1/forces/{entry.force}/references/{ref}",
                    _ds({"force": entry.force, "reference": entry.reference}),
                )
            elif kind == "force":
                force = rng.choice(forces)
                pair = (
                    kind,
                    f"/v1/disclosure-log?{urlencode({'force': force, 'limit': limit})}",
                    _ds({"force": force, "_sort_desc": "published_at", "_size": limit}),
                )
            elif kind == "topic":
                topic = rng.choice(topics)
                pair = (
                    kind,
                    f"/v1/disclosure-log?{urlencode({'topic': topic, 'limit': limit})}",
                    _ds({"topics__contains": topic, "_sort_desc": "published_at", "_size": limit}),
                )
            else:
                cursor = encode_cursor("-published_at", [entry.published_at, entry.id])
                at = entry.published_at.replace("Z", "+00:00")
                pair = (
                    kind,
                    f"/v1/disclosure-log?{urlencode({'cursor': cursor, 'limit': limit})}",
                    _ds({"published_at__lt": at, "_sort_desc": "published_at", "_size": limit}),
                )
            if pair[1] not in seen:
                seen.add(pair[1])
                pairs.append(Request(*pair))
    rng.shuffle(pairs)
    return pairs


def _ds(params: dict[str, object]) -> str:
    return "/foilog/entries.json?" + urlencode({**params, **DS_PAGE})


def wrk_mix(
    base: str, paths: list[str], name: str, connections: int, duration: int, start: int = 0
) -> Load:
    """The mix for `duration` seconds, its connections walking the list from `start` on."""
    OUT.mkdir(parents=True, exist_ok=True)
    listing = OUT / f"mix-{name}.txt"
    listing.write_text("\n".join(paths) + "\n")
    script = OUT / "mix.lua"
    script.write_text(LUA)
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "30s"]
    done = subprocess.run(
        [*command, "-s", str(script), base],
        capture_output=True,
        text=True,
        timeout=duration + 120,
        check=True,
        env={**os.environ, "MIX_PATHS": str(listing), "MIX_START": str(start)},
    )
    return parse_wrk(done.stdout)


CHECKED = 200
PER_KIND = 60


class Timer:
    """GETs on one kept-alive connection, uncompressed (as wrk asks; Datasette compresses
    nothing), each timed in milliseconds. The standard library's client, not httpx: httpx
    parses a response in Python (h11), which added 0.5 ms to a 1 KB answer and 1.3 ms to a
    reference lookup's (2.47 ms against 1.17 at 100,000 entries), to both servers alike."""

    def __init__(self, base: str) -> None:
        address = urlsplit(base)
        self.connection = http.client.HTTPConnection(
            address.hostname or HOST, address.port, timeout=120
        )

    def get(self, path: str) -> float:
        started = time.perf_counter()
        self.connection.request("GET", path, headers={"Accept-Encoding": "identity"})
        response = self.connection.getresponse()
        body = response.read()
        taken = (time.perf_counter() - started) * 1000
        assert response.status == 200, (path, body[:500])
        return taken

    def close(self) -> None:
        self.connection.close()


def per_kind(
    base: str, requests: list[Request], side: str, part: int = 0, parts: int = 1
) -> dict[str, list[float]]:
    """Milliseconds of requests of each kind, one connection, each URL asked once, in list
    order: of the first PER_KIND requests of a kind after the CHECKED ones, which nothing has
    asked before, the `part`-th share of `parts` (a round's)."""
    share = PER_KIND // parts
    seen: dict[str, int] = {}
    timings: dict[str, list[float]] = {}
    timer = Timer(base)
    try:
        for request in requests[CHECKED:]:
            index = seen[request.kind] = seen.get(request.kind, -1) + 1
            taken = timings.setdefault(request.kind, [])
            if part * share <= index < (part + 1) * share:
                taken.append(timer.get(getattr(request, side)))
    finally:
        timer.close()
    return timings


def quantile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def check(base: str, paths: list[str], count: int = CHECKED) -> tuple[int, int]:
    """How many of the first `count` URLs answer 200 (the rest are reported, not hidden)."""
    with httpx.Client(base_url=base, timeout=120) as client:
        good = sum(client.get(path).status_code == 200 for path in paths[:count])
    return good, count


def _admin_key(env: dict[str, str]) -> str:
    name = f"bench-{time.time_ns()}"
    done = subprocess.run(
        [str(APP_BIN / "foilog"), "keys", "create", "--role", "admin", "--name", name],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def writes_under_load(base: str, env: dict[str, str], size: int, duration: int) -> dict[str, float]:
    key = _admin_key(env)
    alone = wrk_hot(base, duration)
    latencies: list[float] = []
    stop = threading.Event()
    documents = generate_entries(10_000, start_index=size + time.time_ns() % 10**6 * 10)

    def publish() -> None:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"}
        with httpx.Client(base_url=base, timeout=60) as client:
            while not stop.is_set():
                body = json.dumps(next(documents)).encode()
                started = time.perf_counter()
                response = client.post("/v1/import", content=body, headers=headers)
                latencies.append((time.perf_counter() - started) * 1000)
                print(f"publish {len(latencies)}: {latencies[-1]:.0f} ms", file=sys.stderr)
                assert response.status_code == 200, response.text
                stop.wait(0.5)

    writer = threading.Thread(target=publish)
    writer.start()
    loaded = wrk_hot(base, duration)
    stop.set()
    writer.join()
    if len(latencies) <= COLD_PUBLISHES:
        raise SystemExit(f"{len(latencies)} publications in {duration} s: give a longer --duration")
    # A worker's first publications compile the write statements and load what writes read
    # (a one-entry import: 86 ms first, 18 ms next, alone): reported apart from the rest.
    cold, warm = latencies[:COLD_PUBLISHES], latencies[COLD_PUBLISHES:]
    return {
        "reader_alone_rps": alone.rps,
        "reader_with_writes_rps": loaded.rps,
        "reader_p99_ms": loaded.p99_ms,
        "first_publishes_max_ms": max(cold),
        "publishes_after_them": len(warm),
        "publish_p50_ms": statistics.median(warm),
        "publish_p90_ms": quantile(warm, 0.9),
        "publish_p99_ms": quantile(warm, 0.99),
        "publish_max_ms": max(warm),
    }


def wrk_hot(base: str, duration: int) -> Load:
    command = ["wrk", "-t2", "-c32", f"-d{duration}s", "--latency", "--timeout", "30s"]
    done = subprocess.run(
        [*command, f"{base}/v1/disclosure-log"],
        capture_output=True,
        text=True,
        timeout=duration + 120,
        check=True,
    )
    return parse_wrk(done.stdout)


def uvicorn_command(port: int, app_dir: Path | None = None) -> list[str]:
    """foilog's two workers as `foilog serve` runs them (the code of `app_dir`, else this
    checkout's), with room for a worker to start on a loaded machine (uvicorn's default 5 s
    health check restarts a worker still importing)."""
    command = [str(APP_BIN / "uvicorn"), "app.main:app", "--host", HOST, "--port", str(port)]
    command += ["--workers", "2", "--timeout-worker-healthcheck", "120", "--no-access-log"]
    return command + (["--app-dir", str(app_dir)] if app_dir is not None else [])


def warm(path: Path) -> None:
    """Read a database file once, so that each server starts with it in the OS's cache. This
    machine evicts files left unread for some minutes (a PostgreSQL database read 30 minutes
    after its last use served the mix at 87 requests/s, against 144 when used just before)."""
    with path.open("rb") as stored:
        while stored.read(1 << 24):
            pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--corpus", type=Path)
    served = parser.add_mutually_exclusive_group(required=True)
    served.add_argument("--foilog-db", type=Path, help="a SQLite file foilog serves")
    served.add_argument("--foilog-url", help="a database URL foilog serves (PostgreSQL)")
    parser.add_argument("--datasette-db", type=Path, help="the peer's file (not for --writes-only)")
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--rounds", type=int, default=3, help="the mix's --duration split into rounds a server"
    )
    parser.add_argument(
        "--writes-only", action="store_true", help="only the writes under load (no peer)"
    )
    args = parser.parse_args()
    if not args.writes_only and args.datasette_db is None:
        parser.error("--datasette-db is needed to compare with the peer")
    url = args.foilog_url or f"sqlite:///{args.foilog_db.resolve()}"
    env = {"FOILOG_DATABASE_URL": url}
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    load = os.getloadavg()
    command = uvicorn_command(FOILOG_PORT)
    if args.writes_only:
        with serving("mix-foilog", command, FOILOG_PORT, "/healthz", env) as s:
            writes = writes_under_load(s.base, env, args.size, args.duration)
        _print_writes(writes)
        return
    corpus = args.corpus or DATA / f"corpus-{args.size}.ndjson"
    requests = url_lists(corpus, args.size)
    for stored in (args.foilog_db, args.datasette_db):
        if stored is not None:
            warm(stored)
    peer = [str(PEER_BIN / "datasette"), "serve", "-i", str(args.datasette_db), "--host", HOST]
    peer += ["--port", str(DATASETTE_PORT), "--setting", "sql_time_limit_ms", "60000"]
    peer += ["--setting", "suggest_facets", "off", "--setting", "max_returned_rows", "1000"]
    each = max(2, args.duration // args.rounds)
    with (
        serving("mix-foilog", command, FOILOG_PORT, "/healthz", env) as f,
        serving("mix-datasette", peer, DATASETTE_PORT, "/-/versions.json") as d,
    ):
        sides = (
            Side("foilog", f, requests, database=database == "PostgreSQL"),
            Side("datasette", d, requests),
        )
        for part in range(args.rounds):
            for side in sides:
                side.round(part, args.rounds, args.connections, each)
        writes = writes_under_load(f.base, env, args.size, args.duration)
        memory = worker_memory(f)
    after = os.getloadavg()
    ours, theirs = sides
    listed = f"{len(requests):,} URLs, foilog on {database}"
    print(f"## Distinct URLs at {args.size:,} entries ({listed})\n")
    print(f"Load average before {load[0]:.1f}, after {after[0]:.1f} (2 cores, shared).\n")
    print(f"{args.rounds} rounds of {each} s a server, foilog then Datasette in each:\n")
    print(
        "| round | foilog rps | Datasette rps | foilog / Datasette | foilog p99 ms | peer p99 ms |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    ratios = []
    for part, (a, b) in enumerate(zip(ours.loads, theirs.loads, strict=True), 1):
        ratios.append(a.rps / b.rps)
        print(
            f"| {part} | {a.rps:.0f} | {b.rps:.0f} | {ratios[-1]:.2f}x | {a.p99_ms:.1f} | "
            f"{b.p99_ms:.1f} |"
        )
    print("\n| server | requests/s, mean | p50 ms, median | p99 ms, median | errors | checked |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, side in (("foilog", ours), ("Datasette", theirs)):
        row = (
            f"| {name} | {side.rps:.0f} | {side.median('p50_ms'):.1f} | {side.median('p99_ms'):.1f}"
        )
        print(f"{row} | {side.errors} | {side.checked[0]}/{side.checked[1]} |")
    print(
        f"\nfoilog / Datasette requests/s: **{statistics.median(ratios):.2f}x** (median of the "
        f"rounds; of the means {ours.rps / theirs.rps:.2f}x)\n"
    )
    foilog_cpu, datasette_cpu = ours.cpu_per_request(), theirs.cpu_per_request()
    spent = f"CPU a request under the mix: foilog's processes {foilog_cpu.server_ms:.2f} ms"
    if foilog_cpu.database_ms is not None:
        spent += (
            f", PostgreSQL's (every server process on the machine) {foilog_cpu.database_ms:.2f}"
        )
    print(f"{spent}; Datasette's {datasette_cpu.server_ms:.2f} ms.\n")
    print(f"## Per kind, one connection, {PER_KIND} distinct URLs each, not asked before\n")
    print("| kind | foilog p50 ms | p90 | Datasette p50 ms | p90 | foilog faster by (p50) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for kind, ours_ms in ours.kinds.items():
        peer_ms = theirs.kinds[kind]
        ours_p50, peer_p50 = quantile(ours_ms, 0.5), quantile(peer_ms, 0.5)
        print(
            f"| {kind} | {ours_p50:.1f} | {quantile(ours_ms, 0.9):.1f} | {peer_p50:.1f} | "
            f"{quantile(peer_ms, 0.9):.1f} | {peer_p50 / ours_p50:.2f}x |"
        )
    print()
    _print_writes(writes)
    print("\n## foilog's workers after the mix and the writes\n")
    for pid, (private, mapped) in memory.items():
        print(
            f"- worker {pid}: {private:.0f} MB private (RssAnon), {mapped:.0f} MB of files mapped"
        )


def worker_memory(server: Server) -> dict[int, tuple[float, float]]:
    """Each serving worker's resident memory in MB: its own (RssAnon), and the pages of files
    it maps (RssFile: SQLite's memory-mapped database, shared with every process reading it,
    and the libraries)."""
    return {pid: (rss_mb(pid, "RssAnon"), rss_mb(pid, "RssFile")) for pid in server.leaves()}


def cpu_times(pids: Iterable[int]) -> dict[int, float]:
    """Each process's CPU time so far (user and system), in seconds; one gone is left out."""
    tick = os.sysconf("SC_CLK_TCK")
    times = {}
    for pid in pids:
        with suppress(OSError, ValueError, IndexError):
            fields = stat_fields(Path(f"/proc/{pid}/stat"))
            times[pid] = (int(fields[11]) + int(fields[12])) / tick
    return times


def postgres_pids() -> list[int]:
    """Every PostgreSQL server process on the machine (a replica's too): the database's CPU."""
    found = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with suppress(OSError):
            if comm.read_text().strip() == "postgres":
                found.append(int(comm.parent.name))
    return found


@dataclass
class CpuPerRequest:
    """CPU milliseconds a request: the server's processes', and the database server's
    (PostgreSQL's processes; SQLite works inside the server's)."""

    server_ms: float
    database_ms: float | None


class CpuMeter:
    """The CPU a server's processes, and PostgreSQL's when `database`, spend from the meter's
    making to `per_request`."""

    def __init__(self, server: Server, *, database: bool) -> None:
        self.server = server
        self.database = database
        self.before = self._read()

    def _read(self) -> tuple[dict[int, float], dict[int, float]]:
        return cpu_times(self.server.workers()), cpu_times(postgres_pids()) if self.database else {}

    def per_request(self, requests: int) -> CpuPerRequest:
        # A process started meanwhile (a new database connection) counts from zero.
        server, database = (
            sum(seconds - was.get(pid, 0.0) for pid, seconds in now.items())
            for was, now in zip(self.before, self._read(), strict=True)
        )
        return CpuPerRequest(
            server * 1000 / requests, database * 1000 / requests if self.database else None
        )


@dataclass
class Side:
    """One server's part of the rounds: its URLs checked, then in each round its share of the
    per-kind URLs and its stretch of the mix, with the CPU spent meanwhile."""

    name: str
    server: Server
    requests: list[Request]
    database: bool = False
    loads: list[Load] = field(default_factory=list)
    cpu: list[CpuPerRequest] = field(default_factory=list)
    kinds: dict[str, list[float]] = field(default_factory=dict)
    paths: list[str] = field(init=False)
    checked: tuple[int, int] = field(init=False)  # URLs that answered 200, of those asked

    def __post_init__(self) -> None:
        self.paths = [getattr(r, self.name) for r in self.requests]
        self.checked = check(self.server.base, self.paths)

    def round(self, part: int, parts: int, connections: int, duration: int) -> None:
        timed = per_kind(self.server.base, self.requests, self.name, part, parts)
        for kind, taken in timed.items():
            self.kinds.setdefault(kind, []).extend(taken)
        meter = CpuMeter(self.server, database=self.database)
        start = part * len(self.paths) // parts
        load = wrk_mix(self.server.base, self.paths, self.name, connections, duration, start)
        self.loads.append(load)
        self.cpu.append(meter.per_request(load.requests))

    @property
    def rps(self) -> float:
        return statistics.mean(load.rps for load in self.loads)

    @property
    def errors(self) -> int:
        return sum(load.errors for load in self.loads)

    def median(self, figure: str) -> float:
        return float(statistics.median(getattr(load, figure) for load in self.loads))

    def cpu_per_request(self) -> CpuPerRequest:
        """Over every round, weighed by the requests each answered."""
        weights = [load.requests for load in self.loads]
        cpu = list(zip(self.cpu, weights, strict=True))
        server = sum(c.server_ms * w for c, w in cpu) / sum(weights)
        if not self.database:
            return CpuPerRequest(server, None)
        return CpuPerRequest(server, sum((c.database_ms or 0.0) * w for c, w in cpu) / sum(weights))


def _print_writes(writes: dict[str, float]) -> None:
    print("## Writes under load (foilog's hot page at 32 connections, a publish every 0.5 s)\n")
    for name, value in writes.items():
        print(f"- {name}: {value:.1f}")


if __name__ == "__main__":
    main()

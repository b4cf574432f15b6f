"""Two versions of foilog on the same database, timed request by request, interleaved.

`python -m bench.ab --before DIR --size N --foilog-db F` (or `--foilog-url U`) serves the
database twice, with the code of another checkout (`git worktree add DIR <commit>`) and with
this one's, two workers each, and asks each of both for the same distinct URLs of the mix
(bench/mix.py), one connection each, alternating which goes first. On a machine whose speed
drifts from minute to minute (runs of the mix a few minutes apart differed by 30% here), the
two versions meet the same drift, URL by URL. Prints the p50 and p90 of each kind for each
version.

The database must be at a revision both versions accept for reads (an added index is)."""

import argparse
import random
from contextlib import AbstractContextManager
from pathlib import Path

from bench.mix import Timer, quantile, url_lists, uvicorn_command
from bench.run import DATA, Server, serving

PORTS = {"before": 8821, "after": 8822}
PER_KIND = 200
# Past the URLs the mix checks and times first, in case the same database served it lately.
SKIPPED = 1000
SEED = 7


def _server(name: str, app_dir: Path, url: str) -> AbstractContextManager[Server]:
    command = uvicorn_command(PORTS[name], app_dir)
    return serving(f"ab-{name}", command, PORTS[name], "/healthz", {"FOILOG_DATABASE_URL": url})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", type=Path, required=True, help="the other checkout")
    parser.add_argument("--size", type=int, default=100_000)
    served = parser.add_mutually_exclusive_group(required=True)
    served.add_argument("--foilog-db", type=Path, help="a SQLite file")
    served.add_argument("--foilog-url", help="a database URL (PostgreSQL)")
    parser.add_argument("--per-kind", type=int, default=PER_KIND)
    args = parser.parse_args()
    url = args.foilog_url or f"sqlite:///{args.foilog_db.resolve()}"
    chosen: dict[str, list[str]] = {}
    for request in url_lists(DATA / f"corpus-{args.size}.ndjson", args.size)[SKIPPED:]:
        paths = chosen.setdefault(request.kind, [])
        if len(paths) < args.per_kind:
            paths.append(request.foilog)
    order = [(kind, path) for kind, listed in chosen.items() for path in listed]
    random.Random(SEED).shuffle(order)
    after_dir = Path(__file__).resolve().parent.parent
    taken: dict[tuple[str, str], list[float]] = {}
    with (
        _server("before", args.before.resolve(), url) as before,
        _server("after", after_dir, url) as after,
    ):
        timers = {"before": Timer(before.base), "after": Timer(after.base)}
        for number, (kind, path) in enumerate(order):
            for side in ("before", "after") if number % 2 else ("after", "before"):
                taken.setdefault((kind, side), []).append(timers[side].get(path))
        for timer in timers.values():
            timer.close()
    print(f"## Before ({args.before}) and after, interleaved, {args.per_kind} URLs a kind\n")
    print("| kind | before p50 ms | after p50 ms | after / before | p90 before | p90 after |")
    print("| --- | --- | --- | --- | --- | --- |")
    for kind in chosen:
        before_ms, after_ms = taken[(kind, "before")], taken[(kind, "after")]
        old, new = quantile(before_ms, 0.5), quantile(after_ms, 0.5)
        tails = f"{quantile(before_ms, 0.9):.2f} | {quantile(after_ms, 0.9):.2f}"
        print(f"| {kind} | {old:.2f} | {new:.2f} | {new / old:.2f} | {tails} |")


if __name__ == "__main__":
    main()

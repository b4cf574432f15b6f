"""The benchmark corpus: N entry documents (SPEC §7) from app.demo, one NDJSON line each.

The same size and seed always give the same bytes, so every run, on every machine, loads the same
log. Run as `python -m bench.corpus --size 20000 --out bench/data/corpus-20000.ndjson`.
"""

import argparse
import os
from pathlib import Path

import orjson

from app.demo import RARE_PHRASES, generate_entries

SEED = 0


def write_corpus(path: Path, size: int, *, seed: int = SEED) -> int:
    """Write `size` entries to `path` (through a temporary file, so a cut run leaves nothing that
    looks finished); returns the bytes written."""
    partial = path.with_suffix(path.suffix + ".partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with partial.open("wb") as out:
        for document in generate_entries(size, seed=seed):
            line = orjson.dumps(document) + b"\n"
            out.write(line)
            written += len(line)
    os.replace(partial, path)
    return written


def phrase_count(phrase: str, size: int) -> int:
    """How many of the first `size` generated entries carry a rare phrase (app.demo's rule)."""
    period = RARE_PHRASES[phrase]
    return sum(1 for index in range(period // 2, size, period))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, required=True, help="number of entries")
    parser.add_argument("--out", type=Path, required=True, help="NDJSON file to write")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    written = write_corpus(args.out, args.size, seed=args.seed)
    print(f"{args.size} entries, {written} bytes -> {args.out}")


if __name__ == "__main__":
    main()

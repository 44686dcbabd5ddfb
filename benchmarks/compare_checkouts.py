"""Two checkouts of keras_gmlp under one throughput benchmark, their worker
processes taking turns.

    git worktree add /tmp/before <commit>
    python benchmarks/compare_checkouts.py /tmp/before --benchmark vision --models ti s
    python benchmarks/compare_checkouts.py /tmp/before --benchmark text --lengths 512

Runs `vision_throughput.py`'s or `text_throughput.py`'s workers for every
backend and size, once with `--before`'s checkout on `PYTHONPATH` (and its
own copy of the script) and once with this one's, alternating, for
`--rounds` rounds: on a shared machine whose speed drifts from minute to
minute, only processes that take turns compare. Prints each figure's median
over the rounds and the ratio after / before, and writes them to
`results/<output>.json`.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

from common import RESULTS
from common import command
from common import machine

HERE = os.path.dirname(os.path.abspath(__file__))
AFTER = os.path.dirname(HERE)
SCRIPTS = {"vision": "vision_throughput.py", "text": "text_throughput.py"}
UNITS = {"vision": "images", "text": "tokens"}


def cases(args):
    """(backend, worker arguments) for every measurement a round makes."""
    if args.benchmark == "vision":
        return [
            (backend, [backend, "--models", model, "--repeats", str(args.repeats)])
            for model in args.models
            for backend in args.backends
        ]
    return [
        (backend, ["--lengths", str(length), "--repeats", str(args.repeats)])
        for length in args.lengths
        for backend in args.backends
    ]


def run(checkout, benchmark, backend, arguments):
    """The worker's records, in a process that imports `checkout`'s keras_gmlp."""
    script = os.path.join(checkout, "benchmarks", SCRIPTS[benchmark])
    environment = {
        **os.environ,
        "KERAS_BACKEND": backend,
        "PYTHONPATH": checkout,
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    output = subprocess.run(
        [sys.executable, script, "--worker", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    record = json.loads(output.strip().splitlines()[-1])
    return record.get("records", [record])


def key(record):
    return (
        record.get("backend", record.get("implementation")),
        record["model"],
        record.get("length", ""),
    )


def throughputs(record, unit):
    return {mode: record[f"{mode}_{unit}_per_s"] for mode in ("inference", "training")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", help="the other checkout's root")
    parser.add_argument("--benchmark", default="vision", choices=SCRIPTS)
    parser.add_argument("--backends", nargs="+", default=["jax", "tensorflow", "torch"])
    parser.add_argument("--models", nargs="+", default=["ti", "s"], help="vision")
    parser.add_argument("--lengths", nargs="+", type=int, default=[512], help="text")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--output", default=None, help="results/<output>.json")
    args = parser.parse_args()

    unit = UNITS[args.benchmark]
    figures = {}  # (side, key, mode) -> [throughput of each round]
    for round_number in range(1, args.rounds + 1):
        for backend, arguments in cases(args):
            for side, checkout in (("before", args.before), ("after", AFTER)):
                print(
                    f"round {round_number}: {side} {backend} {arguments}",
                    file=sys.stderr,
                )
                for record in run(checkout, args.benchmark, backend, arguments):
                    for mode, value in throughputs(record, unit).items():
                        figures.setdefault((side, key(record), mode), []).append(value)
    rows = []
    for (side, row_key, mode), values in sorted(figures.items()):
        if side != "after":
            continue
        before = statistics.median(figures["before", row_key, mode])
        after = statistics.median(values)
        rows.append(
            {
                "backend": row_key[0],
                "model": row_key[1],
                "length": row_key[2],
                "mode": mode,
                f"before_{unit}_per_s": before,
                f"after_{unit}_per_s": after,
                "ratio": after / before,
                "rounds": {"before": figures["before", row_key, mode], "after": values},
            }
        )
    print(f"| backend | model | length | mode | before {unit}/s | after | ratio |")
    print("|---|---|---:|---|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['backend']} | {row['model']} | {row['length']} | {row['mode']} "
            f"| {row[f'before_{unit}_per_s']:.1f} | {row[f'after_{unit}_per_s']:.1f} "
            f"| {row['ratio']:.2f}x |"
        )
    if args.output:
        report = {"command": command(), "machine": machine(), "rows": rows}
        with open(os.path.join(RESULTS, f"{args.output}.json"), "w") as file:
            json.dump(report, file, indent=2)


if __name__ == "__main__":
    main()

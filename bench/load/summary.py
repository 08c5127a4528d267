"""One markdown table from locust's CSV files of a load run: ``summary.py OUT``.

Reads ``OUT/<target>_stats.csv`` (and ``_failures.csv``) for each target that ran (cluster, one)
and prints, per request type, throughput (requests per second over the whole run, ramp-up
included), median and 99th percentile latency, and errors; then the machine's load average
before and after each run, and each distinct failure.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

TARGETS = {"cluster": "cluster (nginx, 2 web, PostgreSQL, Redis, S3)", "one": "one machine (runhub, SQLite)"}


def rows(path: Path) -> list[dict]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def main(out: Path) -> None:
    print("| target | request | requests | req/s | p50 ms | p99 ms | errors |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    failures = []
    for target, label in TARGETS.items():
        stats = out / f"{target}_stats.csv"
        if not stats.exists():
            continue
        for row in rows(stats):
            name = "**all**" if row["Name"] == "Aggregated" else f"{row['Type']} {row['Name']}".strip()
            print(
                f"| {label} | {name} | {row['Request Count']} | {float(row['Requests/s']):.1f} "
                f"| {row['50%']} | {row['99%']} | {row['Failure Count']} |"
            )
        failed = out / f"{target}_failures.csv"
        if failed.exists():
            failures += [(label, r) for r in rows(failed)]
    for target, label in TARGETS.items():
        uptime = out / f"{target}-uptime"
        if uptime.exists():
            print(f"\n{label}:\n")
            for line in uptime.read_text().splitlines():
                print(f"    {line.strip()}")
    if failures:
        print("\nErrors:\n")
        for label, r in failures:
            error = r["Error"] if len(r["Error"]) <= 160 else r["Error"][:160] + "..."
            print(f"- {label}: {r['Method']} {r['Name']}: {error} ({r['Occurrences']} times)")


if __name__ == "__main__":
    main(Path(sys.argv[1]))

#!/usr/bin/env python3
"""Paired timing of the mining table's calls with two builds of rar.so:
each build installed in turn (`benchdb.install_library`), `--rounds` times, and
in each round the jobs timed as benches/mine.py times rar (a fresh
connection per run, a warm-up call, then the first call, every rule row
sent to the client, and the same call again on kept baskets).

    benches/first_ab.sh OLD.so NEW.so [--rounds 3] [--repeat 5]

Installs into the cluster of scripts/env.sh (run as root, as the cluster's
setup does); leaves NEW.so installed.
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mine  # noqa: E402
from benchdb import install_library  # noqa: E402

JOBS = [
    # table, min_support, min_confidence, support_of
    ("instacart", 0.001, 0.5, "rule"),
    ("online_retail_sales", 0.01, 0.5, "rule"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    times = {"old": {}, "new": {}}
    for rnd in range(a.rounds):
        for name, so in (("old", a.old), ("new", a.new)):
            install_library(so)
            for job in JOBS:
                r = mine.run_rar(*job, a.repeat)
                times[name].setdefault(job, []).append((r["time"], r["repeated"]))
            print(f"round {rnd + 1}, {name}: done", flush=True)
    print("| table | min_support | first call old (s) | new (s) | repeated old (s) | new (s) |")
    print("|---|---|---:|---:|---:|---:|")
    for job in JOBS:
        med = {n: [statistics.median(t[i] for t in times[n][job]) for i in (0, 1)] for n in times}
        print(f"| {job[0]} | {job[1]} | {med['old'][0]:.4f} | {med['new'][0]:.4f} | {med['old'][1]:.4f} |"
              f" {med['new'][1]:.4f} |")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Paired timing of two builds of the mining core (`mine_csv`, no
PostgreSQL): the jobs of BENCHMARKS.md's mining table, each mined by the old
and the new binary in turn, `--rounds` times, on `--threads` threads. Only
the mining is timed (reading the CSV is not); both must find the same number
of rules.

    benches/core_ab.py OLD_MINE_CSV NEW_MINE_CSV ONLINE_RETAIL.csv INSTACART.csv [--rounds 3] [--threads 1] [--json OUT]

The CSV files: a header, then (basket, item) lines, as
`COPY (SELECT invoice_no, stock_code FROM online_retail_sales) TO ... CSV HEADER`
and `COPY (SELECT order_id, product_id FROM instacart) ...` write them from
the tables `benches/mine.py` sets up. Build the old binary from an older
commit in a target directory of its own (`git worktree add /tmp/old REV`,
`CARGO_TARGET_DIR=/tmp/oldtarget cargo build --release -p rar-core --example mine_csv`).
"""
import argparse
import json
import pathlib
import statistics
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from threads_core import core  # noqa: E402

JOBS = [
    # data, min_support, min_confidence, support_of
    ("Online Retail", 0.01, 0.5, "rule"),
    ("Online Retail", 0.005, 0.5, "rule"),
    ("Online Retail", 0.003, 0.5, "rule"),
    ("Online Retail", 0.01, 0.5, "antecedent"),
    ("Online Retail", 0.005, 0.5, "antecedent"),
    ("Online Retail", 0.003, 0.5, "antecedent"),
    ("Instacart sample", 0.001, 0.5, "rule"),
    ("Instacart sample", 0.001, 0.5, "antecedent"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("online_retail")
    ap.add_argument("instacart")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json")
    args = ap.parse_args()
    rows = []
    print(f"| data | min_support | support of | rules | old (s) | new (s) | new / old |  ({args.threads} thread(s), medians of {args.rounds} paired rounds)")
    print("|---|---|---|---:|---:|---:|---:|")
    for data, supp, conf, support_of in JOBS:
        path = args.online_retail if data == "Online Retail" else args.instacart
        old, new = [], []
        for _ in range(args.rounds):
            o = core(args.old, path, supp, conf, support_of, args.threads, 1)
            n = core(args.new, path, supp, conf, support_of, args.threads, 1)
            assert o["rules"] == n["rules"], f"{data} {supp} {support_of}: {o['rules']} rules against {n['rules']}"
            old.append(o["time"])
            new.append(n["time"])
        row = {"data": data, "min_support": supp, "support_of": support_of, "rules": n["rules"],
               "old": statistics.median(old), "new": statistics.median(new)}
        rows.append(row)
        print(f"| {data} | {supp} | {'A ∪ C' if support_of == 'rule' else 'A'} | {row['rules']:,} | {row['old']:.3f} |"
              f" {row['new']:.3f} | {row['new'] / row['old']:.2f} |", flush=True)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()

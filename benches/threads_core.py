#!/usr/bin/env python3
"""Thread scaling of the pure mining core, with no PostgreSQL: the jobs of
BENCHMARKS.md's mining table with over 100,000 rules, mined by `mine_csv`
(counting, itemset search, rule generation and the sort on THREADS=n) on
1, 2, 4, ... threads, and pyfim's eclat (one thread) on the same baskets in
the same run when `fim` is importable. `benches/threads.py` runs the same
jobs with the SQL call beside them; this script is what a machine without
PostgreSQL runs (the lent GPU machine, through benches/device_run.sh).

    benches/threads_core.py LINES.csv [--exe PATH] [--threads 1,2,4,8,16] [--repeat 3] [--json OUT]

LINES.csv: a header, then (basket, item) lines (the cleaned Online Retail
lines, as benches/threads.py exports them).
"""
import argparse
import csv
import json
import os
import pathlib
import re
import statistics
import subprocess
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
MINE_CSV = ROOT / "target" / "release" / "examples" / "mine_csv"
JOBS = [
    # min_support, min_confidence, support_of: the mining table's jobs with over 100,000 rules
    (0.003, 0.5, "rule"),
    (0.005, 0.5, "antecedent"),
    (0.003, 0.5, "antecedent"),
]


def core(exe, csv_path, supp, conf, support_of, threads, repeat):
    """Median mining time of `mine_csv` (reading the CSV not counted)."""
    env = dict(os.environ, THREADS=str(threads), SUPPORT_OF=support_of)
    times, rules = [], None
    for _ in range(repeat):
        out = subprocess.run([str(exe), str(csv_path), "0", "1", str(supp), str(conf)], env=env, check=True,
                             capture_output=True, text=True).stdout
        m = re.search(r"(\d+) rules; read [\d.]+ s, mine ([\d.]+) s", out)
        rules, t = int(m.group(1)), float(m.group(2))
        times.append(t)
    return {"time": statistics.median(times), "rules": rules}


def eclat(baskets, supp, conf, support_of, repeat):
    """Median time of pyfim's eclat on baskets in memory, or None without pyfim."""
    try:
        import fim
    except ImportError:
        return None
    times, rules = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        rules = len(fim.eclat(baskets, target="r", supp=supp * 100, conf=conf * 100, zmax=4,
                              mode="o" if support_of == "rule" else ""))
        times.append(time.perf_counter() - t0)
    return {"time": statistics.median(times), "rules": rules}


def read_baskets(csv_path):
    baskets = {}
    with open(csv_path, newline="") as f:
        r = csv.reader(f)
        next(r)
        for tid, item, *_ in r:
            baskets.setdefault(tid, []).append(item)
    return [sorted(set(b)) for b in baskets.values()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--exe", default=str(MINE_CSV))
    ap.add_argument("--threads", default="1,2,4,8,16")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    counts = [t for t in map(int, args.threads.split(",")) if t <= cores]
    baskets = read_baskets(args.csv)
    results = []
    for supp, conf, support_of in JOBS:
        row = {"min_support": supp, "min_confidence": conf, "support_of": support_of, "cores": cores,
               "pyfim_eclat": eclat(baskets, supp, conf, support_of, args.repeat)}
        for t in counts:
            row[f"core_{t}"] = core(args.exe, args.csv, supp, conf, support_of, t, args.repeat)
        found = {v["rules"] for v in row.values() if isinstance(v, dict)}
        row["same_rule_count"] = len(found) == 1
        results.append(row)
        print(json.dumps(row), flush=True)
    if args.json:
        pathlib.Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        json.dump(results, open(args.json, "w"), indent=1)
    print(f"| min_support | support of | rules | threads | core (s) | core speed-up | pyfim eclat (s) | core / eclat |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        c1 = r["core_1"]["time"]
        e = r["pyfim_eclat"]
        for t in counts:
            c = r[f"core_{t}"]["time"]
            et = f"{e['time']:.2f}" if e else "-"
            ratio = f"{c / e['time']:.2f}" if e else "-"
            print(f"| {r['min_support']} | {r['support_of']} | {r['core_1']['rules']:,} | {t} | {c:.3f} |"
                  f" {c1 / c:.2f}x | {et} | {ratio} |")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Long-tail catalog benchmark: hundreds of thousands of items, most of them
in a few baskets, mined at a minimum support of a handful of baskets;
rar_mine against pyfim's eclat and fpgrowth in the same run.

    benches/longtail.sh [--items 200000] [--baskets 300000] [--min-count 5] [--repeat 3]

The catalog is generated with a fixed seed: basket sizes 1 to 8, each line
from a Zipf-like popularity over the items (exponent 1.1), so that a few
thousand items are frequent and most are not, and frequent items mostly
never meet. Many frequent items with few pairs between them are where a
search that pays for every pair of frequent items is slow.

rar: `SELECT count(*) FROM rar_mine(...)` and the same call with every row
sent to the client (COPY), median of --repeat runs on a fresh connection.
pyfim: the mining call on baskets already in memory, in its own process,
with the same thresholds (rules with a single-item consequent, support of the
rule, at most 4 items). The rule counts must agree.
"""
import argparse
import json
import os
import pathlib
import pickle
import random
import statistics
import subprocess
import sys
import tempfile
import time

import benchdb

DB = "rar_bench"


def connect(dbname=DB):
    return benchdb.connect(dbname)


def generate(items, baskets, seed=42):
    rng = random.Random(seed)
    weights = [1.0 / (k + 1) ** 1.1 for k in range(items)]
    total = 0.0
    cum = []
    for w in weights:
        total += w
        cum.append(total)
    out = []
    for _ in range(baskets):
        size = rng.randint(1, 8)
        picks = rng.choices(range(items), cum_weights=cum, k=size)
        out.append(sorted({f"p{k}" for k in picks}))
    return out


def setup(table, data):
    benchdb.fresh_extension(DB)
    with connect() as c:
        c.execute(f"DROP TABLE IF EXISTS {table}")
        c.execute(f"CREATE TABLE {table} (basket int, item text)")
        with c.cursor().copy(f"COPY {table} FROM STDIN") as cp:
            for t, b in enumerate(data):
                for i in b:
                    cp.write_row((t, i))
        c.execute(f"ANALYZE {table}")


PEER = r'''
import json, pickle, sys, time
import fim
tool, path, supp, conf = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
baskets = pickle.load(open(path, "rb"))
t0 = time.perf_counter()
rules = getattr(fim, tool)(baskets, target="r", supp=supp, conf=conf * 100, zmax=4, mode="o")
print(json.dumps({"time": time.perf_counter() - t0, "rules": len(rules)}))
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=200_000)
    ap.add_argument("--baskets", type=int, default=300_000)
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--min-confidence", type=float, default=0.5)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    data = generate(args.items, args.baskets)
    table = "longtail"
    setup(table, data)
    n = len(data)
    # A hair under k/N, so that k baskets reach it in both tools.
    supp = (args.min_count - 0.5) / n
    counts = {}
    for b in data:
        for i in b:
            counts[i] = counts.get(i, 0) + 1
    frequent = sum(1 for v in counts.values() if v >= args.min_count)
    print(f"{n:,} baskets, {sum(map(len, data)):,} lines, {len(counts):,} items seen, "
          f"{frequent:,} in at least {args.min_count} baskets")
    call = f"rar_mine('{table}', min_support => {supp!r}, min_confidence => {args.min_confidence}, max_length => 4)"
    res = {}
    for label, sql in [("rar count(*)", f"SELECT count(*) FROM {call}"),
                       ("rar rows to client", f"COPY (SELECT * FROM {call}) TO STDOUT")]:
        times, rules = [], None
        for _ in range(args.repeat):
            with connect() as c:
                c.execute("SET rar.max_rules = 100000000")
                c.execute(f"SELECT count(*) FROM rar_mine('{table}', min_support => 0.9)")
                t0 = time.perf_counter()
                if sql.startswith("COPY"):
                    k = 0
                    with c.cursor().copy(sql) as cp:
                        for block in cp:
                            k += bytes(block).count(b"\n")
                    rules = k
                else:
                    rules = c.execute(sql).fetchone()[0]
                times.append(time.perf_counter() - t0)
        res[label] = (statistics.median(times), rules)
    with tempfile.NamedTemporaryFile(suffix=".pkl", delete=False) as f:
        pickle.dump(data, f)
    for tool in ["eclat", "fpgrowth"]:
        runs = []
        for _ in range(args.repeat):
            # pyfim's supp: negative is an absolute count of baskets.
            p = subprocess.run([sys.executable, "-c", PEER, tool, f.name, str(-args.min_count),
                                str(args.min_confidence)], capture_output=True, text=True, check=True)
            runs.append(json.loads(p.stdout))
        res[f"pyfim {tool}"] = (statistics.median(r["time"] for r in runs), runs[0]["rules"])
    os.unlink(f.name)
    eclat = res["pyfim eclat"][0]
    print("| run | time | rules | / pyfim eclat |")
    print("| --- | ---: | ---: | ---: |")
    for label, (t, rules) in res.items():
        print(f"| {label} | {t:.2f} s | {rules:,} | {t / eclat:.2f}x |")


if __name__ == "__main__":
    main()

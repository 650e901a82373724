"""Thread scaling of exact mining: the same jobs on 1, 2, ... threads.

Two measurements per thread count, in the same run:
- the pure core (`mine_csv`, no PostgreSQL) on the cleaned Online Retail
  lines exported to CSV, `THREADS=n`: counting, itemset search, rule
  generation and sorting on n threads;
- `SELECT count(*) FROM rar_mine(...)` in a fresh connection with
  `max_parallel_workers_per_gather = n - 1` (rar mines on 1 + that many
  threads, and the scan gets that many parallel workers).
pyfim's eclat (one thread: Borgelt's code has no threads) on the same
baskets is timed in the same run for reference. Thread counts above the
machine's cores are skipped. Results: benches/results/threads.json.
"""
import argparse
import json
import os
import pathlib
import pickle
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import mine  # noqa: E402  (the bench database and the peers' runner)

ROOT = mine.ROOT
from threads_core import JOBS, MINE_CSV, core  # noqa: E402  (the jobs and the core's runner, shared with threads_core.py)


def sql(supp, conf, support_of, threads, repeat):
    times, rules = [], None
    q = (f"SELECT count(*) FROM rar_mine('online_retail_sales', min_support => {supp}, min_confidence => {conf},"
         f" max_length => 4, support_of => '{support_of}')")
    for _ in range(repeat):
        with mine.connect() as c:
            c.execute("SET rar.max_rules = 100000000")
            c.execute(f"SET max_parallel_workers_per_gather = {threads - 1}")
            c.execute("SELECT count(*) FROM rar_mine('online_retail_sales', min_support => 0.9)")
            t0 = time.perf_counter()
            rules = c.execute(q).fetchone()[0]
            times.append(time.perf_counter() - t0)
    return {"time": statistics.median(times), "rules": rules}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", default="1,2,4,8,16")
    ap.add_argument("--json", default=str(ROOT / "benches" / "results" / "threads.json"))
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-p", "rar-core", "--example", "mine_csv"], cwd=ROOT, check=True)
    mine.setup()
    tmp = tempfile.mkdtemp()
    csv_path = os.path.join(tmp, "or.csv")
    with mine.connect() as c, open(csv_path, "wb") as f:
        with c.cursor().copy("COPY (SELECT invoice_no, stock_code FROM online_retail_sales) TO STDOUT WITH (FORMAT csv, HEADER true)") as cp:
            for block in cp:
                f.write(bytes(block))
    baskets, _ = mine.fetch_baskets("online_retail_sales", "invoice_no", "stock_code")
    pickle_path = os.path.join(tmp, "or.pickle")
    pickle.dump(baskets, open(pickle_path, "wb"))
    cores = os.cpu_count() or 1
    counts = [t for t in map(int, args.threads.split(",")) if t <= cores]
    results = []
    for supp, conf, support_of in JOBS:
        row = {"min_support": supp, "min_confidence": conf, "support_of": support_of, "cores": cores,
               "pyfim_eclat": mine.run_peer("eclat", pickle_path, supp, conf, support_of, args.repeat, 900)}
        for t in counts:
            row[f"core_{t}"] = core(MINE_CSV, csv_path, supp, conf, support_of, t, args.repeat)
            row[f"sql_{t}"] = sql(supp, conf, support_of, t, args.repeat)
        found = {v["rules"] for k, v in row.items() if isinstance(v, dict) and v.get("rules") is not None}
        row["same_rule_count"] = len(found) == 1
        results.append(row)
        print(json.dumps(row), flush=True)
    pathlib.Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    json.dump(results, open(args.json, "w"), indent=1)
    print("| min_support | support of | rules | threads | core (s) | core speed-up | rar_mine count(*) (s) | SQL speed-up | pyfim eclat (s) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        c1, s1 = r["core_1"]["time"], r["sql_1"]["time"]
        for t in counts:
            c, s = r[f"core_{t}"]["time"], r[f"sql_{t}"]["time"]
            print(f"| {r['min_support']} | {r['support_of']} | {r['core_1']['rules']:,} | {t} | {c:.2f} | {c1 / c:.2f}x |"
                  f" {s:.2f} | {s1 / s:.2f}x | {r['pyfim_eclat']['time']:.2f} |")


if __name__ == "__main__":
    main()

"""Paired timing of reading a table (rar_mine with nothing frequent, the
session cache off) with two builds of rar.so, alternated, in fresh
connections: what a change to the read path gained.

    ./benches/read_ab.sh OLD.so NEW.so [ROUNDS]

Needs mine.sh's tables (online_retail_sales, instacart in rar_bench).
Installs each build in turn into the cluster's library directory and puts
the NEW one back at the end."""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from benchdb import connect, install_library  # noqa: E402

OLD, NEW = sys.argv[1], sys.argv[2]
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 5
JOBS = [("online_retail_sales", "invoice_no", "stock_code"), ("instacart", "order_id", "product_id")]


def read_time(table, tid, item):
    with connect("rar_bench") as c:
        c.execute("SET max_parallel_workers_per_gather = 0")
        c.execute("SET rar.basket_cache = 0")
        c.execute("SELECT count(*) FROM rar_mine('online_retail_sales', min_support => 0.99)")  # load the library
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            c.execute(f"SELECT count(*) FROM rar_mine('{table}', min_support => 0.99, tid_column => '{tid}', item_column => '{item}')")
            times.append(time.perf_counter() - t0)
        return min(times)


def main():
    results = {(b, j[0]): [] for b in ("old", "new") for j in JOBS}
    for _ in range(ROUNDS):
        for build, path in (("old", OLD), ("new", NEW)):
            install_library(path)
            for job in JOBS:
                results[(build, job[0])].append(read_time(*job))
    install_library(NEW)
    print("| table | old (ms) | new (ms) | new / old |")
    print("|---|---:|---:|---:|")
    for job in JOBS:
        o = statistics.median(results[("old", job[0])]) * 1000
        n = statistics.median(results[("new", job[0])]) * 1000
        print(f"| {job[0]} | {o:.1f} | {n:.1f} | {n / o:.2f} |")


if __name__ == "__main__":
    main()

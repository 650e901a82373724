#!/usr/bin/env python3
"""Benchmark of mining across a product hierarchy, beside plain mining and
beside what a pyfim user does without one.

    benches/hierarchy.sh [--repeat N]

Data: Groceries with its item levels (level2, level1) and the Instacart
sample with aisles and departments, both from data/. For each, in one run:

- rar, items only: `rar_mine(source, s, c)`;
- rar at one level (`level => 'level2'` / `'aisle'`);
- rar across levels (`level => 'all'`), without (`min_interest => 0`) and
  with the interest filter (the default, 1.1);
- pyfim eclat on the same baskets with every ancestor added (built in
  Python from the lookup), the rules holding an item and its own ancestor
  dropped afterwards: the rules of `min_interest => 0`, which the script
  checks are as many. pyfim has no taxonomy, no interest filter.

rar's time is one SQL call with every rule row sent to the client (COPY ...
TO STDOUT), median of --repeat runs on a fresh connection each; pyfim's is
the mining call and the filter, on baskets already in memory, in its own
process. Prints a Markdown table for BENCHMARKS.md.
"""
import argparse
import gzip
import json
import os
import pathlib
import pickle
import statistics
import subprocess
import sys
import tempfile
import time

import benchdb

ROOT = pathlib.Path(__file__).resolve().parents[1]
DB = "rar_bench_hierarchy"


def connect(dbname=DB):
    return benchdb.connect(dbname)


def copy_in(c, table, path):
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    with c.cursor().copy(f"COPY {table} FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
        cp.write(data)


def setup():
    benchdb.fresh_extension(DB)
    with connect() as c:
        if not c.execute("SELECT to_regclass('groceries')").fetchone()[0]:
            c.execute("CREATE TABLE groceries (transaction_id int, item text)")
            copy_in(c, "groceries", ROOT / "data" / "groceries.csv")
            c.execute("CREATE TABLE groceries_items (labels text, level2 text, level1 text)")
            copy_in(c, "groceries_items", ROOT / "data" / "groceries_items.csv")
            d = ROOT / "data" / "instacart"
            c.execute("CREATE TABLE order_products (row_id int, order_id int, user_id int, order_number int,"
                      " order_dow int, order_hour_of_day int, days_since_prior_order float8, product_id int,"
                      " add_to_cart_order float8, reordered float8)")
            copy_in(c, "order_products", d / "order_products_sample.csv.gz")
            c.execute("CREATE TABLE products (product_id int, product_name text, aisle_id int, department_id int)")
            copy_in(c, "products", d / "products.csv.gz")
            c.execute("CREATE TABLE aisles (aisle_id int, aisle text)")
            copy_in(c, "aisles", d / "aisles.csv")
            c.execute("CREATE TABLE departments (department_id int, department text)")
            copy_in(c, "departments", d / "departments.csv")
            c.execute("CREATE VIEW product_levels AS SELECT p.product_id, a.aisle, d.department FROM products p"
                      " LEFT JOIN aisles a USING (aisle_id) LEFT JOIN departments d USING (department_id)")
            c.execute("ANALYZE")
        c.execute("SELECT rar_register('groceries', 'groceries', 'transaction_id', 'item')")
        c.execute("SELECT rar_hierarchy('groceries', 'groceries_items', '{level2,level1}', 'labels')")
        c.execute("SELECT rar_register('instacart', 'order_products', 'order_id', 'product_id')")
        c.execute("SELECT rar_hierarchy('instacart', 'product_levels', '{aisle,department}')")


def lifted_baskets(source):
    """The baskets with every ancestor added, and each name's ancestors."""
    with connect() as c:
        if source == "groceries":
            lines = c.execute("SELECT transaction_id::text, item FROM groceries").fetchall()
            lookup = c.execute("SELECT labels, level2, level1 FROM groceries_items").fetchall()
            levels = ["level2", "level1"]
        else:
            lines = c.execute("SELECT order_id::text, product_id::text FROM order_products").fetchall()
            lookup = c.execute("SELECT product_id::text, aisle, department FROM product_levels").fetchall()
            levels = ["aisle", "department"]
    chain = {}
    ancestors = {}
    for item, *labels in lookup:
        names = [f"{lv}: {lab}" for lv, lab in zip(levels, labels) if lab is not None]
        chain[item] = names
        ancestors.setdefault(item, set()).update(names)
        for k, name in enumerate(names):
            ancestors.setdefault(name, set()).update(names[k + 1:])
    baskets = {}
    for t, i in lines:
        b = baskets.setdefault(t, set())
        b.add(i)
        b.update(chain.get(i, ()))
    return [sorted(b) for b in baskets.values()], {k: sorted(v) for k, v in ancestors.items()}


PEER = r'''
import json, pickle, resource, sys, time
import fim
path, supp, conf, zmax = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
baskets, ancestors = pickle.load(open(path, "rb"))
anc = {k: set(v) for k, v in ancestors.items()}
t0 = time.perf_counter()
rules = fim.eclat(baskets, target="r", supp=supp * 100, conf=conf * 100, zmax=zmax, mode="o")
kept = 0
for head, body, *_ in rules:
    items = (head,) + tuple(body)
    if not any(b in anc.get(a, ()) for a in items for b in items):
        kept += 1
elapsed = time.perf_counter() - t0
print(json.dumps({"time": elapsed, "rules": kept, "all_rules": len(rules),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))
'''


def run_rar(call, repeat):
    times, rows = [], 0
    for _ in range(repeat):
        with connect() as c:
            c.execute("SET rar.max_rules = 100000000")
            c.execute("SELECT count(*) FROM rar_mine('groceries', min_support => 0.9)")  # load the library
            t0 = time.perf_counter()
            n = 0
            with c.cursor().copy(f"COPY (SELECT * FROM {call}) TO STDOUT") as cp:
                for block in cp:
                    n += bytes(block).count(b"\n")
            times.append(time.perf_counter() - t0)
            rows = n
    return statistics.median(times), rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    setup()
    jobs = [("groceries", "level2", 0.005, 0.2, 4), ("instacart", "aisle", 0.005, 0.2, 4)]
    print("| data | thresholds | items only | at one level | across levels, no filter | across levels, filtered (1.1) "
          "| pyfim eclat on lifted baskets + filter | rar / pyfim |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for source, level, s, c, zmax in jobs:
        base = f"rar_mine('{source}', {s}, {c}, max_length => {zmax}"
        t_items, n_items = run_rar(base + ")", args.repeat)
        t_level, n_level = run_rar(base + f", level => '{level}')", args.repeat)
        t_all, n_all = run_rar(base + ", level => 'all', min_interest => 0)", args.repeat)
        t_int, n_int = run_rar(base + ", level => 'all')", args.repeat)
        baskets, ancestors = lifted_baskets(source)
        with tempfile.NamedTemporaryFile(suffix=".pkl", delete=False) as f:
            pickle.dump((baskets, ancestors), f)
        peers = []
        for _ in range(args.repeat):
            p = subprocess.run([sys.executable, "-c", PEER, f.name, str(s), str(c), str(zmax)],
                               capture_output=True, text=True, check=True)
            peers.append(json.loads(p.stdout))
        os.unlink(f.name)
        t_peer = statistics.median(p["time"] for p in peers)
        n_peer = peers[0]["rules"]
        same = "" if n_peer == n_all else f" (pyfim {n_peer:,} rules: differs)"
        print(f"| {source} | {s:g} / {c:g}, ≤ {zmax} items | {t_items:.2f} s ({n_items:,} rules) "
              f"| {t_level:.2f} s ({n_level:,}) | {t_all:.2f} s ({n_all:,}) | {t_int:.2f} s ({n_int:,}) "
              f"| {t_peer:.2f} s ({n_peer:,} of {peers[0]['all_rules']:,}){same} | {t_all / t_peer:.2f}x |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

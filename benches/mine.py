#!/usr/bin/env python3
"""End-to-end benchmark of rar_mine against Borgelt's C miners (pyfim) and
mlxtend, on the same baskets, in the same run.

    benches/mine.sh            (sets up the cluster if needed, then runs this)

What is timed:
- rar: one SQL call on a table of the running cluster, every rule row sent to
  the client (COPY ... TO STDOUT, read and discarded); a fresh connection per
  run. Peak memory: the backend's VmHWM after the call. Then the same call
  again in that connection ("repeated"): the tables are tracked by
  rar_track_changes, so it mines the baskets the session kept instead of
  reading the table (rar.basket_cache).
- pyfim fpgrowth / eclat: the call on baskets already in Python lists (the
  strictest comparison for rar, whose time includes reading the table); and
  separately the time to fetch the lines from PostgreSQL and build those
  lists, which a pyfim user with data in PostgreSQL also pays.
- mlxtend: TransactionEncoder + fpgrowth + association_rules (single-item
  consequents kept), from the same lists.
Each peer runs in its own process; peak memory is that process's max RSS.
Times are the median of --repeat runs (mlxtend: one run).
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

import psycopg

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("RAR_SHARED_DATA", ROOT.parent / "shared" / "data"))
DB = "rar_bench"


def connect(dbname=DB):
    return psycopg.connect(host=os.environ.get("PGHOST", "/var/lib/postgresql/rar/run"),
                           port=os.environ.get("PGPORT", "5415"), user="postgres", dbname=dbname, autocommit=True)


def setup():
    with connect("postgres") as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB,)).fetchone():
            c.execute(f"CREATE DATABASE {DB}")
    with connect() as c:
        # The bench database holds only bench tables: always the installed build.
        c.execute("DROP EXTENSION IF EXISTS rar CASCADE")
        c.execute("CREATE EXTENSION rar")
        if not c.execute("SELECT to_regclass('online_retail')").fetchone()[0]:
            c.execute("CREATE TABLE online_retail (invoice_no text, stock_code text, description text, quantity int,"
                      " invoice_date timestamp, unit_price numeric, customer_id text, country text)")
            with c.cursor().copy("COPY online_retail FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
                cp.write(gzip.decompress((ROOT / "data" / "online_retail.csv.gz").read_bytes()))
            c.execute("CREATE TABLE online_retail_sales AS SELECT invoice_no, stock_code FROM online_retail"
                      " WHERE quantity > 0 AND invoice_no NOT LIKE 'C%'")
            c.execute("ANALYZE online_retail_sales")
        ic = SHARED / "instacart_sample" / "order_products_sample.csv.gz"
        if not c.execute("SELECT to_regclass('instacart')").fetchone()[0] and ic.exists():
            c.execute("CREATE TABLE instacart_raw (idx int, order_id int, user_id int, order_number int, order_dow int,"
                      " order_hour_of_day int, days_since_prior_order float8, product_id int,"
                      " add_to_cart_order float8, reordered float8)")
            with c.cursor().copy("COPY instacart_raw FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
                cp.write(gzip.decompress(ic.read_bytes()))
            c.execute("CREATE TABLE instacart AS SELECT order_id, product_id FROM instacart_raw")
            c.execute("ANALYZE instacart")
        for table in ("online_retail_sales", "instacart"):
            if c.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0]:
                c.execute("SELECT rar_track_changes(%s)", (table,))


def fetch_baskets(table, tid, item):
    """Lines out of PostgreSQL into Python baskets, as a pyfim user would."""
    t0 = time.perf_counter()
    baskets = {}
    with connect() as c:
        with c.cursor().copy(f"COPY (SELECT {tid}::text, {item}::text FROM {table}) TO STDOUT") as cp:
            for t, i in cp.rows():
                baskets.setdefault(t, set()).add(i)
    return [list(b) for b in baskets.values()], time.perf_counter() - t0


def run_rar(table, supp, conf, support_of, repeat):
    times, again, hwm, rows = [], [], 0, 0
    sql = (f"COPY (SELECT * FROM rar_mine('{table}', min_support => {supp}, min_confidence => {conf},"
           f" max_length => 4, support_of => '{support_of}')) TO STDOUT")
    for _ in range(repeat):
        with connect() as c:
            c.execute("SET rar.max_rules = 100000000")
            pid = c.info.backend_pid
            c.execute("SELECT 1")  # extension library not loaded yet: load it outside the timing
            # (keeping no baskets: the timed first call reads the table)
            c.execute("SET rar.basket_cache = 0")
            c.execute("SELECT count(*) FROM rar_mine('online_retail_sales', min_support => 0.9)")
            c.execute("RESET rar.basket_cache")
            for timed in (times, again):
                t0 = time.perf_counter()
                n = 0
                with c.cursor().copy(sql) as cp:
                    for block in cp:
                        n += bytes(block).count(b"\n")
                timed.append(time.perf_counter() - t0)
                assert rows in (0, n), "the repeated call returned other rules"
                rows = n
            served = c.execute("SELECT coalesce(sum(uses), 0) FROM rar_basket_cache()").fetchone()[0]
            assert served == 1, "the repeated call read the table again"

            status = open(f"/proc/{pid}/status").read()
            hwm = max(hwm, int(status.split("VmHWM:")[1].split()[0]) // 1024)
    return {"time": statistics.median(times), "repeated": statistics.median(again), "rules": rows, "peak_mb": hwm}


PEER = r'''
import pickle, resource, sys, time, json
tool, path, supp, conf, mode = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
baskets = pickle.load(open(path, "rb"))
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
if tool in ("fpgrowth", "eclat"):
    import fim
    rules = getattr(fim, tool)(baskets, target="r", supp=supp * 100, conf=conf * 100, zmax=4,
                               mode="o" if mode == "rule" else "")
    n = len(rules)
else:
    import pandas as pd
    from mlxtend.preprocessing import TransactionEncoder
    from mlxtend.frequent_patterns import fpgrowth, association_rules
    te = TransactionEncoder()
    df = pd.DataFrame(te.fit(baskets).transform(baskets), columns=te.columns_)
    fi = fpgrowth(df, min_support=supp, use_colnames=True, max_len=4)
    r = association_rules(fi, metric="confidence", min_threshold=conf)
    n = int((r["consequents"].apply(len) == 1).sum())
elapsed = time.perf_counter() - t0
print(json.dumps({"time": elapsed, "rules": n,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))
'''


def run_peer(tool, path, supp, conf, mode, repeat, timeout):
    out = []
    for _ in range(repeat):
        try:
            p = subprocess.run([sys.executable, "-c", PEER, tool, path, str(supp), str(conf), mode],
                               capture_output=True, text=True, timeout=timeout, check=True)
        except subprocess.TimeoutExpired:
            return {"time": None, "rules": None, "peak_mb": None, "note": f"over {timeout} s"}
        out.append(json.loads(p.stdout))
    return {"time": statistics.median(o["time"] for o in out), "rules": out[0]["rules"],
            "peak_mb": max(o["peak_mb"] for o in out)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--mlxtend-timeout", type=int, default=900)
    ap.add_argument("--json", default=str(ROOT / "benches" / "results" / "mine.json"))
    args = ap.parse_args()
    setup()
    cases = [
        # data set, table, tid, item, min_support, min_confidence, support_of, run mlxtend
        ("Online Retail", "online_retail_sales", "invoice_no", "stock_code", 0.01, 0.5, "rule", True),
        ("Online Retail", "online_retail_sales", "invoice_no", "stock_code", 0.005, 0.5, "rule", True),
        ("Online Retail", "online_retail_sales", "invoice_no", "stock_code", 0.003, 0.5, "rule", True),
        ("Online Retail", "online_retail_sales", "invoice_no", "stock_code", 0.01, 0.5, "antecedent", False),
        ("Online Retail", "online_retail_sales", "invoice_no", "stock_code", 0.005, 0.5, "antecedent", False),
        ("Online Retail", "online_retail_sales", "invoice_no", "stock_code", 0.003, 0.5, "antecedent", False),
        ("Instacart sample", "instacart", "order_id", "product_id", 0.001, 0.5, "rule", True),
        ("Instacart sample", "instacart", "order_id", "product_id", 0.001, 0.5, "antecedent", False),
    ]
    results = []
    tmp = tempfile.mkdtemp()
    fetched = {}
    for name, table, tid, item, supp, conf, support_of, mlx in cases:
        with connect() as c:
            if not c.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0]:
                print(f"skipping {name}: table {table} missing (data not found under {SHARED})", file=sys.stderr)
                continue
        if table not in fetched:
            baskets, fetch_s = fetch_baskets(table, tid, item)
            path = os.path.join(tmp, table + ".pickle")
            pickle.dump(baskets, open(path, "wb"))
            fetched[table] = (path, fetch_s, len(baskets))
        path, fetch_s, n_baskets = fetched[table]
        row = {"data": name, "baskets": n_baskets, "min_support": supp, "min_confidence": conf,
               "support_of": support_of, "fetch_s": fetch_s}
        row["rar"] = run_rar(table, supp, conf, support_of, args.repeat)
        row["pyfim_fpgrowth"] = run_peer("fpgrowth", path, supp, conf, support_of, args.repeat, 900)
        row["pyfim_eclat"] = run_peer("eclat", path, supp, conf, support_of, args.repeat, 900)
        if mlx:
            row["mlxtend"] = run_peer("mlxtend", path, supp, conf, support_of, 1, args.mlxtend_timeout)
        counts = {k: v["rules"] for k, v in row.items() if isinstance(v, dict) and v.get("rules") is not None}
        row["same_rule_count"] = len(set(counts.values())) == 1
        results.append(row)
        print(json.dumps(row), flush=True)
    pathlib.Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    json.dump(results, open(args.json, "w"), indent=1)
    print_table(results)


def fmt(x, unit=""):
    return "n/a" if x is None else f"{x:.3f}{unit}" if x < 10 else f"{x:.1f}{unit}"


def print_table(results):
    print("\n| data | min_support | support of | rules | rar end to end (s) | rar repeated (s) | pyfim fpgrowth (s) |"
          " pyfim eclat (s) | rar / best pyfim | repeated / best pyfim | rar / best pyfim incl. fetch | mlxtend (s) |"
          " mlxtend / rar | rar backend peak (MB) | pyfim peak (MB) | same count |")
    print("|" + "---|" * 16)
    for r in results:
        rar = r["rar"]["time"]
        best = min(r["pyfim_fpgrowth"]["time"], r["pyfim_eclat"]["time"])
        mlx = r.get("mlxtend", {}).get("time")
        print(f"| {r['data']} | {r['min_support']} | {'A ∪ C' if r['support_of'] == 'rule' else 'A (pyfim default)'} |"
              f" {r['rar']['rules']:,} | {fmt(rar)} | {fmt(r['rar']['repeated'])} | {fmt(r['pyfim_fpgrowth']['time'])} |"
              f" {fmt(r['pyfim_eclat']['time'])} | {rar / best:.2f} | {r['rar']['repeated'] / best:.2f} |"
              f" {rar / (best + r['fetch_s']):.2f} | {fmt(mlx) if 'mlxtend' in r else '–'} |"
              f" {fmt(mlx / rar) if mlx else '–'} | {r['rar']['peak_mb']} |"
              f" {max(r['pyfim_fpgrowth']['peak_mb'], r['pyfim_eclat']['peak_mb'])} | {'yes' if r['same_rule_count'] else 'NO'} |")


if __name__ == "__main__":
    main()

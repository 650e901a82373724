#!/usr/bin/env python3
"""Time rar_clean on the raw UCI Online Retail table (541,909 lines) and on
larger tables generated from it (every line repeated k times with the
invoice id made unique per copy, so the dirt keeps its proportions):
lines per second and how the time grows with size.

    benches/clean.sh [--sizes 1000000,3000000,10000000] [--merge-duplicates]

With --merge-duplicates the run also merges repeated lines of an item in a
basket (`merge_duplicates => true`, quantities summed): the rule that was
quadratic in the number of duplicates before 0.2.0.
"""
import argparse
import gzip
import json
import os
import pathlib
import time

import psycopg

ROOT = pathlib.Path(__file__).resolve().parents[1]
DB = "rar_bench"
CLEAN = ("SELECT step, rows FROM rar_clean(%s, tid_column => 'invoice_no', item_column => 'stock_code',"
         " cancelled_basket_pattern => '^C'")


def connect(dbname=DB):
    return psycopg.connect(host=os.environ.get("PGHOST", "/var/lib/postgresql/rar/run"),
                           port=os.environ.get("PGPORT", "5415"), user="postgres", dbname=dbname, autocommit=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000000,3000000,10000000")
    ap.add_argument("--merge-duplicates", action="store_true")
    args = ap.parse_args()
    clean = CLEAN + (", merge_duplicates => true)" if args.merge_duplicates else ")")
    with connect("postgres") as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB,)).fetchone():
            c.execute(f"CREATE DATABASE {DB}")
    results = []
    with connect() as c:
        # The bench database holds only bench tables: always the installed build.
        c.execute("DROP EXTENSION IF EXISTS rar CASCADE")
        c.execute("CREATE EXTENSION rar")
        c.execute("DROP TABLE IF EXISTS or_source")
        c.execute("CREATE UNLOGGED TABLE or_source (invoice_no text, stock_code text, description text, quantity int,"
                  " invoice_date timestamp, unit_price numeric, customer_id text, country text)")
        with c.cursor().copy("COPY or_source FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
            cp.write(gzip.decompress((ROOT / "data" / "online_retail.csv.gz").read_bytes()))
        base = c.execute("SELECT count(*) FROM or_source").fetchone()[0]
        sizes = [base] + [int(s) for s in args.sizes.split(",") if s]
        for n in sizes:
            copies = max(1, -(-n // base))  # at least n lines
            c.execute("DROP TABLE IF EXISTS clean_bench, clean_bench_rar_rejected")
            t0 = time.perf_counter()
            c.execute(
                "CREATE TABLE clean_bench AS SELECT CASE WHEN k = 0 THEN invoice_no ELSE invoice_no || '-' || k END AS invoice_no,"
                " stock_code, description, quantity, invoice_date, unit_price, customer_id, country"
                " FROM generate_series(0, %s - 1) k, or_source", (copies,))
            c.execute("VACUUM ANALYZE clean_bench")
            gen = time.perf_counter() - t0
            lines = c.execute("SELECT count(*) FROM clean_bench").fetchone()[0]
            t0 = time.perf_counter()
            report = dict(c.execute(clean, ("clean_bench",)).fetchall())
            secs = time.perf_counter() - t0
            row = {"lines": lines, "seconds": secs, "lines_per_second": lines / secs, "removed": report["total"],
                   "duplicates_merged": report.get("duplicate_item", 0), "generate_seconds": gen}
            results.append(row)
            print(json.dumps(row), flush=True)
        c.execute("DROP TABLE IF EXISTS clean_bench, clean_bench_rar_rejected, or_source")
    out = ROOT / "benches" / "results" / "clean.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    json.dump(results, open(out, "w"), indent=1)
    print("\n| lines | rar_clean (s) | lines per second | removed | time / time at 541,909 lines |")
    print("|---|---|---|---|---|")
    for r in results:
        print(f"| {r['lines']:,} | {r['seconds']:.2f} | {r['lines_per_second']:,.0f} | {r['removed']:,} |"
              f" {r['seconds'] / results[0]['seconds']:.1f} (size ratio {r['lines'] / results[0]['lines']:.1f}) |")


if __name__ == "__main__":
    main()

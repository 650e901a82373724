#!/usr/bin/env python3
"""Latency of rar_recommend as an application sees it: one call per request
over a connection, baskets drawn from the Online Retail table, for the rules
(over a rule set of more than 100,000 rules), the model and both; as a
superuser, as an application role granted the rules with rar_grant (no
SELECT on the table) and as a reader with SELECT on the table, whose reads
pass the catalog's row-level security.

    benches/recommend.sh [--calls 1000]
"""
import argparse
import json
import pathlib
import random
import statistics
import time

import psycopg

import benchdb

ROOT = pathlib.Path(__file__).resolve().parents[1]


APP_ROLE = "rar_bench_app"
# A BI login or analyst: SELECT on the table, so its reads pass rar.may_read
# (the views and row security under the table) rather than a grant.
READER_ROLE = "rar_bench_reader"


def connect(user="postgres"):
    return benchdb.connect("rar_bench", user)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=1000)
    args = ap.parse_args()
    benchdb.fresh_extension("rar_bench")
    with connect() as c:
        c.execute("SELECT rar_register('retail', 'online_retail_sales', defaults => '{\"min_support\": 0.003, \"min_confidence\": 0.5}')")
        t0 = time.perf_counter()
        c.execute("CALL rar_refresh('retail')")
        refresh_s = time.perf_counter() - t0
        if not c.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone():
            c.execute(f"CREATE ROLE {APP_ROLE} LOGIN")
        c.execute("SELECT rar_grant('retail', %s)", (APP_ROLE,))
        if not c.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (READER_ROLE,)).fetchone():
            c.execute(f"CREATE ROLE {READER_ROLE} LOGIN")
        c.execute(f"GRANT SELECT ON online_retail_sales TO {READER_ROLE}")
        rules = c.execute("SELECT count(*) FROM rar.rules WHERE source = 'retail'").fetchone()[0]
        if not c.execute("SELECT 1 FROM rar.models WHERE source = 'online_retail_sales'::regclass AND deployed").fetchone():
            c.execute("SELECT * FROM rar_train('online_retail_sales', 'mlp', '{\"epochs\": 5}')")
        vocab = set(c.execute("SELECT vocab FROM rar.models WHERE source = 'online_retail_sales'::regclass AND deployed").fetchone()[0])
        # Baskets as the model knows them (items it never saw are left out, so
        # that every method answers every query).
        baskets = [[i for i in r[0] if i in vocab] for r in c.execute(
            "SELECT array_agg(stock_code ORDER BY stock_code) FROM online_retail_sales GROUP BY invoice_no").fetchall()]
        baskets = [b for b in baskets if b]
    rng = random.Random(0)
    queries = []
    for _ in range(args.calls):
        b = rng.choice(baskets)
        queries.append(rng.sample(b, min(len(b), rng.randint(1, 5))))
    results = {"rules_in_set": rules, "refresh_seconds": refresh_s}
    runs = [(role, method) for role in ("postgres", APP_ROLE, READER_ROLE) for method in ("rules", "model", "hybrid")]
    for role, method in runs:
        key = method if role == "postgres" else f"{method} as {role}"
        with connect(role) as c:
            try:
                c.execute("SELECT count(*) FROM rar_recommend(%s::text[], 10, source => 'retail', method => %s)",
                          (queries[0], method))
            except psycopg.Error as e:
                # A role granted the rules only may not read the model.
                results[key] = {"refused": f"{e.sqlstate} {str(e).splitlines()[0]}"}
                print(key, json.dumps(results[key]), flush=True)
                continue
            lat = []
            for q in queries:
                t = time.perf_counter()
                c.execute("SELECT item, score FROM rar_recommend(%s::text[], 10, source => 'retail', method => %s)", (q, method)).fetchall()
                lat.append((time.perf_counter() - t) * 1000)
        lat.sort()
        results[key] = {"p50_ms": statistics.median(lat), "p99_ms": lat[int(len(lat) * 0.99) - 1], "max_ms": lat[-1]}
        print(key, json.dumps(results[key]), flush=True)
    out = ROOT / "benches" / "results" / "recommend.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    json.dump(results, open(out, "w"), indent=1)
    print(f"\n{rules:,} rules in the set (CALL rar_refresh took {refresh_s:.1f} s); {args.calls} calls per method, 1 to 5 items a basket, k = 10")
    print("| role | method | p50 (ms) | p99 (ms) | max (ms) |\n|---|---|---|---|---|")
    for role, method in runs:
        r = results[method if role == "postgres" else f"{method} as {role}"]
        if "refused" in r:
            print(f"| {role} | {method} | refused: {r['refused']} | | |")
        else:
            print(f"| {role} | {method} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.2f} |")

if __name__ == "__main__":
    main()

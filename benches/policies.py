"""What the catalog's row-level security costs each kind of role, on a
database shared by many sources (`./benches/policies.sh`).

A database `rar_bench_policies` with the Groceries data registered as
`sales` by a table owner that is not a superuser, and `--sources` more
small sources of another role, each refreshed. Timed, per role (superuser,
the owner, a reader with SELECT on every table, an application role
granted the rules of `sales`), over one connection each:

- a session's first statements (a new connection, then the first call);
- warm statements: the rule views unfiltered and filtered by source, and
  `rar_recommend`, medians of `--calls` calls.

With `--sql OLD.sql`, the extension script OLD.sql (a `rar--0.2.0.sql`
of another build) is installed in turn with the current one, so that one
run compares the two (the library is the installed one for both).
"""
import argparse
import json
import pathlib
import statistics
import time

import benchdb

ROOT = pathlib.Path(__file__).resolve().parents[1]
DB = "rar_bench_policies"
ROLES = {"superuser": "postgres", "owner": "rar_bp_owner", "reader": "rar_bp_reader", "app": "rar_bp_app"}
WARM = {
    "rule_history": "SELECT count(*) FROM rar.rule_history",
    "rules, all": "SELECT count(*) FROM rar.rules",
    "rules, one source": "SELECT count(*) FROM rar.rules WHERE source = 'sales'",
    "rule_graph, one source": "SELECT count(*) FROM rar.rule_graph WHERE source = 'sales'",
    "rar_recommend": "SELECT count(*) FROM rar_recommend('{whole milk,yogurt}', 10, 'sales')",
}


def connect(user="postgres", db=DB):
    return benchdb.connect(db, user)


def build(sources):
    with connect(db="postgres") as c:
        c.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {DB}")
        for r in ROLES.values():
            if r != "postgres" and not c.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (r,)).fetchone():
                c.execute(f"CREATE ROLE {r} LOGIN")
        if not c.execute("SELECT 1 FROM pg_roles WHERE rolname = 'rar_bp_other'").fetchone():
            c.execute("CREATE ROLE rar_bp_other LOGIN")
    with connect() as c:
        c.execute("CREATE EXTENSION rar")
        c.execute("CREATE TABLE sales (transaction_id int, item text)")
        with c.cursor().copy("COPY sales FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
            cp.write((ROOT / "data" / "groceries.csv").read_bytes())
        c.execute("ALTER TABLE sales OWNER TO rar_bp_owner")
        c.execute("GRANT CREATE ON SCHEMA public TO rar_bp_other")
        for i in range(sources):
            c.execute(f"CREATE TABLE other_{i} AS SELECT * FROM sales WHERE transaction_id % 50 = {i % 50}")
            c.execute(f"ALTER TABLE other_{i} OWNER TO rar_bp_other")
        c.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO rar_bp_reader")
    with connect("rar_bp_owner") as c:
        c.execute("SELECT rar_register('sales', 'sales', 'transaction_id', 'item', "
                  "defaults => '{\"min_support\": 0.005, \"min_confidence\": 0.1}')")
        c.execute("CALL rar_refresh('sales')")
        c.execute("SELECT rar_grant('sales', 'rar_bp_app')")
    with connect("rar_bp_other") as c:
        for i in range(sources):
            c.execute(f"SELECT rar_register('other_{i}', 'other_{i}', 'transaction_id', 'item', "
                      "defaults => '{\"min_support\": 0.05, \"min_confidence\": 0.2}')")
            c.execute(f"CALL rar_refresh('other_{i}')")
    with connect() as c:
        c.execute("ANALYZE")
        return c.execute("SELECT (SELECT count(*) FROM rar.sources), (SELECT count(*) FROM rar.rule_store)").fetchone()


def timed(c, sql):
    t = time.perf_counter()
    c.execute(sql).fetchall()
    return (time.perf_counter() - t) * 1000


def measure(calls):
    out = {}
    for label, role in ROLES.items():
        r = {}
        # A session's first calls: a new connection for each, five times.
        firsts = {name: [] for name in ("rules, one source", "rar_recommend")}
        for _ in range(5):
            for name in firsts:
                with connect(role) as c:
                    firsts[name].append(timed(c, WARM[name]))
        for name, xs in firsts.items():
            r[f"first {name}"] = statistics.median(xs)
        with connect(role) as c:
            for name, sql in WARM.items():
                for _ in range(3):
                    timed(c, sql)
                r[name] = statistics.median(timed(c, sql) for _ in range(calls))
        out[label] = r
        print(label, json.dumps({k: round(v, 2) for k, v in r.items()}), flush=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", type=int, default=120)
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--sql", help="another build's rar--0.2.0.sql, run first for comparison")
    args = ap.parse_args()
    current = ROOT / "sql" / "rar--0.2.0.sql"
    results = {}
    try:
        for name, script in ([("other", pathlib.Path(args.sql))] if args.sql else []) + [("current", current)]:
            benchdb.install_script(script)
            n_sources, n_rules = build(args.sources)
            print(f"== {name}: {n_sources} sources, {n_rules:,} rules in rar.rule_store", flush=True)
            results[name] = measure(args.calls)
    finally:
        benchdb.install_script(current)
    out = ROOT / "benches" / "results" / "policies.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    json.dump(results, open(out, "w"), indent=1)
    names = list(next(iter(results.values()))["superuser"])
    for name, res in results.items():
        print(f"\n{name}: medians in ms\n| statement | " + " | ".join(ROLES) + " |\n|---|" + "---:|" * len(ROLES))
        for n in names:
            print(f"| {n} | " + " | ".join(f"{res[role][n]:.2f}" for role in ROLES) + " |")


if __name__ == "__main__":
    main()

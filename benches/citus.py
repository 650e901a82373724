#!/usr/bin/env python3
"""Citus benchmark: rar_mine on one server and on a Citus coordinator with
two workers, on the same machine, over the same generated sales table
(benches/gen_sales.py).

    benches/citus.sh                       (20 million lines)
    benches/citus.sh --lines 5000000

Three servers are started on ports 5471 (the coordinator, which also holds
the one-server copy) and 5472, 5473 (the workers), with Citus and rar, and
removed afterwards. The table is distributed by its basket column and, in a
second copy, by its item column (a basket's lines on every shard: the
coordinator merges baskets by id). Every node runs with PostgreSQL's default
parallel settings, `shared_buffers = 512MB`, `work_mem = 64MB`,
`citus.shard_count = 8` and `rar.memory_limit = '8GB'` (each node checks its
own budget). Measured, each in the same run:

- `SELECT count(*) FROM rar_mine(...)` on a fresh connection: time, and the
  peak private memory (RssAnon, sampled every 50 ms) of each node's
  processes together;
- the read alone, the way 0.2.0 reads a Citus table (`rar.baskets_shared`:
  the workers encode, the coordinator merges) and the way it did before
  (`rar.baskets`, whose `internal` state Citus cannot push down: every
  line travels to the coordinator);
- bytes sent to the coordinator: the states (each shard's as Citus sends
  it, base64 text) against the lines (Citus's EXPLAIN ANALYZE of a plain
  `SELECT basket_id, item_id`);
- on the table distributed by basket, `rar_mine` counting itemsets on the
  workers (the default: two rounds, its DEBUG1 message gives the bytes each
  round moved) against the workers encoding and the coordinator mining
  (`SET rar.count_on_workers = off`).

Each figure is one run; rerun to see the spread. Results go to
benches/results/citus.json and a Markdown table on stdout.
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

import psycopg

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import gen_sales  # noqa: E402
from procmem import Peaks, status_kb  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
PG_BIN = pathlib.Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
SOCKETS = os.environ.get("PGHOST", "/var/lib/postgresql/rar/run")
HOME = pathlib.Path(os.environ.get("RAR_HOME", "/var/lib/postgresql/rar")) / "citus_bench"
COORDINATOR, WORKERS = 5471, [5472, 5473]
DB = "rar_citus_bench"
SUPP, CONF, MAXLEN = 0.002, 0.5, 4
MINE = ("SELECT count(*) FROM rar_mine(%s, min_support => %s, min_confidence => %s, max_length => %s,"
        " tid_column => 'basket_id', item_column => 'item_id')")


def connect(port, dbname=DB):
    return psycopg.connect(host=SOCKETS, port=port, user="postgres", dbname=dbname, autocommit=True)


def as_postgres(*cmd):
    subprocess.run(["runuser", "-u", "postgres", "--", *map(str, cmd)], check=True, capture_output=True)


def start_cluster():
    stop_cluster()  # servers left by an interrupted run would hold the ports
    HOME.mkdir(parents=True)
    shutil.chown(HOME, "postgres", "postgres")
    for port in [COORDINATOR, *WORKERS]:
        d = HOME / str(port)
        as_postgres(PG_BIN / "initdb", "-D", d, "-U", "postgres", "--auth-local=trust", "--auth-host=trust",
                    "-E", "UTF8", "--locale=C.UTF-8")
        with open(d / "postgresql.conf", "a") as f:
            f.write(f"port = {port}\nunix_socket_directories = '{SOCKETS}'\nlisten_addresses = 'localhost'\n"
                    "shared_preload_libraries = 'citus'\nshared_buffers = 512MB\nwork_mem = 64MB\n"
                    "citus.shard_count = 8\n"
                    # Fresh worker connections per query: each node's memory is that query's.
                    "citus.max_cached_conns_per_worker = 0\n"
                    # Each node checks its own budget (the workers encode their shards).
                    "rar.memory_limit = '8GB'\n")
        as_postgres(PG_BIN / "pg_ctl", "-D", d, "-l", d / "log", "-w", "start")
        with connect(port, "postgres") as s:
            s.execute(f"CREATE DATABASE {DB}")
        with connect(port) as s:
            s.execute("CREATE EXTENSION citus")
    with connect(COORDINATOR) as c:
        c.execute("SELECT citus_set_coordinator_host('localhost', %s)", (COORDINATOR,))
        for port in WORKERS:
            c.execute("SELECT citus_add_node('localhost', %s)", (port,))
        c.execute("CREATE EXTENSION rar")
        c.execute("SET rar.memory_limit = '8GB'")


def stop_cluster():
    for port in [COORDINATOR, *WORKERS]:
        d = HOME / str(port)
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(d), "-m", "fast",
                        "-w", "stop"], capture_output=True)
    shutil.rmtree(HOME, ignore_errors=True)


def postmaster_pid(port):
    return int((HOME / str(port) / "postmaster.pid").read_text().split()[0])


def children(ppid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == ppid:
                        out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out


def node_kb(pids, port):
    """Private memory (RssAnon) of a node's processes together."""
    return sum(status_kb(c, "RssAnon") for c in children(pids[port]))


def timed(sql, args=(), nodes=(COORDINATOR, *WORKERS), settings=()):
    messages = []
    with connect(COORDINATOR) as c:
        c.execute("SET rar.memory_limit = '8GB'")
        for s in settings:
            c.execute(s)
        # Loads the library (and, on a distributed table, opens nothing yet).
        c.execute("SELECT count(*) FROM rar_mine('warm', tid_column => 'basket_id', item_column => 'item_id')")
        pids = {p: postmaster_pid(p) for p in nodes}
        with Peaks(lambda: {p: node_kb(pids, p) for p in nodes}) as peaks:
            # rar_mine says at DEBUG1 whether it counted on the workers, and
            # the bytes each round moved.
            c.add_notice_handler(lambda d: messages.append(d.message_primary or ""))
            c.execute("SET client_min_messages = debug1")
            t0 = time.perf_counter()
            row = c.execute(sql, args).fetchone()
            elapsed = time.perf_counter() - t0
    # Above what each node held before.
    mb = {p: max(0, peaks.peak[p] - peaks.start[p]) // 1024 for p in nodes}
    out = {"time": round(elapsed, 3), "result": row[0] if row else None, "peak_mb": mb}
    counted = [m for m in messages if m.startswith("rar_mine: counted")]
    if counted:
        # "counted N candidate itemsets on the S shards of T: received A bytes
        # in round 1, sent B bytes to each shard and received C in round 2"
        m = re.search(r"counted (\d+) candidate itemsets on the (\d+) shards.*received (\d+) bytes in round 1,"
                      r" sent (\d+) bytes to each shard and received (\d+)", counted[0])
        cands, shards, r1, sent, r2 = map(int, m.groups())
        out["counted_on_workers"] = {"candidates": cands, "shards": shards, "bytes_round1": r1,
                                     "bytes_sent_round2": sent * shards, "bytes_round2": r2,
                                     "bytes_total": r1 + sent * shards + r2}
    return out


def load(lines):
    """sales_local (the one-server copy, on the coordinator) and the two
    distributed copies, from the same generated lines."""
    with connect(COORDINATOR) as c:
        n, baskets, secs = gen_sales.load(c, "sales_local", lines)
        print(f"generated {n:,} lines in {baskets:,} baskets ({secs:.1f} s)", flush=True)
        for name, column in [("sales_by_basket", "basket_id"), ("sales_by_item", "item_id")]:
            t0 = time.perf_counter()
            c.execute(f"CREATE TABLE {name} (basket_id bigint NOT NULL, item_id int NOT NULL)")
            c.execute(f"SELECT create_distributed_table('{name}', '{column}')")
            c.execute(f"INSERT INTO {name} SELECT basket_id, item_id FROM sales_local")
            c.execute(f"ANALYZE {name}")
            print(f"{name}: loaded in {time.perf_counter() - t0:.1f} s", flush=True)
        c.execute("CREATE TABLE warm AS SELECT 1::bigint AS basket_id, 1 AS item_id")
    return n, baskets


def bytes_to_coordinator(c, table):
    sizes = c.execute(
        "SELECT result FROM run_command_on_shards(%s,"
        " $$SELECT octet_length(rar.baskets_shared(basket_id, item_id)) FROM %%s$$)", (table,)).fetchall()
    states = sum((int(n) + 2) // 3 * 4 for (n,) in sizes if n)
    plan = "\n".join(r[0] for r in c.execute(
        f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT basket_id, item_id FROM {table}"))
    rows = 0
    for line in plan.splitlines():
        if "Tuple data received from nodes:" in line:
            n, unit = line.split(":")[1].split()[:2]
            rows += int(float(n) * {"bytes": 1, "kB": 1024, "MB": 1 << 20, "GB": 1 << 30}[unit])
    return states, rows


def parts():
    """The pieces of a distributed rar_mine, for the projection in
    docs/distributed.md: reading and encoding the whole table on one node
    (its parallel workers included), the coordinator's merge of the eight
    shard states of the table distributed by basket (from their text, as
    Citus hands them over), and mining (rar_mine on one server less its
    read)."""
    read = timed("SELECT rar.baskets(basket_id, item_id) FROM sales_local")
    with connect(COORDINATOR) as c:
        c.execute("SET rar.memory_limit = '8GB'")
        c.execute("CREATE TEMP TABLE shard_states AS SELECT translate(pg_catalog.encode(result::bytea, 'base64'),"
                  " E'\\n', '') AS s FROM run_command_on_shards('sales_by_basket',"
                  " $$SELECT rar.baskets_shared(basket_id, item_id) FROM %s$$)")
        c.execute("CREATE AGGREGATE pg_temp.merge_states(rar.basket_state) (SFUNC = rar.basket_state_combine,"
                  " STYPE = rar.basket_state, FINALFUNC = rar.basket_state_final, FINALFUNC_MODIFY = READ_WRITE)")
        t0 = time.perf_counter()
        c.execute("SELECT octet_length(pg_temp.merge_states(s::rar.basket_state)) FROM shard_states").fetchone()
        merge = time.perf_counter() - t0
    return {"read_encode_one_node": read["time"], "coordinator_merge": round(merge, 3)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=20_000_000)
    ap.add_argument("--json", default=str(ROOT / "benches" / "results" / "citus.json"))
    a = ap.parse_args()
    start_cluster()
    try:
        lines, baskets = load(a.lines)
        out = {"lines": lines, "baskets": baskets, "min_support": SUPP, "min_confidence": CONF,
               "max_length": MAXLEN, "runs": []}
        for table in ["sales_local", "sales_by_basket", "sales_by_item"]:
            r = {"table": table, "mine": timed(MINE, (table, SUPP, CONF, MAXLEN))}
            print(table, "rar_mine", r["mine"], flush=True)
            if table == "sales_by_basket":
                # The same call with the workers encoding and the
                # coordinator mining (0.2.0's first way, still the way for
                # any other distribution).
                r["mine_coordinator"] = timed(MINE, (table, SUPP, CONF, MAXLEN),
                                              settings=["SET rar.count_on_workers = off"])
                print(table, "rar_mine, coordinator mines", r["mine_coordinator"], flush=True)
            if table != "sales_local":
                r["read_pushed_down"] = timed(
                    f"SELECT octet_length(rar.baskets_shared(basket_id, item_id)) FROM {table}")
                r["read_row_gather"] = timed(f"SELECT rar.baskets(basket_id, item_id) FROM {table}")
                with connect(COORDINATOR) as c:
                    r["state_bytes"], r["row_bytes"] = bytes_to_coordinator(c, table)
                print(table, {k: v for k, v in r.items() if k != "mine"}, flush=True)
            out["runs"].append(r)
        out["parts"] = parts()
        print("parts", out["parts"], flush=True)
        pathlib.Path(a.json).write_text(json.dumps(out, indent=1) + "\n")
        one = out["runs"][0]["mine"]
        print(f"\n{lines:,} lines, {baskets:,} baskets; rules: {one['result']:,}"
              f" (min_support {SUPP}, min_confidence {CONF}, max_length {MAXLEN})\n")
        print("| table | rar_mine (s) | vs one server | read: workers encode (s) | read: rows to coordinator (s)"
              " | sent: states | sent: lines | peak MB coordinator / worker 1 / worker 2 |")
        print("|---|---|---|---|---|---|---|---|")
        for r in out["runs"]:
            m = r["mine"]
            peaks = " / ".join(str(m["peak_mb"][p]) for p in [COORDINATOR, *WORKERS])
            if r["table"] == "sales_local":
                print(f"| one server | {m['time']:.2f} | 1.00x | | | | | {peaks} |")
            else:
                print(f"| {r['table']} | {m['time']:.2f} | {m['time'] / one['time']:.2f}x"
                      f" | {r['read_pushed_down']['time']:.2f} | {r['read_row_gather']['time']:.2f}"
                      f" | {r['state_bytes'] / 1e6:.1f} MB | {r['row_bytes'] / 1e6:.1f} MB | {peaks} |")
        by_basket = out["runs"][1]
        counted, coord = by_basket["mine"], by_basket["mine_coordinator"]
        w = counted.get("counted_on_workers")
        if w:
            peaks = lambda m: " / ".join(str(m["peak_mb"][p]) for p in [COORDINATOR, *WORKERS])  # noqa: E731
            print("\nsales_by_basket, counted on the workers against the coordinator mining the encoded baskets:\n")
            print("| way | rar_mine (s) | vs one server | bytes to and from the workers | peak MB coordinator / worker 1"
                  " / worker 2 |")
            print("|---|---|---|---|---|")
            print(f"| counted on the workers ({w['candidates']:,} candidates, {w['shards']} shards) | {counted['time']:.2f}"
                  f" | {counted['time'] / one['time']:.2f}x | {w['bytes_total'] / 1e6:.2f} MB (round 1"
                  f" {w['bytes_round1'] / 1e6:.2f}, sent {w['bytes_sent_round2'] / 1e6:.2f},"
                  f" round 2 {w['bytes_round2'] / 1e6:.2f}) | {peaks(counted)} |")
            print(f"| workers encode, coordinator mines | {coord['time']:.2f} | {coord['time'] / one['time']:.2f}x"
                  f" | {by_basket['state_bytes'] / 1e6:.1f} MB | {peaks(coord)} |")
    finally:
        stop_cluster()


if __name__ == "__main__":
    main()

"""Scale-out: rar_mine in parallel workers, and across shards (partitions
that are postgres_fdw foreign tables on other PostgreSQL servers, started
here on their own ports)."""
import os
import pathlib
import shutil
import subprocess

import pytest

from conftest import connect

PG_BIN = pathlib.Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
SOCKETS = os.environ.get("PGHOST", "/var/lib/postgresql/rar/run")
SHARD_HOME = pathlib.Path(os.environ.get("RAR_HOME", "/var/lib/postgresql/rar")) / "shards"
SHARD_PORTS = [5416, 5417]


def as_postgres(*cmd):
    subprocess.run(["runuser", "-u", "postgres", "--", *map(str, cmd)], check=True, capture_output=True)


def rules(conn, sql, *args):
    return conn.execute(sql, args).fetchall()


def test_rar_mine_reads_with_parallel_workers(db):
    """The plan of the scan rar_mine runs (shown by auto_explain) has a
    Partial Aggregate under a Gather with workers launched, and the rules
    equal those of a run without workers."""
    notices = []
    with db() as c:
        c.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        c.execute("CREATE TABLE IF NOT EXISTS par_retail AS SELECT * FROM online_retail_sales")
        c.execute("ANALYZE par_retail")
        c.execute("LOAD 'auto_explain'")
        for setting, value in [("auto_explain.log_min_duration", "0"), ("auto_explain.log_nested_statements", "on"),
                               ("auto_explain.log_analyze", "on"), ("auto_explain.log_level", "notice"),
                               ("parallel_setup_cost", "0"), ("min_parallel_table_scan_size", "0"),
                               ("max_parallel_workers_per_gather", "2")]:
            c.execute("SELECT set_config(%s, %s, false)", (setting, value))
        parallel = rules(c, "SELECT * FROM rar_mine('par_retail', min_support => 0.01, min_confidence => 0.3)")
        c.execute("SET auto_explain.log_min_duration = -1")
        c.execute("SET max_parallel_workers_per_gather = 0")
        serial = rules(c, "SELECT * FROM rar_mine('par_retail', min_support => 0.01, min_confidence => 0.3)")
    scans = [n for n in notices if "rar.baskets(" in n]
    assert len(scans) == 1, notices
    plan = scans[0]
    assert "Gather" in plan and "Partial Aggregate" in plan and "Parallel Seq Scan on par_retail" in plan, plan
    launched = int(plan.split("Workers Launched:")[1].split()[0])
    assert launched >= 1, plan
    assert len(serial) > 100
    assert parallel == serial


@pytest.fixture(scope="module")
def shards():
    """Two more PostgreSQL 15 servers with rar installed, each holding an
    empty `sales` table; stopped and removed afterwards."""
    shutil.rmtree(SHARD_HOME, ignore_errors=True)
    SHARD_HOME.mkdir(parents=True)
    shutil.chown(SHARD_HOME, "postgres", "postgres")
    dirs = []
    try:
        for port in SHARD_PORTS:
            d = SHARD_HOME / str(port)
            as_postgres(PG_BIN / "initdb", "-D", d, "-U", "postgres", "--auth-local=trust", "-E", "UTF8",
                        "--locale=C.UTF-8")
            with open(d / "postgresql.conf", "a") as f:
                f.write(f"port = {port}\nunix_socket_directories = '{SOCKETS}'\nlisten_addresses = ''\n")
            as_postgres(PG_BIN / "pg_ctl", "-D", d, "-l", d / "log", "-w", "start")
            dirs.append(d)
            with connect("postgres", port=port) as s:
                s.execute("CREATE EXTENSION rar")
                s.execute("CREATE TABLE sales (transaction_id int, item text)")
                s.execute("CREATE TABLE sales_by_item (transaction_id int, item text)")
                s.execute("CREATE TABLE sales_by_store (transaction_id int, item text, store int)")
        yield SHARD_PORTS
    finally:
        for d in dirs:
            subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(d), "-m", "fast",
                            "-w", "stop"], capture_output=True)
        shutil.rmtree(SHARD_HOME, ignore_errors=True)


def connect_port(dbname, port):
    return connect(dbname, port=port)


def test_sharded_mining_equals_one_server(db, shards):
    """groceries spread over two servers (hash partitions that are foreign
    tables): rar_mine on the partitioned table returns the rules of the
    whole table on one server, each shard encodes its own lines (the
    aggregate is pushed down), and baskets split across shards are joined."""
    with db() as c:
        c.execute("CREATE EXTENSION IF NOT EXISTS postgres_fdw")
        for k, port in enumerate(shards):
            c.execute(f"DROP SERVER IF EXISTS shard{k} CASCADE")
            c.execute(f"CREATE SERVER shard{k} FOREIGN DATA WRAPPER postgres_fdw OPTIONS"
                      f" (host '{SOCKETS}', port '{port}', dbname 'postgres', extensions 'rar', batch_size '1000')")
            c.execute(f"CREATE USER MAPPING FOR postgres SERVER shard{k} OPTIONS (user 'postgres')")
        # Partitioned by basket: every basket on one shard.
        c.execute("DROP TABLE IF EXISTS sales_sharded, sales_split")
        c.execute("CREATE TABLE sales_sharded (transaction_id int, item text) PARTITION BY HASH (transaction_id)")
        # Partitioned by item: baskets cut across shards.
        c.execute("CREATE TABLE sales_split (transaction_id int, item text) PARTITION BY HASH (item)")
        for k in range(len(shards)):
            c.execute(f"CREATE FOREIGN TABLE sales_sharded_{k} PARTITION OF sales_sharded"
                      f" FOR VALUES WITH (MODULUS {len(shards)}, REMAINDER {k})"
                      f" SERVER shard{k} OPTIONS (table_name 'sales')")
            c.execute(f"CREATE FOREIGN TABLE sales_split_{k} PARTITION OF sales_split"
                      f" FOR VALUES WITH (MODULUS {len(shards)}, REMAINDER {k})"
                      f" SERVER shard{k} OPTIONS (table_name 'sales_by_item')")
        c.execute("INSERT INTO sales_sharded SELECT * FROM groceries")
        c.execute("INSERT INTO sales_split SELECT * FROM groceries")
        # The shards hold the lines, the coordinator none.
        counts = [connect_port("postgres", p).execute("SELECT count(*) FROM sales").fetchone()[0] for p in shards]
        assert sum(counts) == 43367 and min(counts) > 10000

        # The aggregate runs on the shard: only its result crosses the wire.
        plan = "\n".join(r[0] for r in c.execute(
            "EXPLAIN (VERBOSE, COSTS OFF) SELECT rar.baskets_state(transaction_id, item) FROM ONLY sales_sharded_0"))
        assert "Foreign Scan" in plan and "Remote SQL: SELECT rar.baskets_state(" in plan, plan

        q = "SELECT * FROM rar_mine(%s, min_support => 0.002, min_confidence => 0.2)"
        one_server = rules(c, q, "groceries")
        assert len(one_server) > 1000
        assert rules(c, q, "sales_sharded") == one_server
        assert rules(c, q, "sales_split") == one_server

        # Each shard alone: the rules of its subset, mined where it lives.
        for k, port in enumerate(shards):
            with connect_port("postgres", port) as s:
                on_shard = rules(s, "SELECT * FROM rar_mine('sales', min_support => 0.005, min_confidence => 0.3)")
            c.execute(f"CREATE OR REPLACE VIEW shard_subset_{k} AS SELECT g.* FROM groceries g"
                      f" WHERE satisfies_hash_partition('sales_sharded'::regclass, {len(shards)}, {k}, g.transaction_id)")
            local = rules(c, f"SELECT * FROM rar_mine('shard_subset_{k}', min_support => 0.005, min_confidence => 0.3)")
            assert len(local) > 50 and on_shard == local


def test_per_segment_mining_runs_on_the_shards(db, shards):
    """Segments as partitions on two servers: with partitionwise
    aggregation, PostgreSQL ships rar_rules_agg whole to each shard, and the
    rules per segment equal rar_mine_segments on one server."""
    with db() as c:
        c.execute("DROP TABLE IF EXISTS sales_stores, stores_local")
        c.execute("CREATE TABLE stores_local AS SELECT transaction_id, item, transaction_id % 2 AS store FROM groceries")
        c.execute("CREATE TABLE sales_stores (transaction_id int, item text, store int) PARTITION BY LIST (store)")
        for k in range(len(shards)):
            c.execute(f"CREATE FOREIGN TABLE sales_stores_{k} PARTITION OF sales_stores FOR VALUES IN ({k})"
                      f" SERVER shard{k} OPTIONS (table_name 'sales_by_store')")
        c.execute("INSERT INTO sales_stores SELECT * FROM stores_local")
        c.execute("SET enable_partitionwise_aggregate = on")
        q = "SELECT store, rar_rules_agg(transaction_id, item, 0.01, 0.3) FROM sales_stores GROUP BY store ORDER BY store"
        plan = "\n".join(r[0] for r in c.execute("EXPLAIN (VERBOSE, COSTS OFF) " + q))
        assert plan.count("Remote SQL: SELECT store, public.rar_rules_agg(transaction_id, item") == 2, plan
        sharded = c.execute(
            "SELECT g.store::text, r.antecedent, r.consequent, r.count FROM (" + q + ") g,"
            " jsonb_to_recordset(g.rar_rules_agg) AS r(antecedent text[], consequent text[], count bigint)").fetchall()
        local = c.execute(
            "SELECT segment, antecedent, consequent, count FROM rar_mine_segments('stores_local', 'store', 0.01, 0.3,"
            " tid_column => 'transaction_id', item_column => 'item')").fetchall()
        assert len(local) > 100 and sharded == local

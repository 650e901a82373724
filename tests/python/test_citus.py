"""rar on a real Citus cluster: a coordinator and two workers, started here
on their own ports with `shared_preload_libraries = 'citus'` (Citus is
built from ../shared/citus by scripts/test.sh where that source is; without
it these tests skip, saying so).

Checked: the same rules as on one server for a table distributed by its
basket column, by another column (a basket's lines on several shards) and
for a reference table; the workers encode the lines (the plan ships
`worker_partial_agg` of rar.baskets_shared, and the bytes the coordinator
receives are fewer than the lines'); rar_rules_agg grouped by the
distribution column runs whole on the workers; rar_mine_segments by the
distribution column; CALL rar_refresh and the rar.rules views on the
coordinator; rar_split and rar_profile; for a table distributed by its
basket column, the itemsets counted on the workers (two rounds) with the
same rules, and the cases where the coordinator mines instead."""
import os
import pathlib
import shutil
import subprocess

import psycopg
import pytest

from conftest import DATA, connect

PG_BIN = pathlib.Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_CONFIG = os.environ.get("PG_CONFIG", "/usr/lib/postgresql/15/bin/pg_config")
SOCKETS = os.environ.get("PGHOST", "/var/lib/postgresql/rar/run")
HOME = pathlib.Path(os.environ.get("RAR_HOME", "/var/lib/postgresql/rar")) / "citus"
COORDINATOR, WORKERS = 5461, [5462, 5463]
DB = "rar_citus"


def citus_installed():
    libdir = subprocess.run([PG_CONFIG, "--pkglibdir"], capture_output=True, text=True).stdout.strip()
    return (pathlib.Path(libdir) / "citus.so").exists()


pytestmark = pytest.mark.skipif(
    not citus_installed(),
    reason="Citus is not installed (scripts/test.sh builds it from ../shared/citus when that source is there)",
)


def as_postgres(*cmd):
    subprocess.run(["runuser", "-u", "postgres", "--", *map(str, cmd)], check=True, capture_output=True)


def on(port, dbname=DB):
    return connect(dbname, port=port)


@pytest.fixture(scope="module")
def cluster():
    """A coordinator and two workers with Citus and rar, the database
    rar_citus on each, the workers added to the coordinator; stopped and
    removed afterwards."""
    # Servers left running by an interrupted run would hold the ports.
    for port in [COORDINATOR, *WORKERS]:
        if (HOME / str(port) / "postmaster.pid").exists():
            subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(HOME / str(port)),
                            "-m", "immediate", "-w", "stop"], capture_output=True)
    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir(parents=True)
    shutil.chown(HOME, "postgres", "postgres")
    started = []
    try:
        for port in [COORDINATOR, *WORKERS]:
            d = HOME / str(port)
            as_postgres(PG_BIN / "initdb", "-D", d, "-U", "postgres", "--auth-local=trust", "--auth-host=trust",
                        "-E", "UTF8", "--locale=C.UTF-8")
            with open(d / "postgresql.conf", "a") as f:
                f.write(f"port = {port}\nunix_socket_directories = '{SOCKETS}'\nlisten_addresses = 'localhost'\n"
                        "shared_preload_libraries = 'citus'\nmax_connections = 60\nshared_buffers = 64MB\n"
                        "citus.shard_count = 8\n")
            as_postgres(PG_BIN / "pg_ctl", "-D", d, "-l", d / "log", "-w", "start")
            started.append(d)
            with connect("postgres", port=port) as s:
                s.execute(f"CREATE DATABASE {DB}")
            with on(port) as s:
                s.execute("CREATE EXTENSION citus")
        with on(COORDINATOR) as c:
            c.execute("SELECT citus_set_coordinator_host('localhost', %s)", (COORDINATOR,))
            for port in WORKERS:
                c.execute("SELECT citus_add_node('localhost', %s)", (port,))
            # Propagated to the workers by Citus.
            c.execute("CREATE EXTENSION rar")
            c.execute("CREATE TABLE groceries_local (transaction_id int, item text)")
            with c.cursor().copy("COPY groceries_local FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
                cp.write((DATA / "groceries.csv").read_bytes())
            # A store per basket, for grouping and segments.
            c.execute("ALTER TABLE groceries_local ADD COLUMN store int")
            c.execute("UPDATE groceries_local SET store = transaction_id % 3")
            for name, column in [("by_basket", "transaction_id"), ("by_item", "item"), ("by_store", "store")]:
                c.execute(f"CREATE TABLE {name} (LIKE groceries_local)")
                c.execute(f"SELECT create_distributed_table('{name}', '{column}')")
                c.execute(f"INSERT INTO {name} SELECT * FROM groceries_local")
            # Two shards of about 4,900 baskets: min_support 0.005 is 24
            # baskets on each, enough for the shards to count (see
            # rar_core::shards::MIN_LOCAL_COUNT); on eight shards it is 6.
            c.execute("CREATE TABLE two_shards (LIKE groceries_local)")
            c.execute("SELECT create_distributed_table('two_shards', 'transaction_id', shard_count => 2)")
            c.execute("INSERT INTO two_shards SELECT * FROM groceries_local")
            c.execute("CREATE TABLE twelve_shards (LIKE groceries_local)")
            c.execute("SELECT create_distributed_table('twelve_shards', 'transaction_id', shard_count => 12)")
            c.execute("INSERT INTO twelve_shards SELECT * FROM groceries_local")
            c.execute("CREATE TABLE reference (LIKE groceries_local)")
            c.execute("SELECT create_reference_table('reference')")
            c.execute("INSERT INTO reference SELECT * FROM groceries_local")
            # The shards' statistics now, not whenever autovacuum gets to
            # them: a shard declines unread when its statistics say it is
            # far too small (api::shards), and at min_support 0.025 a
            # twelfth of the baskets is near that line.
            for name in ("by_basket", "by_item", "by_store", "two_shards", "twelve_shards", "reference"):
                c.execute(f"ANALYZE {name}")
        yield COORDINATOR
    finally:
        for d in reversed(started):
            subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(d), "-m", "fast",
                            "-w", "stop"], capture_output=True)
        shutil.rmtree(HOME, ignore_errors=True)


MINE = "SELECT * FROM rar_mine(%s, min_support => 0.005, min_confidence => 0.2, tid_column => 'transaction_id'," \
       " item_column => 'item')"


def rules(conn, sql, *args):
    return conn.execute(sql, args).fetchall()


@pytest.mark.parametrize("table", ["by_basket", "by_item", "by_store", "reference"])
def test_same_rules_as_one_server(cluster, table):
    """Distributed by the basket (baskets whole on one shard), by the item
    and by a store (a basket's lines spread over shards, merged by id on the
    coordinator), or replicated: the rules of the same lines on one server."""
    with on(cluster) as c:
        local = rules(c, MINE, "groceries_local")
        assert len(local) > 200
        assert rules(c, MINE, table) == local


def received_bytes(conn, sql):
    """Bytes the coordinator received from the workers for `sql` (Citus's
    EXPLAIN ANALYZE)."""
    plan = "\n".join(r[0] for r in conn.execute("EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF) " + sql))
    total = 0
    for line in plan.splitlines():
        if "Tuple data received from nodes:" in line:
            n, unit = line.split(":")[1].split()[:2]
            total += int(float(n) * {"bytes": 1, "kB": 1024, "MB": 1 << 20}[unit])
    return total, plan


def shipped_state_bytes(conn, table):
    """Bytes of the states the workers send for rar.baskets_shared over
    `table`: each shard's state as text (base64 of its bytes; Citus's
    EXPLAIN ANALYZE cannot run a query of worker_partial_agg, whose result
    is a cstring, so the states are measured on the shards)."""
    sizes = conn.execute(
        "SELECT result FROM run_command_on_shards(%s,"
        " $$SELECT octet_length(rar.baskets_shared(transaction_id, item)) FROM %%s$$)", (table,)).fetchall()
    return sum((int(n) + 2) // 3 * 4 for (n,) in sizes if n)


@pytest.mark.parametrize("table", ["by_basket", "by_item"])
def test_workers_encode_the_lines(cluster, table):
    """The aggregate rar_mine reads a Citus table through runs on the
    workers (worker_partial_agg in the shard queries), and what reaches the
    coordinator is the encoded baskets, fewer bytes than the lines."""
    with on(cluster) as c:
        sql = f"SELECT rar.baskets_shared(transaction_id, item) FROM {table}"
        plan = "\n".join(r[0] for r in c.execute("EXPLAIN (VERBOSE, COSTS OFF) " + sql))
        assert "worker_partial_agg" in plan and "coord_combine_agg" in plan, plan
        shared = shipped_state_bytes(c, table)
        lines, _ = received_bytes(c, f"SELECT transaction_id, item FROM {table}")
        assert 0 < shared < lines * 0.8, (shared, lines)


def test_rules_agg_grouped_by_distribution_column_runs_on_workers(cluster):
    """rar_rules_agg grouped by the distribution column is pushed down whole
    (each worker mines its groups), with the rules of one server."""
    q = "SELECT store, rar_rules_agg(transaction_id, item, 0.01, 0.2) FROM {} GROUP BY store ORDER BY store"
    with on(cluster) as c:
        local = rules(c, q.format("groceries_local"))
        assert len(local) == 3 and all(len(r[1]) > 10 for r in local)
        assert rules(c, q.format("by_store")) == local
        plan = "\n".join(r[0] for r in c.execute("EXPLAIN (VERBOSE, COSTS OFF) " + q.format("by_store")))
        assert "rar_rules_agg(" in plan.split("Task Count")[1], plan


def test_segments_by_distribution_column(cluster):
    """rar_mine_segments by the distribution column: each segment's rules as
    on one server."""
    q = "SELECT * FROM rar_mine_segments(%s, 'store', min_support => 0.01, min_confidence => 0.2," \
        " tid_column => 'transaction_id', item_column => 'item') ORDER BY 1, 2::text, 3::text"
    with on(cluster) as c:
        local = rules(c, q, "groceries_local")
        assert len(local) > 100
        assert rules(c, q, "by_store") == local


def test_rule_sets_refresh_on_the_coordinator(cluster):
    """A rule set over a distributed table: registered, refreshed with CALL
    rar_refresh and read through the rar.rules view on the coordinator,
    the same rules as the set of the same lines on one server."""
    q = "SELECT antecedent_text, consequent_text, support, confidence FROM rar.rules WHERE source = %s ORDER BY 1, 2"
    with on(cluster) as c:
        for name, table in [("dist_rules", "by_item"), ("local_rules", "groceries_local")]:
            c.execute("SELECT FROM rar_register(%s, %s, tid_column => 'transaction_id', item_column => 'item')",
                      (name, table))
            c.execute("CALL rar_refresh(%s, min_support => 0.005, min_confidence => 0.2)", (name,))
        local = rules(c, q, "local_rules")
        assert len(local) > 200
        assert rules(c, q, "dist_rules") == local


def test_split_and_profile_of_a_distributed_table(cluster):
    """rar_split records a split of a distributed table and rar_mine mines
    its training set; rar_profile reads it: as for the same lines on one
    server (the split is a function of the basket id and the seed)."""
    q = ("SELECT * FROM rar_mine(%s, min_support => 0.005, min_confidence => 0.2, tid_column => 'transaction_id',"
        " item_column => 'item', split => 'train')")
    with on(cluster) as c:
        for table in ["groceries_local", "by_item"]:
            c.execute("SELECT FROM rar_split(%s, seed => 7, tid_column => 'transaction_id', item_column => 'item')",
                      (table,))
        local = rules(c, q, "groceries_local")
        assert 100 < len(local) and local != rules(c, MINE, "groceries_local")
        assert rules(c, q, "by_item") == local
        p = "SELECT rar_profile(%s, tid_column => 'transaction_id', item_column => 'item')"
        assert rules(c, p, "by_basket") == rules(c, p, "groceries_local")


def test_privileges_stay_the_callers(cluster):
    """A role with SELECT on a distributed table mines it (the workers read
    it as that role); a role without gets PostgreSQL's permission denied."""
    with on(cluster) as c:
        c.execute("DROP ROLE IF EXISTS analyst")
        c.execute("DROP ROLE IF EXISTS outsider")
        c.execute("CREATE ROLE analyst LOGIN")
        c.execute("CREATE ROLE outsider LOGIN")
        c.execute("GRANT SELECT ON by_basket TO analyst")
        expected = rules(c, MINE, "groceries_local")
    with on(cluster) as c:
        c.execute("SET ROLE analyst")
        assert rules(c, MINE, "by_basket") == expected
        c.execute("SET ROLE outsider")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute(MINE, ("by_basket",))


def test_segments_query_runs_on_the_workers(cluster):
    """The query rar_mine_segments runs, grouped by the segment column as it
    groups, is pushed down whole to the workers when the segment is the
    distribution column."""
    q = ("SELECT store::text, rar_rules_agg(transaction_id, item, 0.01, 0.2, 4) FROM by_store"
         " WHERE store::text = ANY('{0,1,2}') OR (store IS NULL AND false) GROUP BY 1, store ORDER BY 1")
    with on(cluster) as c:
        plan = "\n".join(r[0] for r in c.execute("EXPLAIN (VERBOSE, COSTS OFF) " + q))
        assert "rar_rules_agg(" in plan.split("Task Count")[1], plan


def test_a_view_over_a_distributed_table(cluster):
    """A view over a distributed table (what BI tools and analysts name) is
    read through rar.baskets_shared too: the same rules, and the plan of
    the read rar_mine runs (auto_explain) has the workers encode."""
    with on(cluster) as c:
        c.execute("CREATE OR REPLACE VIEW by_basket_view AS SELECT transaction_id, item FROM by_basket"
                  " WHERE item <> 'bags'")
        c.execute("CREATE OR REPLACE VIEW local_view AS SELECT transaction_id, item FROM groceries_local"
                  " WHERE item <> 'bags'")
        local = rules(c, MINE, "local_view")
        assert len(local) > 200
        notices = []
        c.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        c.execute("LOAD 'auto_explain'")
        for setting, value in [("auto_explain.log_min_duration", "0"), ("auto_explain.log_nested_statements", "on"),
                               ("auto_explain.log_verbose", "on"), ("auto_explain.log_level", "notice")]:
            c.execute("SELECT set_config(%s, %s, false)", (setting, value))
        assert rules(c, MINE, "by_basket_view") == local
        c.execute("SET auto_explain.log_min_duration = -1")
        reads = [n for n in notices if "rar.baskets" in n]
        assert reads and all("worker_partial_agg" in n for n in reads), notices


def test_training_on_a_distributed_table(cluster):
    """rar_train reads a distributed table through the same reader: the
    same baskets as on one server, so the same model metrics (training is
    deterministic on the CPU for the same baskets, whatever order the
    shards sent them in)."""
    q = ("SELECT recall_at_10, popularity_recall_at_10, valid_loss FROM rar_train(%s, 'mlp',"
         " '{\"epochs\": 2, \"hidden\": 16, \"device\": \"cpu\"}', tid_column => 'transaction_id',"
         " item_column => 'item')")
    with on(cluster) as c:
        for table in ["groceries_local", "by_item"]:
            c.execute("SELECT FROM rar_split(%s, seed => 3, tid_column => 'transaction_id', item_column => 'item')",
                      (table,))
        local = c.execute(q, ("groceries_local",)).fetchone()
        assert local[0] > 0
        assert c.execute(q, ("by_item",)).fetchone() == local


def test_upgrade_from_0_1_0_on_citus(cluster):
    """A Citus database on 0.1.0: the new library mines its distributed
    tables before the update (gathering the lines, as 0.1.0 did: the catalog
    has no rar.baskets_shared yet), ALTER EXTENSION rar UPDATE on the
    coordinator updates the workers too, and then the workers encode."""
    db = "rar_citus_upgrade"
    for port in [cluster, *WORKERS]:
        with connect("postgres", port=port) as s:
            s.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
            s.execute(f"CREATE DATABASE {db}")
        with connect(db, port=port) as s:
            s.execute("CREATE EXTENSION citus")
    with connect(db, port=cluster) as c:
        c.execute("SELECT citus_set_coordinator_host('localhost', %s)", (cluster,))
        for port in WORKERS:
            c.execute("SELECT citus_add_node('localhost', %s)", (port,))
        c.execute("CREATE EXTENSION rar VERSION '0.1.0'")
        c.execute("CREATE TABLE sales (transaction_id int, item text)")
        c.execute("SELECT create_distributed_table('sales', 'transaction_id')")
        with c.cursor().copy("COPY sales FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
            cp.write((DATA / "groceries.csv").read_bytes())
        q = "SELECT * FROM rar_mine('sales', min_support => 0.01, min_confidence => 0.2)"
        before = rules(c, q)
        assert len(before) > 50
        c.execute("ALTER EXTENSION rar UPDATE")
        after = rules(c, q)
        plan = "\n".join(r[0] for r in c.execute(
            "EXPLAIN (VERBOSE, COSTS OFF) SELECT rar.baskets_shared(transaction_id, item) FROM sales"))
    for port in WORKERS:
        with connect(db, port=port) as w:
            assert w.execute("SELECT extversion, to_regtype('rar.basket_state') IS NOT NULL FROM pg_extension"
                             " WHERE extname = 'rar'").fetchone() == ("0.2.0", True)
    # 0.1.0's rar_mine has nine columns; the same rules.
    assert [r[:9] for r in after] == [r[:9] for r in before]
    assert "worker_partial_agg" in plan, plan


def debug_messages(conn):
    """Collects the session's messages down to DEBUG1 (rar_mine says there
    whether it counted on the workers, and why not)."""
    messages = []
    conn.add_notice_handler(lambda d: messages.append(d.message_primary or ""))
    conn.execute("SET client_min_messages = debug1")
    return messages


def counted_on_workers(messages):
    mine = [m for m in messages if m.startswith("rar_mine:")]
    assert len(mine) == 1, messages
    return mine[0].startswith("rar_mine: counted"), mine[0]


def assert_counted_as_one_server(port, q, table, shards, least_rules):
    """`q` on `table` counts on its `shards` shards (DEBUG1 says so) and
    gives the rules of the same lines on one server, at least
    `least_rules` of them."""
    with on(port) as c:
        local = rules(c, q, "groceries_local")
        assert len(local) >= least_rules
        messages = debug_messages(c)
        assert rules(c, q, table) == local
        counted, message = counted_on_workers(messages)
        assert counted and f"on the {shards} shards" in message, message


@pytest.mark.parametrize("options", [
    "min_support => 0.005, min_confidence => 0.2",
    "min_support => 0.02, min_confidence => 0.25, support_of => 'antecedent'",
    "min_support => 0.005, min_confidence => 0.1, max_consequent => 2, min_length => 2, max_length => 3",
    "min_support => 0.005, min_confidence => 0.2, min_improvement => 0",
    "min_support => 0.005, min_confidence => 0.2, max_p_value => 0.01, p_adjust => 'bonferroni'",
    "min_support => 0.005, min_confidence => 0, min_lift => 1.5, max_length => 2",
])
def test_itemsets_counted_on_the_workers(cluster, options):
    """A table distributed by its basket column: each shard finds its
    frequent itemsets, then counts the candidates (rar_mine says so at
    DEBUG1, with the bytes moved), and the rules are those of the same
    lines on one server, with every option that filters exact rules."""
    q = f"SELECT * FROM rar_mine(%s, tid_column => 'transaction_id', item_column => 'item', {options})"
    assert_counted_as_one_server(cluster, q, "two_shards", shards=2, least_rules=21)


def test_the_coordinator_mines_where_shards_cannot_count(cluster):
    """Where counting on the workers does not apply, rar_mine says why at
    DEBUG1 and the coordinator mines the encoded baskets: the same rules."""
    with on(cluster) as c:
        local = rules(c, MINE, "groceries_local")
        messages = debug_messages(c)
        cases = [
            ("by_basket", "", "too few baskets"),  # 0.005 of 1,229 baskets
            ("by_item", "", "not distributed by its basket column"),
            ("reference", "", "not distributed by its basket column"),
            ("two_shards", "SET rar.count_on_workers = off", None),
        ]
        antecedent = MINE[:-1] + ", support_of => 'antecedent', min_confidence => 0)"
        local_antecedent = rules(c, antecedent.replace("min_confidence => 0.2, ", ""), "groceries_local")
        messages.clear()
        assert rules(c, antecedent.replace("min_confidence => 0.2, ", ""), "two_shards") == local_antecedent
        assert any("min_confidence is 0" in m for m in messages), messages
        for table, setting, why in cases:
            if setting:
                c.execute(setting)
            messages.clear()
            assert rules(c, MINE, table) == local, table
            counted = [m for m in messages if m.startswith("rar_mine:")]
            assert not any(m.startswith("rar_mine: counted") for m in counted), (table, messages)
            if why:
                assert any(why in m for m in counted), (table, messages)
            c.execute("RESET rar.count_on_workers")


def test_counting_sees_the_transactions_changes(cluster):
    """Inside a transaction block the rounds (which run in connections of
    their own) would not see the block's uncommitted lines: there the
    coordinator mines, and the rules include them, as on one server. A NULL
    item is skipped and counted in a NOTICE on both paths."""
    extra = ("INSERT INTO {} SELECT transaction_id, 'extra', store FROM groceries_local"
             " WHERE transaction_id % 4 = 0")
    null_line = "INSERT INTO {} VALUES (1, NULL, 1)"
    with on(cluster) as c:
        with c.transaction():
            c.execute(extra.format("groceries_local"))
            c.execute(null_line.format("groceries_local"))
            local = rules(c, MINE, "groceries_local")
            raise psycopg.Rollback()
        assert any("extra" in r[0] + r[1] for r in local)
        messages = debug_messages(c)
        with c.transaction():
            c.execute(extra.format("two_shards"))
            c.execute(null_line.format("two_shards"))
            assert rules(c, MINE, "two_shards") == local
            raise psycopg.Rollback()
        assert any("inside a transaction block" in m for m in messages), messages
        assert any("skipped 1 line" in m for m in messages), messages
        # Committed, the workers count them.
        c.execute(null_line.format("two_shards"))
        messages.clear()
        try:
            rules(c, MINE, "two_shards")
            assert counted_on_workers(messages)[0]
            assert any("skipped 1 line" in m for m in messages), messages
        finally:
            c.execute("DELETE FROM two_shards WHERE item IS NULL")


def test_counting_on_the_workers_as_the_caller(cluster):
    """The rounds read the shards as the caller: a role with SELECT gets
    the rules counted on the workers; one without gets permission denied."""
    with on(cluster) as c:
        c.execute("DROP ROLE IF EXISTS shard_analyst")
        c.execute("DROP ROLE IF EXISTS shard_outsider")
        c.execute("CREATE ROLE shard_analyst LOGIN")
        c.execute("CREATE ROLE shard_outsider LOGIN")
        c.execute("GRANT SELECT ON two_shards TO shard_analyst")
        expected = rules(c, MINE, "groceries_local")
    with on(cluster) as c:
        messages = debug_messages(c)
        c.execute("SET ROLE shard_analyst")
        assert rules(c, MINE, "two_shards") == expected
        assert counted_on_workers(messages)[0]
        c.execute("SET ROLE shard_outsider")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute(MINE, ("two_shards",))


def test_more_shards_than_run_at_once(cluster):
    """Twelve shards on two workers run two per node at a time, in three
    batches: the same rules, counted on all twelve."""
    assert_counted_as_one_server(cluster, MINE.replace("0.005", "0.025"), "twelve_shards", shards=12, least_rules=6)


def test_a_worker_search_path_cannot_replace_a_shard(cluster):
    """The shard each round reads is named with its schema: a table named
    like a shard in a schema earlier on a worker's search path (here the
    schema named after the caller, "$user") is never read."""
    with on(cluster) as c:
        local = rules(c, MINE, "groceries_local")
        shards = [r[0] for r in c.execute(
            "SELECT shard_name('two_shards', shardid, false) FROM pg_dist_shard"
            " WHERE logicalrelid = 'two_shards'::regclass")]
    assert all(s.startswith("public.") for s in shards), shards
    decoys = [s.split(".", 1)[1] for s in shards]
    for port in WORKERS:
        with on(port) as w:
            # What a role with CREATE on the database could make (here
            # directly on the workers, where Citus hands it no DDL).
            w.execute("SET citus.enable_ddl_propagation = off")
            w.execute("CREATE SCHEMA IF NOT EXISTS postgres")
            for d in decoys:
                w.execute(f"CREATE TABLE postgres.{d} (transaction_id int, item text, store int)")
                w.execute(f"INSERT INTO postgres.{d} SELECT g, 'decoy ' || (g % 2), 0 FROM generate_series(1, 5000) g")
    try:
        with on(cluster) as c:
            messages = debug_messages(c)
            got = rules(c, MINE, "two_shards")
            assert counted_on_workers(messages)[0]
            assert got == local
    finally:
        for port in WORKERS:
            with on(port) as w:
                w.execute("SET citus.enable_ddl_propagation = off")
                w.execute("DROP SCHEMA postgres CASCADE")


def test_counting_sees_earlier_changes_of_its_transaction(cluster):
    """A DO block (a function, a pipeline) that changed the table before
    calling rar_mine is not in a transaction block, but the rounds would not
    see its changes: the coordinator mines instead, and the rules are those
    of the changed table."""
    block = """DO $$ DECLARE n bigint; BEGIN
        DELETE FROM {table} WHERE item = 'whole milk';
        SELECT count(*) INTO n FROM rar_mine('{table}', min_support => 0.005, min_confidence => 0.2,
            tid_column => 'transaction_id', item_column => 'item') r
        WHERE 'whole milk' = ANY(r.antecedent || r.consequent);
        RAISE NOTICE 'milk rules: %', n;
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'roll back';
    END $$"""
    with on(cluster) as c:
        assert any("whole milk" in r[0] + r[1] for r in rules(c, MINE, "two_shards"))
        messages = debug_messages(c)
        with pytest.raises(psycopg.errors.RaiseException):
            c.execute(block.format(table="two_shards"))
        assert "milk rules: 0" in messages, messages
        assert any("its transaction changed or locked the table" in m for m in messages), messages
        # A writable CTE of the same statement: the same.
        # (One statement on its own: the deleted lines are put back after.)
        messages.clear()
        try:
            got = rules(c, "WITH d AS (DELETE FROM two_shards WHERE item = 'whole milk' RETURNING 1) "
                        + MINE.replace("SELECT *", "SELECT r.*").replace("rar_mine(%s", "rar_mine('two_shards'")
                        + " r", )
        finally:
            if not c.execute("SELECT count(*) FROM two_shards WHERE item = 'whole milk'").fetchone()[0]:
                c.execute("INSERT INTO two_shards SELECT * FROM groceries_local WHERE item = 'whole milk'")
        assert not any("whole milk" in r[0] + r[1] for r in got)
        assert any("its transaction changed or locked the table" in m for m in messages), messages


def test_rule_sets_are_counted_on_the_workers(cluster):
    """Saving rules (CREATE TABLE AS, CALL rar_refresh) writes only to
    other tables: the itemsets are still counted on the workers."""
    with on(cluster) as c:
        local = rules(c, MINE, "groceries_local")
        messages = debug_messages(c)
        c.execute("CREATE TEMP TABLE saved AS " + MINE.replace("%s", "'two_shards'"))
        assert counted_on_workers(messages)[0]
        assert sorted(rules(c, "SELECT * FROM saved")) == sorted(local)
        c.execute("SELECT FROM rar_register('two_shards_rules', 'two_shards', tid_column => 'transaction_id',"
                  " item_column => 'item')")
        messages.clear()
        c.execute("CALL rar_refresh('two_shards_rules', min_support => 0.005, min_confidence => 0.2)")
        assert counted_on_workers(messages)[0]


def test_the_callers_budget_holds_on_the_shards(cluster):
    """rar.memory_limit set by the caller reaches the shards: a call that
    does not fit stops with 54000 as on one server."""
    q = MINE.replace("0.005", "0.001").replace("0.2", "0")
    with on(cluster) as c:
        c.execute("SET rar.memory_limit = '1MB'")
        for table in ["groceries_local", "two_shards"]:
            with pytest.raises(psycopg.errors.ProgramLimitExceeded):
                c.execute(q, (table,))

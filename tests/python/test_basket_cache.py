"""The baskets a session keeps between calls (rar_track_changes,
rar.basket_cache): a repeated call on an unchanged tracked table is served
from the session's cache, and never a stale one: every committed change in
any session, in any way (DML, COPY, MERGE, TRUNCATE, cascades, a rewrite, a
rename, a trigger disabled for a while, the replica role), is seen by the
next call; uncommitted and rolled-back changes are not; a repeatable-read
snapshot keeps seeing its own table; the calling transaction's own changes
are read, not cached; privileges and row security are the caller's on
every call; the cache stays within its setting."""
import random
import threading

import psycopg
import pytest

from conftest import connect

MINE = ("SELECT antecedent, consequent, count, confidence FROM rar_mine(%s, min_support => 0.04,"
        " min_confidence => 0.3) ORDER BY antecedent, consequent")


def rows(conn, table):
    return conn.execute(MINE, (table,)).fetchall()


def truth(table):
    """The rules as a read gives them now, in a new session that keeps nothing."""
    with connect() as c:
        c.execute("SET rar.basket_cache = 0")
        return rows(c, table)


def uses(conn, table):
    got = conn.execute("SELECT coalesce(sum(uses), 0) FROM rar_basket_cache() WHERE relation = %s",
                       (table,)).fetchone()[0]
    return int(got)


def read_behind_a_lock(conn, watch, table):
    """Starts `rows(conn, table)` on a thread and returns once its backend
    waits for a lock (10 s at most): the thread, and the dict its rules
    land in under "rows"."""
    import time
    got = {}
    reader = threading.Thread(target=lambda: got.setdefault("rows", rows(conn, table)))
    reader.start()
    pid = conn.info.backend_pid
    for _ in range(200):
        waiting = watch.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()[0]
        if waiting == "Lock":
            return reader, got
        time.sleep(0.05)
    raise AssertionError(f"backend {pid} never waited for a lock")


def make(conn, table, seed=1, baskets=400, track=True):
    """A table of baskets with rules at min_support 0.04, tracked."""
    rng = random.Random(seed)
    conn.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    conn.execute(f"CREATE TABLE {table} (basket int, item text)")
    lines = []
    for b in range(baskets):
        items = {f"i{min(int(rng.expovariate(0.35)), 14)}" for _ in range(rng.randint(1, 5))}
        lines += [(b, i) for i in items]
    with conn.cursor().copy(f"COPY {table} FROM STDIN") as cp:
        for line in lines:
            cp.write_row(line)
    if track:
        assert conn.execute("SELECT rar_track_changes(%s)", (table,)).fetchone()[0] is True


def test_a_repeated_call_is_served_from_the_cache_with_the_same_rules(db):
    with db() as a:
        make(a, "bc_plain")
        first = rows(a, "bc_plain")
        assert len(first) > 10
        assert uses(a, "bc_plain") == 0
        assert rows(a, "bc_plain") == first
        assert rows(a, "bc_plain") == first
        assert uses(a, "bc_plain") == 2
        assert first == truth("bc_plain")
        # Other thresholds, the same kept baskets.
        a.execute("SELECT count(*) FROM rar_mine('bc_plain', min_support => 0.1)")
        assert uses(a, "bc_plain") == 3
        # rar_profile reads through the same reader (baskets in canonical
        # order: an entry of its own).
        a.execute("SELECT * FROM rar_profile('bc_plain')")
        a.execute("SELECT * FROM rar_profile('bc_plain')")
        kinds = a.execute("SELECT canonical, uses FROM rar_basket_cache() WHERE relation = 'bc_plain'"
                          " ORDER BY canonical").fetchall()
        assert kinds == [(False, 3), (True, 1)]


def test_an_untracked_table_is_read_every_time(db):
    with db() as a:
        make(a, "bc_untracked", track=False)
        rows(a, "bc_untracked")
        rows(a, "bc_untracked")
        assert uses(a, "bc_untracked") == 0
        assert a.execute("SELECT count(*) FROM rar_basket_cache() WHERE relation = 'bc_untracked'").fetchone()[0] == 0


CHANGES = [
    ("insert", ["INSERT INTO {t} SELECT 10000 + g, 'i1' FROM generate_series(1, 40) g",
                "INSERT INTO {t} SELECT 10000 + g, 'i9' FROM generate_series(1, 40) g"]),
    ("update", ["UPDATE {t} SET item = 'i0' WHERE item = 'i2'"]),
    ("delete", ["DELETE FROM {t} WHERE item = 'i0' AND basket % 2 = 0"]),
    ("copy", ["COPY {t} FROM PROGRAM 'seq 20000 20060 | sed s/$/\\\\ti1/'",
              "COPY {t} FROM PROGRAM 'seq 20000 20060 | sed s/$/\\\\ti12/'"]),
    ("merge", ["MERGE INTO {t} USING (SELECT 3 AS b) s ON false WHEN NOT MATCHED THEN INSERT VALUES (1, 'i14')",
               "MERGE INTO {t} USING (SELECT DISTINCT basket FROM {t} WHERE item = 'i1') s ON {t}.basket = s.basket"
               " AND {t}.item = 'i0' WHEN MATCHED THEN DELETE"]),
    ("truncate and reload", ["CREATE TEMP TABLE keep_{t} AS SELECT * FROM {t} WHERE basket % 3 <> 0",
                             "TRUNCATE {t}", "INSERT INTO {t} SELECT * FROM keep_{t}"]),
    ("rewrite with a new type", ["ALTER TABLE {t} ALTER COLUMN item TYPE varchar(20) USING upper(item)"]),
    ("columns renamed into each other", ["ALTER TABLE {t} ADD COLUMN other text",
                                         "UPDATE {t} SET other = 'x' || item",
                                         "ALTER TABLE {t} RENAME item TO tmp",
                                         "ALTER TABLE {t} RENAME other TO item",
                                         "ALTER TABLE {t} RENAME tmp TO other"]),
    ("a window with the trigger disabled", ["ALTER TABLE {t} DISABLE TRIGGER ALL",
                                            "DELETE FROM {t} WHERE item = 'i1'",
                                            "ALTER TABLE {t} ENABLE ALWAYS TRIGGER rar_track_changes"]),
    ("the replica role", ["SET session_replication_role = replica",
                          "DELETE FROM {t} WHERE item = 'i0'",
                          "RESET session_replication_role"]),
]


@pytest.mark.parametrize("name,statements", CHANGES, ids=[c[0] for c in CHANGES])
def test_every_committed_change_in_another_session_is_seen(db, name, statements):
    table = "bc_" + name.replace(" ", "_")[:20]
    with db() as a, db() as b:
        make(a, table)
        before = rows(a, table)
        assert rows(a, table) == before and uses(a, table) == 1
        for s in statements:
            b.execute(s.format(t=table))
        after = rows(a, table)
        # The change changes the rules (or this test could not fail), and
        # the call sees it.
        assert after != before
        assert after == truth(table)
        # Kept again from the new state.
        assert rows(a, table) == after


def test_a_cascade_from_another_table_is_seen(db):
    with db() as a, db() as b:
        make(a, "bc_child")
        a.execute("DROP TABLE IF EXISTS bc_parent")
        a.execute("CREATE TABLE bc_parent AS SELECT DISTINCT basket FROM bc_child")
        a.execute("ALTER TABLE bc_parent ADD PRIMARY KEY (basket)")
        a.execute("ALTER TABLE bc_child ADD FOREIGN KEY (basket) REFERENCES bc_parent ON DELETE CASCADE")
        before = rows(a, "bc_child")
        assert rows(a, "bc_child") == before and uses(a, "bc_child") == 1
        b.execute("DELETE FROM bc_parent WHERE basket IN (SELECT basket FROM bc_child WHERE item = 'i0')")
        after = rows(a, "bc_child")
        assert after != before and after == truth("bc_child")


def test_uncommitted_and_rolled_back_changes_are_not_seen(db):
    with db() as a, db() as b:
        make(a, "bc_open")
        before = rows(a, "bc_open")
        b.execute("BEGIN")
        b.execute("DELETE FROM bc_open WHERE item = 'i0'")
        assert rows(a, "bc_open") == before
        b.execute("ROLLBACK")
        assert rows(a, "bc_open") == before
        assert uses(a, "bc_open") == 2
        # A savepoint's rolled-back change, then a committed one.
        b.execute("BEGIN")
        b.execute("SAVEPOINT s")
        b.execute("DELETE FROM bc_open WHERE item = 'i1'")
        b.execute("ROLLBACK TO SAVEPOINT s")
        b.execute("DELETE FROM bc_open WHERE item = 'i0'")
        b.execute("COMMIT")
        after = rows(a, "bc_open")
        assert after != before and after == truth("bc_open")


def test_the_calling_transactions_own_changes_are_read(db):
    with db() as a:
        make(a, "bc_own")
        before = rows(a, "bc_own")
        a.execute("BEGIN")
        a.execute("DELETE FROM bc_own WHERE item = 'i0'")
        inside = rows(a, "bc_own")
        assert inside != before
        # The same, read with nothing kept.
        a.execute("SET LOCAL rar.basket_cache = 0")
        assert rows(a, "bc_own") == inside
        a.execute("ROLLBACK")
        assert rows(a, "bc_own") == before == truth("bc_own")
        # A writable CTE in the same statement as the call.
        rows(a, "bc_own")
        got = a.execute("WITH d AS (DELETE FROM bc_own WHERE item = 'i1' RETURNING 1)"
                        " SELECT count(*) FROM rar_mine('bc_own', min_support => 0.04, min_confidence => 0.3)"
                        " WHERE (SELECT count(*) FROM d) >= 0").fetchone()[0]
        assert got == len(truth("bc_own"))


def test_a_repeatable_read_snapshot_keeps_its_own_table(db):
    with db() as a, db() as b:
        make(a, "bc_rr")
        before = rows(a, "bc_rr")
        a.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        assert rows(a, "bc_rr") == before
        b.execute("DELETE FROM bc_rr WHERE item = 'i0'")
        assert rows(a, "bc_rr") == before
        a.execute("COMMIT")
        after = rows(a, "bc_rr")
        assert after != before and after == truth("bc_rr")
        # A snapshot taken before a change, first read after it: kept with
        # the snapshot's state, and not served once the change is visible.
        a.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        a.execute("SELECT 1")
        b.execute("DELETE FROM bc_rr WHERE item = 'i1'")
        assert rows(a, "bc_rr") == after
        a.execute("COMMIT")
        latest = rows(a, "bc_rr")
        assert latest != after and latest == truth("bc_rr")


def test_under_concurrent_writes_each_call_equals_a_read_in_its_snapshot(db):
    with db() as a:
        make(a, "bc_busy", baskets=300)
    stop = threading.Event()
    errors = []

    def writer(seed):
        rng = random.Random(seed)
        try:
            with connect() as w:
                while not stop.is_set():
                    b = rng.randint(0, 400)
                    op = rng.random()
                    if op < 0.5:
                        w.execute("INSERT INTO bc_busy VALUES (%s, %s)", (b, f"i{rng.randint(0, 8)}"))
                    elif op < 0.8:
                        w.execute("DELETE FROM bc_busy WHERE basket = %s", (b,))
                    else:
                        w.execute("BEGIN")
                        w.execute("UPDATE bc_busy SET item = 'i0' WHERE basket = %s", (b,))
                        w.execute("ROLLBACK")
        except Exception as e:  # noqa: BLE001 - reported by the test
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(s,)) for s in range(2)]
    for t in threads:
        t.start()
    try:
        with db() as a, db() as r:
            r.execute("SET rar.basket_cache = 0")
            served = 0
            for _ in range(25):
                a.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                snapshot = a.execute("SELECT pg_export_snapshot()").fetchone()[0]
                kept = rows(a, "bc_busy")
                # Again in the same snapshot, while the writers go on:
                # served from the cache.
                before = uses(a, "bc_busy")
                assert rows(a, "bc_busy") == kept
                served += uses(a, "bc_busy") > before
                # The same snapshot, read in a session that keeps nothing.
                r.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                r.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                assert rows(r, "bc_busy") == kept
                r.execute("COMMIT")
                a.execute("COMMIT")
            assert served == 25
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors
    # After the writers stop: the next call sees their last change, and the
    # one after is served from the cache.
    with db() as a:
        final = rows(a, "bc_busy")
        assert final == truth("bc_busy")
        assert rows(a, "bc_busy") == final and uses(a, "bc_busy") == 1


def test_a_random_history_of_changes_is_never_served_stale(db):
    rng = random.Random(7)
    with db() as a, db() as b:
        make(a, "bc_history", baskets=200)
        served = 0
        for step in range(60):
            op = rng.choice(["insert", "delete", "open", "rollback", "nothing", "nothing"])
            if op == "insert":
                b.execute("INSERT INTO bc_history SELECT %s + g, %s FROM generate_series(1, %s) g",
                          (1000 + step * 100, f"i{rng.randint(0, 6)}", rng.randint(1, 30)))
            elif op == "delete":
                b.execute("DELETE FROM bc_history WHERE item = %s AND basket %% 3 = %s",
                          (f"i{rng.randint(0, 6)}", rng.randint(0, 2)))
            elif op in ("open", "rollback"):
                b.execute("BEGIN")
                b.execute("DELETE FROM bc_history WHERE item = 'i0'")
                if op == "rollback":
                    b.execute("ROLLBACK")
            was = uses(a, "bc_history")
            assert rows(a, "bc_history") == truth("bc_history"), f"step {step} after {op}"
            served += uses(a, "bc_history") > was
            if op == "open":
                b.execute("COMMIT")
        assert served >= 10


def test_privileges_and_row_security_are_checked_on_every_call(db):
    with db() as a:
        make(a, "bc_secret")
        a.execute("DROP ROLE IF EXISTS bc_reader")
        a.execute("CREATE ROLE bc_reader")
        a.execute("GRANT SELECT (basket) ON bc_secret TO bc_reader")
        rows(a, "bc_secret")
        rows(a, "bc_secret")
        assert uses(a, "bc_secret") == 1
        a.execute("SET ROLE bc_reader")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            rows(a, "bc_secret")
        a.execute("RESET ROLE")
        a.execute("GRANT SELECT (item) ON bc_secret TO bc_reader")
        a.execute("SET ROLE bc_reader")
        assert rows(a, "bc_secret") == truth("bc_secret")
        a.execute("RESET ROLE")
        # Row security: read every time, under the caller's policies.
        a.execute("ALTER TABLE bc_secret ENABLE ROW LEVEL SECURITY")
        a.execute("CREATE POLICY only_some ON bc_secret FOR SELECT TO bc_reader USING (item <> 'i0')")
        a.execute("SET ROLE bc_reader")
        limited = rows(a, "bc_secret")
        a.execute("RESET ROLE")
        assert limited != rows(a, "bc_secret")
        assert a.execute("SELECT count(*) FROM rar_basket_cache() WHERE relation = 'bc_secret'").fetchone()[0] == 0
        a.execute("DROP TABLE bc_secret")
        a.execute("DROP ROLE bc_reader")


def test_the_setting_bounds_what_is_kept(db):
    with db() as a:
        make(a, "bc_budget")
        a.execute("SET rar.basket_cache = '1kB'")
        rows(a, "bc_budget")
        rows(a, "bc_budget")
        assert uses(a, "bc_budget") == 0
        a.execute("RESET rar.basket_cache")
        rows(a, "bc_budget")
        kept = a.execute("SELECT bytes FROM rar_basket_cache() WHERE relation = 'bc_budget'").fetchone()[0]
        assert 1024 < kept < 64 * 1024
        a.execute("SET rar.basket_cache = 0")
        assert a.execute("SELECT count(*) FROM rar_basket_cache()").fetchone()[0] == 0


def test_tracking_off_keeps_nothing_and_is_refused_where_it_cannot_work(db):
    with db() as a:
        make(a, "bc_off")
        assert a.execute("SELECT rar_track_changes('bc_off', false)").fetchone()[0] is False
        assert a.execute("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'bc_off'::regclass").fetchone()[0] == 0
        rows(a, "bc_off")
        rows(a, "bc_off")
        assert uses(a, "bc_off") == 0
        # Twice on is once on.
        a.execute("SELECT rar_track_changes('bc_off')")
        a.execute("SELECT rar_track_changes('bc_off')")
        assert a.execute("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'bc_off'::regclass").fetchone()[0] == 1
        a.execute("DROP TABLE IF EXISTS bc_parts")
        a.execute("CREATE TABLE bc_parts (basket int, item text) PARTITION BY HASH (basket)")
        with pytest.raises(psycopg.errors.FeatureNotSupported) as e:
            a.execute("SELECT rar_track_changes('bc_parts')")
        assert e.value.diag.message_hint
        a.execute("DROP ROLE IF EXISTS bc_stranger")
        a.execute("CREATE ROLE bc_stranger")
        a.execute("GRANT SELECT ON bc_off TO bc_stranger")
        a.execute("SET ROLE bc_stranger")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            a.execute("SELECT rar_track_changes('bc_off', false)")
        a.execute("RESET ROLE")
        a.execute("DROP TABLE bc_parts")


def test_no_role_can_forge_or_remove_change_rows(db):
    with db() as a:
        make(a, "bc_forge")
        a.execute("DROP ROLE IF EXISTS bc_hostile")
        a.execute("CREATE ROLE bc_hostile")
        a.execute("GRANT SELECT, INSERT, DELETE, UPDATE ON bc_forge TO bc_hostile")
        a.execute("SET ROLE bc_hostile")
        for sql in ["INSERT INTO rar.table_changes (relid, weight) VALUES ('bc_forge'::regclass, -1)",
                    "DELETE FROM rar.table_changes",
                    "UPDATE rar.table_changes SET weight = 0",
                    "SELECT nextval('rar.table_change_seq')"]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                a.execute(sql)
        with pytest.raises(psycopg.errors.FeatureNotSupported):
            a.execute("SELECT rar.table_changed()")
        # The table's writers record their changes without any right on rar's
        # catalog (rar_track_changes' own ALTER TABLE was the first change).
        a.execute("DELETE FROM bc_forge WHERE item = 'i0'")
        a.execute("RESET ROLE")
        assert a.execute("SELECT sum(weight) FROM rar.table_changes WHERE relid = 'bc_forge'::regclass").fetchone()[0] == 2
        a.execute("DROP TABLE bc_forge")
        a.execute("DROP ROLE bc_hostile")


def test_partitions_and_inheritance_children_are_never_kept(db):
    """A change made through the parent fires only the parent's statement
    triggers: a child is refused, and one that becomes a child after it was
    tracked is read on every call."""
    with db() as a, db() as b:
        a.execute("DROP TABLE IF EXISTS bc_parted, bc_inh CASCADE")
        a.execute("CREATE TABLE bc_parted (basket int, item text) PARTITION BY RANGE (basket)")
        a.execute("CREATE TABLE bc_part1 PARTITION OF bc_parted FOR VALUES FROM (0) TO (100000)")
        with pytest.raises(psycopg.errors.FeatureNotSupported) as e:
            a.execute("SELECT rar_track_changes('bc_part1')")
        assert "parent" in e.value.diag.message_hint
        # Tracked first, attached afterwards.
        make(a, "bc_later")
        a.execute("UPDATE bc_later SET basket = basket + 100000")
        before = rows(a, "bc_later")
        assert rows(a, "bc_later") == before and uses(a, "bc_later") == 1
        a.execute("ALTER TABLE bc_parted ATTACH PARTITION bc_later FOR VALUES FROM (100000) TO (200000)")
        rows(a, "bc_later")
        b.execute("DELETE FROM bc_parted WHERE item = 'i0'")
        after = rows(a, "bc_later")
        assert after != before and after == truth("bc_later")
        assert rows(a, "bc_later") == after
        assert a.execute("SELECT count(*) FROM rar_basket_cache() WHERE relation = 'bc_later'").fetchone()[0] == 0
        # An inheritance child, tracked before it inherits.
        make(a, "bc_child_of")
        a.execute("CREATE TABLE bc_inh (basket int, item text)")
        before = rows(a, "bc_child_of")
        a.execute("ALTER TABLE bc_child_of INHERIT bc_inh")
        rows(a, "bc_child_of")
        b.execute("DELETE FROM bc_inh WHERE item = 'i0'")
        after = rows(a, "bc_child_of")
        assert after != before and after == truth("bc_child_of")
        a.execute("DROP TABLE bc_parted, bc_inh CASCADE")


def test_a_role_switch_reads_again_with_the_new_roles_rights(db):
    with db() as a:
        a.execute("DROP SCHEMA IF EXISTS bc_hidden CASCADE")
        a.execute("DROP ROLE IF EXISTS bc_other")
        a.execute("CREATE ROLE bc_other")
        a.execute("CREATE SCHEMA bc_hidden")
        make(a, "bc_hidden.t")
        # SELECT on the table but no USAGE on its schema, reached by OID.
        a.execute("GRANT SELECT ON bc_hidden.t TO bc_other")
        oid = a.execute("SELECT 'bc_hidden.t'::regclass::oid").fetchone()[0]
        rows(a, "bc_hidden.t")
        assert rows(a, "bc_hidden.t") and uses(a, "bc_hidden.t") == 1
        a.execute("SET ROLE bc_other")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            a.execute(f"SELECT count(*) FROM rar_mine({oid}::regclass::text, min_support => 0.04)")
        # Nor does it see the other role's entries.
        assert a.execute("SELECT count(*) FROM rar_basket_cache()").fetchone()[0] == 0
        a.execute("RESET ROLE")
        a.execute("GRANT USAGE ON SCHEMA bc_hidden TO bc_other")
        a.execute("SET ROLE bc_other")
        assert rows(a, "bc_hidden.t") == truth("bc_hidden.t")
        a.execute("RESET ROLE")
        a.execute("DROP SCHEMA bc_hidden CASCADE")
        a.execute("DROP ROLE bc_other")


def test_temporary_and_rars_own_tables_are_refused(db):
    with db() as a:
        a.execute("CREATE TEMP TABLE bc_temp (basket int, item text)")
        for table in ["bc_temp", "rar.table_changes", "rar.splits"]:
            with pytest.raises(psycopg.errors.FeatureNotSupported) as e:
                a.execute("SELECT rar_track_changes(%s)", (table,))
            assert e.value.diag.message_hint
        a.execute("CREATE TABLE bc_named (basket int, item text)")
        a.execute("CREATE FUNCTION bc_noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$")
        a.execute("CREATE TRIGGER rar_track_changes AFTER INSERT ON bc_named EXECUTE FUNCTION bc_noop()")
        with pytest.raises(psycopg.errors.FeatureNotSupported) as e:
            a.execute("SELECT rar_track_changes('bc_named')")
        assert "bc_noop" in e.value.diag.message_detail
        a.execute("DROP TABLE bc_named")
        a.execute("DROP FUNCTION bc_noop()")


def fold_next(conn):
    """Makes the next change row's number a multiple of 1024: its writer folds."""
    nxt = conn.execute("SELECT nextval('rar.table_change_seq')").fetchone()[0]
    conn.execute("SELECT setval('rar.table_change_seq', %s)", ((nxt // 1024 + 1) * 1024 - 1,))


def test_folding_keeps_the_sum_and_the_cache_exact(db):
    with db() as a, db() as b:
        make(a, "bc_fold")
        statements = 1  # rar_track_changes' own ALTER TABLE
        for k in range(12):
            rows(a, "bc_fold")
            if k % 3 == 0:
                fold_next(a)
            b.execute("INSERT INTO bc_fold VALUES (%s, %s)", (50000 + k, f"i{k % 4}"))
            statements += 1
            assert rows(a, "bc_fold") == truth("bc_fold")
        got = a.execute("SELECT sum(weight), count(*) FROM rar.table_changes WHERE relid = 'bc_fold'::regclass").fetchone()
        assert got[0] == statements and got[1] < statements


def test_serializable_writers_do_not_fail_for_the_tracking(db):
    """The fold's reads would make serializable writers of unrelated tables
    fail at commit: a serializable writer does not fold."""
    with db() as a, db() as t1, db() as t2:
        make(a, "bc_sa")
        make(a, "bc_sb")
        for _ in range(3):
            t2.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
            t2.execute("SELECT count(*) FROM bc_sa")
            fold_next(a)
            t1.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
            t1.execute("INSERT INTO bc_sa VALUES (1, 'i1')")
            t2.execute("INSERT INTO bc_sb VALUES (1, 'i1')")
            t1.execute("COMMIT")
            t2.execute("COMMIT")
        assert rows(a, "bc_sa") == truth("bc_sa")


@pytest.mark.parametrize("definition,change", [
    ("SELECT basket, item FROM bc_vbase", "DELETE FROM bc_vbase WHERE item = 'i0'"),
    ("SELECT basket, bc_vfun(item) AS item FROM bc_vbase",
     "CREATE OR REPLACE FUNCTION bc_vfun(text) RETURNS text IMMUTABLE LANGUAGE sql AS $$ SELECT 'w' || $1 $$"),
    ("SELECT 1 AS basket, relname::text AS item FROM pg_class WHERE relname LIKE 'bc_vmark%'",
     "CREATE TABLE bc_vmark2 ()"),
], ids=["over a tracked table", "over an immutable function replaced", "over a system catalog"])
def test_views_are_read_on_every_call(db, definition, change):
    """What a view returns can change with function bodies, catalogs,
    settings and its owner's rights, which no stamp sees: never kept."""
    with db() as a, db() as b:
        make(a, "bc_vbase")
        a.execute("DROP TABLE IF EXISTS bc_vmark1, bc_vmark2")
        a.execute("CREATE TABLE bc_vmark1 ()")
        a.execute("CREATE OR REPLACE FUNCTION bc_vfun(text) RETURNS text IMMUTABLE LANGUAGE sql AS $$ SELECT 'v' || $1 $$")
        a.execute("DROP VIEW IF EXISTS bc_view")
        a.execute(f"CREATE VIEW bc_view AS {definition}")
        q = ("SELECT antecedent, consequent, count FROM rar_mine('bc_view', min_support => 0.0001,"
             " min_confidence => 0, max_length => 2) ORDER BY 1, 2")
        before = a.execute(q).fetchall()
        assert a.execute(q).fetchall() == before
        assert a.execute("SELECT count(*) FROM rar_basket_cache() WHERE relation = 'bc_view'").fetchone()[0] == 0
        b.execute(change)
        after = a.execute(q).fetchall()
        assert after != before
        a.execute("DROP VIEW bc_view")
        a.execute("DROP TABLE IF EXISTS bc_vmark1, bc_vmark2")


def test_split_sets_and_time_windows_are_kept_per_part(db):
    with db() as a, db() as b:
        make(a, "bc_parts_t")
        a.execute("ALTER TABLE bc_parts_t ADD COLUMN at timestamp")
        a.execute("UPDATE bc_parts_t SET at = timestamp '2024-01-01' + (basket % 3) * interval '1 month'")
        a.execute("SELECT * FROM rar_split('bc_parts_t', tid_column => 'basket', item_column => 'item')")
        train = ("SELECT antecedent, consequent, count FROM rar_mine('bc_parts_t', min_support => 0.04,"
                 " min_confidence => 0.3, split => %s) ORDER BY 1, 2")

        def truth_of(sql, args):
            with connect() as c:
                c.execute("SET rar.basket_cache = 0")
                return c.execute(sql, args).fetchall()

        got = {s: a.execute(train, (s,)).fetchall() for s in ("train", "test")}
        assert got["train"] != got["test"]
        for s in ("train", "test"):
            assert a.execute(train, (s,)).fetchall() == got[s] == truth_of(train, (s,))
        parts = dict(a.execute("SELECT part, uses FROM rar_basket_cache() WHERE relation = 'bc_parts_t'").fetchall())
        assert parts == {"split train": 1, "split test": 1}
        # Another split: other baskets in each set, read again.
        a.execute("SELECT * FROM rar_split('bc_parts_t', seed => 7, tid_column => 'basket', item_column => 'item')")
        assert a.execute(train, ("train",)).fetchall() == truth_of(train, ("train",)) != got["train"]
        # Windows of time: each window's baskets kept, and a change seen.
        over = ("SELECT window_start, antecedent, consequent, count FROM rar_rules_over_time('bc_parts_t', 'at',"
                " min_support => 0.04, min_confidence => 0.3, tid_column => 'basket', item_column => 'item')"
                " ORDER BY 1, 2, 3")
        first = a.execute(over).fetchall()
        assert a.execute(over).fetchall() == first
        windows = a.execute("SELECT count(*), min(uses) FROM rar_basket_cache()"
                            " WHERE relation = 'bc_parts_t' AND part LIKE 'month of %'").fetchone()
        assert windows == (3, 1)
        b.execute("UPDATE bc_parts_t SET at = at + interval '1 month' WHERE item = 'i0'")
        after = a.execute(over).fetchall()
        assert after != first and after == truth_of(over, None)


def test_a_change_committed_while_the_table_is_read_is_not_kept(db):
    """In READ COMMITTED a transaction with an id reads with a new snapshot
    per query: the stamp, taken before the read, may be older than the
    baskets read. The stamp is taken again after the read, and baskets
    whose stamps differ are not kept (an older snapshot imported later
    would otherwise be answered with newer baskets)."""
    with db() as a, db() as w, db() as watch:
        make(a, "bc_race")
        a.execute("CREATE INDEX bc_race_basket ON bc_race (basket)")
        # Read by a role without superuser, which locks the table only for
        # reading before the stamp (a superuser's call takes a stronger lock
        # first, and would wait before the stamp instead of after it).
        a.execute("DROP ROLE IF EXISTS bc_race_reader")
        a.execute("CREATE ROLE bc_race_reader")
        a.execute("GRANT SELECT ON bc_race TO bc_race_reader")
        a.execute("SET ROLE bc_race_reader")
        # The writer's change, and a lock the read's planning waits for.
        w.execute("BEGIN")
        w.execute("DELETE FROM bc_race WHERE item = 'i0'")
        w.execute("REINDEX INDEX bc_race_basket")
        a.execute("BEGIN")
        a.execute("SELECT txid_current()")
        reader, got = read_behind_a_lock(a, watch, "bc_race")
        w.execute("COMMIT")
        reader.join()
        kept = a.execute("SELECT count(*) FROM rar_basket_cache() WHERE relation = 'bc_race'").fetchone()[0]
        a.execute("COMMIT")
        assert got["rows"] == truth("bc_race")
        assert kept == 0
        # The next call keeps them.
        rows(a, "bc_race")
        assert a.execute("SELECT count(*) FROM rar_basket_cache() WHERE relation = 'bc_race'").fetchone()[0] == 1
        a.execute("RESET ROLE")
        a.execute("DROP OWNED BY bc_race_reader")
        a.execute("DROP ROLE bc_race_reader")


def test_a_change_through_a_parent_for_a_moment_is_never_served(db):
    """A table made a child for one transaction and changed through its
    parent fires no trigger of its own, and leaves no trace in its stamp.
    A reader whose snapshot predates that transaction (REPEATABLE READ)
    sees its relation cache entry invalidated: what it reads is not kept."""
    with db() as a, db() as b:
        make(a, "bc_child")
        b.execute("DROP TABLE IF EXISTS bc_parent")
        b.execute("CREATE TABLE bc_parent (basket int, item text)")
        a.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        a.execute("SELECT 1")
        b.execute("BEGIN")
        b.execute("ALTER TABLE bc_child INHERIT bc_parent")
        b.execute("UPDATE bc_parent SET item = 'zz' WHERE basket % 2 = 0")
        b.execute("ALTER TABLE bc_child NO INHERIT bc_parent")
        b.execute("COMMIT")
        rows(a, "bc_child")
        a.execute("COMMIT")
        assert rows(a, "bc_child") == truth("bc_child")


def test_a_name_that_moved_to_another_table_is_not_kept_for_the_first(db):
    """The read names the table: when a schema rename makes the name
    another table's while the call waits for its lock, that table's baskets
    are not kept under the first table."""
    with db() as a, db() as w, db() as watch:
        for s in ("bc_s1", "bc_s2", "bc_s1_old"):
            a.execute(f"DROP SCHEMA IF EXISTS {s} CASCADE")
        a.execute("CREATE SCHEMA bc_s1")
        a.execute("CREATE SCHEMA bc_s2")
        make(a, "bc_s1.tab", seed=1)
        make(a, "bc_s2.tab", seed=7)
        w.execute("BEGIN")
        w.execute("LOCK TABLE bc_s1.tab IN ACCESS EXCLUSIVE MODE")
        reader, _ = read_behind_a_lock(a, watch, "bc_s1.tab")
        w.execute("ALTER SCHEMA bc_s1 RENAME TO bc_s1_old")
        w.execute("ALTER SCHEMA bc_s2 RENAME TO bc_s1")
        w.execute("COMMIT")
        reader.join()
        assert rows(a, "bc_s1_old.tab") == truth("bc_s1_old.tab")
        for s in ("bc_s1", "bc_s1_old"):
            a.execute(f"DROP SCHEMA {s} CASCADE")


def inherit_for_a_moment(conn, table, parent):
    """Makes `table` a child of `parent`, changes it through the parent
    (which fires no trigger of the table) and makes it a table of its own
    again, in the open transaction of `conn`."""
    conn.execute(f"ALTER TABLE {table} INHERIT {parent}")
    conn.execute(f"UPDATE {parent} SET item = 'zz' WHERE basket % 2 = 0")
    conn.execute(f"ALTER TABLE {table} NO INHERIT {parent}")


def test_an_older_transaction_committing_after_the_snapshot_is_not_missed(db):
    """A change by a transaction older than one that ended before the
    reader's snapshot: the snapshot's newest horizon moved, its oldest did
    not. The reader waits for the table's lock, then must not keep."""
    with db() as a, db() as b, db() as other, db() as watch:
        make(a, "bc_older")
        b.execute("DROP TABLE IF EXISTS bc_older_parent, bc_older_other")
        b.execute("CREATE TABLE bc_older_parent (basket int, item text)")
        b.execute("CREATE TABLE bc_older_other (x int)")
        rows(a, "bc_older")
        b.execute("BEGIN")
        b.execute("SELECT txid_current()")
        inherit_for_a_moment(b, "bc_older", "bc_older_parent")
        b.execute("LOCK TABLE bc_older IN ACCESS EXCLUSIVE MODE")
        other.execute("INSERT INTO bc_older_other VALUES (1)")
        reader, _ = read_behind_a_lock(a, watch, "bc_older")
        b.execute("COMMIT")
        reader.join()
        assert rows(a, "bc_older") == truth("bc_older")


def test_an_imported_older_snapshot_keeps_nothing(db):
    """A snapshot imported from a transaction that began before a change of
    the table's definition, in a session that saw that change earlier."""
    with db() as a, db() as b, db() as x:
        make(a, "bc_imported")
        b.execute("DROP TABLE IF EXISTS bc_imported_parent")
        b.execute("CREATE TABLE bc_imported_parent (basket int, item text)")
        rows(a, "bc_imported")
        x.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        snap = x.execute("SELECT pg_export_snapshot()").fetchone()[0]
        b.execute("BEGIN")
        inherit_for_a_moment(b, "bc_imported", "bc_imported_parent")
        b.execute("COMMIT")
        a.execute("SELECT 1")
        a.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        a.execute(f"SET TRANSACTION SNAPSHOT '{snap}'")
        rows(a, "bc_imported")
        a.execute("COMMIT")
        x.execute("COMMIT")
        assert rows(a, "bc_imported") == truth("bc_imported")


def test_a_child_seen_by_an_older_snapshot_is_never_kept(db):
    """A repeatable-read snapshot taken before another session makes a table
    the table's inheritance child: the read (whose planner expands children
    from the latest catalogs) has the child's rows, and must not be kept
    under the older snapshot's stamp, to be served after NO INHERIT or DROP
    (found by a review: a savepoint rolled back lets the other session's
    ALTER through while the snapshot stays)."""
    with db() as a, db() as b:
        make(a, "bc_old_parent")
        b.execute("DROP TABLE IF EXISTS bc_late_child")
        b.execute("CREATE TABLE bc_late_child (basket int, item text)")
        b.execute("INSERT INTO bc_late_child SELECT g, 'z' || (g % 3) FROM generate_series(1, 300) g")
        alone = rows(a, "bc_old_parent")
        assert rows(a, "bc_old_parent") == alone and uses(a, "bc_old_parent") == 1
        for undo in ("ALTER TABLE bc_late_child NO INHERIT bc_old_parent", "DROP TABLE bc_late_child"):
            a.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            a.execute("SELECT 1")
            b.execute("ALTER TABLE bc_late_child INHERIT bc_old_parent")
            a.execute("SAVEPOINT s")
            with_child = rows(a, "bc_old_parent")
            assert with_child != alone
            a.execute("ROLLBACK TO SAVEPOINT s")
            b.execute(undo)
            assert rows(a, "bc_old_parent") == alone, undo
            a.execute("COMMIT")
            assert rows(a, "bc_old_parent") == alone == truth("bc_old_parent")


def test_rows_removed_through_a_parent_without_columns_are_seen(db):
    """A parent without columns: INHERIT and NO INHERIT change none of the
    table's catalog rows and send its readers no invalidation, and the
    DELETE through the parent fires none of its triggers. ALTER TABLE of a
    tracked table is a change of it (the event trigger)."""
    with db() as a, db() as b:
        make(a, "bc_zero")
        b.execute("DROP TABLE IF EXISTS bc_zero_parent")
        b.execute("CREATE TABLE bc_zero_parent ()")
        rows(a, "bc_zero")
        assert rows(a, "bc_zero") == truth("bc_zero") and uses(a, "bc_zero") == 1
        b.execute("ALTER TABLE bc_zero INHERIT bc_zero_parent")
        b.execute("DELETE FROM bc_zero_parent")
        b.execute("ALTER TABLE bc_zero NO INHERIT bc_zero_parent")
        assert truth("bc_zero") == []
        assert rows(a, "bc_zero") == []


def test_a_table_joining_a_subscription_drops_what_was_kept(db):
    """Replicated changes fire no trigger: a subscribed table is read on
    every call, and what a session kept before the table joined a
    subscription is dropped then, not served again after DROP SUBSCRIPTION
    (the stamp is the same: the replicated changes left no change row)."""
    pub = "rar_pytest_pub"
    with connect("postgres") as c:
        c.execute(f"DROP DATABASE IF EXISTS {pub}")
        c.execute(f"CREATE DATABASE {pub}")
    with connect(pub) as p:
        p.execute("CREATE TABLE bc_sub (basket int, item text)")
        p.execute("CREATE PUBLICATION bc_pub FOR TABLE bc_sub")
    with db() as a, db() as s:
        make(a, "bc_sub")
        first = rows(a, "bc_sub")
        assert rows(a, "bc_sub") == first and uses(a, "bc_sub") == 1
        info = a.info
        s.execute(
            f"CREATE SUBSCRIPTION bc_sub_s CONNECTION 'host={info.host} port={info.port} dbname={pub} user=postgres'"
            " PUBLICATION bc_pub WITH (create_slot = false, slot_name = NONE, enabled = false, copy_data = false)"
        )
        assert s.execute("SELECT count(*) FROM pg_subscription_rel WHERE srrelid = 'bc_sub'::regclass").fetchone()[0] == 1
        assert rows(a, "bc_sub") == first
        assert uses(a, "bc_sub") == 0, "the entry kept before the subscription is gone"
        s.execute("DROP SUBSCRIPTION bc_sub_s")
        assert rows(a, "bc_sub") == first
        assert uses(a, "bc_sub") == 0, "nothing kept from before the subscription is served"
        a.execute("DROP TABLE bc_sub")
    with connect("postgres") as c:
        c.execute(f"DROP DATABASE {pub}")

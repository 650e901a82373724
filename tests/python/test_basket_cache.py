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
        # The table's writers record their changes without any right on rar's catalog.
        a.execute("DELETE FROM bc_forge WHERE item = 'i0'")
        a.execute("RESET ROLE")
        assert a.execute("SELECT sum(weight) FROM rar.table_changes WHERE relid = 'bc_forge'::regclass").fetchone()[0] == 1
        a.execute("DROP TABLE bc_forge")
        a.execute("DROP ROLE bc_hostile")

"""Behaviour of the backend that runs rar_mine: cancellation from another
session, and no libtorch loaded by a backend that only mines rules."""
import threading
import time

import psycopg
import pytest

HEAVY = (
    "SELECT count(*) FROM rar_mine('groceries', min_support => 0.00005, min_confidence => 0,"
    " max_length => 8, support_of => 'antecedent')"
)


def test_pg_cancel_backend_stops_mining(db):
    with db() as miner, db() as admin:
        pid = miner.info.backend_pid
        result = {}

        def run():
            t0 = time.monotonic()
            try:
                miner.execute("SET rar.max_rules = 2000000000")
                miner.execute("SET rar.memory_limit = '8GB'")
                miner.execute(HEAVY)
                result["outcome"] = "finished"
            except psycopg.errors.QueryCanceled:
                result["outcome"] = "cancelled"
            result["elapsed"] = time.monotonic() - t0

        th = threading.Thread(target=run)
        th.start()
        # Wait until the call is running, then cancel it.
        for _ in range(100):
            state = admin.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()[0]
            if state == "active":
                break
            time.sleep(0.05)
        time.sleep(1.0)
        t_cancel = time.monotonic()
        assert admin.execute("SELECT pg_cancel_backend(%s)", (pid,)).fetchone()[0]
        th.join(timeout=60)
        latency = time.monotonic() - t_cancel
        assert result.get("outcome") == "cancelled"
        print(f"cancel latency: {latency:.3f} s")
        # The backend survives and serves the next query.
        assert miner.execute("SELECT 1").fetchone()[0] == 1


def test_statement_timeout_stops_mining(db):
    with db() as c:
        c.execute("SET statement_timeout = '500ms'")
        c.execute("SET rar.max_rules = 2000000000")
        c.execute("SET rar.memory_limit = '8GB'")
        with pytest.raises(psycopg.errors.QueryCanceled):
            c.execute(HEAVY)
        assert c.execute("SELECT 1").fetchone()[0] == 1


def test_mining_backend_does_not_load_libtorch(db):
    with db() as c:
        pid = c.info.backend_pid
        n = c.execute("SELECT count(*) FROM rar_mine('groceries', min_support => 0.001)").fetchone()[0]
        assert n > 0
        maps = open(f"/proc/{pid}/maps").read()
        assert "rar.so" in maps, "the extension is loaded"
        assert "libtorch" not in maps and "libc10" not in maps


# Each call locks the table before it reads its definition (a role must not
# change it in between): blocked there, it says so.
@pytest.mark.parametrize("call,function,progress", [
    ("SELECT count(*) FROM rar_mine('progress_lines', 0.2, max_length => 2)", "rar_mine", "waiting for a lock on progress_lines"),
    ("SELECT count(*) FROM rar_mine_segments('progress_lines', 'country', 0.2, max_length => 2, min_baskets => 1)", "rar_mine_segments",
     "waiting for a lock on progress_lines"),
    ("SELECT rar_profile('progress_lines')", "rar_profile", "waiting for a lock on progress_lines"),
    ("SELECT count(*) FROM rar_split('progress_lines')", "rar_split", "waiting for a lock on progress_lines"),
    ("SELECT count(*) FROM rar_clean('progress_lines')", "rar_clean", "waiting for a lock on progress_lines"),
])
def test_every_long_call_shows_what_it_is_doing(db, call, function, progress):
    """Each call, blocked by another session's lock on its table, is seen in
    rar.progress saying what it waits for; it leaves it when done."""
    with db() as a, db() as b, db() as watcher:
        a.execute("DROP TABLE IF EXISTS progress_lines")
        a.execute("CREATE TABLE progress_lines AS SELECT invoice_no, stock_code, country FROM online_retail LIMIT 2000")
        b.execute("BEGIN")
        b.execute("LOCK TABLE progress_lines IN ACCESS EXCLUSIVE MODE")
        done = {}
        th = threading.Thread(target=lambda: done.update(row=a.execute(call).fetchone()))
        th.start()
        seen = []
        for _ in range(200):
            seen = watcher.execute("SELECT function, progress FROM rar.progress WHERE pid = %s", (a.info.backend_pid,)).fetchall()
            if seen == [(function, progress)]:
                break
            time.sleep(0.05)
        b.execute("COMMIT")
        th.join(timeout=120)
        assert seen == [(function, progress)]
        assert done["row"] is not None
        assert watcher.execute("SELECT count(*) FROM rar.progress WHERE pid = %s", (a.info.backend_pid,)).fetchone()[0] == 0
        a.execute("DROP TABLE IF EXISTS progress_lines, progress_lines_rar_rejected")


def test_long_items_do_not_pile_up_in_memory(db):
    """Rows go into the result one at a time: rules over 150 kB item names
    (80 MB of rows in all, spilled to disk at the minimum work_mem) leave
    the backend's peak memory far below what they would take held
    together."""
    with db() as c:
        pid = c.info.backend_pid
        c.execute("DROP TABLE IF EXISTS long_items")
        c.execute("CREATE TABLE long_items AS SELECT b AS basket, k::text || repeat('é', 75000) AS item"
                  " FROM generate_series(1, 50) b, generate_series(1, 8) k WHERE (b + k) % 3 <> 0")
        c.execute("SET work_mem = '64kB'")
        c.execute("SELECT count(*) FROM rar_mine('long_items', min_support => 0.5)")  # load the library
        before = int(open(f"/proc/{pid}/status").read().split("VmHWM:")[1].split()[0]) // 1024
        rows, size = c.execute("SELECT count(*), sum(pg_column_size(antecedent) + pg_column_size(consequent))"
                               " FROM rar_mine('long_items', min_support => 0.01, min_confidence => 0)").fetchone()
        after = int(open(f"/proc/{pid}/status").read().split("VmHWM:")[1].split()[0]) // 1024
        assert rows > 200 and size > 60 * 2**20, (rows, size)
        assert after - before < 40, f"peak grew by {after - before} MB for {size // 2**20} MB of rows"
        c.execute("DROP TABLE long_items")


def test_forced_parallel_mode_reads_every_line(db):
    """force_parallel_mode would run the reader's whole aggregate in one
    worker, whose baskets the caller never sees: rar's own statements run
    with it off, so the rules are the same."""
    with db() as c:
        q = "SELECT count(*) FROM rar_mine('groceries', min_support => 0.01, min_confidence => 0.1)"
        want = c.execute(q).fetchone()[0]
        assert want > 0
        c.execute("DROP ROLE IF EXISTS rar_parallel_reader")
        c.execute("CREATE ROLE rar_parallel_reader")
        c.execute("GRANT SELECT ON groceries TO rar_parallel_reader")
        try:
            for mode in ("on", "regress"):
                c.execute(f"SET force_parallel_mode = {mode}")
                assert c.execute(q).fetchone()[0] == want, mode
                c.execute("SET ROLE rar_parallel_reader")
                assert c.execute(q).fetchone()[0] == want, mode
                lines = c.execute("SELECT (rar_profile('groceries')->>'lines')::bigint").fetchone()[0]
                assert lines > 0, mode
                c.execute("RESET ROLE")
        finally:
            c.execute("RESET ROLE")
            c.execute("RESET force_parallel_mode")
            c.execute("DROP OWNED BY rar_parallel_reader")
            c.execute("DROP ROLE rar_parallel_reader")

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


@pytest.mark.parametrize("call,function,progress", [
    ("SELECT count(*) FROM rar_mine('progress_lines', 0.2, max_length => 2)", "rar_mine", "reading progress_lines"),
    ("SELECT count(*) FROM rar_mine_segments('progress_lines', 'country', 0.2, max_length => 2, min_baskets => 1)", "rar_mine_segments",
     "counting the baskets of each segment of progress_lines"),
    ("SELECT rar_profile('progress_lines')", "rar_profile", "reading progress_lines"),
    ("SELECT count(*) FROM rar_split('progress_lines')", "rar_split", "counting the train baskets of progress_lines"),
    # rar_clean waits for its lock on the table before it starts a step.
    ("SELECT count(*) FROM rar_clean('progress_lines')", "rar_clean", "starting"),
])
def test_every_long_call_shows_what_it_is_doing(db, call, function, progress):
    """Each call, blocked on its first scan by another session's lock, is
    seen in rar.progress saying what it is doing; it leaves it when done."""
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

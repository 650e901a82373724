"""rar_train inside the server: it beats the popularity baseline on the
Online Retail baskets, a second session can watch it, it can be cancelled
without leaving a model behind, the same seed gives the same metrics, pg_dump
keeps the models, and only training backends load libtorch."""
import subprocess
import threading
import time

import psycopg
import pytest

from conftest import DB, connect

FAST = '{"epochs": 3, "hidden": 64, "device": "cpu", "seed": 7}'


def train(c, model="mlp", params=FAST, table="online_retail_sales"):
    return c.execute(
        "SELECT model_id, recall_at_10, popularity_recall_at_10, ndcg_at_10, valid_loss"
        f" FROM rar_train('{table}', %s, %s)",
        (model, params),
    ).fetchone()


def test_beats_popularity_and_is_deterministic(db):
    with db() as c:
        a = train(c)
        b = train(c)
        print(f"recall@10 {a[1]:.4f} against popularity {a[2]:.4f}")
        assert a[1] > a[2], "the model beats recommending the most popular items"
        assert a[1:] == b[1:], "same seed, same metrics"
        curves = [
            [(e["epoch"], e["train_loss"], e["valid"]) for e in row[0]]
            for row in c.execute("SELECT curves FROM rar.models WHERE model_id IN (%s, %s) ORDER BY model_id", (a[0], b[0]))
        ]
        assert curves[0] == curves[1], "same training curve, epoch by epoch (times aside)"



def test_progress_is_visible_from_another_session(db):
    with db() as trainer, db() as watcher:
        notices = []
        trainer.add_notice_handler(lambda d: notices.append(d.message_primary))
        t = threading.Thread(target=train, args=(trainer, "mlp", '{"epochs": 4, "device": "cpu"}'))
        t.start()
        seen = []
        for _ in range(300):
            rows = watcher.execute("SELECT progress FROM rar.training").fetchall()
            seen += [r[0] for r in rows]
            if any("epoch 2/4" in s for s in seen) or not t.is_alive():
                break
            time.sleep(0.1)
        t.join(timeout=300)
        assert any(s.startswith("rar_train: mlp on online_retail_sales, epoch") and "s left" in s for s in seen), seen[:3]
        assert sum("rar_train: epoch" in n for n in notices) == 4


def test_cancel_stops_training_and_stores_nothing(db):
    with db() as c, db() as admin:
        before = c.execute("SELECT count(*) FROM rar.models").fetchone()[0]
        pid = c.info.backend_pid
        outcome = {}

        def run():
            try:
                train(c, "mlp", '{"epochs": 50, "device": "cpu"}')
                outcome["r"] = "finished"
            except psycopg.errors.QueryCanceled:
                outcome["r"] = "cancelled"

        t = threading.Thread(target=run)
        t.start()
        for _ in range(300):
            if admin.execute("SELECT count(*) FROM rar.training WHERE pid = %s", (pid,)).fetchone()[0]:
                break
            time.sleep(0.05)
        t0 = time.monotonic()
        admin.execute("SELECT pg_cancel_backend(%s)", (pid,))
        t.join(timeout=120)
        print(f"training cancel latency: {time.monotonic() - t0:.3f} s")
        assert outcome["r"] == "cancelled"
        assert c.execute("SELECT count(*) FROM rar.models").fetchone()[0] == before


def test_statement_timeout_stops_training(db):
    with db() as c:
        c.execute("SET statement_timeout = '2s'")
        with pytest.raises(psycopg.errors.QueryCanceled):
            train(c, "mlp", '{"epochs": 50, "device": "cpu"}')


def test_only_training_backends_load_libtorch(db):
    with db() as miner, db() as trainer:
        miner.execute("SELECT count(*) FROM rar_mine('online_retail_sales')")
        train(trainer, "mlp", '{"epochs": 1, "device": "cpu"}')
        maps = lambda c: open(f"/proc/{c.info.backend_pid}/maps").read()
        assert "libtorch" not in maps(miner)
        assert "libtorch_cpu" in maps(trainer) and "rar_model.so" in maps(trainer)


def test_pg_dump_keeps_models(db):
    with db() as c:
        train(c, "mlp", '{"epochs": 1, "device": "cpu"}')
        n = c.execute("SELECT count(*) FROM rar.models").fetchone()[0]
    dump = subprocess.run(
        ["pg_dump", "-h", "/var/lib/postgresql/rar/run", "-p", "5415", "-U", "postgres", "--data-only", "-t", "rar.models", DB],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "COPY rar.models" in dump
    copied = dump.split("COPY rar.models")[1].split("\\.")[0].strip().splitlines()[1:]
    assert len(copied) == n


@pytest.mark.skipif(__import__("os").path.exists("/dev/nvidia0"), reason="a GPU is present")
def test_auto_falls_back_to_cpu_with_a_notice(db):
    with db() as c:
        notices = []
        c.add_notice_handler(lambda d: notices.append(d.message_primary))
        device = c.execute(
            "SELECT device FROM rar_train('online_retail_sales', 'mlp', '{\"epochs\": 1, \"device\": \"auto\"}')"
        ).fetchone()[0]
        assert device == "cpu"
        assert "rar_train: no GPU is available to this server; training on the CPU" in notices


def first_model_race(db, table, isolation):
    """Two sessions train the first model of a fresh table at once: the
    second saves its model while the first's transaction is still open."""
    with db() as c:
        c.execute(f"DROP TABLE IF EXISTS {table}")
        c.execute(f"CREATE TABLE {table} AS SELECT g / 3 AS tid, 'i' || (g * 7919) % 37 AS item"
                  " FROM generate_series(1, 6000) g")
    call = (f"SELECT version, deployed FROM rar_train('{table}', 'mlp', '{{\"epochs\": 1, \"device\": \"cpu\"}}',"
            " tid_column => 'tid', item_column => 'item')")
    with db() as a, db() as b, db() as watch:
        a.execute("BEGIN")
        first = a.execute(call).fetchone()
        outcome = {}

        def second():
            b.execute(f"BEGIN ISOLATION LEVEL {isolation}")
            b.execute("SELECT 1")  # the snapshot of REPEATABLE READ, taken before the first model commits
            try:
                outcome["row"] = b.execute(call).fetchone()
                b.execute("COMMIT")
            except psycopg.Error as e:
                outcome["error"] = e
                b.execute("ROLLBACK")

        t = threading.Thread(target=second)
        t.start()
        waiting = False
        for _ in range(1200):
            waiting = watch.execute(
                "SELECT count(*) > 0 FROM pg_locks WHERE pid = %s AND NOT granted", (b.info.backend_pid,)).fetchone()[0]
            if waiting or not t.is_alive():
                break
            time.sleep(0.1)
        a.execute("COMMIT")
        t.join(timeout=300)
        models = watch.execute(
            f"SELECT version, deployed FROM rar.models WHERE source = '{table}'::regclass ORDER BY version").fetchall()
    return first, waiting, outcome, models


def test_first_models_of_a_table_trained_at_once_are_numbered_one_after_another(db):
    first, waiting, outcome, models = first_model_race(db, "race_first", "READ COMMITTED")
    assert waiting, "the second training waits for the first's transaction"
    assert "error" not in outcome, outcome.get("error")
    assert first == (1, True) and outcome["row"] == (2, False)
    assert models == [(1, True), (2, False)]


def test_first_model_race_under_repeatable_read_is_a_serialization_failure(db):
    first, waiting, outcome, models = first_model_race(db, "race_first_rr", "REPEATABLE READ")
    assert waiting
    assert isinstance(outcome.get("error"), psycopg.errors.SerializationFailure), outcome
    assert first == (1, True) and models == [(1, True)]

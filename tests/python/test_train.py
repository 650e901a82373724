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


def test_weights_are_data_a_table_owner_cannot_make_code_of(db):
    """rar.models.weights is the table owner's to write; whatever it holds,
    loading it runs nothing and answers a clean error (models are saved as
    safetensors; older libtorch archives are read as data, their code and
    any name their pickle gives but the few libtorch writes are never used)."""
    import io
    import json
    import struct
    import zipfile

    with db() as c:
        c.execute("DROP TABLE IF EXISTS weights_t")
        c.execute("CREATE TABLE weights_t AS SELECT g / 3 AS tid, 'i' || (g * 7919) % 37 AS item FROM generate_series(1, 6000) g")
        model_id = c.execute(
            "SELECT model_id FROM rar_train('weights_t', 'mlp', '{\"epochs\": 1, \"device\": \"cpu\"}',"
            " tid_column => 'tid', item_column => 'item')").fetchone()[0]
        c.execute("SELECT rar_register('weights_t', 'weights_t', 'tid', 'item')")
        saved = bytes(c.execute("SELECT weights FROM rar.models WHERE model_id = %s", (model_id,)).fetchone()[0])
        header = json.loads(saved[8:8 + struct.unpack("<Q", saved[:8])[0]])
        assert {v["dtype"] for v in header.values()} == {"F32"}, "saved as safetensors"
        call = ("SELECT count(*) FROM rar_recommend(ARRAY['i1'], 3, source => 'weights_t', method => 'model',"
                " model_id => %s)" % model_id)
        assert c.execute(call).fetchone()[0] == 3

        def archive(pickle_bytes):
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w") as z:
                z.writestr(zipfile.ZipInfo("archive/data.pkl"), pickle_bytes, compress_type=zipfile.ZIP_STORED)
                z.writestr(zipfile.ZipInfo("archive/code/__torch__.py"),
                           "class Module(Module):\n  def __setstate__(self, s):\n    torch.from_file('/etc/passwd')\n",
                           compress_type=zipfile.ZIP_DEFLATED)
                z.writestr(zipfile.ZipInfo("archive/data/0"), b"\0" * 16, compress_type=zipfile.ZIP_STORED)
            return out.getvalue()

        def torchscript():
            # A module whose loading runs code (libtorch's loader calls
            # __setstate__): its message would come back if it ran.
            torch = pytest.importorskip("torch")
            from typing import Tuple

            class Evil(torch.nn.Module):
                def __init__(self):
                    super().__init__()
                    self.w = torch.nn.Parameter(torch.zeros(1))

                @torch.jit.export
                def __getstate__(self) -> Tuple[torch.Tensor, bool]:
                    return (self.w, self.training)

                @torch.jit.export
                def __setstate__(self, state: Tuple[torch.Tensor, bool]) -> None:
                    raise RuntimeError("RAR_TORCHSCRIPT_RAN")

            out = io.BytesIO()
            torch.jit.save(torch.jit.script(Evil()), out)
            return out.getvalue()

        wrong_shape = json.dumps({"l1.weight": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
        crafted = [
            torchscript(),
            archive(b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85R."),
            archive(b"\x80\x02c__builtin__\neval\n."),
            archive(b"\x80\x02c__torch__\nModule\nq\x00)\x81}b."),
            struct.pack("<Q", len(wrong_shape)) + wrong_shape + b"\0" * 4,
            saved[: len(saved) // 2],
            b"PK\x03\x04" + b"\xff" * 100,
            b"",
        ]
        for weights in crafted:
            c.execute("UPDATE rar.models SET weights = %s WHERE model_id = %s", (weights, model_id))
            with pytest.raises(psycopg.Error) as e:
                c.execute(call).fetchone()
            assert e.value.sqlstate not in (None, "XX000"), (e.value.sqlstate, str(e.value))
            assert "RAR_TORCHSCRIPT_RAN" not in str(e.value), "the archive's code ran"
            assert c.execute("SELECT 1").fetchone() == (1,), "the backend lives on"
        # Weights that load but are not numbers (every float NaN) score
        # nothing: an error, not NaN ranked as recommendations.
        start = 8 + struct.unpack("<Q", saved[:8])[0]
        c.execute("UPDATE rar.models SET weights = %s WHERE model_id = %s",
                  (saved[:start] + b"\xff" * (len(saved) - start), model_id))
        with pytest.raises(psycopg.Error) as e:
            c.execute(call).fetchone()
        assert e.value.sqlstate == "22P03", (e.value.sqlstate, str(e.value))
        c.execute("UPDATE rar.models SET weights = %s WHERE model_id = %s", (saved, model_id))
        assert c.execute(call).fetchone()[0] == 3, "the model's own weights load again"

"""The sequence model in the server: rar_train(..., 'gru', customer_column =>,
time_column =>) reads each customer's earlier baskets and completes what a
basket alone cannot show; its arguments are checked; a deployed sequence
model recommends (as for a customer without history) and rar_evaluate says
why it has no row for it."""
import random

import psycopg
import pytest

from conftest import connect

PARAMS = '{"epochs": 15, "hidden": 128, "embedding": 16, "patience": 40, "device": "cpu", "threads": 1}'


@pytest.fixture(scope="module")
def customers(db):
    """1,000 customers, each keeping to one theme of 5 items (of 20): each of
    their 8 baskets holds one item of the theme and two of 30 items everyone
    buys at random. When the hidden item is the theme's, only the customer's
    earlier baskets tell which theme it is."""
    rng = random.Random(11)
    lines = []
    basket = 0
    for c in range(1000):
        theme = c % 20
        for k in range(8):
            basket += 1
            items = {f"theme{theme}_{rng.randrange(5)}"}
            while len(items) < 3:
                items.add(f"noise{rng.randrange(30)}")
            for i in sorted(items):
                lines.append((basket, c, f"2026-01-{k + 1:02d} 10:00+00", i))
    with connect() as c:
        c.execute("DROP TABLE IF EXISTS shoppers")
        c.execute("CREATE TABLE shoppers (basket int, customer int, sold_at timestamptz, item text, note text)")
        with c.cursor().copy("COPY shoppers (basket, customer, sold_at, item) FROM STDIN") as cp:
            for row in lines:
                cp.write_row(row)
    return "shoppers"


def train(c, table, model, **kw):
    args = "".join(f", {k} => %s" for k in kw)
    return c.execute(
        f"SELECT model_id, recall_at_10, popularity_recall_at_10 FROM rar_train(%s, %s, %s, tid_column => 'basket',"
        f" item_column => 'item'{args})",
        (table, model, PARAMS, *kw.values()),
    ).fetchone()


def test_history_completes_what_the_basket_cannot_show(customers):
    with connect() as c:
        mlp = train(c, customers, "mlp")
        gru = train(c, customers, "gru", customer_column="customer", time_column="sold_at")
        print(f"recall@10: gru {gru[1]:.4f}, mlp {mlp[1]:.4f}, popularity {gru[2]:.4f}")
        assert gru[1] > mlp[1] + 0.15, (gru, mlp)
        row = c.execute("SELECT architecture, params->>'model' FROM rar.models WHERE model_id = %s", (gru[0],)).fetchone()
        assert row == ("gru", "gru")


def test_arguments_are_checked(customers):
    with connect() as c:
        cases = [
            ("gru", {}, "22023", "needs customer_column and time_column"),
            ("gru", {"customer_column": "customer"}, "22023", "needs customer_column and time_column"),
            ("mlp", {"customer_column": "customer", "time_column": "sold_at"}, "22023", "read only by the sequence model"),
            ("gru", {"customer_column": "nobody", "time_column": "sold_at"}, "42703", "nobody"),
            ("gru", {"customer_column": "customer", "time_column": "note"}, "42804", "note"),
        ]
        for model, kw, state, words in cases:
            with pytest.raises(psycopg.Error) as e:
                train(c, customers, model, **kw)
            assert e.value.sqlstate == state, (model, kw, e.value)
            assert words in str(e.value), (model, kw, e.value)
        with pytest.raises(psycopg.Error) as e:
            c.execute("SELECT * FROM rar_train(%s, 'mlp', '{\"history\": 3}', 'basket', 'item')", (customers,))
        assert e.value.sqlstate == "22023" and "history" in str(e.value)


def test_a_deployed_sequence_model_recommends_and_evaluate_says_why_no_row(customers):
    with connect() as c:
        model_id = train(c, customers, "gru", customer_column="customer", time_column="sold_at")[0]
        c.execute("SELECT * FROM rar_deploy(%s)", (model_id,))
        c.execute("SELECT rar_register('shoppers_src', 'shoppers', tid_column => 'basket', item_column => 'item')")
        rows = c.execute(
            "SELECT item FROM rar_recommend(ARRAY['theme3_0', 'noise1'], 5, 'shoppers_src', method => 'model')"
        ).fetchall()
        assert len(rows) == 5 and all(r[0] not in ("theme3_0", "noise1") for r in rows)
        notices = []
        c.add_notice_handler(lambda d: notices.append(d.message_primary))
        out = c.execute(
            "SELECT subject, metric FROM rar_evaluate('shoppers_src', 0.01, 0.1, 3, methods => '{exact}')"
        ).fetchall()
        assert not [r for r in out if r[0] == "model"]
        assert any("sequence model 'gru'" in n for n in notices), notices
        assert any(r[0] == "popularity" for r in out)
        # Neural rules read the deployed model on itemsets alone (as for a
        # customer without history): the call works on a sequence model.
        c.execute("SELECT count(*) FROM rar_mine('shoppers_src', min_support => 0.01, method => 'neural')").fetchone()

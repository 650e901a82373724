"""The sequence model in the server: rar_train(..., 'gru', customer_column =>,
time_column =>) reads each customer's earlier baskets and completes what a
basket alone cannot show; its arguments are checked; a deployed sequence
model recommends with a customer's history (rar_recommend(..., customer =>))
and rar_evaluate judges it on the same held-out cases as the rules."""
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


def register(c):
    c.execute(
        "SELECT rar_register('shoppers_src', 'shoppers', tid_column => 'basket', item_column => 'item')"
        " WHERE NOT EXISTS (SELECT 1 FROM rar.sources WHERE name = 'shoppers_src')"
    )


def deployed_gru(c, table):
    """A sequence model of `table`, trained and deployed; its id."""
    register(c)
    gru = train(c, table, "gru", customer_column="customer", time_column="sold_at")[0]
    c.execute("SELECT * FROM rar_deploy(%s)", (gru,))
    return gru


def top(c, customer=None, method="model", basket=("noise1", "noise2")):
    return c.execute(
        "SELECT item, evidence FROM rar_recommend(%s, 5, 'shoppers_src', method => %s, customer => %s)",
        (list(basket), method, customer),
    ).fetchall()


def test_a_deployed_sequence_model_recommends_with_the_customers_history(customers):
    with connect() as c:
        model_id = train(c, customers, "gru", customer_column="customer", time_column="sold_at")[0]
        c.execute("SELECT * FROM rar_deploy(%s)", (model_id,))
        register(c)
        columns = c.execute("SELECT read_columns FROM rar.models WHERE model_id = %s", (model_id,)).fetchone()[0]
        assert columns == {"tid_column": "basket", "item_column": "item", "customer_column": "customer",
                           "time_column": "sold_at"}
        # The basket shows noise only: the customer's theme comes first with
        # the history, and seldom without it.
        with_history = without = 0
        customers_asked = range(0, 1000, 25)
        for cust in customers_asked:
            theme = f"theme{cust % 20}_"
            rows = top(c, str(cust))
            assert len(rows) == 5 and all(r[0] not in ("noise1", "noise2") for r in rows)
            assert "after the customer's 8 earlier baskets" in rows[0][1], rows[0]
            with_history += rows[0][0].startswith(theme)
            without += top(c)[0][0].startswith(theme)
        n = len(customers_asked)
        print(f"theme first: {with_history}/{n} with the customer's history, {without}/{n} without")
        assert with_history >= 0.8 * n and without <= 0.3 * n, (with_history, without)
        # A customer the table does not know has no history: as without one.
        unknown = top(c, "999999")
        assert [r[0] for r in unknown] == [r[0] for r in top(c)]
        assert "after the customer's 0 earlier baskets" in unknown[0][1]
        # The latest `history` (10) baskets count: ten newer baskets of
        # another theme (in a transaction, rolled back) turn the customer.
        assert top(c, "7")[0][0].startswith("theme7_")
        c.execute("BEGIN")
        c.execute(
            "INSERT INTO shoppers SELECT 900000 + k, 7, '2026-02-01 10:00+00'::timestamptz + k * interval '1 day',"
            " 'theme0_' || (k % 5) FROM generate_series(1, 10) k"
        )
        turned = top(c, "7")
        c.execute("ROLLBACK")
        assert turned[0][0].startswith("theme0_"), turned
        assert "after the customer's 10 earlier baskets" in turned[0][1], turned[0]


def test_customer_is_checked(customers):
    with connect() as c:
        gru = deployed_gru(c, customers)
        with pytest.raises(psycopg.Error) as e:
            top(c, "7", method="rules")
        assert e.value.sqlstate == "22023" and "customer" in str(e.value), e.value
        # The customer column is an integer: the customer is one.
        with pytest.raises(psycopg.Error) as e:
            top(c, "seven")
        assert e.value.sqlstate == "22P02", e.value
        # A basket-only model reads no customer: said, not refused.
        mlp = train(c, customers, "mlp")[0]
        notices = []
        c.add_notice_handler(lambda d: notices.append(d.message_primary))
        as_mlp = c.execute(
            "SELECT item FROM rar_recommend(ARRAY['noise1'], 5, 'shoppers_src', method => 'model', model_id => %s,"
            " customer => '7')",
            (mlp,),
        ).fetchall()
        plain = c.execute(
            "SELECT item FROM rar_recommend(ARRAY['noise1'], 5, 'shoppers_src', method => 'model', model_id => %s)",
            (mlp,),
        ).fetchall()
        assert as_mlp == plain
        assert any("ignored customer" in n for n in notices), notices


def evaluate(c):
    out = c.execute(
        "SELECT subject, metric, k, value FROM rar_evaluate('shoppers_src', 0.01, 0.1, 3, methods => '{exact}')"
    ).fetchall()
    return {(s, m, k): v for s, m, k, v in out}


def test_evaluate_judges_the_sequence_model_on_the_same_cases(customers):
    with connect() as c:
        register(c)
        mlp = train(c, customers, "mlp")[0]
        gru = train(c, customers, "gru", customer_column="customer", time_column="sold_at")[0]
        c.execute("SELECT * FROM rar_deploy(%s)", (mlp,))
        by_mlp = evaluate(c)
        c.execute("SELECT * FROM rar_deploy(%s)", (gru,))
        notices = []
        c.add_notice_handler(lambda d: notices.append(d.message_primary))
        by_gru = evaluate(c)
        assert not notices, notices
        # The same held-out cases: the rules and popularity figures agree to
        # the last digit whichever model is deployed.
        for key, value in by_mlp.items():
            if key[0] != "model":
                assert by_gru[key] == value, (key, value, by_gru[key])
        assert by_gru[("split", "completion_cases", None)] > 100
        gru_recall, mlp_recall = by_gru[("model", "recall", 10)], by_mlp[("model", "recall", 10)]
        print(f"test recall@10: gru {gru_recall:.4f}, mlp {mlp_recall:.4f}, "
              f"popularity {by_gru[('popularity', 'recall', 10)]:.4f}")
        assert gru_recall > mlp_recall + 0.15, (gru_recall, mlp_recall)
        # Neural rules read the deployed model on itemsets alone (as for a
        # customer without history): the call works on a sequence model.
        c.execute("SELECT count(*) FROM rar_mine('shoppers_src', min_support => 0.01, method => 'neural')").fetchone()


def test_the_customer_is_found_whatever_the_columns_type(customers):
    """The lines of a customer are found in the column's own type where it
    has an ordering (an index can serve it), else as text, and kept by
    their exact text, as training tells customers apart: '7.0' is not '7',
    case counts whatever the column's collation."""
    with connect() as c:
        gru = deployed_gru(c, customers)
        expected = top(c, "7")
        nobody = top(c, "999999")
        assert expected != nobody
        c.execute("BEGIN")
        c.execute("CREATE COLLATION IF NOT EXISTS any_case (provider = icu, locale = 'und-u-ks-level2',"
                  " deterministic = false)")
        c.execute("ALTER TABLE shoppers ADD COLUMN customer_text varchar(10), ADD COLUMN customer_json json,"
                  " ADD COLUMN customer_numeric numeric, ADD COLUMN customer_ci text COLLATE any_case")
        c.execute("UPDATE shoppers SET customer_text = customer, customer_json = to_json(customer),"
                  " customer_numeric = customer, customer_ci = 'c' || customer")
        c.execute("CREATE INDEX ON shoppers (customer)")
        c.execute("CREATE INDEX ON shoppers (customer_numeric)")
        cases = [("customer_text", "7", expected), ("customer_json", "7", expected),
                 ("customer_numeric", "7", expected), ("customer_numeric", "7.0", nobody),
                 ("customer_ci", "c7", expected), ("customer_ci", "C7", nobody), ("customer", "7", expected)]
        for column, value, want in cases:
            c.execute("UPDATE rar.models SET read_columns = jsonb_set(read_columns, '{customer_column}', to_jsonb(%s::text))"
                      " WHERE model_id = %s", (column, gru))
            assert top(c, value) == want, (column, value)
        c.execute("ROLLBACK")


def test_baskets_without_items_are_not_history(customers):
    with connect() as c:
        gru = deployed_gru(c, customers)
        before = top(c, "7")
        c.execute("BEGIN")
        c.execute("INSERT INTO shoppers SELECT 800000 + k, 7, '2026-03-01 10:00+00'::timestamptz + k * interval '1 day',"
                  " NULL FROM generate_series(1, 10) k")
        after = top(c, "7")
        c.execute("ROLLBACK")
        assert after == before and "after the customer's 8 earlier baskets" in after[0][1], after


def test_no_role_but_a_superuser_defines_how_a_customer_reads(customers):
    """A superuser asking for a customer's recommendations never runs code
    a table owner without superuser wrote: not a cast of the owner's type
    to text (the type's output function is used), not a view's functions
    (refused, 42501, as CALL rar_refresh refuses)."""
    with connect() as c:
        c.execute("DROP TABLE IF EXISTS owned_shoppers CASCADE")
        c.execute("DROP TYPE IF EXISTS shopper_name CASCADE")
        c.execute("DROP ROLE IF EXISTS shop_owner")
        c.execute("CREATE ROLE shop_owner")
        c.execute("GRANT CREATE ON SCHEMA public TO shop_owner")
        c.execute("GRANT SELECT ON shoppers TO shop_owner")
        c.execute("SET ROLE shop_owner")
        c.execute("CREATE TYPE shopper_name AS ENUM ('c7', 'c8')")
        c.execute("CREATE FUNCTION shopper_text(shopper_name) RETURNS text LANGUAGE plpgsql AS"
                  " $$BEGIN RAISE NOTICE 'cast ran as %', current_user; RETURN 'x' || $1::name; END$$")
        c.execute("CREATE CAST (shopper_name AS text) WITH FUNCTION shopper_text(shopper_name)")
        c.execute("CREATE TABLE owned_shoppers AS SELECT basket, item, sold_at,"
                  " CASE customer WHEN 7 THEN 'c7'::shopper_name WHEN 8 THEN 'c8'::shopper_name END AS customer"
                  " FROM shoppers")
        c.execute("CREATE FUNCTION spy(shopper_name) RETURNS shopper_name LANGUAGE plpgsql AS"
                  " $$BEGIN RAISE NOTICE 'spy ran as %', current_user; RETURN $1; END$$")
        c.execute("CREATE VIEW owned_view AS SELECT basket, item, sold_at, spy(customer) AS customer FROM owned_shoppers")
        c.execute("SELECT rar_register('owned_src', 'owned_shoppers', tid_column => 'basket', item_column => 'item')")
        c.execute("SELECT rar_register('owned_view_src', 'owned_view', tid_column => 'basket', item_column => 'item')")
        gru = train(c, "owned_shoppers", "gru", customer_column="customer", time_column="sold_at")[0]
        c.execute("RESET ROLE")
        notices = []
        c.add_notice_handler(lambda d: notices.append(d.message_primary))
        rows = c.execute("SELECT item, evidence FROM rar_recommend(ARRAY['noise1', 'noise2'], 5, 'owned_src',"
                         " method => 'model', customer => 'c7')").fetchall()
        assert rows and "after the customer's 8 earlier baskets" in rows[0][1], rows
        c.execute("SELECT count(*) FROM rar_evaluate('owned_src', 0.01, 0.1, 3, methods => '{exact}')")
        assert not [n for n in notices if "ran as" in n], notices
        # The same model read through the owner's view: refused.
        c.execute("UPDATE rar.models SET source = 'owned_view'::regclass WHERE model_id = %s", (gru,))
        with pytest.raises(psycopg.Error) as e:
            c.execute("SELECT * FROM rar_recommend(ARRAY['noise1'], 5, 'owned_view_src', method => 'model',"
                      " model_id => %s, customer => 'c7')", (gru,))
        assert e.value.sqlstate == "42501" and "SET ROLE shop_owner" in (e.value.diag.message_hint or ""), e.value
        assert not [n for n in notices if "ran as" in n], notices
        c.execute("SELECT rar_unregister('owned_src'); SELECT rar_unregister('owned_view_src')")
        c.execute("DELETE FROM rar.models WHERE model_id = %s", (gru,))
        c.execute("DROP TABLE owned_shoppers CASCADE")
        c.execute("DROP FUNCTION spy(shopper_name)")
        c.execute("DROP TYPE shopper_name CASCADE")
        c.execute("REVOKE CREATE ON SCHEMA public FROM shop_owner")
        c.execute("REVOKE SELECT ON shoppers FROM shop_owner")
        c.execute("DROP ROLE shop_owner")


def test_a_column_the_model_read_is_gone(customers):
    with connect() as c:
        gru = deployed_gru(c, customers)
        c.execute("BEGIN")
        c.execute("ALTER TABLE shoppers RENAME customer TO shopper")
        with pytest.raises(psycopg.Error) as e:
            top(c, "7")
        c.execute("ROLLBACK")
        assert e.value.sqlstate == "42703" and "customer" in str(e.value), e.value
        assert "rar_train" in (e.value.diag.message_hint or ""), e.value.diag.message_hint


def test_tune_searches_the_sequence_model(customers):
    with connect() as c:
        register(c)
        rows = c.execute(
            "SELECT trial, trial_params, recall_at_10, best, model_id FROM rar_tune('shoppers', 'gru',"
            " '{\"hidden\": [32, 64]}', params => %s::jsonb, customer_column => 'customer', time_column => 'sold_at')",
            (PARAMS,),
        ).fetchall()
        assert [r[0] for r in rows] == [1, 2] and sum(r[3] for r in rows) == 1, rows
        best = next(r for r in rows if r[3])
        assert best[2] == max(r[2] for r in rows)
        kept = c.execute("SELECT architecture, read_columns->>'customer_column' FROM rar.models WHERE model_id = %s",
                         (best[4],)).fetchone()
        assert kept == ("gru", "customer")
        with pytest.raises(psycopg.Error) as e:
            c.execute("SELECT * FROM rar_tune('shoppers', 'gru', '{\"hidden\": [32]}')")
        assert e.value.sqlstate == "22023" and "customer_column" in str(e.value)


def test_a_time_column_without_times_is_said(customers):
    """Customers' baskets without any time are taken in the order of their
    ids: training says so, rather than silently."""
    with connect() as c:
        c.execute("DROP TABLE IF EXISTS shoppers_untimed")
        c.execute("CREATE TABLE shoppers_untimed AS SELECT basket, customer, NULL::timestamptz AS sold_at, item FROM shoppers")
        notices = []
        c.add_notice_handler(lambda d: notices.append(d.message_primary))
        c.execute("SELECT model_id FROM rar_train('shoppers_untimed', 'gru', '{\"epochs\": 1, \"device\": \"cpu\"}',"
                  " tid_column => 'basket', item_column => 'item', customer_column => 'customer', time_column => 'sold_at')")
        assert any("has a time in column \"sold_at\"" in n for n in notices), notices
        notices.clear()
        c.execute("SELECT model_id FROM rar_train(%s, 'gru', '{\"epochs\": 1, \"device\": \"cpu\"}',"
                  " tid_column => 'basket', item_column => 'item', customer_column => 'customer', time_column => 'sold_at')",
                  (customers,))
        assert not any("has a time in column" in n for n in notices), notices

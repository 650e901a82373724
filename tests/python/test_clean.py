"""rar_clean on the raw UCI Online Retail table (all 541,909 lines): removing
only cancellations and quantities <= 0 leaves the 20,728 invoices and 3,941
stock codes of ../shared/data/README.md, and nothing is lost."""
import psycopg
import pytest


def test_online_retail_clean_matches_reference(db):
    with db() as c:
        c.execute("DROP TABLE IF EXISTS or_raw, or_raw_rar_rejected")
        c.execute("CREATE TABLE or_raw AS SELECT * FROM online_retail")
        assert c.execute("SELECT count(*) FROM or_raw").fetchone()[0] == 541_909
        report = c.execute(
            "SELECT step, rows FROM rar_clean('or_raw', tid_column => 'invoice_no', item_column => 'stock_code',"
            " cancelled_basket_pattern => '^C', drop_nulls => false, normalize_items => false)"
        ).fetchall()
        steps = dict(report)
        assert steps["cancelled_basket"] == 9_288
        assert steps["nonpositive_quantity"] == 1_336
        kept, invoices, codes = c.execute(
            "SELECT count(*), count(DISTINCT invoice_no), count(DISTINCT stock_code) FROM or_raw"
        ).fetchone()
        assert (invoices, codes) == (20_728, 3_941)
        quarantined = c.execute(
            "SELECT count(*) FROM or_raw_rar_rejected WHERE rar_action = 'removed'"
        ).fetchone()[0]
        assert kept + quarantined == 541_909
        # A second run finds nothing to do.
        again = dict(
            c.execute(
                "SELECT step, rows FROM rar_clean('or_raw', tid_column => 'invoice_no', item_column => 'stock_code',"
                " cancelled_basket_pattern => '^C', drop_nulls => false, normalize_items => false)"
            ).fetchall()
        )
        assert again["total"] == 0
        # Mining the cleaned table gives pyfim's 183,700 rules (antecedent support).
        n = c.execute(
            "SELECT count(*) FROM rar_mine('or_raw', min_support => 0.005, support_of => 'antecedent')"
        ).fetchone()[0]
        assert n == 183_700


def test_dry_run_changes_nothing(db):
    with db() as c:
        c.execute("DROP TABLE IF EXISTS or_dry, or_dry_rar_rejected")
        c.execute("CREATE TABLE or_dry AS SELECT * FROM online_retail LIMIT 20000")
        before = c.execute("SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM or_dry t").fetchone()[0]
        dry = c.execute("SELECT step, rows FROM rar_clean('or_dry', cancelled_basket_pattern => '^C', dry_run => true)").fetchall()
        after = c.execute("SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM or_dry t").fetchone()[0]
        assert before == after
        assert c.execute("SELECT to_regclass('or_dry_rar_rejected')").fetchone()[0] is None
        real = c.execute("SELECT step, rows FROM rar_clean('or_dry', cancelled_basket_pattern => '^C')").fetchall()
        assert dry == real, "a dry run reports the same figures as the real run"


def test_merged_quantity_past_the_column_is_refused(db):
    """merge_duplicates whose summed quantity an integer column cannot hold:
    a 22003 that names the column, with a hint, and the table as it was."""
    with db() as c:
        c.execute("DROP TABLE IF EXISTS big_qty, big_qty_rar_rejected")
        c.execute("CREATE TABLE big_qty (invoice_no text, stock_code text, quantity int)")
        c.execute("INSERT INTO big_qty VALUES ('1', 'a', 2000000000), ('1', 'a', 2000000000), ('2', 'b', 1)")
        with pytest.raises(psycopg.errors.NumericValueOutOfRange) as e:
            c.execute("SELECT * FROM rar_clean('big_qty', tid_column => 'invoice_no', item_column => 'stock_code',"
                      " merge_duplicates => true)")
        assert '"quantity"' in e.value.diag.message_primary and e.value.diag.message_hint
        assert c.execute("SELECT count(*), sum(quantity) FROM big_qty").fetchone() == (3, 4000000001)
        c.execute("ALTER TABLE big_qty ALTER COLUMN quantity TYPE bigint")
        c.execute("SELECT * FROM rar_clean('big_qty', tid_column => 'invoice_no', item_column => 'stock_code',"
                  " merge_duplicates => true)")
        assert c.execute("SELECT count(*), max(quantity) FROM big_qty").fetchone() == (2, 4000000000)

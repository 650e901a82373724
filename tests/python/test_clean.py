"""rar_clean on the raw UCI Online Retail table (all 541,909 lines): removing
only cancellations and quantities <= 0 leaves the 20,728 invoices and 3,941
stock codes of ../shared/data/README.md, and nothing is lost."""


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

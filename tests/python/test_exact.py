"""rar_mine returns exactly the rules of Borgelt's C miners (pyfim 6.28):
the same rules, with the same counts and confidences, on real data."""
import fim
import pytest

from conftest import groceries_baskets, online_retail_baskets


def pyfim_rules(baskets, supp, conf, zmax, mode):
    out = {}
    for head, body, n_ac, n_a in fim.fpgrowth(
        baskets, target="r", supp=supp * 100, conf=conf * 100, zmax=zmax, report="ab", mode=mode
    ):
        out[(tuple(sorted(body)), (head,))] = (n_ac, n_ac / n_a)
    return out


def rar_rules(conn, table, supp, conf, zmax, support_of):
    rows = conn.execute(
        f"SELECT antecedent, consequent, count, confidence FROM rar_mine(%s, min_support => %s,"
        f" min_confidence => %s, max_length => %s, support_of => %s)",
        (table, supp, conf, zmax, support_of),
    ).fetchall()
    out = {(tuple(a), tuple(c)): (n, cf) for a, c, n, cf in rows}
    assert len(out) == len(rows), "no rule is returned twice"
    return out


def assert_same(got, want):
    assert got.keys() == want.keys(), (
        f"{len(got.keys() - want.keys())} rules only in rar, {len(want.keys() - got.keys())} only in pyfim"
    )
    for k, (n, conf) in want.items():
        assert got[k][0] == n, k
        assert got[k][1] == pytest.approx(conf, rel=1e-12), k


@pytest.mark.parametrize(
    "support_of, mode, expected",
    [("rule", "o", 30_851), ("antecedent", "", 352_167)],
)
def test_groceries_same_rules_as_pyfim(db, support_of, mode, expected):
    want = pyfim_rules(groceries_baskets(), 0.001, 0.1, 4, mode)
    assert len(want) == expected
    with db() as c:
        assert_same(rar_rules(c, "groceries", 0.001, 0.1, 4, support_of), want)


@pytest.mark.parametrize(
    "supp, support_of, mode, expected",
    [(0.005, "antecedent", "", 183_700), (0.003, "rule", "o", None), (0.01, "antecedent", "", 5_408)],
)
def test_online_retail_same_rules_as_pyfim(db, supp, support_of, mode, expected):
    want = pyfim_rules(online_retail_baskets(), supp, 0.5, 4, mode)
    if expected is not None:
        assert len(want) == expected
    with db() as c:
        assert_same(rar_rules(c, "online_retail_sales", supp, 0.5, 4, support_of), want)


def test_rule_sides_are_arrays_like_any_other(db):
    """The sides are laid out by rar itself (src/srf.rs), not by
    construct_array: with short, long (a 4-byte header past 126 bytes) and
    multibyte names, and empty, they are equal to the same arrays built by
    PostgreSQL and as large (less the 3 bytes of a short header, which a
    row gives values under 127 bytes), and every array function reads them."""
    long_a, long_b = "a" * 300, "ž" * 150
    baskets = [["x", long_a, long_b], ["x", long_a, long_b], ["x", long_a], ["y", "x"]]
    with db() as c:
        c.execute("DROP TABLE IF EXISTS odd_names")
        c.execute("CREATE TABLE odd_names (basket int, item text)")
        for b, items in enumerate(baskets):
            for i in items:
                c.execute("INSERT INTO odd_names VALUES (%s, %s)", (b, i))
        rows = c.execute(
            "SELECT antecedent, consequent, antecedent = expected_a AND consequent = expected_c,"
            "       pg_column_size(antecedent) = pg_column_size(expected_a)"
            "         - CASE WHEN pg_column_size(expected_a) < 127 THEN 3 ELSE 0 END,"
            "       array_length(antecedent, 1), (SELECT string_agg(u, ',') FROM unnest(antecedent) u)"
            " FROM rar_mine('odd_names', min_support => 0.5, min_confidence => 0, min_length => 1)"
            " CROSS JOIN LATERAL (SELECT ARRAY(SELECT unnest(antecedent)) AS expected_a,"
            "                            ARRAY(SELECT unnest(consequent)) AS expected_c) e"
        ).fetchall()
        c.execute("DROP TABLE odd_names")
    assert len(rows) > 5
    assert all(r[2] and r[3] for r in rows), rows
    sides = {tuple(r[0]) for r in rows} | {tuple(r[1]) for r in rows}
    assert () in sides and (long_a,) in sides and any(long_b in s and len(s) >= 2 for s in sides), sides
    for antecedent, _, _, _, length, joined in rows:
        assert length == (len(antecedent) or None) and joined == (",".join(antecedent) or None)

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
